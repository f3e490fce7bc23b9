package io.fedmarket.pol;

import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.MerkleTree;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.StructuredDataEncoder;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProofOfLearningTest {
    static final Credentials KEY = Credentials.create("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
    static final String MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

    @Test
    void parameterHashStreamsTheSameBytesAsTheVerifiersFlatHash() {
        float[] a = new float[40_000];
        float[] b = {1.5f, -0f, Float.MIN_VALUE};
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) Math.sin(i);
        }
        float[] flat = new float[a.length + b.length];
        System.arraycopy(a, 0, flat, 0, a.length);
        System.arraycopy(b, 0, flat, a.length, b.length);
        assertThat(ParameterHasher.hash(List.of(a, b))).isEqualTo(io.fedmarket.fl.proof.Hashes.paramsHash(flat));
        // order is part of the hash
        assertThat(ParameterHasher.hash(List.of(b, a))).isNotEqualTo(ParameterHasher.hash(List.of(a, b)));
    }

    @Test
    void proofRootIsTheOpenZeppelinTreeAndProvesEachCheckpoint() {
        List<byte[]> h = List.of(Hashes.keccak256(new byte[]{1}), Hashes.keccak256(new byte[]{2}), Hashes.keccak256(new byte[]{3}));
        byte[] root = ProofTrails.proofRoot(h);
        MerkleTree t = MerkleTree.of(h);
        for (int i = 0; i < h.size(); i++) {
            assertThat(MerkleTree.verify(t.proof(i), root, h.get(i))).isTrue();
        }
        assertThatThrownBy(() -> ProofTrails.proofRoot(List.of())).hasMessageContaining("at least");
    }

    @Test
    void eip712DigestMatchesWeb3jsTypedDataEncoderAndRecoversTheSigner() throws Exception {
        byte[] task = ProofTrails.taskKey("task-1");
        byte[] update = Hashes.keccak256(new byte[]{7});
        byte[] root = Hashes.keccak256(new byte[]{8});
        String json = """
                {"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},
                {"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
                "Submission":[{"name":"task","type":"bytes32"},{"name":"updateHash","type":"bytes32"},
                {"name":"proofRoot","type":"bytes32"},{"name":"steps","type":"uint64"},{"name":"gpuSeconds","type":"uint64"}]},
                "primaryType":"Submission","domain":{"name":"FedMarket","version":"1","chainId":31337,"verifyingContract":"%s"},
                "message":{"task":"%s","updateHash":"%s","proofRoot":"%s","steps":600,"gpuSeconds":12}}
                """.formatted(MARKET, Hashes.hex(task), Hashes.hex(update), Hashes.hex(root));
        SubmissionSigner signer = new SubmissionSigner(31337, MARKET);
        assertThat(signer.digest(task, update, root, 600, 12)).isEqualTo(new StructuredDataEncoder(json).hashStructuredData());
        byte[] sig = signer.sign(KEY, task, update, root, 600, 12);
        assertThat(signer.recover(sig, task, update, root, 600, 12)).isEqualTo(KEY.getAddress());
        assertThat(signer.recover(sig, task, update, root, 601, 12)).isNotEqualTo(KEY.getAddress());
        assertThatThrownBy(() -> new SubmissionSigner(1, "0x12")).hasMessageContaining("40 hex digits");
    }

    @Test
    void trailSignatureMatchesWeb3jsTypedDataEncoderAndRecoversTheSigner() throws Exception {
        byte[] task = ProofTrails.taskKey("task-1");
        byte[] manifest = SubmissionSigner.manifestHash("{\"taskId\":\"task-1\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String json = """
                {"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},
                {"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
                "Trail":[{"name":"task","type":"bytes32"},{"name":"manifestHash","type":"bytes32"}]},
                "primaryType":"Trail","domain":{"name":"FedMarket","version":"1","chainId":31337,"verifyingContract":"%s"},
                "message":{"task":"%s","manifestHash":"%s"}}
                """.formatted(MARKET, Hashes.hex(task), Hashes.hex(manifest));
        SubmissionSigner signer = new SubmissionSigner(31337, MARKET);
        assertThat(signer.trailDigest(task, manifest)).isEqualTo(new StructuredDataEncoder(json).hashStructuredData());
        byte[] sig = signer.signTrail(KEY, task, manifest);
        assertThat(signer.recoverTrail(sig, task, manifest)).isEqualTo(KEY.getAddress());
        assertThat(signer.recoverTrail(sig, task, Hashes.keccak256(new byte[]{1}))).isNotEqualTo(KEY.getAddress());
        assertThat(SubmissionSigner.workerPrefix("0xABCdef0000000000000000000000000000000001")).isEqualTo("workers/0xabcdef0000000000000000000000000000000001/");
    }

    @Test
    void aCheckpointHashCoversParametersMomentumAndStep() {
        io.fedmarket.fl.model.ModelState m = io.fedmarket.fl.model.ModelLayouts.initialState("mlp:8", 3);
        io.fedmarket.fl.model.ModelState none = new io.fedmarket.fl.model.ModelState(m.names(), m.shapes(), m.params(), null, 0);
        float[][] zeros = new float[m.params().length][];
        float[][] some = new float[m.params().length][];
        for (int i = 0; i < zeros.length; i++) {
            zeros[i] = new float[m.params()[i].length];
            some[i] = zeros[i].clone();
        }
        some[1][0] = 1e-3f;
        io.fedmarket.fl.model.ModelState zero = new io.fedmarket.fl.model.ModelState(m.names(), m.shapes(), m.params(), zeros, 0);
        io.fedmarket.fl.model.ModelState steered = new io.fedmarket.fl.model.ModelState(m.names(), m.shapes(), m.params(), some, 0);
        assertThat(none.stateHash()).as("no momentum is zero momentum (how training starts)").isEqualTo(zero.stateHash());
        assertThat(steered.paramsHash()).as("same parameters").isEqualTo(zero.paramsHash());
        assertThat(steered.stateHash()).as("another momentum is another state").isNotEqualTo(zero.stateHash());
        assertThat(new io.fedmarket.fl.model.ModelState(m.names(), m.shapes(), m.params(), zeros, 5).stateHash()).as("the step is committed")
                .isNotEqualTo(zero.stateHash());
        assertThat(zero.stateHash()).isNotEqualTo(zero.paramsHash());
        // the hash survives the checkpoint file format
        assertThat(io.fedmarket.fl.model.ModelState.decode(steered.encode(), "x").stateHash()).isEqualTo(steered.stateHash());
    }
}
