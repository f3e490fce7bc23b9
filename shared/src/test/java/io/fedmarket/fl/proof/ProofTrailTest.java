package io.fedmarket.fl.proof;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProofTrailTest {
    private static final byte[] MODEL = Hashes.paramsHash(new float[] {0f, 0f});
    private static final byte[] SHARD = Hashes.keccak("shard".getBytes());

    @Test
    void linksChainFromTheHeaderThroughEveryCheckpoint() {
        TrailHeader h = new TrailHeader("t1", MODEL, SHARD, 9, 4, 2);
        List<float[]> cps = List.of(new float[] {0f, 0f}, new float[] {1f, 0f}, new float[] {1f, 1f});
        ProofTrail t = ProofTrail.build(h, cps);
        byte[] c0 = Hashes.keccak(h.hash(), Hashes.paramsHash(cps.get(0)));
        byte[] c1 = Hashes.keccak(c0, Hashes.paramsHash(cps.get(1)));
        byte[] c2 = Hashes.keccak(c1, Hashes.paramsHash(cps.get(2)));
        assertThat(t.links()).containsExactly(c0, c1, c2);
        assertThat(t.commitment()).isEqualTo(c2);
        // the signed root is the OpenZeppelin-compatible tree (sorted pairs): for three leaves
        // root = pair(pair(h0, h1), h2), pair(a, b) = keccak(min ‖ max)
        byte[] h01 = io.fedmarket.crypto.MerkleTree.hashPair(t.checkpointHashes().get(0), t.checkpointHashes().get(1));
        assertThat(t.proofRoot()).isEqualTo(io.fedmarket.crypto.MerkleTree.hashPair(h01, t.checkpointHashes().get(2)));
        assertThat(t.proofRoot()).isEqualTo(io.fedmarket.pol.ProofTrails.proofRoot(t.checkpointHashes()));
        assertThat(h.segments()).isEqualTo(2);
    }

    @Test
    void headerCommitsToEveryTaskField() {
        TrailHeader h = new TrailHeader("t1", MODEL, SHARD, 9, 4, 2);
        assertThat(new TrailHeader("t1", MODEL, SHARD, 10, 4, 2).hash()).isNotEqualTo(h.hash());
        assertThat(new TrailHeader("t2", MODEL, SHARD, 9, 4, 2).hash()).isNotEqualTo(h.hash());
        assertThat(new TrailHeader("t1", MODEL, MODEL, 9, 4, 2).hash()).isNotEqualTo(h.hash());
        assertThat(h.sameAs(new TrailHeader("t1", MODEL.clone(), SHARD.clone(), 9, 4, 2))).isTrue();
        assertThatThrownBy(() -> new TrailHeader("t1", MODEL, SHARD, 9, 5, 2)).hasMessageContaining("multiple");
    }

    @Test
    void paramsHashIsKeccakOfLittleEndianFloat32() {
        // 1.0f = 0x3f800000 → bytes 00 00 80 3f
        assertThat(Hashes.paramsHash(new float[] {1f})).isEqualTo(Hashes.keccak(new byte[] {0, 0, (byte) 0x80, 0x3f}));
        assertThat(Hashes.hex(Hashes.keccak(new byte[0])))
                .isEqualTo("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    }
}
