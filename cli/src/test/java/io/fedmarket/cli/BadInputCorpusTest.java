package io.fedmarket.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.config.Queues;
import io.fedmarket.config.StackEndpoints;
import io.fedmarket.infra.local.LocalStack;
import io.fedmarket.infra.local.lambda.LocalLambda;
import io.fedmarket.infra.local.lambda.SubmitIntentBench;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

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
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The front door as an attacker tries it: a corpus of bad requests generated here (every class of issue 24, every route)
 * sent as real HTTP requests to the local API gateway in front of the packaged function.zip, against real PostgreSQL,
 * ElasticMQ and s3proxy. Every answer must be a 4xx with {@code {code, error, details}} whose error says what to fix, none a
 * 5xx, and afterwards every table's contents and every queue's depth must be exactly what they were before.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class BadInputCorpusTest {
    static final Path ZIP = Path.of(System.getProperty("fedmarket.functionZip", "../functions/target/function.zip"));
    static final ObjectMapper JSON = new ObjectMapper();
    static final long MAX = Long.MAX_VALUE;

    LocalStack stack;
    LocalLambda lambda;
    String gw;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Wallet(ECKeyPair key, String address, String token) {
    }

    Wallet builder;
    Wallet provider;
    Wallet revoked;
    String intentId;
    String classes7;
    String throttled;
    String pendingMessage;

    @BeforeAll
    void start(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertThat(Files.isRegularFile(ZIP)).as("function.zip at %s: build it first with ./mvnw package", ZIP.toAbsolutePath()).isTrue();
        // any free ports: nothing here may collide with a stack someone else runs on this machine
        stack = LocalStack.builder().dataDir(dir).sqs(true).s3(true).evm(true).postgres(true).sqsPort(0).s3Port(0).evmPort(0)
                .databaseName("fedmarket_badinput").freshDatabase(true).start();
        io.fedmarket.cli.demo.DemoRunner.emptyMarketplace(stack.endpoints().database());
        // API only: no pollers, so the one message the setup queues stays where it is and the depths can be compared
        lambda = LocalLambda.builder().functionZip(ZIP).endpoints(stack.endpoints()).workDir(dir.resolve("lambda"))
                .pollers(false).progress(System.out::println).start();
        gw = lambda.gatewayUrl();

        builder = signIn();
        provider = signIn();
        revoked = signIn();
        HttpResponse<String> ok = post("/intents", validIntent(), builder.token());
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
        intentId = JSON.readTree(ok.body()).get("id").asText();
        // a valid TorchScript file with 7 outputs, uploaded: an intent that declares 10 classes for it is a bad one
        HttpResponse<String> up = http.send(HttpRequest.newBuilder(URI.create(gw + "/models")).header("authorization", "Bearer " + builder.token())
                .header("content-type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(model("bad-classes7.pt"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(up.statusCode()).as(up.body()).isEqualTo(201);
        classes7 = JSON.readTree(up.body()).get("sha256").asText();
        assertThat(post("/providers/gpu", validGpu(), provider.token()).statusCode()).isEqualTo(201);
        assertThat(post("/providers/data", validData(), provider.token()).statusCode()).isEqualTo(201);
        // an operator removes the builder role of one account, and the provider role of the builder; their tokens (1 h) still claim them
        sql("delete from account_roles where address = '" + revoked.address().toLowerCase() + "' and role = 'builder'");
        sql("delete from account_roles where address = '" + builder.address().toLowerCase() + "' and role = 'provider'");
        // an address that already took its 5 challenges of the minute
        throttled = Keys.toChecksumAddress("0x" + Keys.getAddress(Keys.createEcKeyPair()));
        for (int i = 0; i < 5; i++) {
            assertThat(post("/auth/challenge", "{\"address\":\"" + throttled + "\"}", null).statusCode()).isEqualTo(201);
        }
        // an issued, unused challenge that bad token requests refer to
        HttpResponse<String> ch = post("/auth/challenge", "{\"address\":\"" + provider.address() + "\"}", null);
        assertThat(ch.statusCode()).isEqualTo(201);
        pendingMessage = JSON.readTree(ch.body()).get("message").asText();
    }

    @AfterAll
    void stop() {
        if (lambda != null) {
            lambda.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    // ------------------------------------------------------------------ the corpus

    /** One bad request: its class, what it sends, and the status and codes it must get (codes empty: any). */
    record Case(String cls, String method, String path, Map<String, String> headers, String body, int minStatus, int maxStatus,
                Set<String> codes, byte[] raw) {
        Case(String cls, String method, String path, Map<String, String> headers, String body, int minStatus, int maxStatus, Set<String> codes) {
            this(cls, method, path, headers, body, minStatus, maxStatus, codes, null);
        }

        String label() {
            String b = raw != null ? "(" + raw.length + " bytes)" : body == null ? "" : body.length() > 160 ? body.substring(0, 160) + "…" : body;
            return "[" + cls + "] " + method + " " + path + " " + headers + " " + b;
        }
    }

    final List<Case> corpus = new ArrayList<>();

    static final Map<String, String> JSON_CT = Map.of("content-type", "application/json");

    void add(String cls, String method, String path, String token, Map<String, String> headers, String body, int status, String... codes) {
        add(cls, method, path, token, headers, body, status, status, codes);
    }

    void add(String cls, String method, String path, String token, Map<String, String> headers, String body, int min, int max, String... codes) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        if (token != null) {
            h.put("authorization", "Bearer " + token);
        }
        corpus.add(new Case(cls, method, path, h, body, min, max, Set.of(codes)));
    }

    /** A POST with a JSON body to a body route, with the token that route needs. */
    void body(String cls, String path, String body, int status, String... codes) {
        add(cls, "POST", path, tokenFor(path), JSON_CT, body, status, codes);
    }

    void body(String cls, String path, String body, int min, int max, String... codes) {
        add(cls, "POST", path, tokenFor(path), JSON_CT, body, min, max, codes);
    }

    String tokenFor(String path) {
        return path.startsWith("/auth/") ? null : path.startsWith("/providers/") ? provider.token() : builder.token();
    }

    static final List<String> BODY_ROUTES = List.of("/auth/challenge", "/auth/token", "/intents", "/providers/gpu", "/providers/data");

    Map<String, Object> validFor(String path) {
        return switch (path) {
            case "/auth/challenge" -> new LinkedHashMap<>(Map.of("address", builder.address()));
            case "/auth/token" -> new LinkedHashMap<>(Map.of("message", pendingMessage, "signature", "0x" + "11".repeat(65)));
            case "/intents" -> intent();
            case "/providers/gpu" -> gpu();
            default -> data();
        };
    }

    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    Map<String, Object> intent() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", Map.of("architecture", "CNN", "inputShape", List.of(1, 28, 28), "numClasses", 10));
        m.put("dataDomain", "fashion-mnist");
        m.put("requiredLabels", List.of("0", "1", "2"));
        m.put("rounds", 3);
        m.put("localEpochs", 1);
        m.put("minParticipants", 1);
        m.put("maxParticipants", 3);
        m.put("budget", "1000000000");
        m.put("maxPricePerGpuSecond", "1000");
        m.put("deadline", Instant.now().plus(3, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS).toString());
        m.put("privacy", Map.of("mode", "NONE"));
        m.put("aggregation", "fedavg");
        return m;
    }

    Map<String, Object> gpu() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "rig-2");
        m.put("gpuModel", "L4");
        m.put("gpuCount", 1);
        m.put("gpuMemoryGib", 24);
        m.put("askPerGpuSecond", "10");
        m.put("region", "eu-west-1");
        m.put("samplesPerSecond", 5000.0);
        return m;
    }

    Map<String, Object> source() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("dataset", "fashion-mnist");
        s.put("partition", "dirichlet:0.5");
        s.put("clients", 5);
        s.put("client", 0);
        s.put("partitionSeed", 1);
        return s;
    }

    Map<String, Object> data() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "shard-2");
        m.put("domain", "fashion-mnist");
        m.put("region", "eu-west-1");
        m.put("sampleCount", 1200);
        m.put("labelHistogram", new LinkedHashMap<>(Map.of("0", 400, "1", 400, "2", 400)));
        m.put("datasetRoot", "0x" + "ab".repeat(32));
        m.put("source", source());
        return m;
    }

    String validIntent() {
        return json(intent());
    }

    String validGpu() {
        Map<String, Object> g = gpu();
        g.put("name", "rig-1");
        return json(g);
    }

    String validData() {
        Map<String, Object> d = data();
        d.put("name", "shard-1");
        return json(d);
    }

    Map<String, Object> with(Map<String, Object> m, String key, Object value) {
        m.put(key, value);
        return m;
    }

    /** The valid body of {@code path} with {@code field} (dotted: nested) replaced by a raw JSON text. */
    String withRaw(String path, String field, String rawJson) {
        String marker = "\"@@RAW@@\"";
        Map<String, Object> m = validFor(path);
        String[] parts = field.split("\\.");
        Map<String, Object> at = m;
        for (int i = 0; i < parts.length - 1; i++) {
            @SuppressWarnings("unchecked")
            Map<String, Object> next = new LinkedHashMap<>((Map<String, Object>) at.getOrDefault(parts[i], Map.of()));
            at.put(parts[i], next);
            at = next;
        }
        at.put(parts[parts.length - 1], "@@RAW@@");
        return json(m).replace(marker, rawJson);
    }

    void generate() throws Exception {
        // 0. challenge issuance is throttled per address (first: the address's 5 challenges of the setup are within the minute)
        for (int i = 0; i < 3; i++) {
            add("challenge throttle", "POST", "/auth/challenge", null, JSON_CT, json(Map.of("address", throttled)), 429, "too_many_challenges");
        }

        // 1. a body that is not an object (JSON null was a 500 on every body route)
        for (String route : BODY_ROUTES) {
            for (String top : List.of("null", "[]", "[{}]", "\"text\"", "42", "true", "  null  ")) {
                body("null-or-non-object body", route, top, 400, "body_not_object");
            }
        }
        // 2. duplicate keys: every top-level field of every body route sent twice, and nested ones
        for (String route : BODY_ROUTES) {
            Map<String, Object> m = validFor(route);
            for (String k : m.keySet()) {
                String valid = json(m);
                String dup = valid.substring(0, valid.length() - 1) + "," + json(k) + ":" + json(m.get(k)) + "}";
                body("duplicate keys", route, dup, 400, "duplicate_field");
            }
        }
        body("duplicate keys", "/intents", withRaw("/intents", "privacy", "{\"mode\":\"NONE\",\"mode\":\"DP\"}"), 400, "duplicate_field");
        body("duplicate keys", "/intents", withRaw("/intents", "budget", "\"1\",\"budget\":\"999999999999\""), 400, "duplicate_field");
        body("duplicate keys", "/providers/data", withRaw("/providers/data", "labelHistogram", "{\"0\":600,\"0\":600}"), 400, "duplicate_field");
        body("duplicate keys", "/providers/data", withRaw("/providers/data", "source", "{\"dataset\":\"fashion-mnist\",\"client\":0,\"client\":1}"), 400, "duplicate_field");
        body("duplicate keys", "/intents", withRaw("/intents", "aggregationParams", "{\"f\":1,\"f\":2}"), 400, "duplicate_field");

        // 3. label histogram sums: exact arithmetic, no wrap-around
        long[][] sums = {{MAX, MAX, 102, 100}, {MAX, 1, 0, MAX}, {MAX, MAX, 2, 0}, {MAX / 2 + 1, MAX / 2 + 1, 0, 0}, {MAX, MAX, MAX, MAX - 2},
                {Long.MIN_VALUE, 1000, 400, 1400}};
        for (long[] s : sums) {
            Map<String, Object> d = data();
            d.put("labelHistogram", new LinkedHashMap<>(Map.of("0", s[0], "1", s[1], "2", s[2])));
            d.put("sampleCount", s[3]);
            body("histogram sum overflow", "/providers/data", json(d), 422, "invalid_data_provider");
        }
        body("histogram sum overflow", "/providers/data", withRaw("/providers/data", "labelHistogram", "{\"0\":9223372036854775808,\"1\":1}"), 400, "number_out_of_range");

        // 4. dirichlet alphas that parse to Infinity or nonsense
        for (String p : List.of("dirichlet:" + "9".repeat(400), "dirichlet:" + "9".repeat(40), "dirichlet:0", "dirichlet:0.0", "dirichlet:1001",
                "dirichlet:.", "dirichlet:-1", "dirichlet:1e9", "dirichlet:NaN", "shards:0", "iid ")) {
            Map<String, Object> d = data();
            @SuppressWarnings("unchecked")
            Map<String, Object> s = (Map<String, Object>) d.get("source");
            s.put("partition", p);
            body("dirichlet alpha", "/providers/data", json(d), 422, "invalid_data_provider");
        }

        // 5. unknown fields: inside source (was dropped silently) and at the top of every body route
        for (String extra : List.of("shard", "url", "clientCount", "seed", "admin")) {
            Map<String, Object> d = data();
            @SuppressWarnings("unchecked")
            Map<String, Object> s = (Map<String, Object>) d.get("source");
            s.put(extra, 1);
            body("unknown field", "/providers/data", json(d), 400, "unknown_field");
        }
        for (String route : BODY_ROUTES) {
            body("unknown field", route, json(with(validFor(route), "role", "operator")), 400, "unknown_field");
        }
        body("unknown field", "/intents", withRaw("/intents", "privacy", "{\"mode\":\"NONE\",\"noise\":1}"), 400, "unknown_field");
        body("unknown field", "/intents", withRaw("/intents", "training", "{\"lr\":0.1}"), 400, "unknown_field");
        body("unknown field", "/intents", withRaw("/intents", "verification", "{\"validation\":{\"dataset\":\"fashion-mnist-test\",\"size\":64}}"), 400, "unknown_field");

        // 6. Content-Type: JSON only (text/plain, forms and none were accepted)
        for (String route : BODY_ROUTES) {
            String valid = json(validFor(route));
            for (String ct : new String[] {"text/plain", "application/x-www-form-urlencoded", null, "multipart/form-data; boundary=x",
                    "application/xml", "text/json", "application/json; charset=iso-8859-1", "application/jsonp", "*/*"}) {
                Map<String, String> h = ct == null ? Map.of() : Map.of("content-type", ct);
                add("content type", "POST", route, tokenFor(route), h, valid, 415, "unsupported_media_type");
            }
            add("content type", "POST", route, tokenFor(route), Map.of("content-type", "application/x-www-form-urlencoded"), "address=" + builder.address(),
                    415, "unsupported_media_type");
        }

        // 7. deadlines: ISO-8601 UTC with Z only
        for (String d : List.of("1900000000", "1900000000000", "\"1900000000\"", "\"2030-01-31T12:00:00+02:00\"", "\"2030-01-31T12:00:00-05:00\"",
                "\"2030-01-31T12:00:00\"", "\"2030-01-31\"", "\"2030-02-31T12:00:00Z\"", "\"2030-01-31 12:00:00Z\"", "\"2030-01-31T12:00Z\"",
                "\"2030-01-31T12:00:00z\"", "\"+2030-01-31T12:00:00Z\"", "\"2030-01-31T25:00:00Z\"", "\"next friday\"", "[2030,1,31]", "{\"epochSecond\":1900000000}",
                "true", "1.9e9")) {
            body("deadline format", "/intents", withRaw("/intents", "deadline", d), 400, "wrong_type");
        }

        // 8. intents the plan cannot serve: refused at intake, not left for match to mark UNMATCHED
        for (Object[] dp : new Object[][] {{1e-9, 1e-5, 1000}, {1e-9, 1e-5, 3}, {1e-6, 1e-6, 1000}, {1e-4, 1e-7, 500}}) {
            Map<String, Object> m = intent();
            m.put("privacy", Map.of("mode", "DP", "epsilon", dp[0], "delta", dp[1]));
            m.put("rounds", dp[2]);
            body("plan cannot serve", "/intents", json(m), 422, "invalid_intent");
        }
        // a cap on revealed samples below what detection needs (2q one-step segments of a batch each)
        body("plan cannot serve", "/intents", json(with(intent(), "verification", Map.of("maxRevealedSamples", 100))), 422, "invalid_intent");
        for (String set : List.of("no-such-set", "fashion-mnist", "mnist-test", "fashion-mnist-train")) {
            body("plan cannot serve", "/intents", json(with(intent(), "verification", Map.of("validation", Map.of("dataset", set)))), 422, "invalid_intent");
        }

        // 9. control characters inside label names (and elsewhere)
        for (String bad : List.of("1\u0000", "\u0000", "a\u0007b", "tab\there", "\u001f", "x\u007f", "\u0085next", "cr\r", "nl\n")) {
            body("control characters", "/intents", json(with(intent(), "requiredLabels", List.of("0", bad))), 400, 422, "bad_character", "invalid_intent");
            Map<String, Object> d = data();
            d.put("labelHistogram", new LinkedHashMap<>(Map.of("0", 400, "1", 400, bad, 400)));
            body("control characters", "/providers/data", json(d), 400, 422, "bad_character", "invalid_data_provider");
        }
        for (String raw : List.of("\"\\ud800\"", "\"a\\udc00\"", "\" 1\"", "\"1 \"", "\"\\u200b\"", "\"\"")) {
            body("control characters", "/intents", withRaw("/intents", "requiredLabels", "[\"0\"," + raw + "]"), 400, 422, "bad_character", "invalid_intent");
        }
        body("control characters", "/providers/gpu", json(with(gpu(), "name", "rig\u0000")), 400, "bad_character");
        body("control characters", "/auth/challenge", json(Map.of("address", builder.address() + "\u0000")), 400, "bad_character");

        // 10. samplesPerSecond that is no measured speed
        for (String s : List.of("4.9e-324", "2.2250738585072014E-308", "1e-310", "1e-9", "0", "0.0", "-0.0", "-1", "1e309", "100000001", "1e400")) {
            body("samplesPerSecond", "/providers/gpu", withRaw("/providers/gpu", "samplesPerSecond", s), 422, "invalid_gpu_provider");
        }

        // 11. tokens after the object
        for (String route : BODY_ROUTES) {
            String valid = json(validFor(route));
            for (String tail : List.of(" {}", "{}", " []", " 1", " null", " \"x\"", " true")) {
                body("trailing tokens", route, valid + tail, 400, "trailing_content");
            }
            body("trailing tokens", route, valid + " }", 400, "malformed_json");
        }

        // 12. NaN and Infinity: the answer names the rule, not a server setting
        for (String n : List.of("NaN", "Infinity", "-Infinity", "+Infinity", "nan", "-NaN")) {
            body("NaN and Infinity", "/providers/gpu", withRaw("/providers/gpu", "samplesPerSecond", n), 400, "non_finite_number", "malformed_json");
            body("NaN and Infinity", "/intents", withRaw("/intents", "privacy", "{\"mode\":\"DP\",\"epsilon\":" + n + ",\"delta\":1e-5}"), 400,
                    "non_finite_number", "malformed_json");
        }
        body("NaN and Infinity", "/intents", withRaw("/intents", "training", "{\"learningRate\":NaN}"), 400, "non_finite_number");

        // 13. methods and paths no route takes: {code, error, details}, not the gateway's bare 404
        String id = UUID.randomUUID().toString();
        Map<String, List<String>> routes = new LinkedHashMap<>();
        routes.put("/auth/challenge", List.of("GET", "PUT", "DELETE", "PATCH"));
        routes.put("/auth/token", List.of("GET", "PUT", "DELETE"));
        routes.put("/intents", List.of("PUT", "DELETE", "PATCH"));
        routes.put("/intents/" + intentId, List.of("POST", "PUT", "DELETE"));
        routes.put("/intents/" + intentId + "/cancel", List.of("GET", "PUT", "DELETE"));
        routes.put("/providers/gpu", List.of("GET", "PUT", "DELETE"));
        routes.put("/providers/data", List.of("GET", "PUT", "DELETE"));
        routes.put("/providers/me", List.of("POST", "PUT", "DELETE"));
        routes.put("/jobs/" + id, List.of("POST", "PUT", "DELETE"));
        routes.put("/claims/" + id, List.of("POST", "PUT", "DELETE"));
        routes.forEach((path, methods) -> methods.forEach(m ->
                add("wrong method or route", m, path, builder.token(), JSON_CT, m.equals("GET") || m.equals("DELETE") ? null : "{}", 405, "method_not_allowed")));
        for (String path : List.of("/", "/intent", "/intents/" + intentId + "/cancel/now", "/auth", "/providers", "/jobs", "/claims", "/admin",
                "/intents//cancel", "/../etc/passwd", "/jobs/" + id + "/rounds")) {
            add("wrong method or route", "GET", path, builder.token(), Map.of(), null, 404, "no_route");
            add("wrong method or route", "POST", path, builder.token(), JSON_CT, "{}", 404, "no_route");
        }

        // 14. authentication on every authenticated route
        String[] parts = builder.token().split("\\.");
        String none = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + parts[1] + ".";
        String hs256 = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "." + parts[1] + "." + parts[2];
        String elevated = parts[0] + "." + b64(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                .replace("\"builder\"", "\"builder\",\"operator\"")) + "." + parts[2];
        Map<String, String> authRoutes = new LinkedHashMap<>();
        authRoutes.put("/intents", "POST");
        authRoutes.put("/intents?limit=5", "GET");
        authRoutes.put("/intents/" + intentId, "GET");
        authRoutes.put("/intents/" + intentId + "/cancel", "POST");
        authRoutes.put("/providers/gpu", "POST");
        authRoutes.put("/providers/data", "POST");
        authRoutes.put("/providers/me", "GET");
        authRoutes.put("/jobs/" + id, "GET");
        authRoutes.put("/claims/" + id, "GET");
        for (var e : authRoutes.entrySet()) {
            String b = e.getValue().equals("POST") ? e.getKey().startsWith("/providers/gpu") ? json(gpu())
                    : e.getKey().startsWith("/providers/data") ? json(data()) : e.getKey().equals("/intents") ? json(intent()) : null : null;
            for (String authz : new String[] {null, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer not.a.jwt", "Bearer " + none,
                    "Bearer " + hs256, "Bearer " + elevated, "Bearer " + parts[0] + "." + parts[1], "Token " + builder.token()}) {
                Map<String, String> h = new LinkedHashMap<>(JSON_CT);
                if (authz != null) {
                    h.put("authorization", authz);
                }
                add("authentication", e.getValue(), e.getKey(), null, h, b, 401, "unauthenticated");
            }
        }

        // 15. roles: a removed role stops working at once; a provider is not a builder, a builder not a provider
        add("roles", "POST", "/intents", revoked.token(), JSON_CT, json(intent()), 403, "forbidden");
        add("roles", "GET", "/intents", revoked.token(), Map.of(), null, 403, "forbidden");
        add("roles", "GET", "/intents/" + intentId, revoked.token(), Map.of(), null, 403, "forbidden");
        add("roles", "POST", "/intents/" + intentId + "/cancel", revoked.token(), Map.of(), null, 403, "forbidden");
        // another builder's intent is invisible and cannot be cancelled
        add("roles", "GET", "/intents/" + intentId, provider.token(), Map.of(), null, 404, "not_found");
        add("roles", "POST", "/intents/" + intentId + "/cancel", provider.token(), Map.of(), null, 404, "not_found");
        add("roles", "POST", "/providers/gpu", builder.token(), JSON_CT, json(gpu()), 403, "forbidden");
        add("roles", "POST", "/providers/data", builder.token(), JSON_CT, json(data()), 403, "forbidden");
        add("roles", "GET", "/providers/me", builder.token(), Map.of(), null, 403, "forbidden");

        // 17. the classes that already held, kept so: missing fields, wrong types, ranges, sign-in, queries, ids, size
        for (String route : BODY_ROUTES) {
            body("missing, wrong type, range", route, "{}", 400, 422, "missing_field", "invalid_data_provider", "invalid_gpu_provider", "invalid_intent", "bad_address",
                    "bad_siwe_message");
            body("missing, wrong type, range", route, "{\"a\":", 400, "malformed_json");
            body("missing, wrong type, range", route, "", 400, "missing_body");
        }
        for (String[] fv : new String[][] {{"rounds", "\"3\""}, {"rounds", "3.5"}, {"rounds", "-1"}, {"rounds", "99999999999"}, {"budget", "1000"},
                {"budget", "\"-5\""}, {"budget", "\"0x10\""}, {"budget", "\"" + "9".repeat(79) + "\""}, {"aggregation", "\"fedmagic\""},
                {"privacy", "{\"mode\":\"HOMOMORPHIC\"}"}, {"model", "{\"architecture\":\"RNN\",\"inputShape\":[784],\"numClasses\":10}"},
                {"model", "{\"architecture\":\"MLP\",\"inputShape\":[784],\"numClasses\":1}"},
                {"model", "{\"architecture\":\"MLP\",\"inputShape\":[784],\"numClasses\":100001}"},
                {"model", "{\"architecture\":\"MLP\",\"inputShape\":[100],\"numClasses\":10}"},
                {"model", "{\"architecture\":\"CNN\",\"inputShape\":[3,32,32],\"numClasses\":10}"},
                {"model", "{\"architecture\":\"CNN\",\"inputShape\":[1,28,28],\"numClasses\":5}"}, {"requiredLabels", "[]"}, {"requiredLabels", "[\"0\",\"0\"]"},
                {"minParticipants", "50"}, {"deadline", "\"2001-01-01T00:00:00Z\""}, {"dataDomain", "\"Fashion MNIST\""}, {"training", "{\"batchSize\":0}"},
                {"verification", "{\"comparison\":\"fuzzy\"}"}, {"aggregationParams", "{\"f\":1}"}}) {
            body("missing, wrong type, range", "/intents", withRaw("/intents", fv[0], fv[1]), 400, 422);
        }
        for (String[] fv : new String[][] {{"gpuCount", "0"}, {"gpuCount", "\"1\""}, {"askPerGpuSecond", "10"}, {"askPerGpuSecond", "\"ten\""},
                {"region", "\"mars\""}, {"name", "\"\""}, {"gpuMemoryGib", "1.5"}}) {
            body("missing, wrong type, range", "/providers/gpu", withRaw("/providers/gpu", fv[0], fv[1]), 400, 422);
        }
        for (String[] fv : new String[][] {{"sampleCount", "0"}, {"sampleCount", "1201"}, {"datasetRoot", "\"0x1234\""}, {"labelHistogram", "{}"},
                {"labelHistogram", "{\"0\":-1,\"1\":1201}"}, {"labelHistogram", "{\"0\":\"400\"}"}, {"source", "{\"dataset\":\"imagenet\"}"},
                {"source", "[]"}, {"source.client", "5"}, {"source.clients", "0"}, {"source.partitionSeed", "\"1\""}}) {
            body("missing, wrong type, range", "/providers/data", withRaw("/providers/data", fv[0], fv[1]), 400, 422);
        }
        for (String a : List.of("0x1234", builder.address().toLowerCase().replace("0x", "0X"), "0x" + "g".repeat(40), "vitalik.eth")) {
            body("missing, wrong type, range", "/auth/challenge", json(Map.of("address", a)), 422, "bad_address");
        }
        body("missing, wrong type, range", "/auth/challenge", "{\"address\":42}", 400, "wrong_type");
        ECKeyPair other = Keys.createEcKeyPair();
        body("sign-in", "/auth/token", json(Map.of("message", pendingMessage, "signature", personalSign(pendingMessage, other))), 401, "unauthenticated");
        body("sign-in", "/auth/token", json(Map.of("message", pendingMessage.replace("Sign in", "Sign In"), "signature",
                personalSign(pendingMessage, provider.key()))), 400, 401, "unauthenticated", "bad_siwe_message");
        body("sign-in", "/auth/token", json(Map.of("message", pendingMessage.replace("Nonce: ", "Nonce: X"), "signature",
                personalSign(pendingMessage.replace("Nonce: ", "Nonce: X"), provider.key()))), 401, "unauthenticated");
        body("sign-in", "/auth/token", json(Map.of("message", "hello", "signature", "0x00")), 400, "bad_siwe_message");
        body("sign-in", "/auth/token", json(Map.of("message", pendingMessage, "signature", "0x" + "zz".repeat(65))), 401, "unauthenticated");
        body("sign-in", "/auth/token", json(Map.of("message", pendingMessage)), 400, "missing_field");
        for (String q : List.of("limit=0", "limit=201", "limit=abc", "limit=-1", "status=FOO", "limit=1e3")) {
            add("query and ids", "GET", "/intents?" + q, builder.token(), Map.of(), null, 400, "bad_query", "unknown_value");
        }
        for (String bad : List.of("not-a-uuid", UUID.randomUUID().toString(), "%00", "1%20or%201=1")) {
            add("query and ids", "GET", "/intents/" + bad, builder.token(), Map.of(), null, 404, "not_found");
            add("query and ids", "POST", "/intents/" + bad + "/cancel", builder.token(), Map.of(), null, 404, "not_found");
            add("query and ids", "GET", "/jobs/" + bad, builder.token(), Map.of(), null, 404, "not_found");
            add("query and ids", "GET", "/claims/" + bad, provider.token(), Map.of(), null, 404, "not_found");
        }
        body("missing, wrong type, range", "/intents", "[".repeat(5000), 400, "malformed_json");
        body("missing, wrong type, range", "/intents", withRaw("/intents", "aggregationParams", "{\"f\":" + "[".repeat(3000) + "]".repeat(3000) + "}"), 400,
                "malformed_json");
        Map<String, Object> big = intent();
        big.put("requiredLabels", java.util.Collections.nCopies(30000, "label-xxxxxxxxxx"));
        body("missing, wrong type, range", "/intents", json(big), 413, "body_too_large");
        badModels();
    }

    static byte[] model(String name) throws java.io.IOException {
        return Files.readAllBytes(Path.of("../infra/models/fixtures", name));
    }

    /** A POST /models of these bytes. */
    void upload(String cls, String token, String contentType, byte[] bytes, int status, String... codes) {
        Map<String, String> h = new LinkedHashMap<>();
        if (contentType != null) {
            h.put("content-type", contentType);
        }
        if (token != null) {
            h.put("authorization", "Bearer " + token);
        }
        corpus.add(new Case(cls, "POST", "/models", h, null, status, status, Set.of(codes), bytes));
    }

    /** 18. bring your own model: the bad-model corpus (issue 18), each refused with a clear message, nothing stored in a table or queued. */
    void badModels() throws Exception {
        String ct = "application/octet-stream";
        upload("bad model", builder.token(), ct, "this is not a TorchScript file".getBytes(StandardCharsets.UTF_8), 422, "invalid_model");
        byte[] small = model("small.pt");
        upload("bad model", builder.token(), ct, java.util.Arrays.copyOf(small, small.length / 2), 422, "invalid_model"); // truncated
        java.io.ByteArrayOutputStream zip = new java.io.ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(zip)) {
            z.putNextEntry(new java.util.zip.ZipEntry("weights/model.bin"));
            z.write(new byte[64]);
        }
        upload("bad model", builder.token(), ct, zip.toByteArray(), 422, "invalid_model"); // a zip, not TorchScript
        upload("bad model", builder.token(), ct, model("bad-noparams.pt"), 422, "invalid_model");
        upload("bad model", builder.token(), ct, model("bad-dropout.pt"), 422, "invalid_model");
        byte[] oversize = java.util.Arrays.copyOf(small, 4 * 1024 * 1024 + 1);
        upload("bad model", builder.token(), ct, oversize, 413, "model_too_large");
        upload("bad model", builder.token(), "application/json", small, 415, "unsupported_media_type");
        upload("bad model", builder.token(), null, small, 415, "unsupported_media_type");
        upload("bad model", null, ct, small, 401, "unauthenticated");
        upload("bad model", revoked.token(), ct, small, 403, "forbidden");
        // intents naming a model file that is not uploaded, or whose output does not match the declared classes
        for (String spec : List.of("torchscript:" + "ab".repeat(32), "torchscript:" + classes7, "torchscript:nothex", "torchscript:")) {
            Map<String, Object> i = intent();
            i.put("model", Map.of("architecture", "TORCHSCRIPT", "spec", spec, "inputShape", List.of(1, 28, 28), "numClasses", 10));
            body("bad model", "/intents", json(i), 422, "invalid_intent");
        }
        Map<String, Object> i = intent();
        i.put("model", Map.of("architecture", "TORCHSCRIPT", "spec", "torchscript:" + classes7, "inputShape", List.of(3, 28, 28), "numClasses", 7));
        body("bad model", "/intents", json(i), 422, "invalid_intent"); // the first convolution takes one channel
        add("bad model", "GET", "/models/" + "cd".repeat(32), builder.token(), Map.of(), null, 404, "not_found");
        add("bad model", "GET", "/models/not-a-hash", builder.token(), Map.of(), null, 400, "invalid_model_name");
        add("bad model", "GET", "/models/" + classes7, null, Map.of(), null, 401, "unauthenticated");
        add("bad model", "GET", "/models/" + classes7, revoked.token(), Map.of(), null, 403, "forbidden");
    }

    static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static String personalSign(String message, ECKeyPair k) {
        Sign.SignatureData s = Sign.signPrefixedMessage(message.getBytes(StandardCharsets.UTF_8), k);
        byte[] out = new byte[65];
        System.arraycopy(s.getR(), 0, out, 0, 32);
        System.arraycopy(s.getS(), 0, out, 32, 32);
        out[64] = s.getV()[0];
        return Numeric.toHexString(out);
    }

    // ------------------------------------------------------------------ the run

    /** Words of an answer that tells the client what to do. */
    static final java.util.regex.Pattern ACTIONABLE = java.util.regex.Pattern.compile(
            "(?i)\\b(send|use|remove|add|fix|sign|must|request|wait|ask|raise|lower|leave|set|measure|needs?|takes?|only|is not|are not|does not|"
                    + "no route|not allowed|not yours)\\b");

    @Test
    @org.junit.jupiter.api.Order(1) // first: the throttled address's challenges of the setup must be within the minute
    void everyBadInputGetsAClear4xxAndChangesNothing() throws Exception {
        Map<String, String> before = snapshot();
        assertThat(before.get("queue " + Queues.get().byKey(Queues.MATCH).name())).as("the setup's intent is on the match queue").contains("=1");
        generate();
        Map<String, Integer> perClass = new TreeMap<>();
        Map<String, Integer> perRoute = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        for (Case c : corpus) {
            perClass.merge(c.cls(), 1, Integer::sum);
            HttpResponse<String> r = send(c);
            perRoute.merge(c.method() + " " + routeOf(c.path()), 1, Integer::sum);
            String problem = check(c, r);
            if (problem != null) {
                failures.add(problem + "\n    " + c.label() + "\n    -> " + r.statusCode() + " " + r.body());
            }
        }
        Map<String, String> after = snapshot();
        System.out.println("bad-input corpus: " + corpus.size() + " cases; per class " + perClass);
        System.out.println("bad-input corpus: per route " + perRoute);
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(300);
        assertThat(failures).as("%d of %d cases answered wrongly:\n%s", failures.size(), corpus.size(), String.join("\n", failures)).isEmpty();
        assertThat(after).as("every table's rows and every queue's depth as before the corpus").isEqualTo(before);
        // every route of the API was tried
        JsonNode spec = JSON.readTree(getClass().getResourceAsStream("/io/fedmarket/functions.json"));
        List<String> all = new ArrayList<>();
        spec.path("functions").forEach(f -> f.path("routes").forEach(x -> all.add(x.asText())));
        Set<String> tried = perRoute.keySet();
        assertThat(tried).containsAll(all);
    }

    /** Through the gateway: a removed role fails the very next request, and issuing a challenge deletes long-expired ones. */
    @Test
    @org.junit.jupiter.api.Order(2)
    void aRemovedRoleStopsAtTheNextRequestAndExpiredChallengesArePruned() throws Exception {
        Wallet w = signIn();
        HttpResponse<String> before = http.send(HttpRequest.newBuilder(URI.create(gw + "/intents")).header("authorization", "Bearer " + w.token())
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(before.statusCode()).isEqualTo(200);
        sql("delete from account_roles where address = '" + w.address().toLowerCase() + "' and role = 'builder'");
        long t0 = System.nanoTime();
        HttpResponse<String> after = http.send(HttpRequest.newBuilder(URI.create(gw + "/intents")).header("authorization", "Bearer " + w.token())
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(after.statusCode()).as("the same token, right after the role was removed: %s", after.body()).isEqualTo(403);
        assertThat(JSON.readTree(after.body()).get("error").asText()).contains("removed");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(60));

        String stale = "stale" + System.nanoTime();
        sql("insert into siwe_nonces (nonce, address, message, issued_at, expires_at) values ('" + stale + "', '" + w.address().toLowerCase()
                + "', 'm', now() - interval '1 hour', now() - interval '55 minutes')");
        assertThat(post("/auth/challenge", "{\"address\":\"" + Keys.toChecksumAddress("0x" + Keys.getAddress(Keys.createEcKeyPair())) + "\"}", null)
                .statusCode()).isEqualTo(201);
        assertThat(count("select count(*) from siwe_nonces where nonce = '" + stale + "'")).isZero();
        assertThat(count("select count(*) from siwe_nonces where expires_at < now() - interval '10 minutes'")).isZero();
    }

    long count(String query) throws Exception {
        StackEndpoints.Database db = stack.endpoints().database();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String check(Case c, HttpResponse<String> r) {
        int s = r.statusCode();
        if (s >= 500) {
            return "server error";
        }
        if (s < c.minStatus() || s > c.maxStatus() || s < 400 || s > 499) {
            return "expected " + (c.minStatus() == c.maxStatus() ? c.minStatus() : c.minStatus() + "-" + c.maxStatus()) + ", got " + s;
        }
        if (!r.headers().firstValue("content-type").orElse("").startsWith("application/json")) {
            return "not a JSON answer";
        }
        JsonNode b;
        try {
            b = JSON.readTree(r.body());
        } catch (Exception e) {
            return "answer is not JSON";
        }
        if (b == null || !b.path("code").isTextual() || !b.path("code").asText().matches("^[a-z][a-z_]+$")) {
            return "no machine code";
        }
        if (!b.path("error").isTextual() || b.path("error").asText().length() < 20) {
            return "no sentence in error";
        }
        if (!b.path("details").isObject()) {
            return "details is not an object";
        }
        if (b.size() != 3) {
            return "more than {code, error, details}";
        }
        if (!c.codes().isEmpty() && !c.codes().contains(b.get("code").asText())) {
            return "expected code " + c.codes() + ", got " + b.get("code").asText();
        }
        String error = b.get("error").asText();
        if (!ACTIONABLE.matcher(error).find()) {
            return "error does not say what to do";
        }
        if (error.matches("(?s).*(JsonReadFeature|ALLOW_NON_NUMERIC|com\\.fasterxml|java\\.lang|io\\.fedmarket\\.|Exception|`).*")) {
            return "error names server internals";
        }
        return null;
    }

    /** The route template a path belongs to (for the per-route counts). */
    static String routeOf(String path) {
        String p = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        if (p.matches("^/intents/[^/]+/cancel$")) {
            return "/intents/{id}/cancel";
        }
        if (p.matches("^/intents/[^/]+$")) {
            return "/intents/{id}";
        }
        if (p.matches("^/models/[^/]+$")) {
            return "/models/{sha256}";
        }
        if (p.matches("^/jobs/[^/]+$")) {
            return "/jobs/{id}";
        }
        if (p.matches("^/claims/[^/]+$")) {
            return "/claims/{jobId}";
        }
        return p;
    }

    HttpResponse<String> send(Case c) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gw + c.path())).timeout(Duration.ofSeconds(120));
        c.headers().forEach(b::header);
        HttpRequest.BodyPublisher body = c.raw() != null ? HttpRequest.BodyPublishers.ofByteArray(c.raw())
                : c.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(c.body());
        b.method(c.method(), body);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    // ------------------------------------------------------------------ state

    /** Every table's row count and content hash, and every queue's depth. */
    Map<String, String> snapshot() throws Exception {
        Map<String, String> out = new TreeMap<>();
        StackEndpoints.Database db = stack.endpoints().database();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password()); Statement st = c.createStatement()) {
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("select table_name from information_schema.tables where table_schema = 'public' "
                    + "and table_type = 'BASE TABLE' and table_name <> 'flyway_schema_history' order by 1")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            assertThat(tables).contains("intents", "outbox", "gpu_providers", "data_providers", "siwe_nonces", "accounts", "account_roles");
            for (String t : tables) {
                try (ResultSet rs = st.executeQuery("select count(*), coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from " + t + " x")) {
                    rs.next();
                    out.put("table " + t, rs.getLong(1) + " rows " + rs.getString(2));
                }
            }
        }
        try (SqsClient sqs = SqsClient.builder().endpointOverride(URI.create(stack.endpoints().sqs().endpoint())).region(Region.of("us-east-1"))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))).build()) {
            for (Queues.QueueSpec q : Queues.get().queues()) {
                for (String name : List.of(q.name(), q.dlqName())) {
                    String url = sqs.getQueueUrl(b -> b.queueName(name)).queueUrl();
                    Map<QueueAttributeName, String> a = sqs.getQueueAttributes(b -> b.queueUrl(url).attributeNames(
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE,
                            QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_DELAYED)).attributes();
                    out.put("queue " + name, a.toString());
                }
            }
        }
        return out;
    }

    void sql(String statement) throws Exception {
        StackEndpoints.Database db = stack.endpoints().database();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password()); Statement st = c.createStatement()) {
            st.execute(statement);
        }
    }

    Wallet signIn() throws Exception {
        ECKeyPair key = Keys.createEcKeyPair();
        return new Wallet(key, Keys.toChecksumAddress("0x" + Keys.getAddress(key)), SubmitIntentBench.signIn(http, gw, key));
    }

    HttpResponse<String> post(String path, String body, String token) throws Exception {
        return SubmitIntentBench.post(http, gw + path, body, token);
    }
}
