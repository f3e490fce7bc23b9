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
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The marketplace's front door as it runs on AWS, with nothing called directly: the packaged
 * function.zip runs as one process per function behind the local API gateway (HTTP API v2 events)
 * and the SQS event-source pollers, against real PostgreSQL and ElasticMQ. Wallets sign in with SIWE,
 * providers register through the API and are bonded by chain events that travel through the
 * chain-events queue, a builder submits an intent, the match consumer picks it up from the match
 * queue and turns it into a job the builder can read.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LambdaPathEndToEndTest {
    static final Path ZIP = Path.of(System.getProperty("fedmarket.functionZip", "../functions/target/function.zip"));

    LocalStack stack;
    LocalLambda lambda;
    java.util.Map<String, String> contracts;
    Path dir;
    String gw;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void start(@org.junit.jupiter.api.io.TempDir Path dir) {
        assertThat(Files.isRegularFile(ZIP)).as("function.zip at %s: build it first with ./mvnw -pl functions -am package "
                + "(./mkt test and CI build it before this module)", ZIP.toAbsolutePath()).isTrue();
        stack = LocalStack.builder().dataDir(dir).sqs(true).s3(true).evm(true).postgres(true)
                .databaseName("fedmarket_e2e").freshDatabase(true).start();
        try {
            io.fedmarket.cli.demo.DemoRunner.emptyMarketplace(stack.endpoints().database()); // nothing left from an earlier run
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        contracts = io.fedmarket.chain.MarketplaceDeployer.deployLocal(stack.endpoints().evm().rpcUrl());
        this.dir = dir;
        // with the contracts, so that settle can post rounds and slash (the dev coordinator key)
        StackEndpoints ep = stack.endpoints().withEvm(new StackEndpoints.Evm(stack.endpoints().evm().rpcUrl(), stack.endpoints().evm().chainId(), contracts));
        lambda = LocalLambda.builder().functionZip(ZIP).endpoints(ep).workDir(dir.resolve("lambda"))
                .progress(System.out::println).start();
        gw = lambda.gatewayUrl();
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

    record Wallet(ECKeyPair key, String address, String token) {
    }

    Wallet signIn() throws Exception {
        ECKeyPair key = Keys.createEcKeyPair();
        return new Wallet(key, Keys.toChecksumAddress("0x" + Keys.getAddress(key)), SubmitIntentBench.signIn(http, gw, key));
    }

    HttpResponse<String> get(String path, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(gw + path)).timeout(Duration.ofSeconds(120))
                .header("authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String body, String token) throws Exception {
        return SubmitIntentBench.post(http, gw + path, body, token);
    }

    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode json(HttpResponse<String> r) {
        try {
            return JSON.readTree(r.body());
        } catch (Exception e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body(), e);
        }
    }

    /** Polls a GET until its JSON body satisfies {@code done}; the last body is returned either way. */
    JsonNode await(String path, String token, Predicate<JsonNode> done, Duration max) throws Exception {
        long end = System.nanoTime() + max.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < end) {
            HttpResponse<String> r = get(path, token);
            last = json(r);
            if (r.statusCode() == 200 && done.test(last)) {
                return last;
            }
            Thread.sleep(500);
        }
        return last;
    }

    SqsClient sqs() {
        return SqsClient.builder().endpointOverride(URI.create(stack.endpoints().sqs().endpoint())).region(Region.of("us-east-1"))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("x", "x"))).build();
    }

    String queueUrl(SqsClient sqs, String key) {
        return sqs.getQueueUrl(b -> b.queueName(Queues.get().byKey(key).name())).queueUrl();
    }

    static String bondedEvent(String address, long amount, long block) {
        return "{\"kind\":\"BONDED\",\"address\":\"" + address + "\",\"amount\":" + amount + ",\"blockNumber\":" + block
                + ",\"blockHash\":\"0x" + Long.toHexString(block) + "\",\"txHash\":\"0x" + Long.toHexString(System.nanoTime())
                + "\",\"logIndex\":0,\"timestamp\":" + Instant.now().getEpochSecond() + "}";
    }

    long count(String sql) throws Exception {
        StackEndpoints.Database db = stack.endpoints().database();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void signInRegisterBondSubmitMatchAndReadTheJobThroughGatewayAndPollers() throws Exception {
        String domain = "e2e-" + UUID.randomUUID().toString().substring(0, 8);

        // three providers, each with a GPU offer (with its measured speed) and a data set in the domain
        List<Wallet> providers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Wallet p = signIn();
            providers.add(p);
            HttpResponse<String> g = post("/providers/gpu", "{\"name\":\"rig\",\"gpuModel\":\"L4\",\"gpuCount\":1,\"gpuMemoryGib\":24,"
                    + "\"askPerGpuSecond\":\"" + (10 + i) + "\",\"region\":\"eu-west-1\",\"samplesPerSecond\":5000}", p.token());
            assertThat(g.statusCode()).as(g.body()).isEqualTo(201);
            HttpResponse<String> d = post("/providers/data", "{\"name\":\"shard\",\"domain\":\"" + domain + "\",\"region\":\"eu-west-1\","
                    + "\"sampleCount\":1200,\"labelHistogram\":{\"0\":400,\"1\":400,\"2\":400},\"datasetRoot\":\"0x" + "ab".repeat(32) + "\","
                    + "\"source\":{\"dataset\":\"synthetic:3600\",\"partition\":\"iid\",\"clients\":3,\"client\":" + i + ",\"partitionSeed\":1}}",
                    p.token());
            assertThat(d.statusCode()).as(d.body()).isEqualTo(201);
        }
        // their bonds arrive as chain events on the chain-events queue; the poller hands them to chain-sync
        try (SqsClient sqs = sqs()) {
            String q = queueUrl(sqs, Queues.CHAIN_EVENTS);
            long block = 100;
            for (Wallet p : providers) {
                String body = bondedEvent(p.address(), 1_000_000, block++);
                sqs.sendMessage(b -> b.queueUrl(q).messageBody(body));
            }
        }
        for (Wallet p : providers) {
            JsonNode me = await("/providers/me", p.token(), b -> b.path("bond").path("amount").asText().equals("1000000"), Duration.ofSeconds(90));
            assertThat(me.path("bond").path("amount").asText()).as("bond of %s mirrored by chain-sync: %s", p.address(), me).isEqualTo("1000000");
        }

        // the builder submits through the API; the outbox puts it on the match queue; the match poller runs the solver
        Wallet builder = signIn();
        String intent = "{\"model\":{\"architecture\":\"MLP\",\"inputShape\":[784],\"numClasses\":10},\"dataDomain\":\"" + domain + "\","
                + "\"requiredLabels\":[\"0\",\"1\",\"2\"],\"rounds\":2,\"localEpochs\":1,\"minParticipants\":2,\"maxParticipants\":3,"
                + "\"budget\":\"1000000000000\",\"maxPricePerGpuSecond\":\"1000\",\"deadline\":\""
                + Instant.now().plus(3, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS) + "\",\"privacy\":{\"mode\":\"NONE\"},\"aggregation\":\"fedavg\"}";
        HttpResponse<String> submitted = post("/intents", intent, builder.token());
        assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
        String id = json(submitted).get("id").asText();
        assertThat(count("select count(*) from outbox where dedup_key = 'intent-submitted:" + id + "' and sent_at is not null"))
                .as("the intent was put on the match queue in the same unit of work").isEqualTo(1);

        // someone else cannot see it
        Wallet stranger = signIn();
        assertThat(get("/intents/" + id, stranger.token()).statusCode()).isEqualTo(404);
        assertThat(post("/intents/" + id + "/cancel", "", stranger.token()).statusCode()).isEqualTo(404);

        JsonNode matched = await("/intents/" + id, builder.token(), b -> !b.path("status").asText().matches("SUBMITTED|MATCHING"),
                Duration.ofSeconds(120));
        assertThat(matched.path("status").asText()).as("intent after the match consumer: %s", matched).isEqualTo("MATCHED");

        String jobId;
        StackEndpoints.Database db = stack.endpoints().database();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select id from jobs where intent_id = '" + id + "'")) {
            assertThat(rs.next()).as("a job for the intent").isTrue();
            jobId = rs.getString(1);
            assertThat(rs.next()).as("exactly one job").isFalse();
        }
        HttpResponse<String> job = get("/jobs/" + jobId, builder.token());
        assertThat(job.statusCode()).as(job.body()).isEqualTo(200);
        JsonNode jv = json(job);
        assertThat(jv.path("intentId").asText()).isEqualTo(id);
        assertThat(jv.path("participants").size()).as("participants of %s", jv).isBetween(2, 6);
        long price = jv.path("clearingPricePerGpuSecond").asLong();
        assertThat(price).as("clearing price between the lowest ask and the max price").isBetween(10L, 1000L);
        assertThat(get("/jobs/" + jobId, stranger.token()).statusCode()).as("a stranger cannot read the job").isIn(403, 404);

        // nothing was left failing: no message in any dead-letter queue
        try (SqsClient sqs = sqs()) {
            for (String key : List.of(Queues.MATCH, Queues.CHAIN_EVENTS)) {
                String dlq = sqs.getQueueUrl(b -> b.queueName(Queues.get().byKey(key).name() + Queues.get().dlqSuffix())).queueUrl();
                String n = sqs.getQueueAttributes(b -> b.queueUrl(dlq).attributeNamesWithStrings("ApproximateNumberOfMessages"))
                        .attributesAsStrings().get("ApproximateNumberOfMessages");
                assertThat(n).as("messages in %s's DLQ", key).isEqualTo("0");
            }
        }
    }

    static io.fedmarket.fl.model.ModelState model(float... v) {
        return new io.fedmarket.fl.model.ModelState(List.of("w", "b"), List.of(new long[] {2, 2}, new long[] {2}),
                new float[][] {java.util.Arrays.copyOfRange(v, 0, 4), java.util.Arrays.copyOfRange(v, 4, 6)}, null, 0);
    }

    /**
     * The aggregate Lambda finishes a round: two accepted updates (1 and 3 samples) in the bucket, their verdicts on the
     * verdicts queue; the poller runs aggregate, which closes the round, averages the updates from its start model by the
     * intent's rule (FedAvg: hand-computed below), stores the model content-addressed and records its hash; settle then
     * posts that hash on chain with the round's payout root.
     */
    @Test
    void theAggregateFunctionAveragesAClosedRoundFromTheBucketAndSettleRecordsItsModelOnChain() throws Exception {
        Wallet builder = signIn();
        String intent = "{\"model\":{\"architecture\":\"MLP\",\"inputShape\":[784],\"numClasses\":10},\"dataDomain\":\"agg-" + UUID.randomUUID()
                + "\",\"requiredLabels\":[\"0\"],\"rounds\":1,\"localEpochs\":1,\"minParticipants\":2,\"maxParticipants\":2,\"budget\":\"1000000000\","
                + "\"maxPricePerGpuSecond\":\"100\",\"deadline\":\"" + Instant.now().plus(2, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS)
                + "\",\"privacy\":{\"mode\":\"NONE\"},\"aggregation\":\"fedavg\"}";
        HttpResponse<String> submitted = post("/intents", intent, builder.token());
        assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(201);
        String intentId = json(submitted).get("id").asText();

        StackEndpoints.S3 s3 = stack.endpoints().s3();
        String startUri;
        String[] updateUris = new String[2];
        try (software.amazon.awssdk.services.s3.S3Client c = software.amazon.awssdk.services.s3.S3Client.builder()
                .endpointOverride(URI.create(s3.endpoint())).forcePathStyle(true).region(Region.of(s3.region()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())))
                .httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create()).build()) {
            io.fedmarket.worker.store.ArtifactStore store = new io.fedmarket.worker.store.ArtifactStore(c, s3.bucket());
            startUri = store.putContent("models", "fmck", model(0, 0, 0, 0, 0, 0).encode());
            updateUris[0] = store.putContent("updates", "fmck", model(1, 2, 3, 4, 5, 6).encode());
            updateUris[1] = store.putContent("updates", "fmck", model(3, 4, 5, 6, 7, 8).encode());

            String jobId = UUID.randomUUID().toString();
            String[] tasks = {"agg-" + jobId.substring(0, 8) + "-c0", "agg-" + jobId.substring(0, 8) + "-c1"};
            String[] workers = {"0x00000000000000000000000000000000000000a1", "0x00000000000000000000000000000000000000a2"};
            StackEndpoints.Database db = stack.endpoints().database();
            try (Connection conn = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password()); Statement st = conn.createStatement()) {
                // a job of one round: after it the job is COMPLETED (a plan is what the functions build tasks from)
                String plan = JSON.writeValueAsString(io.fedmarket.fl.job.JobPlan.of("mlp", null, null, 1, "fedavg", false, null, null, 1, 600,
                        UUID.fromString(jobId)));
                st.executeUpdate("insert into jobs (id, intent_id, builder, status, clearing_price_per_gpu_second, current_round, created_at, updated_at, plan) values ('"
                        + jobId + "', '" + intentId + "', '" + builder.address().toLowerCase() + "', 'RUNNING', 7, 1, now(), now(), '" + plan + "')");
                st.executeUpdate("insert into rounds (job_id, round_no, status, min_updates, deadline, start_model_uri) values ('" + jobId
                        + "', 1, 'OPEN', 2, now() + interval '1 hour', '" + startUri + "')");
                for (int i = 0; i < 2; i++) {
                    st.executeUpdate("insert into tasks (id, job_id, round_no, worker, shard, seed, hyper_params, status, created_at) values ('" + tasks[i]
                            + "', '" + jobId + "', 1, '" + workers[i] + "', 'shard-" + i + "', " + i + ", '{}', 'SUBMITTED', now())");
                    st.executeUpdate("insert into submissions (task_id, worker, update_uri, update_hash, proof_root, steps, gpu_seconds, signature, submitted_at, "
                            + "sample_count) values ('" + tasks[i] + "', '" + workers[i] + "', '" + updateUris[i] + "', '0x" + "22".repeat(32) + "', '0x"
                            + "33".repeat(32) + "', 10, " + (10 * (i + 1)) + ", '0x" + "44".repeat(65) + "', now(), " + (i == 0 ? 1 : 3) + ")");
                }
            }
            // the builder escrows the job on chain, so that settle can post the round
            try (io.fedmarket.chain.MarketplaceChain op = io.fedmarket.chain.MarketplaceChain.connect(stack.endpoints().evm().rpcUrl(),
                    io.fedmarket.chain.DevAccounts.account(0), contracts, io.fedmarket.chain.MarketplaceChain.Options.defaults())) {
                io.fedmarket.chain.MarketplaceChain b = op.as(io.fedmarket.chain.DevAccounts.account(1));
                b.approve(java.math.BigInteger.valueOf(1_000_000));
                b.openJob(io.fedmarket.crypto.Hashes.keccak256(jobId.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                        java.math.BigInteger.valueOf(1_000_000), op.latestTimestamp() + 3600);

                try (SqsClient sqs = sqs()) {
                    String verdicts = sqs.getQueueUrl(b2 -> b2.queueName(Queues.get().byKey(Queues.VERDICTS).name())).queueUrl();
                    for (int i = 0; i < 2; i++) {
                        String body = JSON.writeValueAsString(new io.fedmarket.messages.VerdictReached(tasks[i], UUID.fromString(jobId), 1, workers[i],
                                true, "ACCEPTED", null));
                        sqs.sendMessage(m -> m.queueUrl(verdicts).messageBody(body));
                    }
                }
                String uri = awaitSql("select global_model_uri from rounds where job_id = '" + jobId + "' and round_no = 1", Duration.ofSeconds(90));
                io.fedmarket.fl.model.ModelState got = io.fedmarket.fl.model.ModelState.decode(store.get(uri), uri);
                // FedAvg by samples: (1 × u0 + 3 × u1) / 4
                float[] expected = {2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f};
                assertThat(got.flat()).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-6f));
                String hash = io.fedmarket.crypto.Hashes.hex(got.paramsHash());
                assertThat(count("select count(*) from rounds where job_id = '" + jobId + "' and global_model_hash = '" + hash + "'")).isEqualTo(1);
                assertThat(uri).as("content-addressed").isEqualTo("models/" + io.fedmarket.crypto.Hashes.hex(
                        io.fedmarket.crypto.Hashes.keccak256(store.get(uri))).substring(2) + ".fmck");

                // settle posts the round with that model hash
                String posted = awaitSql("select model_hash from payout_roots where job_id = '" + jobId + "' and round_no = 1 and tx_hash is not null",
                        Duration.ofSeconds(90));
                assertThat(posted).isEqualTo(hash);
                assertThat(op.jobState(io.fedmarket.crypto.Hashes.keccak256(jobId.getBytes(java.nio.charset.StandardCharsets.UTF_8))).lastRound())
                        .isEqualTo(1);
            }
        }
    }

    /** Polls a one-value query until it returns a non-null value. */
    String awaitSql(String sql, Duration within) throws Exception {
        StackEndpoints.Database db = stack.endpoints().database();
        Instant until = Instant.now().plus(within);
        while (Instant.now().isBefore(until)) {
            try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
                 Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                if (rs.next() && rs.getString(1) != null) {
                    return rs.getString(1);
                }
            }
            Thread.sleep(300);
        }
        StringBuilder logs = new StringBuilder();
        try (java.util.stream.Stream<Path> files = Files.list(dir.resolve("lambda/logs"))) {
            for (Path f : files.sorted().toList()) {
                List<String> lines = Files.readAllLines(f);
                logs.append("\n--- ").append(f.getFileName()).append(" (last 15 lines)\n")
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
            }
        } catch (java.io.IOException e) {
            logs.append(" (logs unreadable: ").append(e.getMessage()).append(')');
        }
        throw new AssertionError("nothing for " + sql + " within " + within + "; function logs:" + logs);
    }

    record Run(int exit, String out, String err) {
    }

    static Run mkt(String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cl = Mkt.commandLine();
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void theUserCommandsSignInSubmitListShowCancelRegisterAndBondWithClearErrors() throws Exception {
        org.web3j.crypto.Credentials dev = io.fedmarket.chain.DevAccounts.account(7);
        Path keyFile = dir.resolve("provider.key");
        Files.writeString(keyFile, org.web3j.utils.Numeric.toHexStringWithPrefixZeroPadded(dev.getEcKeyPair().getPrivateKey(), 64) + "\n");
        Path session = dir.resolve("session.json");
        String[] api = {"--api", gw, "--session", session.toString()};

        // not signed in yet: one clear line, non-zero exit
        Run early = mkt(cat(new String[] {"intents", "list"}, api));
        assertThat(early.exit()).isEqualTo(1);
        assertThat(early.err()).contains("not signed in").contains("mkt login");

        Run login = mkt(cat(new String[] {"login", "--key-file", keyFile.toString()}, api));
        assertThat(login.exit()).as(login.err()).isZero();
        assertThat(login.out()).containsIgnoringCase("signed in as " + dev.getAddress()).contains("provider");
        assertThat(Files.readString(session)).contains("token");

        Path gpu = dir.resolve("gpu.json");
        Files.writeString(gpu, "{\"name\":\"cli-rig\",\"gpuModel\":\"L4\",\"gpuCount\":2,\"gpuMemoryGib\":24,\"askPerGpuSecond\":\"15\","
                + "\"region\":\"eu-west-1\",\"samplesPerSecond\":3000}");
        Run offer = mkt(cat(new String[] {"providers", "gpu", gpu.toString()}, api));
        assertThat(offer.exit()).as(offer.err()).isZero();
        assertThat(json(offer.out()).path("samplesPerSecond").asDouble()).isEqualTo(3000.0);
        Run me = mkt(cat(new String[] {"providers", "show"}, api));
        assertThat(json(me.out()).path("gpu").get(0).path("name").asText()).isEqualTo("cli-rig");

        // an intent in a domain nobody serves: it stays unmatched, so it can be cancelled
        Path intentFile = dir.resolve("intent.json");
        Files.writeString(intentFile, "{\"model\":{\"architecture\":\"MLP\",\"inputShape\":[784],\"numClasses\":10},\"dataDomain\":\"nobody-serves-this\","
                + "\"requiredLabels\":[\"0\"],\"rounds\":2,\"localEpochs\":1,\"minParticipants\":2,\"maxParticipants\":3,\"budget\":\"1000000\","
                + "\"maxPricePerGpuSecond\":\"100\",\"deadline\":\"" + Instant.now().plus(2, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS)
                + "\",\"privacy\":{\"mode\":\"NONE\"},\"aggregation\":\"fedavg\"}");
        Run submit = mkt(cat(new String[] {"intents", "submit", intentFile.toString()}, api));
        assertThat(submit.exit()).as(submit.err()).isZero();
        String id = json(submit.out()).path("id").asText();
        assertThat(mkt(cat(new String[] {"intents", "list"}, api)).out()).contains(id);
        assertThat(json(mkt(cat(new String[] {"intents", "show", id}, api)).out()).path("dataDomain").asText()).isEqualTo("nobody-serves-this");
        Run cancel = mkt(cat(new String[] {"intents", "cancel", id}, api));
        assertThat(cancel.exit()).as(cancel.err()).isZero();
        assertThat(json(cancel.out()).path("status").asText()).isEqualTo("CANCELLED");

        // bad input: the API's own message comes through, with the field; local mistakes are caught before sending
        Files.writeString(intentFile, Files.readString(intentFile).replace("\"rounds\":2", "\"rounds\":-2"));
        Run bad = mkt(cat(new String[] {"intents", "submit", intentFile.toString()}, api));
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("POST /intents").contains("rounds");
        Files.writeString(intentFile, "{not json");
        assertThat(mkt(cat(new String[] {"intents", "submit", intentFile.toString()}, api)).err()).contains("is not valid JSON");
        assertThat(mkt(cat(new String[] {"intents", "show", "not-a-uuid"}, api)).err()).contains("is not an id");
        Path badKey = dir.resolve("bad.key");
        Files.writeString(badKey, "0x1234");
        assertThat(mkt(cat(new String[] {"login", "--key-file", badKey.toString()}, api)).err()).contains("is not a private key");

        // bond on chain with the same key
        String[] chain = {"--rpc", stack.endpoints().evm().rpcUrl(), "--marketplace", contracts.get("marketplace"), "--token", contracts.get("token")};
        Run bond = mkt(cat(new String[] {"bond", "5000", "--key-file", keyFile.toString()}, chain));
        assertThat(bond.exit()).as(bond.err()).isZero();
        assertThat(bond.out()).contains("approve 0x").contains("bond 0x").contains("bonded: 5000 base units");
        Run zero = mkt(cat(new String[] {"bond", "0", "--key-file", keyFile.toString()}, chain));
        assertThat(zero.exit()).isEqualTo(1);
        assertThat(zero.err()).contains("AMOUNT must be above 0");
        Run both = mkt(cat(new String[] {"unbond", "10", "--withdraw", "--key-file", keyFile.toString()}, chain));
        assertThat(both.err()).contains("either AMOUNT");
        Run unbond = mkt(cat(new String[] {"unbond", "1000", "--key-file", keyFile.toString()}, chain));
        assertThat(unbond.exit()).as(unbond.err()).isZero();
        assertThat(unbond.out()).contains("0x");

        // escrow: the builder of a job puts the intent's budget on chain (approve + openJob) until the intent's deadline
        String escrowJob = UUID.randomUUID().toString();
        StackEndpoints.Database edb = stack.endpoints().database();
        try (Connection c = DriverManager.getConnection(edb.jdbcUrl(), edb.user(), edb.password()); Statement st = c.createStatement()) {
            st.executeUpdate("insert into jobs (id, intent_id, builder, status, created_at, updated_at) values ('" + escrowJob + "', '" + id
                    + "', '" + dev.getAddress().toLowerCase() + "', 'OPEN', now(), now())");
        }
        Run escrow = mkt(cat(new String[] {"escrow", escrowJob, "--key-file", keyFile.toString()}, cat(api, chain)));
        assertThat(escrow.exit()).as(escrow.err()).isZero();
        assertThat(escrow.out()).contains("approve 0x").contains("openJob 0x").contains("escrowed 1000000 base units for job " + escrowJob);
        try (io.fedmarket.chain.MarketplaceChain op = io.fedmarket.chain.MarketplaceChain.connect(stack.endpoints().evm().rpcUrl(),
                io.fedmarket.chain.DevAccounts.account(0), contracts, io.fedmarket.chain.MarketplaceChain.Options.defaults())) {
            io.fedmarket.chain.MarketplaceChain.JobState js = op.jobState(io.fedmarket.crypto.Hashes.keccak256(escrowJob.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertThat(js.deposited()).isEqualTo(java.math.BigInteger.valueOf(1_000_000));
            assertThat(js.builder()).isEqualToIgnoringCase(dev.getAddress());
        }
        Run twice = mkt(cat(new String[] {"escrow", escrowJob, "--key-file", keyFile.toString()}, cat(api, chain)));
        assertThat(twice.exit()).isEqualTo(1);
        assertThat(twice.err()).contains("escrowed on chain already");
        try (Connection c = DriverManager.getConnection(edb.jdbcUrl(), edb.user(), edb.password()); Statement st = c.createStatement()) {
            st.executeUpdate("delete from jobs where id = '" + escrowJob + "'"); // one job per intent: the claim below uses the intent
        }

        // claim: a job (on the cancelled intent) escrowed and settled on chain, its proofs served by the claims API
        String jobId = UUID.randomUUID().toString();
        byte[] onChain = io.fedmarket.crypto.Hashes.keccak256(jobId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String mine = dev.getAddress();
        java.util.Map<String, java.math.BigInteger> pay = java.util.Map.of(mine, java.math.BigInteger.valueOf(700),
                "0x00000000000000000000000000000000000000b2", java.math.BigInteger.valueOf(300));
        io.fedmarket.crypto.PayoutTree tree = io.fedmarket.crypto.PayoutTree.of(pay);
        try (io.fedmarket.chain.MarketplaceChain operator = io.fedmarket.chain.MarketplaceChain.connect(stack.endpoints().evm().rpcUrl(),
                io.fedmarket.chain.DevAccounts.account(0), contracts, io.fedmarket.chain.MarketplaceChain.Options.defaults())) {
            io.fedmarket.chain.MarketplaceChain builderChain = operator.as(io.fedmarket.chain.DevAccounts.account(1));
            builderChain.approve(java.math.BigInteger.valueOf(1000));
            builderChain.openJob(onChain, java.math.BigInteger.valueOf(1000), operator.latestTimestamp() + 3600);
            operator.postRound(onChain, 1, io.fedmarket.crypto.Hashes.keccak256("model".getBytes()), tree.root(), java.math.BigInteger.valueOf(1000));
            StackEndpoints.Database db = stack.endpoints().database();
            try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password()); Statement st = c.createStatement()) {
                st.executeUpdate("insert into jobs (id, intent_id, builder, status, created_at, updated_at) values ('" + jobId + "', '" + id
                        + "', '" + io.fedmarket.chain.DevAccounts.account(1).getAddress().toLowerCase() + "', 'RUNNING', now(), now())");
                st.executeUpdate("insert into payout_roots (job_id, round_no, model_hash, payout_root, created_at) values ('" + jobId + "', 1, '0x"
                        + "ab".repeat(32) + "', '" + tree.rootHex() + "', now())");
                st.executeUpdate("insert into payouts (job_id, round_no, address, cumulative, proof) values ('" + jobId + "', 1, '" + mine.toLowerCase()
                        + "', 700, '" + JSON.writeValueAsString(tree.proof(mine).stream().map(io.fedmarket.crypto.Hashes::hex).toList()) + "')");
            }
            java.math.BigInteger wallet = operator.tokenBalance(mine);
            String[] apiAndChain = cat(api, chain);
            Run booked = mkt(cat(new String[] {"claim", jobId, "--no-withdraw", "--key-file", keyFile.toString()}, apiAndChain));
            assertThat(booked.exit()).as(booked.err()).isZero();
            assertThat(booked.out()).contains("claimed 700 base units (cumulative 700)").contains("700 base units booked in this job, not withdrawn");
            assertThat(operator.unwithdrawn(onChain, mine)).isEqualTo(java.math.BigInteger.valueOf(700));
            assertThat(operator.tokenBalance(mine)).isEqualTo(wallet);
            // again without --no-withdraw: nothing new to claim, but what is booked goes to the wallet
            Run paid = mkt(cat(new String[] {"claim", jobId, "--key-file", keyFile.toString()}, apiAndChain));
            assertThat(paid.exit()).as(paid.err()).isZero();
            assertThat(paid.out()).contains("nothing new to claim").contains("withdrew 700 base units");
            assertThat(operator.tokenBalance(mine).subtract(wallet)).isEqualTo(java.math.BigInteger.valueOf(700));
            assertThat(operator.unwithdrawn(onChain, mine)).isZero();
            Run unknown = mkt(cat(new String[] {"claim", UUID.randomUUID().toString(), "--key-file", keyFile.toString()}, apiAndChain));
            assertThat(unknown.exit()).isEqualTo(1);
            assertThat(unknown.err()).contains("nothing has been settled to");
        }
    }

    static String[] cat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }
}
