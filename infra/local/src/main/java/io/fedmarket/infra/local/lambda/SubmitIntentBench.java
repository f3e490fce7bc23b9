package io.fedmarket.infra.local.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import io.fedmarket.config.StackEndpoints;
import io.fedmarket.infra.local.LocalStack;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local Lambda path end to end, measured: starts SQS + PostgreSQL and the packaged function.zip
 * behind the local gateway, signs in with SIWE (challenge → personal_sign → JWT), then submits
 * intents from {@code --clients} concurrent clients for {@code --seconds}, and reports cold starts,
 * p50/p99 latency, throughput, errors, and how many submitted intents the match consumer (through
 * the SQS poller) has taken off the queue. Everything on 127.0.0.1.
 *
 * <pre>java ... io.fedmarket.infra.local.lambda.SubmitIntentBench --zip functions/target/function.zip [--clients 50] [--seconds 30] [--instances 1] [--json]</pre>
 */
public final class SubmitIntentBench {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("--zip", "functions/target/function.zip", "--clients", "50", "--seconds", "30", "--instances", "1"));
        boolean json = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--json")) {
                json = true;
            } else if (a.containsKey(args[i]) && i + 1 < args.length) {
                a.put(args[i], args[++i]);
            } else {
                System.err.println("usage: SubmitIntentBench [--zip PATH] [--clients N] [--seconds S] [--instances N] [--json]");
                System.exit(2);
            }
        }
        int clients = Integer.parseInt(a.get("--clients"));
        int seconds = Integer.parseInt(a.get("--seconds"));
        if (clients < 1 || clients > 500 || seconds < 1 || seconds > 600) {
            System.err.println("--clients must be 1..500 and --seconds 1..600");
            System.exit(2);
        }
        Path data = Files.createTempDirectory("fedmarket-bench");
        Map<String, Object> out = new LinkedHashMap<>();
        try (LocalStack stack = LocalStack.builder().dataDir(data).sqs(true).s3(false).evm(false).postgres(true)
                .databaseName("fedmarket_bench_" + ProcessHandle.current().pid()).start();
             LocalLambda lambda = LocalLambda.builder().functionZip(Path.of(a.get("--zip"))).endpoints(stack.endpoints())
                     .workDir(data.resolve("lambda")).maxInstances(Integer.parseInt(a.get("--instances"))).start()) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            String gw = lambda.gatewayUrl();

            ECKeyPair key = Keys.createEcKeyPair();
            long t0 = System.nanoTime();
            String token = signIn(http, gw, key);
            out.put("authColdSignInMs", (System.nanoTime() - t0) / 1_000_000);
            long t1 = System.nanoTime();
            HttpResponse<String> first = post(http, gw + "/intents", intent(), token);
            out.put("intentsColdFirstResponseMs", (System.nanoTime() - t1) / 1_000_000);
            if (first.statusCode() != 201) {
                throw new IllegalStateException("first submit failed: " + first.statusCode() + " " + first.body());
            }
            long w = System.nanoTime();
            post(http, gw + "/intents", intent(), token);
            out.put("intentsWarmMs", (System.nanoTime() - w) / 1_000_000);

            List<String> tokens = new ArrayList<>();
            for (int i = 0; i < Math.min(clients, 10); i++) {
                tokens.add(signIn(http, gw, Keys.createEcKeyPair()));
            }
            ConcurrentLinkedQueue<Long> lat = new ConcurrentLinkedQueue<>();
            AtomicLong errors = new AtomicLong();
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            CountDownLatch done = new CountDownLatch(clients);
            for (int c = 0; c < clients; c++) {
                String tk = tokens.get(c % tokens.size());
                Thread.ofPlatform().daemon().start(() -> {
                    try {
                        while (System.nanoTime() < end) {
                            long s = System.nanoTime();
                            try {
                                HttpResponse<String> r = post(http, gw + "/intents", intent(), tk);
                                if (r.statusCode() != 201) {
                                    errors.incrementAndGet();
                                } else {
                                    lat.add(System.nanoTime() - s);
                                }
                            } catch (Exception e) {
                                errors.incrementAndGet();
                            }
                        }
                    } finally {
                        done.countDown();
                    }
                });
            }
            done.await();
            long[] l = lat.stream().mapToLong(Long::longValue).sorted().toArray();
            out.put("clients", clients);
            out.put("maxInstancesPerFunction", Integer.parseInt(a.get("--instances")));
            out.put("seconds", seconds);
            out.put("requests", l.length);
            out.put("errors", errors.get());
            out.put("throughputPerSecond", Math.round(l.length / (double) seconds * 10) / 10.0);
            out.put("p50Ms", l.length == 0 ? null : l[l.length / 2] / 1_000_000.0);
            out.put("p99Ms", l.length == 0 ? null : l[Math.min(l.length - 1, (int) Math.ceil(l.length * 0.99) - 1)] / 1_000_000.0);
            out.put("maxMs", l.length == 0 ? null : l[l.length - 1] / 1_000_000.0);
            Thread.sleep(5000);
            out.put("intentsStillSubmitted", count(stack.endpoints(), "select count(*) from intents where status = 'SUBMITTED'"));
            out.put("intentsProcessedByMatch", count(stack.endpoints(), "select count(*) from intents where status <> 'SUBMITTED'"));
            out.put("outboxUnsent", count(stack.endpoints(), "select count(*) from outbox where sent_at is null"));
            out.put("functionZipBytes", Files.size(Path.of(a.get("--zip"))));
        }
        if (json) {
            System.out.println(LocalLambda.JSON.writeValueAsString(out));
        } else {
            System.out.println("submit intent through the local gateway (SIWE → JWT → POST /intents), function.zip " + a.get("--zip"));
            out.forEach((k, v) -> System.out.printf("  %-28s %s%n", k, v));
        }
    }

    private static long count(StackEndpoints ep, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(ep.database().jdbcUrl(), ep.database().user(), ep.database().password());
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String intent() {
        return "{\"model\":{\"architecture\":\"MLP\",\"inputShape\":[784],\"numClasses\":10},\"dataDomain\":\"fashion-mnist\","
                + "\"requiredLabels\":[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"],\"rounds\":20,\"localEpochs\":1,"
                + "\"minParticipants\":2,\"maxParticipants\":5,\"budget\":\"500000000\",\"maxPricePerGpuSecond\":\"1000\",\"deadline\":\""
                + Instant.now().plusSeconds(86400 * 2).truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "\",\"privacy\":{\"mode\":\"NONE\"},\"aggregation\":\"fedavg\"}";
    }

    public static HttpResponse<String> post(HttpClient http, String url, String body, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** SIWE as a wallet does it: challenge, personal_sign of the exact message, token. */
    public static String signIn(HttpClient http, String gw, ECKeyPair key) throws Exception {
        String address = Keys.toChecksumAddress("0x" + Keys.getAddress(key));
        HttpResponse<String> ch = post(http, gw + "/auth/challenge", "{\"address\":\"" + address + "\"}", null);
        if (ch.statusCode() != 201) {
            throw new IllegalStateException("challenge failed: " + ch.statusCode() + " " + ch.body());
        }
        String message = LocalLambda.tree(ch.body()).get("message").asText();
        Sign.SignatureData s = Sign.signPrefixedMessage(message.getBytes(StandardCharsets.UTF_8), key);
        byte[] sig = new byte[65];
        System.arraycopy(s.getR(), 0, sig, 0, 32);
        System.arraycopy(s.getS(), 0, sig, 32, 32);
        sig[64] = s.getV()[0];
        String body = LocalLambda.JSON.writeValueAsString(Map.of("message", message, "signature", Numeric.toHexString(sig)));
        HttpResponse<String> tok = post(http, gw + "/auth/token", body, null);
        JsonNode t = LocalLambda.tree(tok.body());
        if (tok.statusCode() != 200) {
            throw new IllegalStateException("token failed: " + tok.statusCode() + " " + tok.body());
        }
        return t.get("token").asText();
    }

    private SubmitIntentBench() {
    }

    static String[] rest(String[] a, int from) {
        return Arrays.copyOfRange(a, from, a.length);
    }
}
