package io.fedmarket.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;

/**
 * Where every part of a running marketplace stack answers. The local stack writes this file
 * once it is healthy; functions, workers and the CLI read it, so no endpoint is hard-coded.
 * On AWS the same values come from environment/configuration instead.
 *
 * <p>Lookup order of {@link #locate()}: env {@code MKT_ENDPOINTS} (a file), system property
 * {@code mkt.endpoints}, {@code $MKT_HOME/endpoints.json}, then {@code .mkt/endpoints.json} in
 * the working directory or any parent.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record StackEndpoints(Sqs sqs, S3 s3, Evm evm, Database database, Functions functions, Map<String, String> extra) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Sqs(String endpoint, String region, String accessKey, String secretKey,
                      Map<String, String> queueUrls, Map<String, String> dlqUrls) {
        public String queueUrl(String key) {
            String url = queueUrls == null ? null : queueUrls.get(key);
            if (url == null) {
                throw new IllegalStateException("the stack has no queue '" + key + "'; known: "
                        + (queueUrls == null ? "none" : queueUrls.keySet()));
            }
            return url;
        }

        public String dlqUrl(String key) {
            String url = dlqUrls == null ? null : dlqUrls.get(key);
            if (url == null) {
                throw new IllegalStateException("the stack has no DLQ for '" + key + "'");
            }
            return url;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record S3(String endpoint, String region, String accessKey, String secretKey, String bucket,
                     boolean pathStyle) {
    }

    /** {@code contracts} maps a contract name to its deployed address, once deployed. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Evm(String rpcUrl, long chainId, Map<String, String> contracts) {
    }

    /** {@code reactiveUrl} is the vertx-pg form (postgresql://host:port/db) used by Hibernate Reactive. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Database(String jdbcUrl, String reactiveUrl, String user, String password, boolean embedded) {
    }

    /** The local API gateway (HTTP API v2 events into the Lambda runtime), when running. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Functions(String gatewayUrl) {
    }

    public static final String FILE_NAME = "endpoints.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public StackEndpoints withFunctions(Functions f) {
        return new StackEndpoints(sqs, s3, evm, database, f, extra);
    }

    public StackEndpoints withEvm(Evm e) {
        return new StackEndpoints(sqs, s3, e, database, functions, extra);
    }

    public static StackEndpoints read(Path file) {
        try {
            return JSON.readValue(file.toFile(), StackEndpoints.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read stack endpoints from " + file
                    + " (start the stack with ./mkt up)", e);
        }
    }

    /** Writes atomically (temp file + move) so a reader never sees half a file. */
    public void write(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            JSON.writeValue(tmp.toFile(), this);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write stack endpoints to " + file, e);
        }
    }

    public static Optional<Path> findFile() {
        String env = System.getenv("MKT_ENDPOINTS");
        if (env != null && !env.isBlank()) {
            return Optional.of(Path.of(env));
        }
        String prop = System.getProperty("mkt.endpoints");
        if (prop != null && !prop.isBlank()) {
            return Optional.of(Path.of(prop));
        }
        String home = System.getenv("MKT_HOME");
        if (home != null && !home.isBlank()) {
            return Optional.of(Path.of(home, FILE_NAME));
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(".mkt").resolve(FILE_NAME);
            if (Files.isRegularFile(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The endpoints of the running stack, or a clear error telling how to start one. */
    public static StackEndpoints locate() {
        Path file = findFile().orElseThrow(() -> new IllegalStateException(
                "no running marketplace stack found (no .mkt/endpoints.json here or above, and MKT_ENDPOINTS/MKT_HOME unset): run ./mkt up first"));
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("stack endpoints file " + file + " does not exist: run ./mkt up first");
        }
        return read(file);
    }
}
