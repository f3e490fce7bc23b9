package io.fedmarket.fl.model;

import io.fedmarket.crypto.Hashes;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** A TorchScript round's on-chain hash binds the model file; a catalogue round's is its parameters hash as before. */
class ModelProvenanceTest {
    @Test
    void torchscriptRoundHashesBindTheFileCatalogueOnesStayTheParametersHash() {
        byte[] params = Hashes.keccak256("params".getBytes(StandardCharsets.US_ASCII));
        assertThat(ModelProvenance.roundHash(params, "cnn")).isEqualTo(params);
        assertThat(ModelProvenance.roundHash(params, "resnet:20")).isEqualTo(params);
        String a = "11".repeat(32);
        String b = "22".repeat(32);
        byte[] ha = ModelProvenance.roundHash(params, "torchscript:" + a);
        assertThat(ha).isNotEqualTo(params).hasSize(32);
        assertThat(ha).isNotEqualTo(ModelProvenance.roundHash(params, "torchscript:" + b));
        assertThat(ha).isEqualTo(ModelProvenance.roundHash(params, "torchscript:" + a + ";classes=10"));
        byte[] expected = Hashes.keccak256(concat("fedmarket.torchscript.v1".getBytes(StandardCharsets.US_ASCII), HexFormat.of().parseHex(a), params));
        assertThat(ha).isEqualTo(expected);
        assertThat(ModelProvenance.modelFile("torchscript:" + a + ";input=1x28x28")).hasValue(a);
        assertThat(ModelProvenance.describe("torchscript:" + a)).contains(a);
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
