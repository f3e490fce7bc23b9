package io.fedmarket.crypto;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A binary Merkle tree over 32-byte leaves that OpenZeppelin's {@code MerkleProof.verify} accepts:
 * an inner node is {@code keccak256(min(a,b) ‖ max(a,b))} (sorted pairs, so a proof carries no
 * left/right flags).
 *
 * <p>The layout is the one of {@code @openzeppelin/merkle-tree}: a complete tree stored in an array
 * of {@code 2n-1} nodes, leaves at the end in reverse order, node {@code i} has children
 * {@code 2i+1} and {@code 2i+2}. Leaves are used in the order given; {@link #sortedByHash} gives the
 * order of OpenZeppelin's {@code StandardMerkleTree} (its default {@code sortLeaves: true}), so
 * roots match that library byte for byte.
 *
 * <p>Because pairs are sorted, a proof shows that a leaf is <em>in</em> the tree, not at which
 * position: a caller who needs positions must put the index inside the leaf.
 */
public final class MerkleTree {
    private final byte[][] nodes;
    private final int leafCount;
    /** input index → position in {@link #nodes}. */
    private final int[] nodeOfLeaf;

    private MerkleTree(byte[][] nodes, int leafCount, int[] nodeOfLeaf) {
        this.nodes = nodes;
        this.leafCount = leafCount;
        this.nodeOfLeaf = nodeOfLeaf;
    }

    /** A tree over {@code leaves} in the given order; {@code proof(i)} proves {@code leaves.get(i)}. */
    public static MerkleTree of(List<byte[]> leaves) {
        int[] order = new int[leaves.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        return build(leaves, order);
    }

    /**
     * A tree whose leaves are placed in ascending byte order (as OpenZeppelin's StandardMerkleTree
     * does), so that the root does not depend on the input order; {@code proof(i)} still proves
     * {@code leaves.get(i)}.
     */
    public static MerkleTree sortedByHash(List<byte[]> leaves) {
        Integer[] idx = new Integer[leaves.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        checkLeaves(leaves);
        Arrays.sort(idx, (a, b) -> Arrays.compareUnsigned(leaves.get(a), leaves.get(b)));
        int[] order = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            order[i] = idx[i];
        }
        return build(leaves, order);
    }

    /** {@code order[k]} = input index of the leaf placed k-th. */
    private static MerkleTree build(List<byte[]> leaves, int[] order) {
        checkLeaves(leaves);
        int n = leaves.size();
        byte[][] nodes = new byte[2 * n - 1][];
        int[] nodeOfLeaf = new int[n];
        for (int k = 0; k < n; k++) {
            int pos = nodes.length - 1 - k;
            nodes[pos] = leaves.get(order[k]).clone();
            nodeOfLeaf[order[k]] = pos;
        }
        for (int i = nodes.length - 1 - n; i >= 0; i--) {
            nodes[i] = hashPair(nodes[2 * i + 1], nodes[2 * i + 2]);
        }
        return new MerkleTree(nodes, n, nodeOfLeaf);
    }

    private static void checkLeaves(List<byte[]> leaves) {
        if (leaves == null || leaves.isEmpty()) {
            throw new IllegalArgumentException("a Merkle tree needs at least one leaf");
        }
        for (int i = 0; i < leaves.size(); i++) {
            byte[] leaf = leaves.get(i);
            if (leaf == null || leaf.length != 32) {
                throw new IllegalArgumentException("Merkle leaf " + i + " must be 32 bytes (hash the data first), got "
                        + (leaf == null ? "null" : leaf.length + " bytes"));
            }
        }
    }

    /** OpenZeppelin's {@code Hashes.commutativeKeccak256}. */
    public static byte[] hashPair(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b) <= 0 ? Hashes.keccak256(a, b) : Hashes.keccak256(b, a);
    }

    public byte[] root() {
        return nodes[0].clone();
    }

    public String rootHex() {
        return Hashes.hex(nodes[0]);
    }

    public int size() {
        return leafCount;
    }

    public byte[] leaf(int index) {
        return nodes[nodeOfLeaf[checkIndex(index)]].clone();
    }

    /** The sibling hashes from the leaf up to (not including) the root, as {@code MerkleProof.verify} takes them. */
    public List<byte[]> proof(int index) {
        int i = nodeOfLeaf[checkIndex(index)];
        List<byte[]> proof = new ArrayList<>();
        while (i > 0) {
            int sibling = (i % 2 == 1) ? i + 1 : i - 1;
            proof.add(nodes[sibling].clone());
            i = (i - 1) / 2;
        }
        return proof;
    }

    public List<String> proofHex(int index) {
        return proof(index).stream().map(Hashes::hex).toList();
    }

    private int checkIndex(int index) {
        if (index < 0 || index >= leafCount) {
            throw new IndexOutOfBoundsException("leaf index " + index + " is outside the tree's " + leafCount + " leaves");
        }
        return index;
    }

    /** Recomputes the root from {@code leaf} and {@code proof} as OpenZeppelin's {@code MerkleProof.processProof} does. */
    public static byte[] processProof(List<byte[]> proof, byte[] leaf) {
        byte[] h = leaf;
        for (byte[] p : proof) {
            h = hashPair(h, p);
        }
        return h;
    }

    /** OpenZeppelin's {@code MerkleProof.verify}. */
    public static boolean verify(List<byte[]> proof, byte[] root, byte[] leaf) {
        if (root == null || leaf == null || root.length != 32 || leaf.length != 32) {
            return false;
        }
        return Arrays.equals(processProof(proof, leaf), root);
    }
}
