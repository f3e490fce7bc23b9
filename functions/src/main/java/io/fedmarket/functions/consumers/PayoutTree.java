package io.fedmarket.functions.consumers;

import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merkle tree of cumulative payouts in OpenZeppelin's StandardMerkleTree convention, so
 * {@code MerkleProof.verify(proof, root, keccak256(bytes.concat(keccak256(abi.encode(account, cumulative)))))}
 * accepts a proof on chain: double-hashed leaves, sorted-pair parents, an odd node moves up.
 */
public final class PayoutTree {
    private final byte[] root;
    private final Map<String, List<String>> proofs = new LinkedHashMap<>();

    public PayoutTree(Map<String, BigInteger> cumulative) {
        List<Map.Entry<String, byte[]>> leaves = new ArrayList<>();
        cumulative.forEach((a, v) -> leaves.add(Map.entry(a, leaf(a, v))));
        leaves.sort(Comparator.comparing(e -> Numeric.toHexString(e.getValue())));
        List<byte[]> level = new ArrayList<>(leaves.stream().map(Map.Entry::getValue).toList());
        List<List<Integer>> members = new ArrayList<>();
        for (int i = 0; i < leaves.size(); i++) {
            members.add(new ArrayList<>(List.of(i)));
            proofs.put(leaves.get(i).getKey(), new ArrayList<>());
        }
        while (level.size() > 1) {
            List<byte[]> next = new ArrayList<>();
            List<List<Integer>> nextMembers = new ArrayList<>();
            for (int i = 0; i < level.size(); i += 2) {
                if (i + 1 == level.size()) {
                    next.add(level.get(i));
                    nextMembers.add(members.get(i));
                    continue;
                }
                byte[] l = level.get(i);
                byte[] r = level.get(i + 1);
                for (int m : members.get(i)) {
                    proofs.get(leaves.get(m).getKey()).add(Numeric.toHexString(r));
                }
                for (int m : members.get(i + 1)) {
                    proofs.get(leaves.get(m).getKey()).add(Numeric.toHexString(l));
                }
                next.add(hashPair(l, r));
                List<Integer> joined = new ArrayList<>(members.get(i));
                joined.addAll(members.get(i + 1));
                nextMembers.add(joined);
            }
            level = next;
            members = nextMembers;
        }
        root = level.isEmpty() ? new byte[32] : level.get(0);
    }

    public static byte[] leaf(String address, BigInteger cumulative) {
        byte[] enc = new byte[64];
        byte[] a = Numeric.hexStringToByteArray(address);
        System.arraycopy(a, 0, enc, 32 - a.length, a.length);
        byte[] v = Numeric.toBytesPadded(cumulative, 32);
        System.arraycopy(v, 0, enc, 32, 32);
        return Hash.sha3(Hash.sha3(enc));
    }

    static byte[] hashPair(byte[] a, byte[] b) {
        boolean aFirst = Arrays.compareUnsigned(a, b) <= 0;
        byte[] out = new byte[64];
        System.arraycopy(aFirst ? a : b, 0, out, 0, 32);
        System.arraycopy(aFirst ? b : a, 0, out, 32, 32);
        return Hash.sha3(out);
    }

    /** What OpenZeppelin's MerkleProof.processProof computes. */
    public static byte[] process(byte[] leaf, List<String> proof) {
        byte[] h = leaf;
        for (String p : proof) {
            h = hashPair(h, Numeric.hexStringToByteArray(p));
        }
        return h;
    }

    public String root() {
        return Numeric.toHexString(root);
    }

    public List<String> proof(String address) {
        return proofs.get(address);
    }
}
