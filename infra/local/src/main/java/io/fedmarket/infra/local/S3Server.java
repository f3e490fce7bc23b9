package io.fedmarket.infra.local;

import io.fedmarket.config.Ports;
import io.fedmarket.config.Queues;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.BucketAlreadyExistsException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/** s3proxy embedded (S3 API), filesystem store under the data directory, path-style, AWS v4 auth. */
final class S3Server implements AutoCloseable {
    static final String ACCESS_KEY = "local-access";
    static final String SECRET_KEY = "local-secret";

    private final S3Proxy proxy;
    private final int port;
    private final String bucket = Queues.get().bucket();

    S3Server(int requestedPort, Path storeDir) {
        this.port = Ports.claim("S3 (s3proxy)", requestedPort, "--s3-port");
        try {
            Files.createDirectories(storeDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the S3 store folder " + storeDir, e);
        }
        Properties props = new Properties();
        props.setProperty("jclouds.filesystem.basedir", storeDir.toAbsolutePath().toString());
        BlobStore store = BlobStores.create("filesystem", props);
        proxy = S3Proxy.builder().blobStore(store).endpoint(URI.create(endpoint()))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .ignoreUnknownHeaders(true).build();
        try {
            proxy.start();
            long deadline = System.currentTimeMillis() + 15_000;
            while (!proxy.getState().equals("STARTED")) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("s3proxy did not start on port " + port + ": " + proxy.getState());
                }
                Thread.sleep(20);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot start s3proxy on 127.0.0.1:" + port + ": " + e.getMessage(), e);
        }
        try (S3Client s3 = client()) {
            s3.createBucket(b -> b.bucket(bucket));
        } catch (BucketAlreadyOwnedByYouException | BucketAlreadyExistsException alreadyThere) {
            // a restart over the same data directory keeps the bucket and its objects
        }
        publishDatasets();
    }

    /**
     * The data sets a builder may name as its validation split ({@code datasets/<name>/images-idx3-ubyte.gz} and
     * {@code labels-idx1-ubyte.gz}, where the verify function reads them): Fashion-MNIST's test split ({@code fashion-mnist-test}) from
     * Debian's {@code dataset-fashion-mnist} ({@code FEDMARKET_FASHION_MNIST_DIR} elsewhere), when the machine has them.
     * On AWS an operator uploads the same layout.
     */
    private void publishDatasets() {
        String env = System.getenv("FEDMARKET_FASHION_MNIST_DIR");
        Path dir = env == null || env.isBlank() ? Path.of("/usr/share/datasets/fashion-mnist") : Path.of(env);
        java.util.Map<String, String> splits = java.util.Map.of("fashion-mnist-test", "t10k");
        try (S3Client s3 = client()) {
            for (java.util.Map.Entry<String, String> e : splits.entrySet()) {
                Path images = dir.resolve(e.getValue() + "-images-idx3-ubyte.gz");
                Path labels = dir.resolve(e.getValue() + "-labels-idx1-ubyte.gz");
                if (!java.nio.file.Files.isRegularFile(images) || !java.nio.file.Files.isRegularFile(labels)) {
                    continue; // no Fashion-MNIST here: an intent naming it as its validation split is verified without that check
                }
                s3.putObject(b -> b.bucket(bucket).key("datasets/" + e.getKey() + "/images-idx3-ubyte.gz"), images);
                s3.putObject(b -> b.bucket(bucket).key("datasets/" + e.getKey() + "/labels-idx1-ubyte.gz"), labels);
            }
        }
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    String bucket() {
        return bucket;
    }

    S3Client client() {
        return S3Client.builder().endpointOverride(URI.create(endpoint())).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop s3proxy", e);
        }
    }
}
