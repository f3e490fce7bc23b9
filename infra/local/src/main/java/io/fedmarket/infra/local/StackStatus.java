package io.fedmarket.infra.local;

import io.fedmarket.config.StackEndpoints;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** {@code ./mkt status}: reads the endpoints file and checks every component with a real request. */
public final class StackStatus {
    private StackStatus() {
    }

    public static Map<String, String> check(StackEndpoints ep) {
        Map<String, String> out = new LinkedHashMap<>();
        if (ep.sqs() != null) {
            out.put("sqs", probe(() -> {
                try (SqsClient c = SqsClient.builder().endpointOverride(URI.create(ep.sqs().endpoint()))
                        .region(Region.of(ep.sqs().region())).httpClient(UrlConnectionHttpClient.create())
                        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ep.sqs().accessKey(), ep.sqs().secretKey())))
                        .build()) {
                    return c.listQueues().queueUrls().size() + " queues at " + ep.sqs().endpoint();
                }
            }));
        }
        if (ep.s3() != null) {
            out.put("s3", probe(() -> {
                try (S3Client c = S3Client.builder().endpointOverride(URI.create(ep.s3().endpoint())).forcePathStyle(true)
                        .region(Region.of(ep.s3().region())).httpClient(UrlConnectionHttpClient.create())
                        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ep.s3().accessKey(), ep.s3().secretKey())))
                        .build()) {
                    c.headBucket(b -> b.bucket(ep.s3().bucket()));
                    return "bucket " + ep.s3().bucket() + " at " + ep.s3().endpoint();
                }
            }));
        }
        if (ep.evm() != null) {
            out.put("evm", probe(() -> {
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(ep.evm().rpcUrl()))
                        .timeout(Duration.ofSeconds(3)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\",\"params\":[]}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                return "eth_blockNumber " + r.body().replaceAll(".*\"result\":\"([^\"]+)\".*", "$1") + " at " + ep.evm().rpcUrl();
            }));
        }
        if (ep.database() != null) {
            out.put("postgres", probe(() -> {
                try (Connection c = DriverManager.getConnection(ep.database().jdbcUrl(), ep.database().user(), ep.database().password());
                     var rs = c.createStatement().executeQuery("select count(*) from flyway_schema_history where success")) {
                    rs.next();
                    return rs.getInt(1) + " migrations at " + ep.database().jdbcUrl();
                }
            }));
        }
        if (ep.functions() != null && ep.functions().gatewayUrl() != null) {
            out.put("gateway", probe(() -> {
                HttpResponse<Void> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(ep.functions().gatewayUrl() + "/health"))
                        .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.discarding());
                return "HTTP " + r.statusCode() + " at " + ep.functions().gatewayUrl();
            }));
        }
        return out;
    }

    private interface Probe {
        String run() throws Exception;
    }

    private static String probe(Probe p) {
        try {
            return "healthy: " + p.run();
        } catch (Exception e) {
            return "DOWN: " + e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    public static void main(String[] args) {
        Optional<Path> file = StackEndpoints.findFile();
        if (file.isEmpty() || !file.get().toFile().isFile()) {
            System.out.println("the local stack is not running (no endpoints file): start it with ./mkt up");
            System.exit(3);
        }
        Map<String, String> status = check(StackEndpoints.read(file.get()));
        status.forEach((k, v) -> System.out.printf("  %-9s %s%n", k, v));
        System.exit(status.values().stream().allMatch(v -> v.startsWith("healthy")) ? 0 : 1);
    }
}
