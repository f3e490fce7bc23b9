package io.fedmarket.fl.model;

import io.fedmarket.crypto.Hashes;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Optional;

/**
 * What a round's on-chain model hash commits to. A catalogue model's architecture is the project's code, so its parameters hash
 * ({@link ModelState#paramsHash}) is the round's hash, as always. An uploaded TorchScript model's parameters mean nothing without its
 * graph, so its round hash also binds the file: {@code keccak256("fedmarket.torchscript.v1" ‖ sha256(file) ‖ paramsHash)}; anyone
 * holding the file and the round's model recomputes it ({@link #roundHash}).
 */
public final class ModelProvenance {
    private static final byte[] DOMAIN = "fedmarket.torchscript.v1".getBytes(StandardCharsets.US_ASCII);

    private ModelProvenance() {
    }

    /** The SHA-256 (hex) of the uploaded file a spec trains, or empty for a catalogue model. */
    public static Optional<String> modelFile(String modelSpec) {
        return ModelLayouts.modelFile(modelSpec);
    }

    /** The hash posted on chain for a round whose global model's parameters hash to {@code paramsHash}. */
    public static byte[] roundHash(byte[] paramsHash, String modelSpec) {
        Optional<String> file = modelFile(modelSpec);
        if (file.isEmpty()) {
            return paramsHash.clone();
        }
        byte[] sha = HexFormat.of().parseHex(file.get());
        byte[] m = new byte[DOMAIN.length + sha.length + paramsHash.length];
        System.arraycopy(DOMAIN, 0, m, 0, DOMAIN.length);
        System.arraycopy(sha, 0, m, DOMAIN.length, sha.length);
        System.arraycopy(paramsHash, 0, m, DOMAIN.length + sha.length, paramsHash.length);
        return Hashes.keccak256(m);
    }

    /** One line for a report: the spec, and for an uploaded model the file's hash. */
    public static String describe(String modelSpec) {
        return modelFile(modelSpec).map(f -> "TorchScript file sha256 " + f).orElse("catalogue model " + modelSpec);
    }
}
