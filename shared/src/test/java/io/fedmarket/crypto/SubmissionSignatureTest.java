package io.fedmarket.crypto;

import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.StructuredDataEncoder;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SubmissionSignatureTest {
    private static final String CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

    static byte[] h(String s) {
        return Hashes.keccak256(s.getBytes(StandardCharsets.UTF_8));
    }

    /** web3j's generic EIP-712 encoder, fed the JSON typed data a wallet would show, gives the same digest. */
    @Test
    void digestMatchesWeb3jsGenericEip712Encoder() throws Exception {
        SubmissionSignature.Submission s = new SubmissionSignature.Submission(h("task"), h("update"), h("proof"), 300, 42);
        String json = """
                {"types":{
                  "EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},
                                  {"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
                  "Submission":[{"name":"task","type":"bytes32"},{"name":"updateHash","type":"bytes32"},
                                {"name":"proofRoot","type":"bytes32"},{"name":"steps","type":"uint64"},{"name":"gpuSeconds","type":"uint64"}]},
                 "primaryType":"Submission",
                 "domain":{"name":"FedMarket","version":"1","chainId":31337,"verifyingContract":"%s"},
                 "message":{"task":"%s","updateHash":"%s","proofRoot":"%s","steps":300,"gpuSeconds":42}}
                """.formatted(CONTRACT, Hashes.hex(s.task()), Hashes.hex(s.updateHash()), Hashes.hex(s.proofRoot()));
        byte[] expected = new StructuredDataEncoder(json).hashStructuredData();
        assertThat(new SubmissionSignature(31337, CONTRACT).digest(s)).isEqualTo(expected);
    }

    @Test
    void signAndRecoverRoundTripAndBindDomain() {
        Credentials worker = Credentials.create("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
        SubmissionSignature sigs = new SubmissionSignature(31337, CONTRACT);
        SubmissionSignature.Submission s = new SubmissionSignature.Submission(h("t"), h("u"), h("p"), 1, 2);
        byte[] sig = sigs.sign(s, worker);
        assertThat(sig).hasSize(65);
        assertThat(sigs.recover(s, sig)).isEqualTo(worker.getAddress());
        assertThat(sigs.verify(s, sig, worker.getAddress().toUpperCase().replace("0X", "0x"))).isTrue();
        // another chain or another contract: the same signature no longer names the worker
        assertThat(new SubmissionSignature(1, CONTRACT).verify(s, sig, worker.getAddress())).isFalse();
        assertThat(new SubmissionSignature(31337, "0x0000000000000000000000000000000000000001").verify(s, sig, worker.getAddress())).isFalse();
        byte[] badV = sig.clone();
        badV[64] = 5;
        assertThatThrownBy(() -> sigs.recover(s, badV)).hasMessageContaining("v must be 27 or 28");
        assertThatThrownBy(() -> new SubmissionSignature.Submission(new byte[3], h("u"), h("p"), 1, 2)).hasMessageContaining("task must be 32 bytes");
        assertThatThrownBy(() -> new SubmissionSignature.Submission(h("t"), h("u"), h("p"), -1, 2)).hasMessageContaining("uint64");
    }
}
