package io.fedmarket.functions.artifacts;

import io.fedmarket.crypto.Hashes;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

import java.net.URI;
import java.util.Optional;

/**
 * The artifact bucket as the workers lay it out (gpu-worker's ArtifactStore): content-addressed models at
 * {@code <prefix>/<keccak of the bytes>.<ext>}, so a retried write of the same model is the same object.
 */
@ApplicationScoped
public class Artifacts {
    @ConfigProperty(name = "fedmarket.bucket")
    String bucket;

    @ConfigProperty(name = "fedmarket.s3.endpoint")
    Optional<String> endpoint;

    @ConfigProperty(name = "fedmarket.sqs.region")
    String region;

    private volatile S3Client client;

    S3Client client() {
        S3Client c = client;
        if (c == null) {
            synchronized (this) {
                if (client == null) {
                    S3ClientBuilder b = S3Client.builder().region(Region.of(region)).httpClient(UrlConnectionHttpClient.create());
                    if (endpoint.filter(e -> !e.isBlank()).isPresent()) {
                        // a local stand-in (s3proxy): path-style addressing, its identity from the environment (LocalLambda sets it)
                        String key = System.getenv("AWS_ACCESS_KEY_ID");
                        String secret = System.getenv("AWS_SECRET_ACCESS_KEY");
                        b.endpointOverride(URI.create(endpoint.get())).forcePathStyle(true).credentialsProvider(StaticCredentialsProvider.create(
                                AwsBasicCredentials.create(key == null ? "local" : key, secret == null ? "local" : secret)));
                    } else {
                        b.credentialsProvider(EnvironmentVariableCredentialsProvider.create());
                    }
                    client = b.build();
                }
                c = client;
            }
        }
        return c;
    }

    /**
     * Uploaded TorchScript files ({@code models/torchscript/<sha256>.pt}) are where the plain-Java model layouts find them in every
     * function (intake, match, verify's cheap checks, aggregate and settle's start model).
     */
    void installModelFiles(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent ev) {
        io.fedmarket.fl.model.TorchScriptModels.setLoader(sha -> find(io.fedmarket.fl.model.TorchScriptModels.key(sha)).orElse(null));
    }

    /** The object's bytes; a missing object is an error naming it. */
    public byte[] get(String key) {
        try {
            return client().getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
        } catch (NoSuchKeyException e) {
            throw new IllegalStateException("artifact s3://" + bucket + "/" + key + " does not exist", e);
        }
    }

    /** Stores {@code bytes} at {@code prefix/<keccak>.ext} and returns that key. */
    public String putContent(String prefix, String ext, byte[] bytes) {
        String key = prefix + "/" + Hashes.hex(Hashes.keccak256(bytes)).substring(2) + "." + ext;
        client().putObject(b -> b.bucket(bucket).key(key).contentType("application/octet-stream"), RequestBody.fromBytes(bytes));
        return key;
    }

    public void put(String key, byte[] bytes) {
        client().putObject(b -> b.bucket(bucket).key(key).contentType("application/octet-stream"), RequestBody.fromBytes(bytes));
    }

    /** Whether the bucket holds {@code key} (its first byte is read: s3proxy answers HEAD with 404 for objects GET serves). */
    public boolean exists(String key) {
        try {
            client().getObjectAsBytes(b -> b.bucket(bucket).key(key).range("bytes=0-0"));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw e;
        }
    }

    public Optional<byte[]> find(String key) {
        try {
            return Optional.of(client().getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    /** A JSON record the workers wrote (trail manifests, re-execution results), or empty when it is not there. */
    public <T> Optional<T> findJson(String key, Class<T> type) {
        return find(key).map(b -> {
            try {
                return JSON.readValue(b, type);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("s3://" + bucket + "/" + key + " is not a " + type.getSimpleName() + ": " + e.getMessage(), e);
            }
        });
    }

    public void putJson(String key, String json) {
        client().putObject(b -> b.bucket(bucket).key(key).contentType("application/json"), RequestBody.fromString(json));
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper()
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @PreDestroy
    void close() {
        if (client != null) {
            client.close();
        }
    }
}
