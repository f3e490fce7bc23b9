package io.fedmarket.functions;

import com.fasterxml.jackson.databind.JsonNode;
import io.fedmarket.config.Queues;
import io.fedmarket.model.Role;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.smallrye.jwt.build.Jwt;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.Intents.class)
@WithTestResource(TestStack.class)
@WithTestResource(BucketStack.class)
class IntentsFunctionTest {

    static String newBuilder() {
        return Api.address(Api.newKey()).toLowerCase();
    }

    static List<Message> drainMatchQueue() {
        List<Message> all = new ArrayList<>();
        try (SqsClient sqs = TestStack.sqs()) {
            for (int i = 0; i < 5; i++) {
                List<Message> got = sqs.receiveMessage(b -> b.queueUrl(TestStack.queueUrl(Queues.MATCH)).maxNumberOfMessages(10).waitTimeSeconds(1)).messages();
                all.addAll(got);
                got.forEach(m -> sqs.deleteMessage(b -> b.queueUrl(TestStack.queueUrl(Queues.MATCH)).receiptHandle(m.receiptHandle())));
                if (got.isEmpty() && !all.isEmpty()) {
                    break;
                }
            }
        }
        return all;
    }

    @Test
    void submitStoresTheIntentAndQueuesItForMatching() throws Exception {
        drainMatchQueue();
        String builder = newBuilder();
        String token = Api.token(builder, Role.BUILDER);
        Api.Response r = Api.call("POST", "/intents", Api.json(Api.validIntent()), token);
        assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
        String id = r.body().get("id").asText();
        assertThat(r.body().get("status").asText()).isEqualTo("SUBMITTED");
        assertThat(r.body().get("budget").asText()).isEqualTo("500000000");

        List<Message> msgs = drainMatchQueue();
        assertThat(msgs).anySatisfy(m -> assertThat(m.body()).contains("\"intentId\":\"" + id + "\"").contains(builder));
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select sent_at is not null from outbox where dedup_key = 'intent-submitted:" + id + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).as("outbox row marked sent").isTrue();
        }

        Api.Response got = Api.call("GET", "/intents/" + id, null, token);
        assertThat(got.status()).isEqualTo(200);
        assertThat(got.body().get("dataDomain").asText()).isEqualTo("fashion-mnist");
        Api.Response list = Api.call("GET", "/intents?limit=5", null, token);
        assertThat(list.body().get("intents").get(0).get("id").asText()).isEqualTo(id);

        Api.Response cancel = Api.call("POST", "/intents/" + id + "/cancel", null, token);
        assertThat(cancel.status()).isEqualTo(200);
        assertThat(cancel.body().get("status").asText()).isEqualTo("CANCELLED");
    }

    @Test
    void anotherBuildersIntentIsNotFound() {
        String owner = newBuilder();
        String id = Api.call("POST", "/intents", Api.json(Api.validIntent()), Api.token(owner, Role.BUILDER)).body().get("id").asText();
        String other = Api.token(newBuilder(), Role.BUILDER);
        assertThat(Api.call("GET", "/intents/" + id, null, other).status()).isEqualTo(404);
        assertThat(Api.call("POST", "/intents/" + id + "/cancel", null, other).status()).isEqualTo(404);
        assertThat(Api.call("GET", "/intents", null, other).body().get("intents")).isEmpty();
        drainMatchQueue();
    }

    @Test
    void wrongRoleIsForbiddenAndBadTokensUnauthenticated() throws Exception {
        String addr = newBuilder();
        long before = count("intents") + count("outbox");
        String body = Api.json(Api.validIntent());
        Api.Response provider = Api.call("POST", "/intents", body, Api.token(addr, Role.PROVIDER));
        assertThat(provider.status()).isEqualTo(403);
        assertThat(provider.body().get("error").asText()).contains("builder");

        assertThat(Api.call("POST", "/intents", body, null).status()).isEqualTo(401);
        String expired = Jwt.issuer("https://fedmarket.local").subject(addr).groups("builder")
                .issuedAt(java.time.Instant.now().minusSeconds(7200)).expiresAt(java.time.Instant.now().minusSeconds(3600)).sign();
        assertThat(Api.call("POST", "/intents", body, expired).status()).isEqualTo(401);
        String wrongIssuer = Jwt.issuer("https://evil.example").subject(addr).groups("builder").expiresIn(600).sign();
        assertThat(Api.call("POST", "/intents", body, wrongIssuer).status()).isEqualTo(401);
        String good = Api.token(addr, Role.BUILDER);
        String[] parts = good.split("\\.");
        String none = b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + parts[1] + ".";
        assertThat(Api.call("POST", "/intents", body, none).status()).isEqualTo(401);
        String elevated = parts[0] + "." + b64(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                .replace("\"builder\"", "\"builder\",\"operator\"")) + "." + parts[2];
        assertThat(Api.call("POST", "/intents", body, elevated).status()).isEqualTo(401);
        assertThat(Api.call("POST", "/intents", body, "not.a.jwt").code()).isEqualTo("unauthenticated");
        assertThat(count("intents") + count("outbox")).isEqualTo(before);
    }

    @Test
    void everyBadInputClassGets4xxAndChangesNothing() throws Exception {
        String token = Api.token(newBuilder(), Role.BUILDER);
        long before = count("intents") + count("outbox");
        Map<String, Object> missing = new HashMap<>(Api.validIntent());
        missing.remove("rounds");
        missing.remove("budget");
        expect(token, Api.json(missing), 400, "missing_field");
        expect(token, "{\"rounds\": 3,", 400, "malformed_json");
        expect(token, with("extra", true), 400, "unknown_field");
        expect(token, with("rounds", "forty"), 400, "wrong_type");
        expect(token, with("rounds", 4.5), 400, "wrong_type");
        expect(token, with("rounds", -1), 422, "invalid_intent");
        expect(token, with("rounds", 99999999999L), 400, "number_out_of_range");
        expect(token, with("budget", "-5"), 422, "invalid_intent");
        expect(token, with("budget", "1".repeat(79)), 422, "invalid_intent");
        expect(token, with("budget", 500), 400, "wrong_type");
        expect(token, with("aggregation", "fedmagic"), 422, "invalid_intent");
        expect(token, with("privacy", Map.of("mode", "HOMOMORPHIC")), 400, "unknown_value");
        expect(token, with("privacy", Map.of("mode", "DP", "epsilon", 1.0)), 400, "missing_field");
        expect(token, with("deadline", "2001-01-01T00:00:00Z"), 422, "invalid_intent");
        expect(token, with("deadline", "next friday"), 400, "wrong_type");
        expect(token, with("minParticipants", 20), 422, "invalid_intent");
        Map<String, Object> big = new HashMap<>(Api.validIntent());
        big.put("requiredLabels", java.util.Collections.nCopies(30000, "label-xxxxxxxxxx"));
        expect(token, Api.json(big), 413, "body_too_large");
        assertThat(Api.call("GET", "/intents/not-a-uuid", null, token).status()).isEqualTo(404);
        assertThat(Api.call("GET", "/intents?limit=0", null, token).code()).isEqualTo("bad_query");
        assertThat(count("intents") + count("outbox")).isEqualTo(before);
    }

    @Test
    void theRuleItsParametersTheRoundQuorumAndTheValidationSplitAreCheckedAtIntake() throws Exception {
        String token = Api.token(newBuilder(), Role.BUILDER);
        long before = count("intents") + count("outbox");
        // multi-krum without m would only fail when the first round is aggregated: refused now, with what to add
        Api.Response r = Api.call("POST", "/intents", with("aggregation", "multi-krum"), token);
        assertThat(r.status()).isEqualTo(422);
        assertThat(r.body().get("error").asText()).contains("aggregationParams").contains("multi-krum needs parameter m");
        Map<String, Object> typo = new HashMap<>(Api.validIntent());
        typo.put("aggregation", "trimmed-mean");
        typo.put("aggregationParams", Map.of("betta", 0.2));
        assertThat(Api.call("POST", "/intents", Api.json(typo), token).body().get("error").asText())
                .contains("does not take parameter(s) [betta]").contains("[beta]");
        expect(token, with("training", Map.of("minUpdates", 0)), 422, "invalid_intent");
        expect(token, with("verification", Map.of("validation", Map.of("dataset", "Fashion MNIST"))), 422, "invalid_intent");
        expect(token, with("verification", Map.of("validation", Map.of("dataset", "fashion-mnist-test", "samples", 3))), 422, "invalid_intent");
        assertThat(count("intents") + count("outbox")).as("nothing stored for a refused intent").isEqualTo(before);

        // a good one keeps everything, as the job's plan will
        Map<String, Object> good = new HashMap<>(Api.validIntent());
        good.put("aggregation", "multi_krum");
        good.put("aggregationParams", Map.of("f", 1, "m", 3));
        good.put("training", Map.of("minUpdates", 4));
        good.put("verification", Map.of("validation", Map.of("dataset", "fashion-mnist-test", "samples", 256, "seed", 7)));
        Api.Response ok = Api.call("POST", "/intents", Api.json(good), token);
        assertThat(ok.status()).as(ok.body().toString()).isEqualTo(201);
        assertThat(ok.body().get("aggregation").asText()).isEqualTo("multi-krum");
        assertThat(ok.body().get("aggregationParams").get("m").asInt()).isEqualTo(3);
        assertThat(ok.body().get("training").get("minUpdates").asInt()).isEqualTo(4);
        assertThat(ok.body().get("verification").get("validation").get("samples").asInt()).isEqualTo(256);
        drainMatchQueue();
    }

    /** A catalogue model with its input shape and classes: what the workers can train is accepted, the rest refused before anything is stored. */
    @Test
    void catalogueModelsWithTheirShapesAreCheckedAtIntake() throws Exception {
        String token = Api.token(newBuilder(), Role.BUILDER);
        long before = count("intents") + count("outbox");
        Api.Response unknown = Api.call("POST", "/intents", with("model", Map.of("architecture", "RESNET", "spec", "resnet:19",
                "inputShape", List.of(1, 28, 28), "numClasses", 10)), token);
        assertThat(unknown.status()).isEqualTo(422);
        assertThat(unknown.body().get("code").asText()).isEqualTo("invalid_intent");
        assertThat(unknown.body().get("error").asText()).contains("6n+2");
        assertThat(unknown.body().get("details").get("violations").get(0).get("field").asText()).isEqualTo("model");
        Api.Response otherFamily = Api.call("POST", "/intents", with("model", Map.of("architecture", "CNN", "spec", "resnet:20",
                "inputShape", List.of(1, 28, 28), "numClasses", 10)), token);
        assertThat(otherFamily.status()).isEqualTo(422);
        assertThat(otherFamily.body().get("details").get("violations").get(0).get("field").asText()).isEqualTo("model.spec");
        Api.Response badShape = Api.call("POST", "/intents", with("model", Map.of("architecture", "RESNET",
                "inputShape", List.of(784), "numClasses", 10)), token);
        assertThat(badShape.status()).isEqualTo(422);
        assertThat(badShape.body().get("error").asText()).contains("needs an image input CxHxW");
        assertThat(count("intents") + count("outbox")).as("nothing stored for a refused intent").isEqualTo(before);

        Api.Response ok = Api.call("POST", "/intents", with("model", Map.of("architecture", "RESNET", "spec", "ResNet:20",
                "inputShape", List.of(1, 28, 28), "numClasses", 10)), token);
        assertThat(ok.status()).as(ok.body().toString()).isEqualTo(201);
        assertThat(ok.body().get("model").get("architecture").asText()).isEqualTo("RESNET");
        assertThat(ok.body().get("model").get("spec").asText()).isEqualTo("resnet:20");
        drainMatchQueue();
    }

    /** Offers of the domain fix the data's sample shape and classes: a model that fits none of them is refused before anything is stored. */
    @Test
    void aModelThatFitsNoneOfTheOfferedDataIsRefusedAndNothingIsStoredOrQueued() throws Exception {
        String token = Api.token(newBuilder(), Role.BUILDER);
        String domain = "shapes-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < 2; i++) {
            Seed.exec("insert into data_providers (id, owner, name, domain, region, sample_count, label_histogram, dataset_root, source, created_at, updated_at) "
                    + "values ('" + java.util.UUID.randomUUID() + "', '" + Api.address(Api.newKey()).toLowerCase() + "', 'data', '" + domain
                    + "', 'eu-west-1', 300, '{\"0\":60,\"1\":60,\"2\":60,\"3\":60,\"4\":60}', '0x" + "ab".repeat(32)
                    + "', '{\"dataset\":\"synthetic:600:3x16x16:5\",\"partition\":\"iid\",\"clients\":2,\"client\":" + i + ",\"partitionSeed\":1}', now(), now())");
        }
        long before = count("intents") + count("outbox");
        List<String> five = List.of("0", "1", "2", "3", "4");
        Api.Response wrongShape = Api.call("POST", "/intents", intent(domain, five, Map.of("architecture", "CNN", "inputShape", List.of(1, 28, 28),
                "numClasses", 10)), token);
        assertThat(wrongShape.status()).isEqualTo(422);
        assertThat(wrongShape.body().get("code").asText()).isEqualTo("invalid_intent");
        assertThat(wrongShape.body().get("error").asText()).contains("fits none of the data offered in domain " + domain)
                .contains("synthetic:600:3x16x16:5 (2 offer(s)): model cnn takes input 1x28x28, the data's samples are 3x16x16")
                .contains("set model.inputShape to the data's sample shape");
        Api.Response fewClasses = Api.call("POST", "/intents", intent(domain, List.of("0", "1", "2"), Map.of("architecture", "RESNET", "spec", "resnet:8",
                "inputShape", List.of(3, 16, 16), "numClasses", 3)), token);
        assertThat(fewClasses.status()).isEqualTo(422);
        assertThat(fewClasses.body().get("error").asText()).contains("has 3 classes, the data has 5 (labels 0..4)");
        Api.Response labels = Api.call("POST", "/intents", intent(domain, five, Map.of("architecture", "RESNET", "spec", "resnet:8",
                "inputShape", List.of(3, 16, 16), "numClasses", 4)), token);
        assertThat(labels.status()).isEqualTo(422);
        assertThat(labels.body().get("details").get("violations").toString()).contains("requiredLabels").contains("lists 5 labels, the model has 4 classes");
        assertThat(count("intents") + count("outbox")).as("nothing stored or queued for a refused intent").isEqualTo(before);

        Api.Response ok = Api.call("POST", "/intents", intent(domain, five, Map.of("architecture", "RESNET", "spec", "resnet:8",
                "inputShape", List.of(3, 16, 16), "numClasses", 5)), token);
        assertThat(ok.status()).as(ok.body().toString()).isEqualTo(201);
        // an MLP flattens the images: 768 features fit 3x16x16
        Api.Response mlp = Api.call("POST", "/intents", intent(domain, five, Map.of("architecture", "MLP", "inputShape", List.of(768),
                "numClasses", 5)), token);
        assertThat(mlp.status()).as(mlp.body().toString()).isEqualTo(201);
        drainMatchQueue();
    }

    private static String intent(String domain, List<String> labels, Map<String, Object> model) {
        Map<String, Object> m = new HashMap<>(Api.validIntent());
        m.put("dataDomain", domain);
        m.put("requiredLabels", labels);
        m.put("model", model);
        return Api.json(m);
    }

    @Test
    void strictInputAtTheFrontDoor() throws Exception {
        String token = Api.token(newBuilder(), Role.BUILDER);
        long before = count("intents") + count("outbox");
        expect(token, "null", 400, "body_not_object");
        expect(token, "[]", 400, "body_not_object");
        expect(token, "\"intent\"", 400, "body_not_object");
        String valid = Api.json(Api.validIntent());
        String dup = valid.substring(0, valid.length() - 1) + ",\"budget\":\"999999999999\"}";
        Api.Response d = Api.call("POST", "/intents", dup, token);
        assertThat(d.status()).isEqualTo(400);
        assertThat(d.code()).isEqualTo("duplicate_field");
        assertThat(d.body().get("details").get("field").asText()).isEqualTo("budget");
        Api.Response t = Api.call("POST", "/intents", valid + " {}", token);
        assertThat(t.code()).as(t.body().toString()).isEqualTo("trailing_content");
        assertThat(t.body().get("error").asText()).contains("remove what follows");
        Api.Response nan = Api.call("POST", "/intents", valid.substring(0, valid.length() - 1) + ",\"privacy\":{\"mode\":\"DP\",\"epsilon\":NaN,\"delta\":1e-5}}", token);
        assertThat(nan.status()).isEqualTo(400);
        assertThat(nan.body().get("error").asText()).doesNotContain("JsonReadFeature").doesNotContain("ALLOW_");
        for (Object deadline : List.of(1_900_000_000L, "2030-01-31T12:00:00+02:00", "2030-01-31T12:00:00", "2030-01-31", "2030-02-31T12:00:00Z")) {
            Api.Response r = Api.call("POST", "/intents", with("deadline", deadline), token);
            assertThat(r.status()).as("deadline %s: %s", deadline, r.body()).isEqualTo(400);
            assertThat(r.body().get("error").asText()).contains("deadline").contains("ending in Z");
        }
        expect(token, with("requiredLabels", List.of("0", "1\u0000")), 400, "bad_character");
        expect(token, with("requiredLabels", List.of("0", " 1")), 422, "invalid_intent");
        // terms the plan cannot serve are refused at intake, not left to match
        Api.Response dp = Api.call("POST", "/intents", with("privacy", Map.of("mode", "DP", "epsilon", 1e-9, "delta", 1e-5)), token);
        assertThat(dp.status()).as(dp.body().toString()).isEqualTo(422);
        assertThat(dp.body().get("error").asText()).contains("privacy.epsilon").contains("raise epsilon");
        Api.Response unknownSet = Api.call("POST", "/intents", with("verification", Map.of("validation", Map.of("dataset", "no-such-set"))), token);
        assertThat(unknownSet.status()).as(unknownSet.body().toString()).isEqualTo(422);
        assertThat(unknownSet.body().get("error").asText()).contains("verification.validation.dataset").contains("no-such-set");
        // JSON only
        for (String ct : new String[] {"text/plain", "application/x-www-form-urlencoded", null, "application/json; charset=latin-1"}) {
            Map<String, String> h = new HashMap<>();
            h.put("content-type", ct);
            Api.Response r = Api.call("POST", "/intents", valid, token, h, "127.0.0.1");
            assertThat(r.status()).as("content-type " + ct).isEqualTo(415);
            assertThat(r.code()).isEqualTo("unsupported_media_type");
            assertThat(r.body().get("error").asText()).contains("Content-Type: application/json");
        }
        assertThat(Api.call("POST", "/intents", valid, token, Map.of("content-type", "Application/JSON; charset=UTF-8"), "127.0.0.1").status()).isEqualTo(201);
        drainMatchQueue();
        // a wrong method answers 405 with what the path takes, in the API's error shape
        Api.Response wrong = Api.call("GET", "/intents/" + java.util.UUID.randomUUID() + "/cancel", null, token);
        assertThat(wrong.status()).isEqualTo(405);
        assertThat(wrong.code()).isEqualTo("method_not_allowed");
        assertThat(wrong.body().get("details").get("allowed").toString()).contains("POST");
        Api.Response none = Api.call("POST", "/intentz", "{}", token);
        assertThat(none.status()).isEqualTo(404);
        assertThat(none.code()).isEqualTo("no_route");
        assertThat(count("intents") + count("outbox")).as("only the one good intent").isEqualTo(before + 2);
    }

    @Test
    void aRemovedRoleStopsWorkingAtTheNextRequest() throws Exception {
        String builder = newBuilder();
        String token = Api.token(builder, Role.BUILDER);
        assertThat(Api.call("GET", "/intents", null, token).status()).isEqualTo(200);
        Api.revoke(builder, Role.BUILDER);
        Api.Response r = Api.call("GET", "/intents", null, token);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body().get("error").asText()).contains("removed");
        long before = count("intents");
        assertThat(Api.call("POST", "/intents", Api.json(Api.validIntent()), token).status()).isEqualTo(403);
        assertThat(count("intents")).isEqualTo(before);
        // a token whose roles the database never granted (no sign-in opened the account) gets nothing
        String unrecorded = Api.unrecordedToken(newBuilder(), Role.BUILDER);
        assertThat(Api.call("GET", "/intents", null, unrecorded).status()).isEqualTo(403);
    }

    @Test
    void violationsAreListedTogether() {
        String token = Api.token(newBuilder(), Role.BUILDER);
        Map<String, Object> m = new HashMap<>(Api.validIntent());
        m.put("rounds", 0);
        m.put("dataDomain", "Fashion MNIST");
        Api.Response r = Api.call("POST", "/intents", Api.json(m), token);
        assertThat(r.status()).isEqualTo(422);
        JsonNode v = r.body().get("details").get("violations");
        assertThat(v).hasSize(2);
        assertThat(r.body().get("error").asText()).contains("rounds").contains("dataDomain");
    }

    private static String with(String k, Object v) {
        Map<String, Object> m = new HashMap<>(Api.validIntent());
        m.put(k, v);
        return Api.json(m);
    }

    private static void expect(String token, String body, int status, String code) {
        Api.Response r = Api.call("POST", "/intents", body, token);
        assertThat(r.status()).as(body.length() > 300 ? body.substring(0, 300) : body).isEqualTo(status);
        assertThat(r.code()).as(r.body().toString()).isEqualTo(code);
        assertThat(r.body().get("error").asText()).isNotBlank();
        assertThat(r.body().has("details")).isTrue();
    }

    private static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static long count(String table) throws Exception {
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select count(*) from " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
