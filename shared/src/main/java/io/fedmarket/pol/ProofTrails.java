package io.fedmarket.pol;

import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.MerkleTree;
import io.fedmarket.fl.proof.ProofTrail;
import io.fedmarket.fl.proof.TrailHeader;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The commitments over a trail's checkpoint hashes h_0 (the starting model) … h_n (after the
 * last step). {@link #proofRoot} is the one signed and posted: an OpenZeppelin-compatible Merkle
 * root (leaves in checkpoint order), so a single checkpoint can be proven on chain; {@link #chain}
 * gives the verifier's hash chain ({@link ProofTrail}), which also commits to the task header and
 * the order of the checkpoints.
 */
public final class ProofTrails {
    private ProofTrails() {
    }

    public static byte[] proofRoot(List<byte[]> checkpointHashes) {
        if (checkpointHashes.isEmpty()) {
            throw new IllegalArgumentException("a proof trail needs at least the starting checkpoint hash");
        }
        return MerkleTree.of(checkpointHashes).root();
    }

    public static ProofTrail chain(TrailHeader header, List<byte[]> checkpointHashes) {
        return ProofTrail.fromHashes(header, checkpointHashes);
    }

    /** The bytes32 {@code task} of the EIP-712 Submission: keccak of the task id's UTF-8 bytes. */
    public static byte[] taskKey(String taskId) {
        return Hashes.keccak256(taskId.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The 32-byte hash a submission is known by once recorded: keccak(taskId ‖ updateHash ‖ proofRoot ‖ signature). The
     * segments to re-execute are drawn from it and a block hash mined after it was recorded.
     */
    public static byte[] submissionHash(String taskId, byte[] updateHash, byte[] proofRoot, byte[] signature) {
        return Hashes.keccak256(taskId.getBytes(StandardCharsets.UTF_8), updateHash, proofRoot, signature);
    }
}
