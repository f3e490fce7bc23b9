package io.fedmarket.crypto;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MerkleTreeTest {

    /**
     * A StandardMerkleTree dump made by {@code @openzeppelin/merkle-tree} for
     * {@code of([[A,"0"],[A,"1"],[A,"2"]], ["address","uint256"])}: its full node array.
     */
    private static final String A = "0x80d628ff4AC2aFf620C3474663F1e559234bbE0c";
    private static final List<String> OZ_TREE = List.of(
            "0x0fecce441c7468f17e3fe4a5f211b77a15b27c9ab3d33317df385dfbe5487034",
            "0x636ab2686ee3036244cf3d6b5574e051e4b20a3577b008975dbcca6dde2897d2",
            "0xd90245da324d7908326a3d56a9659741551a4603c397bf4dd373976bd85660e7",
            "0x36fb17c97ec80bb961ff0adff1af4a2a34847ecc40653c162e327117a76e3ec9",
            "0x1867c4ebd455913e429523a5c2d4b3a79f58068b5a25af911956245ed03a659d");

    @Test
    void keccakAndSha256KnownVectors() {
        assertThat(Hashes.hex(Hashes.keccak256(new byte[0])))
                .isEqualTo("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
        assertThat(Hashes.hex(Hashes.sha256("abc".getBytes(StandardCharsets.US_ASCII))))
                .isEqualTo("0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(Hashes.fromHex("0xAbCd")).containsExactly(0xab, 0xcd);
        assertThatThrownBy(() -> Hashes.fromHex("0xabc")).hasMessageContaining("odd number");
        assertThatThrownBy(() -> Hashes.fromHex32("0xabcd")).hasMessageContaining("expected 32 bytes");
    }

    @Test
    void payoutLeafMatchesOpenZeppelinStandardMerkleTree() {
        assertThat(Hashes.hex(new PayoutLeaf(A, BigInteger.ZERO).hash())).isEqualTo(OZ_TREE.get(4));
        assertThat(Hashes.hex(new PayoutLeaf(A, BigInteger.ONE).hash())).isEqualTo(OZ_TREE.get(3));
        assertThat(Hashes.hex(new PayoutLeaf(A, BigInteger.TWO).hash())).isEqualTo(OZ_TREE.get(2));
    }

    @Test
    void sortedTreeRootAndProofsMatchOpenZeppelin() {
        List<byte[]> leaves = List.of(new PayoutLeaf(A, BigInteger.ZERO).hash(), new PayoutLeaf(A, BigInteger.ONE).hash(),
                new PayoutLeaf(A, BigInteger.TWO).hash());
        MerkleTree tree = MerkleTree.sortedByHash(leaves);
        assertThat(tree.rootHex()).isEqualTo(OZ_TREE.get(0));
        // leaf (A,0) sits at node 4: its proof is node 3 then node 2
        assertThat(tree.proofHex(0)).containsExactly(OZ_TREE.get(3), OZ_TREE.get(2));
        assertThat(tree.proofHex(2)).containsExactly(OZ_TREE.get(1));
        List<byte[]> shuffled = new ArrayList<>(leaves);
        Collections.reverse(shuffled);
        assertThat(MerkleTree.sortedByHash(shuffled).rootHex()).isEqualTo(OZ_TREE.get(0));
    }

    @Test
    void everyProofVerifiesForManySizesAndWrongOnesFail() {
        Random rnd = new Random(42);
        for (int n = 1; n <= 70; n++) {
            List<byte[]> leaves = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] b = new byte[32];
                rnd.nextBytes(b);
                leaves.add(b);
            }
            MerkleTree tree = MerkleTree.of(leaves);
            assertThat(tree.size()).isEqualTo(n);
            for (int i = 0; i < n; i++) {
                List<byte[]> proof = tree.proof(i);
                assertThat(proof.size()).isLessThanOrEqualTo(32 - Integer.numberOfLeadingZeros(n));
                assertThat(MerkleTree.verify(proof, tree.root(), leaves.get(i))).isTrue();
                byte[] other = leaves.get(i).clone();
                other[0] ^= 1;
                assertThat(MerkleTree.verify(proof, tree.root(), other)).isFalse();
            }
        }
    }

    @Test
    void singleLeafIsItsOwnRoot() {
        byte[] leaf = Hashes.keccak256("x".getBytes(StandardCharsets.UTF_8));
        MerkleTree tree = MerkleTree.of(List.of(leaf));
        assertThat(tree.root()).isEqualTo(leaf);
        assertThat(tree.proof(0)).isEmpty();
        assertThat(MerkleTree.verify(List.of(), leaf, leaf)).isTrue();
    }

    @Test
    void badInputGetsClearErrors() {
        assertThatThrownBy(() -> MerkleTree.of(List.of())).hasMessageContaining("at least one leaf");
        assertThatThrownBy(() -> MerkleTree.of(List.of(new byte[31]))).hasMessageContaining("must be 32 bytes");
        MerkleTree t = MerkleTree.of(List.of(new byte[32], new byte[32]));
        assertThatThrownBy(() -> t.proof(2)).hasMessageContaining("outside the tree's 2 leaves");
        assertThatThrownBy(() -> new PayoutLeaf("0x12", BigInteger.ONE)).hasMessageContaining("not an Ethereum address");
        assertThatThrownBy(() -> new PayoutLeaf(A, BigInteger.ONE.negate())).hasMessageContaining("uint256");
    }

    @Test
    void payoutTreeProvesEachAddressAndRejectsDuplicates() {
        PayoutTree tree = PayoutTree.of(List.of(new PayoutLeaf(A, BigInteger.ZERO),
                new PayoutLeaf("0x0000000000000000000000000000000000000001", BigInteger.TEN),
                new PayoutLeaf("0x0000000000000000000000000000000000000002", BigInteger.ONE.shiftLeft(255))));
        for (PayoutLeaf l : tree.leaves()) {
            assertThat(MerkleTree.verify(tree.proof(l.account()), tree.root(), l.hash())).isTrue();
        }
        assertThat(tree.cumulative(A.toUpperCase().replace("0X", "0x"))).isEqualTo(BigInteger.ZERO);
        assertThatThrownBy(() -> tree.proof("0x0000000000000000000000000000000000000003")).hasMessageContaining("has no payout");
        assertThatThrownBy(() -> PayoutTree.of(List.of(new PayoutLeaf(A, BigInteger.ONE), new PayoutLeaf(A.toLowerCase(), BigInteger.TWO))))
                .hasMessageContaining("appears twice");
    }
}
