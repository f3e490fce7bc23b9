package io.fedmarket.crypto;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A round's payout tree: one {@link PayoutLeaf} per address with its cumulative payout, laid out as
 * OpenZeppelin's {@code StandardMerkleTree.of(values, ["address","uint256"])} (so its root equals
 * that library's). The root goes on chain with {@code postRound}; each address claims with
 * {@link #proof(String)}.
 */
public final class PayoutTree {
    private final List<PayoutLeaf> leaves;
    private final Map<String, Integer> indexOf;
    private final MerkleTree tree;

    private PayoutTree(List<PayoutLeaf> leaves) {
        if (leaves.isEmpty()) {
            throw new IllegalArgumentException("a payout tree needs at least one payout (an address with its cumulative amount)");
        }
        Map<String, Integer> idx = new HashMap<>();
        List<byte[]> hashes = new ArrayList<>(leaves.size());
        for (int i = 0; i < leaves.size(); i++) {
            PayoutLeaf l = leaves.get(i);
            if (idx.put(l.account(), i) != null) {
                throw new IllegalArgumentException("address " + l.account() + " appears twice in the payout tree: merge its amounts into one cumulative total");
            }
            hashes.add(l.hash());
        }
        this.leaves = List.copyOf(leaves);
        this.indexOf = idx;
        this.tree = MerkleTree.sortedByHash(hashes);
    }

    public static PayoutTree of(List<PayoutLeaf> leaves) {
        return new PayoutTree(leaves);
    }

    /** From address → cumulative amount (addresses in any case). */
    public static PayoutTree of(Map<String, BigInteger> cumulative) {
        List<PayoutLeaf> leaves = new ArrayList<>(cumulative.size());
        cumulative.forEach((a, v) -> leaves.add(new PayoutLeaf(a, v)));
        return new PayoutTree(leaves);
    }

    public byte[] root() {
        return tree.root();
    }

    public String rootHex() {
        return tree.rootHex();
    }

    public List<PayoutLeaf> leaves() {
        return leaves;
    }

    public Map<String, BigInteger> amounts() {
        Map<String, BigInteger> m = new LinkedHashMap<>();
        leaves.forEach(l -> m.put(l.account(), l.cumulative()));
        return Collections.unmodifiableMap(m);
    }

    public BigInteger cumulative(String account) {
        return leaves.get(index(account)).cumulative();
    }

    public List<byte[]> proof(String account) {
        return tree.proof(index(account));
    }

    private int index(String account) {
        Integer i = indexOf.get(PayoutLeaf.normalizeAddress(account));
        if (i == null) {
            throw new IllegalArgumentException("address " + account + " has no payout in this tree");
        }
        return i;
    }

    public boolean contains(String account) {
        return indexOf.containsKey(PayoutLeaf.normalizeAddress(account));
    }
}
