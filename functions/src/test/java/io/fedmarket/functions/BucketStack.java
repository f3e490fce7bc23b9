package io.fedmarket.functions;

import io.fedmarket.config.Ports;
import io.fedmarket.config.Queues;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The artifact bucket for the functions that read it: s3proxy embedded as infra/local's S3Server runs it (filesystem store
 * in a temporary folder, path-style, AWS v2/v4 authentication), the bucket of queues.json created. Started once per Quarkus
 * start.
 * <p>
 * Not {@code LocalStack.builder().s3(true)}: its s3proxy accepts only its own identity (local-access), while the functions'
 * {@code Artifacts} signs with {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY} from the environment ("local" when
 * unset), which a test resource cannot set; so this proxy accepts exactly the identity {@code Artifacts} will use.
 */
public class BucketStack implements QuarkusTestResourceLifecycleManager {
    static final String ACCESS_KEY = Optional.ofNullable(System.getenv("AWS_ACCESS_KEY_ID")).orElse("local");
    static final String SECRET_KEY = Optional.ofNullable(System.getenv("AWS_SECRET_ACCESS_KEY")).orElse("local");
    static final String BUCKET = Queues.get().bucket();

    /** Debian's Fashion-MNIST test split (package dataset-fashion-mnist), uploaded as the data set {@link #FASHION_MNIST_TEST} when present. */
    static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");
    static final String FASHION_MNIST_TEST = "fashion-mnist-test";

    static volatile String endpoint;
    /** The running stack (one Quarkus start at a time), for {@link #offline}. */
    private static volatile BucketStack current;
    private S3Proxy proxy;
    private Path dir;

    public static S3Client s3() {
        return S3Client.builder().endpointOverride(URI.create(endpoint)).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    /** Writes {@code json} at {@code key} in the bucket. */
    public static void putJson(String key, String json) {
        try (S3Client s3 = s3()) {
            s3.putObject(b -> b.bucket(BUCKET).key(key).contentType("application/json"), RequestBody.fromString(json, StandardCharsets.UTF_8));
        }
    }

    /** Writes {@code bytes} at {@code key} in the bucket. */
    public static void put(String key, byte[] bytes) {
        try (S3Client s3 = s3()) {
            s3.putObject(b -> b.bucket(BUCKET).key(key).contentType("application/octet-stream"), RequestBody.fromBytes(bytes));
        }
    }

    /** Writes {@code bytes} content-addressed, as the workers and the functions' Artifacts do: {@code prefix/<keccak of the bytes>.ext}; returns the key. */
    public static String putContent(String prefix, String ext, byte[] bytes) {
        String key = prefix + "/" + io.fedmarket.crypto.Hashes.hex(io.fedmarket.crypto.Hashes.keccak256(bytes)).substring(2) + "." + ext;
        put(key, bytes);
        return key;
    }

    /** The object at {@code key}, or empty when there is none. */
    public static Optional<byte[]> find(String key) {
        try (S3Client s3 = s3()) {
            return Optional.of(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(key)).asByteArray());
        } catch (software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    /** Whether the bucket holds the data set {@code name} ({@code datasets/<name>/images-idx3-ubyte.gz} and its labels). */
    public static boolean hasDataset(String name) {
        return find("datasets/" + name + "/images-idx3-ubyte.gz").isPresent() && find("datasets/" + name + "/labels-idx1-ubyte.gz").isPresent();
    }

    public interface Action {
        void run() throws Exception;
    }

    /**
     * Runs {@code action} while the bucket does not answer (the proxy stopped, then started again on the same port with the
     * same objects): what a function does when S3 is down, i.e. fails the record so that it comes back.
     */
    public static void offline(Action action) throws Exception {
        BucketStack b = current;
        if (b == null) {
            throw new IllegalStateException("no BucketStack is running");
        }
        b.proxy.stop();
        try {
            action.run();
        } finally {
            b.startProxy();
        }
    }

    private void startProxy() {
        try {
            Properties props = new Properties();
            props.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
            proxy = S3Proxy.builder().blobStore(BlobStores.create("filesystem", props)).endpoint(URI.create(endpoint))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).ignoreUnknownHeaders(true).build();
            proxy.start();
            long deadline = System.currentTimeMillis() + 15_000;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("s3proxy did not start on " + endpoint + ": " + proxy.getState());
                }
                Thread.sleep(20);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot start s3proxy on " + endpoint + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Map<String, String> start() {
        int port = Ports.claim("S3 (s3proxy)", 0, "-");
        endpoint = "http://127.0.0.1:" + port;
        try {
            dir = Files.createTempDirectory("fedmarket-fn-s3");
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create the s3proxy folder: " + e.getMessage(), e);
        }
        startProxy();
        try (S3Client s3 = s3()) {
            s3.createBucket(b -> b.bucket(BUCKET));
        }
        // the builders' validation split as infra/local uploads it (skipped where Debian's dataset-fashion-mnist is not installed)
        Path images = FASHION_MNIST.resolve("t10k-images-idx3-ubyte.gz");
        Path labels = FASHION_MNIST.resolve("t10k-labels-idx1-ubyte.gz");
        if (Files.isReadable(images) && Files.isReadable(labels)) {
            try {
                put("datasets/" + FASHION_MNIST_TEST + "/images-idx3-ubyte.gz", Files.readAllBytes(images));
                put("datasets/" + FASHION_MNIST_TEST + "/labels-idx1-ubyte.gz", Files.readAllBytes(labels));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot upload " + FASHION_MNIST + ": " + e.getMessage(), e);
            }
        }
        current = this;
        // what Artifacts reads: the bucket and the endpoint (set: path-style, static credentials from the environment)
        return Map.of("fedmarket.bucket", BUCKET, "fedmarket.s3.endpoint", endpoint);
    }

    @Override
    public void stop() {
        current = null;
        try {
            if (proxy != null) {
                proxy.stop();
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop s3proxy", e);
        } finally {
            if (dir != null) {
                try (Stream<Path> files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (Exception ignored) {
                    // a temporary folder left behind
                }
            }
        }
    }
}
