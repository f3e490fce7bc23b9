package io.fedmarket.pol;

import io.fedmarket.crypto.Hashes;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.StructuredDataEncoder;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReexecSignerTest {
    static final Credentials KEY = Credentials.create("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
    static final String MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    static final ReexecSigner SIGNER = new ReexecSigner(31337, MARKET);
    static final byte[] START = Hashes.keccak256(new byte[]{1});
    static final byte[] END = Hashes.keccak256(new byte[]{2});

    @Test
    void digestIsTheEip712TypedDataOfWeb3j() throws Exception {
        String json = """
                {"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},
                {"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
                "Reexecution":[{"name":"reexec","type":"bytes32"},{"name":"segment","type":"uint32"},
                {"name":"startHash","type":"bytes32"},{"name":"endHash","type":"bytes32"}]},
                "primaryType":"Reexecution","domain":{"name":"FedMarket","version":"1","chainId":31337,"verifyingContract":"%s"},
                "message":{"reexec":"%s","segment":7,"startHash":"%s","endHash":"%s"}}
                """.formatted(MARKET, Hashes.hex(Hashes.keccak256("rx-1".getBytes(StandardCharsets.UTF_8))), Hashes.hex(START),
                Hashes.hex(new byte[32]));
        assertThat(SIGNER.digest("rx-1", 7, START, null)).isEqualTo(new StructuredDataEncoder(json).hashStructuredData());
        assertThat(SIGNER.domainSeparator()).isEqualTo(new SubmissionSigner(31337, MARKET).domainSeparator());
    }

    @Test
    void signAndRecoverRoundTripAlsoForAnErrorResultWithoutHashes() {
        byte[] sig = SIGNER.sign(KEY, "rx-1", 3, START, END);
        assertThat(sig).hasSize(65);
        assertThat(SIGNER.recover(sig, "rx-1", 3, START, END)).isEqualTo(KEY.getAddress());
        byte[] err = SIGNER.sign(KEY, "rx-2", 0, null, null);
        assertThat(SIGNER.recover(err, "rx-2", 0, null, null)).isEqualTo(KEY.getAddress());
        // null hashes are 32 zero bytes, nothing else
        assertThat(SIGNER.recover(err, "rx-2", 0, new byte[32], new byte[32])).isEqualTo(KEY.getAddress());
    }

    @Test
    void aChangedFieldRecoversToAnotherAddress() {
        byte[] sig = SIGNER.sign(KEY, "rx-1", 3, START, END);
        String me = KEY.getAddress();
        assertThat(SIGNER.recover(sig, "rx-X", 3, START, END)).isNotEqualTo(me);
        assertThat(SIGNER.recover(sig, "rx-1", 4, START, END)).isNotEqualTo(me);
        assertThat(SIGNER.recover(sig, "rx-1", 3, END, END)).isNotEqualTo(me);
        assertThat(SIGNER.recover(sig, "rx-1", 3, START, null)).isNotEqualTo(me);
        // another domain (chain or contract) too: a result cannot be replayed elsewhere
        assertThat(new ReexecSigner(1, MARKET).recover(sig, "rx-1", 3, START, END)).isNotEqualTo(me);
        assertThat(new ReexecSigner(31337, "0x0000000000000000000000000000000000000001").recover(sig, "rx-1", 3, START, END))
                .isNotEqualTo(me);
    }

    @Test
    void malformedSignaturesAndArgumentsAreClearErrors() {
        byte[] sig = SIGNER.sign(KEY, "rx-1", 3, START, END);
        assertThatThrownBy(() -> SIGNER.recover(Arrays.copyOf(sig, 64), "rx-1", 3, START, END))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be 65 bytes").hasMessageContaining("got 64");
        assertThatThrownBy(() -> SIGNER.recover(null, "rx-1", 3, START, END))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing");
        byte[] badV = sig.clone();
        badV[64] = 5;
        assertThatThrownBy(() -> SIGNER.recover(badV, "rx-1", 3, START, END))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("v = 5").hasMessageContaining("27 or 28");
        byte[] zeros = new byte[65];
        zeros[64] = 27;
        assertThatThrownBy(() -> SIGNER.recover(zeros, "rx-1", 3, START, END))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a valid re-execution signature");
        assertThatThrownBy(() -> SIGNER.sign(KEY, "rx-1", 3, new byte[31], END)).hasMessageContaining("startHash must be 32 bytes");
        assertThatThrownBy(() -> SIGNER.sign(KEY, null, 3, START, END)).hasMessageContaining("reexecId is missing");
        assertThatThrownBy(() -> SIGNER.sign(KEY, "rx-1", -1, START, END)).hasMessageContaining("segment must be >= 0");
        assertThatThrownBy(() -> new ReexecSigner(1, "0x12")).hasMessageContaining("40 hex digits");
    }
}
