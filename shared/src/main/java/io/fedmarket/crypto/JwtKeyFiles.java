package io.fedmarket.crypto;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;

/**
 * The RS256 key pair of the marketplace's tokens for a local run: made on first use in a directory
 * of the run (never in the repository or in function.zip) and reused after, so sessions survive a
 * restart of the stack. On AWS the pair comes from a Lambda layer the operator builds
 * (terraform/README.md). The functions read {@code SMALLRYE_JWT_SIGN_KEY_LOCATION} and
 * {@code FEDMARKET_JWT_PUBLIC_KEY_LOCATION}: {@link #environment()} gives both.
 */
public record JwtKeyFiles(Path signingKey, Path publicKey) {
    public static final String SIGNING_KEY_ENV = "SMALLRYE_JWT_SIGN_KEY_LOCATION";
    public static final String PUBLIC_KEY_ENV = "FEDMARKET_JWT_PUBLIC_KEY_LOCATION";

    /** The pair in {@code dir} (signing-key.pem, PKCS#8, mode 600; public.pem, X.509), made if absent. */
    public static synchronized JwtKeyFiles in(Path dir) {
        Path priv = dir.resolve("signing-key.pem");
        Path pub = dir.resolve("public.pem");
        if (Files.isRegularFile(priv) && Files.isRegularFile(pub)) {
            return new JwtKeyFiles(priv, pub);
        }
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            KeyPair kp = g.generateKeyPair();
            Files.createDirectories(dir);
            write(pub, pem("PUBLIC KEY", kp.getPublic().getEncoded()));
            write(priv, pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
            return new JwtKeyFiles(priv, pub);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make an RSA key pair: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the token key pair to " + dir, e);
        }
    }

    public java.util.Map<String, String> environment() {
        return java.util.Map.of(SIGNING_KEY_ENV, signingKey.toAbsolutePath().toString(), PUBLIC_KEY_ENV, publicKey.toAbsolutePath().toString());
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** Written under a temporary name with mode 600 and moved into place: never readable by others, never half-written. */
    private static void write(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.US_ASCII);
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
