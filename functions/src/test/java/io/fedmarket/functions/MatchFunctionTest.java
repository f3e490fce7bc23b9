package io.fedmarket.functions;

import io.fedmarket.config.Queues;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.Match.class)
@WithTestResource(TestStack.class)
class MatchFunctionTest {
    static final String QUEUE = Queues.get().byKey(Queues.MATCH).name();

    /** A submitted intent in its own data domain with 3 bonded data providers and 3 bonded GPU providers. */
    static UUID seed(boolean withProviders) throws Exception {
        UUID intent = UUID.randomUUID();
        String domain = "dom-" + intent.toString().substring(0, 8);
        String builder = Api.address(Api.newKey()).toLowerCase();
        try (Connection c = TestStack.jdbc()) {
            try (PreparedStatement p = c.prepareStatement("insert into intents (id, builder, status, model_architecture, model_input_shape, model_num_classes, "
                    + "data_domain, required_labels, rounds, local_epochs, min_participants, max_participants, budget, max_price_per_gpu_second, deadline, "
                    + "privacy_mode, aggregation, created_at, updated_at) values (?, ?, 'SUBMITTED', 'MLP', '[784]', 10, ?, '[\"0\",\"1\",\"2\"]', 2, 1, 2, 3, "
                    + "1000000000000, 1000, ?, 'NONE', 'fedavg', now(), now())")) {
                p.setObject(1, intent);
                p.setString(2, builder);
                p.setString(3, domain);
                p.setObject(4, java.sql.Timestamp.from(Instant.now().plusSeconds(3 * 86400)));
                p.executeUpdate();
            }
            if (withProviders) {
                for (int i = 0; i < 3; i++) {
                    String owner = Api.address(Api.newKey()).toLowerCase();
                    try (Statement st = c.createStatement()) {
                        st.execute("insert into bonds (address, amount, block_number, updated_at) values ('" + owner + "', 1000000, 1, now())");
                        st.execute("insert into data_providers (id, owner, name, domain, region, sample_count, label_histogram, dataset_root, source, created_at, updated_at) values ('"
                                + UUID.randomUUID() + "', '" + owner + "', 'data', '" + domain + "', 'eu-west-1', 1200, '{\"0\":400,\"1\":400,\"2\":400}', '0x"
                                + "ab".repeat(32) + "', '{\"dataset\":\"synthetic:3600\",\"partition\":\"iid\",\"clients\":3,\"client\":" + i
                                + ",\"partitionSeed\":1}', now(), now())");
                        st.execute("insert into gpu_providers (id, owner, name, gpu_model, gpu_count, gpu_memory_gib, ask_per_gpu_second, region, samples_per_second, "
                                + "created_at, updated_at) values ('" + UUID.randomUUID() + "', '" + owner + "', 'gpu-" + domain + "', 'L4', 1, 24, " + (10 + i)
                                + ", 'eu-west-1', 5000, now(), now())");
                    }
                }
            }
        }
        return intent;
    }

    static String status(UUID intent) throws Exception {
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select status || ' ' || coalesce(status_reason, '') from intents where id = '" + intent + "'")) {
            rs.next();
            return rs.getString(1);
        }
    }

    static long jobs(UUID intent) throws Exception {
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select count(*) from jobs where intent_id = '" + intent + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String msg(UUID intent) {
        return "{\"intentId\":\"" + intent + "\",\"builder\":\"0x0\",\"submittedAt\":\"" + Instant.now() + "\"}";
    }

    @Test
    void matchesAnIntentIntoAJobAndRedeliveryChangesNothing() throws Exception {
        UUID intent = seed(true);
        SqsEvents.Rec rec = SqsEvents.Rec.of(msg(intent));
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(status(intent)).startsWith("MATCHED");
        assertThat(jobs(intent)).isEqualTo(1);
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select count(*), min(j.clearing_price_per_gpu_second) from job_participants p join jobs j on j.id = p.job_id where j.intent_id = '" + intent + "'")) {
            rs.next();
            assertThat(rs.getLong(1)).isGreaterThanOrEqualTo(2);
            assertThat(rs.getBigDecimal(2).longValue()).isBetween(10L, 1000L);
        }
        // the job's START (round 1 once the escrow is on chain) went to the settle queue with the job, in the same transaction
        String job = Seed.one("select id from jobs where intent_id = '" + intent + "'");
        assertThat(Seed.one("select body from outbox where dedup_key = 'job-start:" + job + "' and sent_at is not null"))
                .contains("START").contains(job);
        // the plan every task will be built from is fixed with the job: the intent's model, defaults elsewhere
        io.fedmarket.fl.job.JobPlan plan = io.fedmarket.functions.http.Json.parse(Seed.one("select plan from jobs where id = '" + job + "'"),
                io.fedmarket.fl.job.JobPlan.class);
        assertThat(plan.modelSpec()).isEqualTo("mlp");
        assertThat(plan.rounds()).isEqualTo(2);
        assertThat(plan.targetDetection()).isEqualTo(0.99);
        assertThat(plan.seed()).isEqualTo(io.fedmarket.fl.job.JobPlan.jobSeed(UUID.fromString(job)));
        // the privacy cost of verification per shard is in the job's explanation: samples shown per update, flagged, per job
        com.fasterxml.jackson.databind.JsonNode reveals = io.fedmarket.functions.http.Json.parse(
                Seed.one("select explanation from jobs where id = '" + job + "'"), com.fasterxml.jackson.databind.JsonNode.class).get("verificationReveals");
        assertThat(reveals).isNotEmpty();
        for (com.fasterxml.jackson.databind.JsonNode r : reveals) {
            io.fedmarket.fl.job.JobPlan.TaskShape shape = plan.shape(r.get("samples").asLong());
            assertThat(r.get("perUpdate").asLong()).isEqualTo(plan.revealedPerUpdate(shape, r.get("samples").asLong(), false)).isPositive();
            assertThat(r.get("perFlaggedUpdate").asLong()).isGreaterThanOrEqualTo(r.get("perUpdate").asLong());
            assertThat(r.get("perJobAtMost").asLong()).isLessThanOrEqualTo(r.get("samples").asLong());
        }
        assertThat(Seed.one("select count(*) from tasks where job_id = '" + job + "'")).as("no task before the escrow").isEqualTo("0");
        // the same message again (SQS is at-least-once): no second job, no failure
        assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(rec.messageId(), rec.body(), 2)))).isEmpty();
        assertThat(jobs(intent)).isEqualTo(1);
        assertThat(Seed.one("select count(*) from outbox where dedup_key like 'job-start:" + job + "%'")).isEqualTo("1");
    }

    @Test
    void dataOffersWithoutASourceAreNeverMatchedAndTheReasonSaysSo() throws Exception {
        UUID intent = seed(true);
        Seed.exec("update data_providers set source = null where domain = (select data_domain from intents where id = '" + intent + "')");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(msg(intent))))).isEmpty();
        assertThat(status(intent)).startsWith("UNMATCHED").contains("3 data offer(s) in the domain name no source");
        assertThat(jobs(intent)).isZero();
    }

    @Test
    void anIntentTheWorkersCannotTrainIsUnmatchedWithWhatTheyCanTrain() throws Exception {
        UUID intent = seed(true);
        Seed.exec("update intents set model_input_shape = '[3, 8, 8]', model_architecture = 'CNN' where id = '" + intent + "'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(msg(intent))))).isEmpty();
        assertThat(status(intent)).startsWith("UNMATCHED").contains("the cnn needs images of at least 16×16");
        assertThat(jobs(intent)).isZero();
    }

    @Test
    void dataOffersTheModelCannotTakeAreNeverMatchedAndTheReasonSaysSo() throws Exception {
        UUID intent = seed(true);
        // the seeded offers hold 28×28 grey images (synthetic:3600); a model for 3×16×16 images fits none of them
        Seed.exec("update intents set model_input_shape = '[3, 16, 16]', model_architecture = 'resnet:8' where id = '" + intent + "'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(msg(intent))))).isEmpty();
        assertThat(status(intent)).startsWith("UNMATCHED").contains("3 data offer(s) do not fit the model and were left out")
                .contains("synthetic:3600: model resnet:8;input=3x16x16 takes input 3x16x16, the data's samples are 1x28x28");
        assertThat(jobs(intent)).isZero();
    }

    @Test
    void aPrivateShardIsMatchedWithAGpuOfAWorkerThatHoldsItAndOneWhoseWorkersOfferNoGpuIsLeftOut() throws Exception {
        UUID intent = seed(true);
        String domain = Seed.one("select data_domain from intents where id = '" + intent + "'");
        // every offer private, held by its owner's own worker key; the first one's holder offers no GPU at all
        Seed.exec("update data_providers set source = '{\"dataset\":\"private:1x28x28:10\",\"partition\":\"iid\",\"clients\":1,\"client\":0,"
                + "\"partitionSeed\":0,\"workers\":[\"' || owner || '\"]}' where domain = '" + domain + "'");
        String stray = Seed.one("select id from data_providers where domain = '" + domain + "' order by id limit 1");
        String nobody = Api.address(Api.newKey()).toLowerCase();
        Seed.exec("update data_providers set source = '{\"dataset\":\"private:1x28x28:10\",\"partition\":\"iid\",\"clients\":1,\"client\":0,"
                + "\"partitionSeed\":0,\"workers\":[\"" + nobody + "\"]}' where id = '" + stray + "'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(msg(intent))))).isEmpty();
        assertThat(status(intent)).startsWith("MATCHED");
        String job = Seed.one("select id from jobs where intent_id = '" + intent + "'");
        assertThat(Seed.one("select count(*) from job_participants where job_id = '" + job + "' and provider_id = '" + stray + "'"))
                .as("its workers offer no GPU: nobody may train it").isEqualTo("0");
        // each matched private shard's holder is among the job's GPU participants
        assertThat(Seed.one("select count(*) from job_participants d where d.job_id = '" + job + "' and d.kind = 'DATA' and not exists (select 1 "
                + "from job_participants g where g.job_id = d.job_id and g.kind = 'GPU' and g.address = d.address)")).isEqualTo("0");
        assertThat(Seed.one("select count(*) from job_participants where job_id = '" + job + "' and kind = 'DATA'")).isEqualTo("2");
    }

    @Test
    void noProvidersLeavesTheIntentUnmatchedWithTheReason() throws Exception {
        UUID intent = seed(false);
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(msg(intent))))).isEmpty();
        assertThat(status(intent)).startsWith("UNMATCHED").contains("DOMAIN");
        assertThat(jobs(intent)).isZero();
    }

    @Test
    void onlyThePoisonRecordFailsAndItEndsInTheDlqAfterMaxReceives() throws Exception {
        UUID good = seed(true);
        SqsEvents.Rec ok = SqsEvents.Rec.of(msg(good));
        SqsEvents.Rec notJson = SqsEvents.Rec.of("this is not json");
        SqsEvents.Rec noIntent = SqsEvents.Rec.of(msg(UUID.randomUUID()));
        List<String> failed = SqsEvents.invoke(QUEUE, List.of(ok, notJson, noIntent));
        assertThat(failed).containsExactlyInAnyOrder(notJson.messageId(), noIntent.messageId());
        assertThat(status(good)).startsWith("MATCHED");

        // through real ElasticMQ: the poller's loop (receive, invoke, delete only successes) until redrive
        int maxReceives = Queues.get().byKey(Queues.MATCH).maxReceiveCount();
        try (SqsClient sqs = TestStack.sqs()) {
            String url = TestStack.queueUrl(Queues.MATCH);
            String dlq = TestStack.dlqUrl(Queues.MATCH);
            sqs.purgeQueue(b -> b.queueUrl(url));
            String poisonId = sqs.sendMessage(b -> b.queueUrl(url).messageBody("{\"intentId\":\"not-a-uuid\"}")).messageId();
            int receives = 0;
            for (int i = 0; i < maxReceives + 2; i++) {
                List<Message> got = sqs.receiveMessage(b -> b.queueUrl(url).maxNumberOfMessages(10).visibilityTimeout(1).waitTimeSeconds(2)
                        .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)).messages();
                if (got.isEmpty()) {
                    continue;
                }
                receives++;
                List<String> f = SqsEvents.invoke(QUEUE, got.stream().map(SqsEvents.Rec::of).toList());
                assertThat(f).containsExactly(poisonId);
                Thread.sleep(1100);
            }
            assertThat(receives).isEqualTo(maxReceives);
            List<Message> dead = sqs.receiveMessage(b -> b.queueUrl(dlq).maxNumberOfMessages(10).waitTimeSeconds(2)).messages();
            assertThat(dead).extracting(Message::body).contains("{\"intentId\":\"not-a-uuid\"}");
        }
    }
}
