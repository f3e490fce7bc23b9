package io.fedmarket.fl.proof;

import java.util.ArrayList;
import java.util.List;

/**
 * A worker's proof-of-learning trail: the hash h_i of the parameters at every checkpoint and
 * the chain links c_i = keccak(c_{i−1} ‖ h_i) with c_{−1} = header hash. The last link
 * commits to the header and every checkpoint in order ({@link #commitment()}); the Merkle
 * root over the h_i ({@link #proofRoot()}) lets a single checkpoint be proven on chain.
 */
public record ProofTrail(TrailHeader header, List<byte[]> checkpointHashes, List<byte[]> links) {
    public ProofTrail {
        checkpointHashes = List.copyOf(checkpointHashes);
        links = List.copyOf(links);
    }

    /** The honest construction from the parameter vectors at each checkpoint. */
    public static ProofTrail build(TrailHeader header, List<float[]> checkpoints) {
        List<byte[]> hashes = new ArrayList<>(checkpoints.size());
        for (float[] c : checkpoints) {
            hashes.add(Hashes.paramsHash(c));
        }
        return fromHashes(header, hashes);
    }

    public static ProofTrail fromHashes(TrailHeader header, List<byte[]> hashes) {
        List<byte[]> links = new ArrayList<>(hashes.size());
        byte[] prev = header.hash();
        for (byte[] h : hashes) {
            prev = Hashes.keccak(prev, h);
            links.add(prev);
        }
        return new ProofTrail(header, hashes, links);
    }

    public byte[] commitment() {
        return links.isEmpty() ? header.hash() : links.get(links.size() - 1);
    }

    /**
     * The root that is signed (EIP-712) and posted: the OpenZeppelin-compatible tree of
     * {@link io.fedmarket.crypto.MerkleTree}, leaves in checkpoint order, so there is exactly
     * one definition of a trail's proof root in the code base.
     */
    public byte[] proofRoot() {
        return io.fedmarket.crypto.MerkleTree.of(checkpointHashes).root();
    }
}
