package io.fedmarket.fl.verify;

import io.fedmarket.fl.proof.Hashes;

import java.math.BigInteger;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Draws the segments to re-execute with randomness the worker could not know when it
 * committed: seed = keccak256(submissionHash ‖ blockHash) where the block is mined after the
 * submission was recorded. The draw is a public algorithm anyone can replay (and a contract
 * could): candidate j = uint256(keccak256(seed ‖ uint64 j)); values ≥ the largest multiple of
 * n below 2^256 are skipped (no modulo bias); index = candidate mod n; repeats are skipped
 * until q distinct indices are drawn. Indices are returned in draw order, which is also the
 * order the verifier re-executes them in.
 */
public final class SegmentSampler {
    private static final BigInteger TWO_256 = BigInteger.ONE.shiftLeft(256);

    private SegmentSampler() {
    }

    public static byte[] seed(byte[] submissionHash, byte[] laterBlockHash) {
        if (submissionHash == null || submissionHash.length != 32) {
            throw new IllegalArgumentException("submission hash must be 32 bytes");
        }
        if (laterBlockHash == null || laterBlockHash.length != 32) {
            throw new IllegalArgumentException("block hash must be 32 bytes; use a block mined after the submission "
                    + "was recorded, never one the worker could have seen");
        }
        return Hashes.keccak(submissionHash, laterBlockHash);
    }

    public static int[] sample(byte[] seed, int segments, int q) {
        if (segments <= 0) {
            throw new IllegalArgumentException("a trail must have at least one segment but has " + segments);
        }
        if (q < 0 || q > segments) {
            throw new IllegalArgumentException("cannot draw " + q + " distinct segments out of " + segments
                    + "; q must be in [0, " + segments + "]");
        }
        BigInteger n = BigInteger.valueOf(segments);
        BigInteger limit = TWO_256.subtract(TWO_256.mod(n));
        Set<Integer> drawn = new LinkedHashSet<>();
        for (long j = 0; drawn.size() < q; j++) {
            BigInteger c = new BigInteger(1, Hashes.keccak(seed, Hashes.u64(j)));
            if (c.compareTo(limit) >= 0) {
                continue;
            }
            drawn.add(c.mod(n).intValue());
        }
        return drawn.stream().mapToInt(Integer::intValue).toArray();
    }
}
