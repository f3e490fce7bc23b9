package io.fedmarket.functions;

import io.fedmarket.config.Queues;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import io.fedmarket.crypto.Hashes;
import io.fedmarket.pol.ProofTrails;
import io.fedmarket.pol.SubmissionSigner;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.Verify.class)
@WithTestResource(TestStack.class)
@WithTestResource(ChainStack.class)
@WithTestResource(BucketStack.class)
class VerifyFunctionTest {
    static final String QUEUE = Queues.get().byKey(Queues.SUBMISSIONS).name();

    static String submission(Seed.Job j, int i, String worker) {
        return "{\"taskId\":\"" + j.taskIds().get(i) + "\",\"jobId\":\"" + j.jobId() + "\",\"round\":1,\"worker\":\"" + worker
                + "\",\"updateUri\":\"updates/x\",\"updateHash\":\"0x" + "aa".repeat(32) + "\",\"proofRoot\":\"0x" + "bb".repeat(32)
                + "\",\"trailUri\":\"trails/x\",\"steps\":200,\"checkpointEvery\":20,\"gpuSeconds\":42,\"trainMillis\":42000,\"sampleCount\":600,"
                + "\"trainLoss\":0.4,\"threads\":1,\"signature\":\"0x" + "cc".repeat(65) + "\",\"submittedAtEpochSeconds\":1764000000}";
    }

    /** A submission of task i signed EIP-712 by {@code signer} (chain 31337, the profile's verifying contract). */
    static String signed(Seed.Job j, int i, String worker, org.web3j.crypto.Credentials signer) {
        byte[] update = Hashes.keccak256(("update " + i).getBytes(StandardCharsets.UTF_8));
        byte[] root = Hashes.keccak256(("root " + i).getBytes(StandardCharsets.UTF_8));
        String market = org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("fedmarket.marketplace-address", String.class);
        byte[] sig = new SubmissionSigner(31337, market).sign(signer, ProofTrails.taskKey(j.taskIds().get(i)), update, root, 200, 42);
        return submission(j, i, worker).replace("0x" + "aa".repeat(32), Hashes.hex(update)).replace("0x" + "bb".repeat(32), Hashes.hex(root))
                .replace("0x" + "cc".repeat(65), Hashes.hex(sig));
    }

    static org.web3j.crypto.Credentials worker(Seed.Job j, int i, boolean bonded) throws Exception {
        org.web3j.crypto.Credentials k = org.web3j.crypto.Credentials.create(Api.newKey());
        String w = k.getAddress().toLowerCase();
        Seed.exec("update tasks set worker = '" + w + "' where id = '" + j.taskIds().get(i) + "'");
        Seed.exec("insert into job_participants (job_id, provider_id, kind, address) values ('" + j.jobId() + "', '" + java.util.UUID.randomUUID() + "', 'GPU', '" + w + "')");
        if (bonded) {
            Seed.exec("insert into bonds (address, amount, block_number, updated_at) values ('" + w + "', 1000, 1, now())");
        }
        return k;
    }

    @Test
    void aForgedSignatureIsDroppedAnUnbondedWorkerRejectedWithoutEvidence() throws Exception {
        Seed.Job j = Seed.job(3, false);
        org.web3j.crypto.Credentials honest = worker(j, 0, true);
        org.web3j.crypto.Credentials named = worker(j, 1, true);
        org.web3j.crypto.Credentials unbonded = worker(j, 2, false);
        org.web3j.crypto.Credentials forger = org.web3j.crypto.Credentials.create(Api.newKey());
        SqsEvents.Rec ok = SqsEvents.Rec.of(signed(j, 0, honest.getAddress(), honest));
        SqsEvents.Rec forged = SqsEvents.Rec.of(signed(j, 1, named.getAddress(), forger));
        SqsEvents.Rec noBond = SqsEvents.Rec.of(signed(j, 2, unbonded.getAddress(), unbonded));
        // the good one passes intake (recorded in its own transaction) and goes on to the trail checks, which need the bucket:
        // it is down for this batch, so that record fails and would come back; nothing of it is lost
        BucketStack.offline(() -> assertThat(SqsEvents.invoke(QUEUE, List.of(ok, forged, noBond))).containsExactly(ok.messageId()));
        assertThat(SqsEvents.invoke(QUEUE, List.of(forged))).as("redelivery").isEmpty();
        assertThat(Seed.one("select stage || ' ' || draw_block || ' ' || submission_hash from submissions where task_id = '" + j.taskIds().get(0) + "'"))
                .as("recorded with the block its draw waits for").matches("RECORDED [0-9]+ 0x[0-9a-f]{64}");
        // billed GPU-seconds: at most the time since the task was published; the weight is the shard's as offered (none here: 1)
        assertThat(Seed.one("select gpu_seconds || ' ' || sample_count from submissions where task_id = '" + j.taskIds().get(0) + "'")).isEqualTo("42 1");

        // a signature that is not the named worker's takes nothing: not recorded, no verdict, the task still open for the real one
        assertThat(Seed.one("select count(*) from submissions where task_id = '" + j.taskIds().get(1) + "'")).isEqualTo("0");
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'verdict:" + j.taskIds().get(1) + "'")).isEqualTo("0");
        assertThat(Seed.one("select status from tasks where id = '" + j.taskIds().get(1) + "'")).isEqualTo("RUNNING");
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'verdict:" + j.taskIds().get(0) + "'")).as("a good signature by a bonded worker").isEqualTo("0");
        assertThat(Seed.one("select body from outbox where dedup_key = 'verdict:" + j.taskIds().get(2) + "' and sent_at is not null"))
                .contains("\"accepted\":false").contains("BAD_SIGNATURE: the worker " + unbonded.getAddress().toLowerCase() + " has no bond")
                .contains("\"evidenceHash\":null");
        assertThat(Seed.one("select count(*) from outbox where dedup_key like 'verdict:%' and body like '%" + j.jobId() + "%'")).as("once").isEqualTo("1");
        try (SqsClient sqs = TestStack.sqs()) {
            List<Message> m = sqs.receiveMessage(b -> b.queueUrl(TestStack.queueUrl(Queues.VERDICTS)).maxNumberOfMessages(10).waitTimeSeconds(2)).messages();
            assertThat(m).extracting(Message::body).anySatisfy(b -> assertThat(b).contains(j.taskIds().get(2)).contains("BAD_SIGNATURE"));
        }
    }

    @Test
    void anyLiveGpuParticipantMayTakeAnyTaskOnceAndEveryoneElseIsIgnored() throws Exception {
        Seed.Job j = Seed.job(4, false);
        org.web3j.crypto.Credentials[] k = new org.web3j.crypto.Credentials[4];
        for (int i = 0; i < 4; i++) {
            k[i] = worker(j, i, false); // no bond: every recorded submission is rejected at intake, the checks (and the bucket) never reached
        }
        String w0 = k[0].getAddress().toLowerCase();
        // worker 0 takes its own task and, a task belonging to a shard rather than to a GPU, worker 1's too
        SqsEvents.Rec mine = SqsEvents.Rec.of(signed(j, 0, w0, k[0]));
        SqsEvents.Rec taken = SqsEvents.Rec.of(signed(j, 1, w0, k[0]));
        assertThat(SqsEvents.invoke(QUEUE, List.of(mine, taken))).isEmpty();
        assertThat(SqsEvents.invoke(QUEUE, List.of(mine))).as("redelivery").isEmpty();
        assertThat(Seed.one("select count(*) from submissions where task_id = '" + j.taskIds().get(0) + "'")).isEqualTo("1");
        assertThat(Seed.one("select gpu_seconds from submissions where task_id = '" + j.taskIds().get(0) + "'")).isEqualTo("42");
        assertThat(Seed.one("select status || ' ' || worker from tasks where id = '" + j.taskIds().get(1) + "'")).isEqualTo("SUBMITTED " + w0);
        // the first submission wins: worker 1 submitting task 1 afterwards is not recorded
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(signed(j, 1, k[1].getAddress(), k[1]))))).isEmpty();
        assertThat(Seed.one("select worker from submissions where task_id = '" + j.taskIds().get(1) + "'")).isEqualTo(w0);
        // a stranger, a participant removed for cheating and a late update are left out (logged), never recorded
        org.web3j.crypto.Credentials stranger = org.web3j.crypto.Credentials.create(Api.newKey());
        Seed.exec("update job_participants set removed_at = now(), removed_reason = 'test' where job_id = '" + j.jobId() + "' and address = '"
                + k[3].getAddress().toLowerCase() + "'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(signed(j, 2, stranger.getAddress(), stranger)),
                SqsEvents.Rec.of(signed(j, 3, k[3].getAddress(), k[3]))))).isEmpty();
        // the stranger took task 2 off the queue for nothing: it is offered again to the job's own workers
        assertThat(Seed.one("select count(*) from outbox where dedup_key like 'task-reoffer:" + j.taskIds().get(2) + ":%'")).isEqualTo("1");
        Seed.exec("update rounds set status = 'CLOSED' where job_id = '" + j.jobId() + "'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(signed(j, 2, k[2].getAddress(), k[2]))))).isEmpty();
        assertThat(Seed.one("select count(*) from submissions where task_id in ('" + j.taskIds().get(2) + "', '" + j.taskIds().get(3) + "')")).isEqualTo("0");
        // a task of another job is poison: it fails alone
        SqsEvents.Rec wrongJob = SqsEvents.Rec.of(signed(j, 0, w0, k[0]).replace(j.jobId().toString(), java.util.UUID.randomUUID().toString()));
        assertThat(SqsEvents.invoke(QUEUE, List.of(wrongJob))).containsExactly(wrongJob.messageId());
    }

    @Test
    void aPrivateShardsTaskIsTakenOnlyByAWorkerThatHoldsItAnyOtherUpdateIsIgnoredAndTheTaskReoffered() throws Exception {
        Seed.Job j = Seed.job(2, false);
        org.web3j.crypto.Credentials holder = worker(j, 0, false);
        org.web3j.crypto.Credentials other = worker(j, 1, false);
        String t0 = j.taskIds().get(0);
        Seed.exec("update tasks set hyper_params = '{\"taskId\":\"" + t0 + "\",\"jobId\":\"" + j.jobId() + "\",\"round\":1,\"modelSpec\":\"mlp\","
                + "\"dataset\":\"private:1x28x28:10\",\"partition\":\"iid\",\"clients\":1,\"client\":0,\"shardCommitment\":\"0x" + "ab".repeat(32)
                + "\",\"steps\":200,\"checkpointEvery\":20,\"threads\":1,\"budgetSeconds\":600,\"trainers\":[\"" + holder.getAddress().toLowerCase()
                + "\"]}' where id = '" + t0 + "'");
        // a live, bonded-or-not GPU participant of the job that does not hold the shard: its update is not of that data
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(signed(j, 0, other.getAddress(), other))))).isEmpty();
        assertThat(Seed.one("select count(*) from submissions where task_id = '" + t0 + "'")).isEqualTo("0");
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'task-reoffer:" + t0 + ":" + other.getAddress().toLowerCase() + "'"))
                .as("back on the queue for its holders").isEqualTo("1");
        // the holder's is recorded (and, unbonded here, rejected at intake like any other)
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(signed(j, 0, holder.getAddress(), holder))))).isEmpty();
        assertThat(Seed.one("select worker from submissions where task_id = '" + t0 + "'")).isEqualTo(holder.getAddress().toLowerCase());
    }

    // --- end to end through the Lambda with real artifacts in the bucket (VerifyFixture): intake → checks → draw → timeouts

    static String sub(String taskId, String columns) throws Exception {
        return Seed.one("select " + columns + " from submissions where task_id = '" + taskId + "'");
    }

    static String request(String id) throws Exception {
        return Seed.one("select purpose || ' ' || attempt || ' ' || status || ' ' || exclude || ' ' || coalesce(assignee, '-') from reexec_requests where id = '" + id + "'");
    }

    static long count(String sql) throws Exception {
        return Long.parseLong(Seed.one("select count(*) " + sql));
    }

    static io.fedmarket.messages.VerdictReached verdict(String taskId) throws Exception {
        assertThat(count("from outbox where dedup_key = 'verdict:" + taskId + "'")).as("one verdict").isEqualTo(1);
        assertThat(count("from outbox where dedup_key = 'verdict:" + taskId + "' and sent_at is not null and queue_key = '" + Queues.VERDICTS + "'"))
                .as("relayed to the verdicts queue").isEqualTo(1);
        return io.fedmarket.functions.http.Json.parse(Seed.one("select body from outbox where dedup_key = 'verdict:" + taskId + "'"),
                io.fedmarket.messages.VerdictReached.class);
    }

    /**
     * Delivers the submission, checks it waits for the block after the one it was recorded in (nothing drawn, no figures),
     * mines that block and delivers the message again; returns the block's hash.
     */
    static String recordThenDraw(VerifyFixture.Run r, SqsEvents.Rec rec) throws Exception {
        String task = r.task().taskId();
        long before = VerifyFixture.latestBlock();
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(sub(task, "stage || ' ' || draw_block || ' ' || submission_hash || ' ' || coalesce(segments, '-') || ' ' || coalesce(checks, '-')"))
                .as("recorded, the draw waiting for the next block").isEqualTo("RECORDED " + (before + 1) + " " + r.submissionHash() + " - -");
        assertThat(VerifyFixture.blockHash(before + 1)).isEmpty();
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).as("delivered again before the block exists").isEmpty();
        assertThat(sub(task, "stage")).isEqualTo("RECORDED");
        assertThat(count("from reexec_requests where task_id = '" + task + "'")).isZero();
        VerifyFixture.mine();
        String blockHash = VerifyFixture.blockHash(before + 1).orElseThrow();
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        return blockHash;
    }

    /** The segments {@code SegmentSampler} draws for the submission from the block hash. */
    static List<Integer> expectedSegments(VerifyFixture.Run r, String blockHash, int q) {
        byte[] seed = io.fedmarket.fl.verify.SegmentSampler.seed(Hashes.fromHex(r.submissionHash()), Hashes.fromHex(blockHash));
        return java.util.Arrays.stream(io.fedmarket.fl.verify.SegmentSampler.sample(seed, r.task().segments(), q)).boxed().toList();
    }

    /** Every drawn segment has its DRAW request SENT to the recomputed draw (never the submitter) and its message in the outbox. */
    static void assertDispatched(VerifyFixture.Run r, String blockHash, List<Integer> segments) throws Exception {
        String task = r.task().taskId();
        assertThat(count("from reexec_requests where task_id = '" + task + "'")).isEqualTo(segments.size());
        assertThat(count("from outbox where dedup_key like 'reexec:" + task + "-%'")).isEqualTo(segments.size());
        List<String> exclude = List.of(r.task().submitter());
        for (int i : segments) {
            String id = io.fedmarket.functions.rounds.Verification.reexecId(task, i, "DRAW", 0);
            assertThat(id).isEqualTo(task + "-seg" + i);
            String assignee = VerifyFixture.expectedAssignee(r, blockHash, id, exclude);
            assertThat(assignee).isNotNull().isNotEqualTo(r.task().submitter()).isIn(r.task().pool()).isNotIn(r.task().never());
            assertThat(request(id)).isEqualTo("DRAW 0 SENT " + io.fedmarket.functions.http.Json.write(exclude) + " " + assignee);
            assertThat(Seed.one("select steps from reexec_requests where id = '" + id + "'")).isEqualTo(Integer.toString(VerifyFixture.K));
            assertThat(Seed.one("select queue_key from outbox where dedup_key = 'reexec:" + id + "'")).isEqualTo(Queues.REEXEC);
            com.fasterxml.jackson.databind.JsonNode body = Api.JSON.readTree(Seed.one("select body from outbox where dedup_key = 'reexec:" + id + "'"));
            assertThat(body.path("reexecId").asText()).isEqualTo(id);
            assertThat(body.path("assignee").asText()).isEqualTo(assignee);
            assertThat(body.path("segment").asInt()).isEqualTo(i);
            assertThat(body.path("startStep").asInt()).isEqualTo(i * VerifyFixture.K);
            assertThat(body.path("startCheckpointUri").asText()).isEqualTo(r.checkpointUris().get(i));
            assertThat(body.path("startHash").asText()).isEqualTo(r.hashes().get(i));
            assertThat(body.path("excludeWorkers").toString()).isEqualTo(io.fedmarket.functions.http.Json.write(exclude));
        }
    }

    /** ValidationSets.pick's semantics: k distinct indices of n by a partial Fisher-Yates shuffle seeded by seed. */
    static int[] pick(int n, int k, long seed) {
        int m = Math.min(n, k);
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        for (int i = 0; i < m; i++) {
            int j = i + rnd.nextInt(n - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return java.util.Arrays.copyOf(all, m);
    }

    @Test
    void anHonestLookingSubmissionIsDrawnFromTheNextBlockAndEachSegmentGoesToADrawnWorker() throws Exception {
        io.fedmarket.fl.job.JobPlan.ValidationSplit split = new io.fedmarket.fl.job.JobPlan.ValidationSplit(BucketStack.FASHION_MNIST_TEST, 64, null);
        VerifyFixture.Task t = VerifyFixture.task(4, new io.fedmarket.fl.job.JobPlan.Verification(0.8, 0.5, null, null, null, split));
        int q = io.fedmarket.fl.verify.DetectionPlanner.segmentsFor(0.5, 0.8, 4);
        assertThat(q).as("2 of 4 segments catch a worker who faked half of them with probability 5/6").isEqualTo(2);
        VerifyFixture.Run r = VerifyFixture.run(t, VerifyFixture.honest(t));
        SqsEvents.Rec rec = SqsEvents.Rec.of(r.message());
        String blockHash = recordThenDraw(r, rec);

        assertThat(sub(t.taskId(), "stage || ' ' || draw_block_hash || ' ' || flags || ' ' || submission_hash || ' ' || coalesce(evidence_doc, '-')"))
                .isEqualTo("DRAWN " + blockHash + " [] " + r.submissionHash() + " -");
        assertThat(Seed.one("select status || ' ' || worker from tasks where id = '" + t.taskId() + "'")).isEqualTo("SUBMITTED " + t.submitter());
        List<Integer> segments = expectedSegments(r, blockHash, q);
        assertThat(sub(t.taskId(), "segments")).isEqualTo(io.fedmarket.functions.http.Json.write(segments));
        assertDispatched(r, blockHash, segments);
        assertThat(count("from outbox where dedup_key = 'verdict:" + t.taskId() + "'")).isZero();

        // the cheap checks' figures, recomputed
        float[] start = t.start().flat();
        float[] delta = io.fedmarket.fl.Vectors.subtract(r.update(), start);
        double norm = 0;
        for (float d : delta) {
            norm += (double) d * d;
        }
        norm = Math.sqrt(norm);
        com.fasterxml.jackson.databind.JsonNode checks = Api.JSON.readTree(sub(t.taskId(), "checks"));
        assertThat(checks.path("updateNorm").asDouble()).isCloseTo(norm, org.assertj.core.api.Assertions.within(1e-12 * norm)).isGreaterThan(1e-3);
        assertThat(Double.parseDouble(sub(t.taskId(), "update_norm"))).isCloseTo(norm, org.assertj.core.api.Assertions.within(1e-12 * norm));
        assertThat(checks.path("peers").asInt()).as("the first submission of its round").isZero();
        assertThat(checks.path("maxNorm").isNull()).isTrue();
        assertThat(checks.path("cosineToCentre").isNull()).isTrue();
        assertThat(checks.path("flags").toString()).isEqualTo("[]");
        boolean installed = java.nio.file.Files.isReadable(BucketStack.FASHION_MNIST.resolve("t10k-images-idx3-ubyte.gz"));
        assertThat(BucketStack.hasDataset(BucketStack.FASHION_MNIST_TEST)).as("BucketStack uploads Debian's test split where it is installed").isEqualTo(installed);
        if (installed) {
            io.fedmarket.fl.data.IdxImages.Labelled set;
            try (var images = java.nio.file.Files.newInputStream(BucketStack.FASHION_MNIST.resolve("t10k-images-idx3-ubyte.gz"));
                 var labels = java.nio.file.Files.newInputStream(BucketStack.FASHION_MNIST.resolve("t10k-labels-idx1-ubyte.gz"))) {
                set = io.fedmarket.fl.data.IdxImages.read(images, labels);
            }
            assertThat(set.size()).isEqualTo(10_000);
            int[] idx = pick(set.size(), 64, split.seedOrDefault());
            int[] labels = new int[idx.length];
            for (int i = 0; i < idx.length; i++) {
                labels[i] = set.labels()[idx[i]];
            }
            io.fedmarket.fl.model.Inference.Evaluation e = io.fedmarket.fl.model.Inference.evaluate(VerifyFixture.MODEL, r.update(), set.scaled(idx), labels);
            double globalLoss = io.fedmarket.fl.model.Inference.evaluate(VerifyFixture.MODEL, start, set.scaled(idx), labels).meanLoss();
            assertThat(checks.path("validation").asText()).isEqualTo("64 samples of fashion-mnist-test");
            assertThat(checks.path("validationLoss").asDouble()).isEqualTo(e.meanLoss());
            assertThat(checks.path("validationAccuracy").asDouble()).isEqualTo(e.accuracy());
            assertThat(checks.path("globalValidationLoss").asDouble()).isEqualTo(globalLoss);
            assertThat(checks.path("maxValidationLoss").asDouble()).isCloseTo(globalLoss + Math.log(10), org.assertj.core.api.Assertions.within(1e-12));
            assertThat(Double.parseDouble(sub(t.taskId(), "validation_loss"))).isCloseTo(e.meanLoss(), org.assertj.core.api.Assertions.within(1e-12));
        } else {
            assertThat(checks.path("validation").asText()).isEqualTo("validation data set fashion-mnist-test is not in the bucket (datasets/fashion-mnist-test/images-idx3-ubyte.gz)");
            assertThat(checks.path("validationLoss").isNull()).isTrue();
        }

        // delivered again (the timeout pass before anything is due): nothing changes
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(sub(t.taskId(), "stage || ' ' || segments")).isEqualTo("DRAWN " + io.fedmarket.functions.http.Json.write(segments));
        assertDispatched(r, blockHash, segments);
        assertThat(count("from outbox where dedup_key = 'verdict:" + t.taskId() + "'")).isZero();
    }

    /**
     * The draw does not wait out a re-queue delay: the delivery that records a submission puts it straight back on the queue
     * (so a batch's other submissions are recorded at once, noting the same block), and the next delivery waits in the function
     * for the block after the one the submission was recorded in (mined here while it waits) and draws. The instants of the
     * round's phases are kept: the worker's (received, trained, sent, as reported), intake's and the draw's.
     */
    @Test
    void theDrawWaitsInTheFunctionForItsBlockAndThePhaseInstantsAreKept() throws Exception {
        VerifyFixture.Task t = VerifyFixture.task(4, null);
        VerifyFixture.Run r = VerifyFixture.run(t, VerifyFixture.honest(t));
        long now = System.currentTimeMillis();
        io.fedmarket.messages.Submission withTimes = io.fedmarket.functions.http.Json.parse(r.message(), io.fedmarket.messages.Submission.class)
                .withTimings(new io.fedmarket.messages.Submission.Timings(now - 3_000, now - 1_000, now - 250));
        SqsEvents.Rec rec = SqsEvents.Rec.of(io.fedmarket.functions.http.Json.write(withTimes));
        long before = VerifyFixture.latestBlock();
        long invoked = System.currentTimeMillis();
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(System.currentTimeMillis() - invoked).as("the recording delivery does not wait for the block").isLessThan(900L);
        assertThat(sub(t.taskId(), "stage || ' ' || draw_block")).isEqualTo("RECORDED " + (before + 1));
        java.util.concurrent.atomic.AtomicLong minedAt = new java.util.concurrent.atomic.AtomicLong();
        Thread miner = Thread.ofPlatform().daemon().start(() -> {
            try {
                Thread.sleep(200); // mined while the next delivery waits for it
                minedAt.set(System.currentTimeMillis());
                VerifyFixture.mine();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        miner.join(30_000);
        String blockHash = VerifyFixture.blockHash(before + 1).orElseThrow();
        assertThat(sub(t.taskId(), "stage || ' ' || draw_block || ' ' || draw_block_hash"))
                .as("drawn by the delivery that waited for the block in the function").isEqualTo("DRAWN " + (before + 1) + " " + blockHash);
        assertThat(count("from reexec_requests where task_id = '" + t.taskId() + "'")).isPositive();
        assertThat(sub(t.taskId(), "(extract(epoch from worker_received_at) * 1000)::bigint || ' ' || (extract(epoch from worker_trained_at) * 1000)::bigint "
                + "|| ' ' || (extract(epoch from worker_sent_at) * 1000)::bigint || ' ' || train_millis"))
                .isEqualTo((now - 3_000) + " " + (now - 1_000) + " " + (now - 250) + " " + withTimes.trainMillis());
        long recorded = Long.parseLong(sub(t.taskId(), "(extract(epoch from recorded_at) * 1000)::bigint"));
        long drawn = Long.parseLong(sub(t.taskId(), "(extract(epoch from drawn_at) * 1000)::bigint"));
        assertThat(recorded).isBetween(invoked, minedAt.get());
        assertThat(drawn).as("drawn once the block was there").isGreaterThanOrEqualTo(minedAt.get()).isLessThan(minedAt.get() + 5_000);
    }

    /**
     * The validation-loss check for a model no evaluator of this process runs (a ResNet, in a verify function without DJL)
     * does not silently disappear: the recorded checks say it was not evaluated and why, the update is flagged
     * VALIDATION_NOT_EVALUATED and twice as many segments are drawn; an MLP's loss names the evaluator that computed it.
     */
    @Test
    void aModelNoEvaluatorRunsIsFlaggedAndItsChecksSaySo() throws Exception {
        org.assertj.core.api.Assumptions.assumeThat(BucketStack.hasDataset(BucketStack.FASHION_MNIST_TEST)).as("Debian's Fashion-MNIST").isTrue();
        io.fedmarket.fl.job.JobPlan.ValidationSplit split = new io.fedmarket.fl.job.JobPlan.ValidationSplit(BucketStack.FASHION_MNIST_TEST, 32, null);
        assertThat(io.fedmarket.fl.model.Evaluators.all()).extracting(io.fedmarket.fl.model.Evaluator::name).containsExactly("plain-java");
        VerifyFixture.Task t = VerifyFixture.task("resnet:8", 8, new io.fedmarket.fl.job.JobPlan.Verification(0.8, 0.5, null, null, null, split));
        int q = io.fedmarket.fl.verify.DetectionPlanner.segmentsFor(0.5, 0.8, 8);
        VerifyFixture.Run r = VerifyFixture.run(t, VerifyFixture.honest(t));
        String blockHash = recordThenDraw(r, SqsEvents.Rec.of(r.message()));
        assertThat(sub(t.taskId(), "stage || ' ' || flags")).isEqualTo("DRAWN [\"VALIDATION_NOT_EVALUATED\"]");
        com.fasterxml.jackson.databind.JsonNode checks = Api.JSON.readTree(sub(t.taskId(), "checks"));
        assertThat(checks.path("validation").asText()).startsWith("validation loss NOT evaluated: no evaluator of this verify function runs resnet:8")
                .contains("[plain-java]").contains("q escalated instead");
        assertThat(checks.path("validationLoss").isNull()).isTrue();
        assertThat(checks.path("evaluator").isNull()).isTrue();
        assertThat(checks.path("updateNorm").asDouble()).isGreaterThan(1e-3);
        List<Integer> segments = expectedSegments(r, blockHash, Math.min(8, 2 * q));
        assertThat(sub(t.taskId(), "segments")).isEqualTo(io.fedmarket.functions.http.Json.write(segments));
        assertThat(count("from outbox where dedup_key = 'verdict:" + t.taskId() + "'")).as("a flag never rejects").isZero();

        VerifyFixture.Task mlp = VerifyFixture.task(4, new io.fedmarket.fl.job.JobPlan.Verification(0.8, 0.5, null, null, null, split));
        VerifyFixture.Run rm = VerifyFixture.run(mlp, VerifyFixture.honest(mlp));
        recordThenDraw(rm, SqsEvents.Rec.of(rm.message()));
        com.fasterxml.jackson.databind.JsonNode mc = Api.JSON.readTree(sub(mlp.taskId(), "checks"));
        assertThat(mc.path("evaluator").asText()).isEqualTo("plain-java");
        assertThat(mc.path("validationLoss").asDouble()).isPositive();
    }

    @Test
    void aFreeRiderIsFlaggedAndTwiceAsManySegmentsAreDrawn() throws Exception {
        VerifyFixture.Task t = VerifyFixture.task(8, new io.fedmarket.fl.job.JobPlan.Verification(0.8, 0.5, null, null, null, null));
        int q = io.fedmarket.fl.verify.DetectionPlanner.segmentsFor(0.5, 0.8, 8);
        assertThat(q).isEqualTo(3);
        VerifyFixture.Run r = VerifyFixture.run(t, VerifyFixture.freeRider(t));
        assertThat(r.updateHash()).isEqualTo(t.startHash());
        String blockHash = recordThenDraw(r, SqsEvents.Rec.of(r.message()));

        assertThat(sub(t.taskId(), "stage || ' ' || flags")).isEqualTo("DRAWN [\"NORM_OUT_OF_BOUNDS\"]");
        com.fasterxml.jackson.databind.JsonNode checks = Api.JSON.readTree(sub(t.taskId(), "checks"));
        assertThat(checks.path("updateNorm").asDouble()).isZero();
        assertThat(checks.path("flags").toString()).isEqualTo("[\"NORM_OUT_OF_BOUNDS\"]");
        assertThat(checks.path("validation").asText()).isEqualTo("no validation split in the intent");
        List<Integer> segments = expectedSegments(r, blockHash, Math.min(8, 2 * q));
        assertThat(segments).hasSize(6).doesNotHaveDuplicates();
        assertThat(sub(t.taskId(), "segments")).isEqualTo(io.fedmarket.functions.http.Json.write(segments));
        assertDispatched(r, blockHash, segments);
        assertThat(count("from outbox where dedup_key = 'verdict:" + t.taskId() + "'")).as("a flag never rejects").isZero();
    }

    @Test
    void aTrailWhoseRootIsNotTheSignedOneIsLeftOutWithoutEvidence() throws Exception {
        VerifyFixture.Task t = VerifyFixture.task(4, null);
        VerifyFixture.Run r = VerifyFixture.run(t, VerifyFixture.honest(t), hashes -> {
            List<String> forged = new java.util.ArrayList<>(hashes);
            forged.set(2, VerifyFixture.hex32("another checkpoint 2"));
            return forged;
        });
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(r.message())))).isEmpty();
        assertThat(sub(t.taskId(), "stage || ' ' || coalesce(evidence_doc, '-') || ' ' || coalesce(segments, '-') || ' ' || coalesce(draw_block_hash, '-')"))
                .as("decided at once, without waiting for the block").isEqualTo("DECIDED - - -");
        io.fedmarket.messages.VerdictReached v = verdict(t.taskId());
        assertThat(v.accepted()).isFalse();
        assertThat(v.evidenceHash()).isNull();
        assertThat(v.worker()).isEqualTo(t.submitter());
        assertThat(v.reason()).startsWith("TRAIL_BROKEN").isEqualTo("TRAIL_BROKEN: the Merkle root of the trail " + r.trailUri()
                + " is not the proof root the worker signed (not provably the worker's: not slashed)");
        assertThat(Seed.one("select body from outbox where dedup_key = 'verdict:" + t.taskId() + "'")).contains("\"evidenceHash\":null");
        assertThat(count("from reexec_requests where task_id = '" + t.taskId() + "'")).isZero();
        try (software.amazon.awssdk.services.s3.S3Client s3 = BucketStack.s3()) {
            assertThat(s3.listObjectsV2(b -> b.bucket(BucketStack.BUCKET).prefix("evidence/" + t.taskId() + "/")).contents()).isEmpty();
        }
    }

    @Test
    void anUpdateForAnotherModelIsRejectedWithEvidence() throws Exception {
        VerifyFixture.Task t = VerifyFixture.task(4, null);
        List<io.fedmarket.fl.model.ModelState> checkpoints = new java.util.ArrayList<>(VerifyFixture.honest(t));
        io.fedmarket.fl.model.ModelState other = io.fedmarket.fl.model.ModelLayouts.initialState("mlp:8", 3);
        checkpoints.set(4, VerifyFixture.atStep(other, 4 * VerifyFixture.K));
        VerifyFixture.Run r = VerifyFixture.run(t, checkpoints);
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(r.message())))).isEmpty();
        assertThat(sub(t.taskId(), "stage || ' ' || coalesce(segments, '-')")).isEqualTo("DECIDED -");
        io.fedmarket.messages.VerdictReached v = verdict(t.taskId());
        assertThat(v.accepted()).isFalse();
        assertThat(v.reason()).isEqualTo("HEADER_MISMATCH: the signed update has " + other.parameterCount() + " parameters, the round's model "
                + t.start().parameterCount());
        assertThat(v.evidenceHash()).matches("0x[0-9a-f]{64}");
        String doc = sub(t.taskId(), "evidence_doc");
        assertThat(Hashes.hex(Hashes.keccak256(doc.getBytes(StandardCharsets.UTF_8)))).as("the evidence hash is the document's keccak").isEqualTo(v.evidenceHash());
        assertThat(doc).contains("HEADER_MISMATCH").contains(r.updateUri()).contains(t.startUri()).contains(r.submissionHash());
        assertThat(BucketStack.find(io.fedmarket.functions.rounds.Verification.evidenceKey(t.taskId(), v.evidenceHash())).map(b -> new String(b, StandardCharsets.UTF_8)))
                .as("the bucket's copy").contains(doc);
        assertThat(count("from reexec_requests where task_id = '" + t.taskId() + "'")).isZero();
    }

    @Test
    void aDrawnSegmentWhoseCommittedCheckpointIsNotTheTrailsIsRejectedWithEvidence() throws Exception {
        VerifyFixture.Task t = VerifyFixture.task(4, new io.fedmarket.fl.job.JobPlan.Verification(0.8, 0.5, null, null, null, null));
        VerifyFixture.Run r = VerifyFixture.run(t, VerifyFixture.honest(t));
        SqsEvents.Rec rec = SqsEvents.Rec.of(r.message());
        long before = VerifyFixture.latestBlock();
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(sub(t.taskId(), "stage")).isEqualTo("RECORDED");
        VerifyFixture.mine();
        String blockHash = VerifyFixture.blockHash(before + 1).orElseThrow();
        List<Integer> drawn = expectedSegments(r, blockHash, 2);
        // the checkpoint the second drawn segment starts from is not what the trail commits; so is one no drawn segment starts from
        int bad = drawn.get(1);
        int undrawn = java.util.stream.IntStream.range(0, 4).filter(i -> !drawn.contains(i)).findFirst().orElseThrow();
        for (int i : List.of(bad, undrawn)) {
            float[] x = r.checkpoints().get(i).flat();
            x[0] += 0.25f;
            BucketStack.put(r.checkpointUris().get(i), VerifyFixture.atStep(t.start().withFlat(x), i * VerifyFixture.K).encode());
        }
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(sub(t.taskId(), "stage || ' ' || coalesce(segments, '-')")).isEqualTo("DECIDED -");
        io.fedmarket.messages.VerdictReached v = verdict(t.taskId());
        assertThat(v.accepted()).isFalse();
        assertThat(v.reason()).isEqualTo("CHECKPOINT_ARTIFACT_MISMATCH: stored checkpoint " + bad + " does not hash to the committed value");
        assertThat(v.evidenceHash()).matches("0x[0-9a-f]{64}");
        String doc = sub(t.taskId(), "evidence_doc");
        assertThat(Hashes.hex(Hashes.keccak256(doc.getBytes(StandardCharsets.UTF_8)))).isEqualTo(v.evidenceHash());
        assertThat(doc).contains("CHECKPOINT_ARTIFACT_MISMATCH").contains(r.checkpointUris().get(bad)).contains(r.hashes().get(bad))
                .doesNotContain(r.checkpointUris().get(undrawn));
        assertThat(BucketStack.find(io.fedmarket.functions.rounds.Verification.evidenceKey(t.taskId(), v.evidenceHash()))).isPresent();
        assertThat(count("from reexec_requests where task_id = '" + t.taskId() + "'")).as("nothing sent for re-execution").isZero();
    }

    @Test
    void anUnansweredSegmentGoesToAnotherDrawnWorkerUntilTheLastAttemptThenTheUpdateIsInconclusive() throws Exception {
        VerifyFixture.Task t = VerifyFixture.task(4, new io.fedmarket.fl.job.JobPlan.Verification(0.5, 0.5, null, null, null,
                new io.fedmarket.fl.job.JobPlan.ValidationSplit("not-in-the-bucket", 16, null)));
        assertThat(io.fedmarket.fl.verify.DetectionPlanner.segmentsFor(0.5, 0.5, 4)).isEqualTo(1);
        VerifyFixture.Run r = VerifyFixture.run(t, VerifyFixture.honest(t));
        SqsEvents.Rec rec = SqsEvents.Rec.of(r.message());
        String blockHash = recordThenDraw(r, rec);
        List<Integer> segments = expectedSegments(r, blockHash, 1);
        assertDispatched(r, blockHash, segments);
        assertThat(Api.JSON.readTree(sub(t.taskId(), "checks")).path("validation").asText())
                .isEqualTo("validation data set not-in-the-bucket is not in the bucket (datasets/not-in-the-bucket/images-idx3-ubyte.gz)");
        int segment = segments.get(0);
        long timeout = org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getOptionalValue("fedmarket.verify.reexec-timeout", java.time.Duration.class).orElse(java.time.Duration.ofMinutes(2)).toSeconds();

        String id = io.fedmarket.functions.rounds.Verification.reexecId(t.taskId(), segment, "DRAW", 0);
        List<String> exclude = new java.util.ArrayList<>(List.of(t.submitter()));
        String silent = VerifyFixture.expectedAssignee(r, blockHash, id, exclude);
        for (int attempt = 1; attempt <= io.fedmarket.functions.rounds.Verification.MAX_ATTEMPTS; attempt++) {
            // not due yet: a delivery changes nothing
            assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
            assertThat(request(id)).contains(" SENT ");
            assertThat(count("from reexec_requests where task_id = '" + t.taskId() + "'")).isEqualTo(attempt);
            // the drawn worker stays silent past the timeout
            Seed.exec("update reexec_requests set requested_at = now() - interval '" + (timeout + 60) + " seconds' where id = '" + id + "'");
            assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
            assertThat(Seed.one("select status || ' ' || (answered_at is not null) from reexec_requests where id = '" + id + "'")).isEqualTo("TIMED_OUT true");
            exclude.add(silent);
            if (attempt == io.fedmarket.functions.rounds.Verification.MAX_ATTEMPTS) {
                break;
            }
            assertThat(sub(t.taskId(), "stage")).isEqualTo("DRAWN");
            assertThat(count("from outbox where dedup_key = 'verdict:" + t.taskId() + "'")).isZero();
            id = io.fedmarket.functions.rounds.Verification.reexecId(t.taskId(), segment, "RETRY", attempt);
            assertThat(id).isEqualTo(t.taskId() + "-seg" + segment + "-retry" + attempt);
            String drawn = VerifyFixture.expectedAssignee(r, blockHash, id, exclude);
            assertThat(drawn).isNotNull().isNotIn(exclude).isIn(t.pool());
            assertThat(request(id)).isEqualTo("RETRY " + attempt + " SENT " + io.fedmarket.functions.http.Json.write(exclude) + " " + drawn);
            com.fasterxml.jackson.databind.JsonNode body = Api.JSON.readTree(Seed.one("select body from outbox where dedup_key = 'reexec:" + id + "'"));
            assertThat(body.path("assignee").asText()).isEqualTo(drawn);
            assertThat(body.path("excludeWorkers").toString()).isEqualTo(io.fedmarket.functions.http.Json.write(exclude));
            assertThat(body.path("segment").asInt()).isEqualTo(segment);
            silent = drawn;
        }
        assertThat(sub(t.taskId(), "stage || ' ' || coalesce(evidence_doc, '-')")).isEqualTo("DECIDED -");
        io.fedmarket.messages.VerdictReached v = verdict(t.taskId());
        assertThat(v.accepted()).isFalse();
        assertThat(v.evidenceHash()).isNull();
        assertThat(v.reason()).isEqualTo("INCONCLUSIVE: segment " + segment + " was not re-executed by " + io.fedmarket.functions.rounds.Verification.MAX_ATTEMPTS
                + " workers within " + timeout + " s each");
        assertThat(Seed.one("select count(*) || ' ' || count(distinct assignee) from reexec_requests where task_id = '" + t.taskId() + "' and status = 'TIMED_OUT'"))
                .isEqualTo(io.fedmarket.functions.rounds.Verification.MAX_ATTEMPTS + " " + io.fedmarket.functions.rounds.Verification.MAX_ATTEMPTS);
        assertThat(count("from reexec_requests where task_id = '" + t.taskId() + "'")).isEqualTo(io.fedmarket.functions.rounds.Verification.MAX_ATTEMPTS);
        // decided: a further delivery changes nothing
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(count("from reexec_requests where task_id = '" + t.taskId() + "'")).isEqualTo(io.fedmarket.functions.rounds.Verification.MAX_ATTEMPTS);
        verdict(t.taskId());
    }

    // --- the manifest verify checked at the draw is the one every later step uses (regressions of two bugs found here)

    /** A drawn submission with q = 1 whose only request is overdue once {@code replaceTrail} has run; returns the drawn segment. */
    static int drawnThenOverdue(VerifyFixture.Run r, SqsEvents.Rec rec, BucketStack.Action replaceTrail) throws Exception {
        String blockHash = recordThenDraw(r, rec);
        int segment = expectedSegments(r, blockHash, 1).get(0);
        assertDispatched(r, blockHash, List.of(segment));
        replaceTrail.run();
        Seed.exec("update reexec_requests set requested_at = now() - interval '1 day' where task_id = '" + r.task().taskId() + "'");
        return segment;
    }

    /**
     * A trail manifest replaced in the bucket after the draw (its file name is not signed and workers share the bucket) changes
     * nothing: the timeout pass re-offers the segment from the manifest verify checked against the signed proof root and kept.
     */
    @Test
    void aTrailManifestReplacedAfterTheDrawChangesNothing() throws Exception {
        VerifyFixture.Task t = VerifyFixture.task(4, new io.fedmarket.fl.job.JobPlan.Verification(0.5, 0.5, null, null, null, null));
        VerifyFixture.Run r = VerifyFixture.run(t, VerifyFixture.honest(t));
        SqsEvents.Rec rec = SqsEvents.Rec.of(r.message());
        int segment = drawnThenOverdue(r, rec, () -> {
            io.fedmarket.pol.TrailManifest m = io.fedmarket.functions.http.Json.parse(new String(BucketStack.find(r.trailUri()).orElseThrow(),
                    StandardCharsets.UTF_8), io.fedmarket.pol.TrailManifest.class);
            List<String> hashes = new java.util.ArrayList<>(m.checkpointHashes());
            List<String> uris = new java.util.ArrayList<>(m.checkpointUris());
            for (int i = 0; i < hashes.size(); i++) { // whichever segment was drawn, its start is not the committed one
                hashes.set(i, VerifyFixture.hex32("not the committed checkpoint " + i));
                uris.set(i, "checkpoints/elsewhere-" + i + ".fmck");
            }
            BucketStack.putJson(r.trailUri(), io.fedmarket.functions.http.Json.write(new io.fedmarket.pol.TrailManifest(m.taskId(), m.globalModelHash(),
                    m.shardCommitment(), m.seed(), m.steps(), m.checkpointEvery(), m.engine(), m.threads(), m.interopThreads(), hashes, uris,
                    m.proofRoot(), m.chainCommitment(), m.updateHash(), m.updateUri(), null, null)));
        });
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        String retry = io.fedmarket.functions.rounds.Verification.reexecId(t.taskId(), segment, "RETRY", 1);
        String body = Seed.one("select body from outbox where dedup_key = 'reexec:" + retry + "'");
        assertThat(body).as("re-offered").isNotNull();
        com.fasterxml.jackson.databind.JsonNode b = Api.JSON.readTree(body);
        assertThat(b.path("startHash").asText()).as("the re-offer starts from the committed checkpoint").isEqualTo(r.hashes().get(segment));
        assertThat(b.path("startCheckpointUri").asText()).isEqualTo(r.checkpointUris().get(segment));
    }

    /** A trail manifest deleted from the bucket after the draw changes nothing either: the kept copy is re-offered from. */
    @Test
    void aTrailManifestDeletedAfterTheDrawChangesNothing() throws Exception {
        VerifyFixture.Task t = VerifyFixture.task(4, new io.fedmarket.fl.job.JobPlan.Verification(0.5, 0.5, null, null, null, null));
        VerifyFixture.Run r = VerifyFixture.run(t, VerifyFixture.honest(t));
        SqsEvents.Rec rec = SqsEvents.Rec.of(r.message());
        int segment = drawnThenOverdue(r, rec, () -> {
            try (software.amazon.awssdk.services.s3.S3Client s3 = BucketStack.s3()) {
                s3.deleteObject(b -> b.bucket(BucketStack.BUCKET).key(r.trailUri()));
            }
        });
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).as("the timeout pass does not fail for ever").isEmpty();
        assertThat(sub(t.taskId(), "stage")).isEqualTo("DRAWN");
        String retry = io.fedmarket.functions.rounds.Verification.reexecId(t.taskId(), segment, "RETRY", 1);
        assertThat(Api.JSON.readTree(Seed.one("select body from outbox where dedup_key = 'reexec:" + retry + "'")).path("startHash").asText())
                .isEqualTo(r.hashes().get(segment));
    }

    // --- framing an honest worker (issue 23): nothing a third party can do to the bucket or the queue gets it slashed

    /** The manifest of {@code r} with every checkpoint pointing at an object that does not exist (the rewrite). */
    static String pointedAtNothing(VerifyFixture.Run r) throws Exception {
        io.fedmarket.pol.TrailManifest m = io.fedmarket.functions.http.Json.parse(new String(BucketStack.find(r.trailUri()).orElseThrow(),
                StandardCharsets.UTF_8), io.fedmarket.pol.TrailManifest.class);
        List<String> uris = new java.util.ArrayList<>();
        for (int i = 0; i < m.checkpointUris().size(); i++) {
            uris.add(r.own() + "checkpoints/missing-" + i + ".fmck");
        }
        return io.fedmarket.functions.http.Json.write(new io.fedmarket.pol.TrailManifest(m.taskId(), m.globalModelHash(), m.shardCommitment(), m.seed(),
                m.steps(), m.checkpointEvery(), m.engine(), m.threads(), m.interopThreads(), m.checkpointHashes(), uris, m.proofRoot(), m.chainCommitment(),
                m.updateHash(), m.updateUri(), null, null));
    }

    /**
     * The attack of issue 23: a framer replays an honest worker's signed submission with a trail manifest of its own whose
     * checkpoints point at missing objects (dropped: its trail signature is not for that manifest nor under the worker's
     * prefix), then, once the honest submission is recorded, rewrites the honest worker's manifest in the bucket the same way
     * before the draw. The manifest verify checked is the one the worker signed, snapshotted at intake: the draw goes ahead
     * from the committed checkpoints, and nothing is held against the worker.
     */
    @Test
    void aFramerCannotGetAnHonestWorkerRejectedOrSlashed() throws Exception {
        VerifyFixture.Task t = VerifyFixture.task(4, new io.fedmarket.fl.job.JobPlan.Verification(0.5, 0.5, null, null, null, null));
        VerifyFixture.Run r = VerifyFixture.run(t, VerifyFixture.honest(t));
        org.web3j.crypto.Credentials framer = VerifyFixture.key();
        String framersTrail = io.fedmarket.pol.SubmissionSigner.workerPrefix(framer.getAddress()) + "tasks/" + t.taskId() + "/trail.json";
        BucketStack.putJson(framersTrail, pointedAtNothing(r));
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(r.message().replace(r.trailUri(), framersTrail))))).isEmpty();
        // the framer's own manifest with a trail hash and signature of its own making (its key, not the worker's)
        String framersHash = Hashes.hex(io.fedmarket.pol.SubmissionSigner.manifestHash(BucketStack.find(framersTrail).orElseThrow()));
        String market = org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("fedmarket.marketplace-address", String.class);
        String framersSig = Hashes.hex(new SubmissionSigner(31337, market).signTrail(framer, ProofTrails.taskKey(t.taskId()), Hashes.fromHex(framersHash)));
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(r.message().replace(r.trailUri(), framersTrail).replace(r.trailHash(), framersHash)
                .replace(r.trailSignature(), framersSig))))).isEmpty();
        assertThat(count("from submissions where task_id = '" + t.taskId() + "'")).as("the replays are dropped, not recorded").isZero();

        SqsEvents.Rec rec = SqsEvents.Rec.of(r.message());
        long before = VerifyFixture.latestBlock();
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(sub(t.taskId(), "stage || ' ' || trail_hash")).isEqualTo("RECORDED " + r.trailHash());
        String snapshot = sub(t.taskId(), "trail_doc");
        assertThat(Hashes.hex(io.fedmarket.pol.SubmissionSigner.manifestHash(snapshot.getBytes(StandardCharsets.UTF_8))))
                .as("the manifest as signed, kept at intake").isEqualTo(r.trailHash());
        // before the draw: the honest worker's manifest in the bucket now points every checkpoint at nothing
        BucketStack.putJson(r.trailUri(), pointedAtNothing(r));
        VerifyFixture.mine();
        String blockHash = VerifyFixture.blockHash(before + 1).orElseThrow();
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(sub(t.taskId(), "stage || ' ' || coalesce(evidence_doc, '-')")).isEqualTo("DRAWN -");
        assertThat(sub(t.taskId(), "trail_doc")).isEqualTo(snapshot);
        assertDispatched(r, blockHash, expectedSegments(r, blockHash, 1));
        assertThat(count("from outbox where dedup_key = 'verdict:" + t.taskId() + "'")).as("nothing held against the worker").isZero();
    }

    /**
     * A committed artifact that is gone, unreadable, or not provably the worker's is never evidence: the update is left out
     * without an evidence hash (so never slashed). Shown for the trail's last checkpoint deleted, drawn checkpoints made
     * unreadable, the manifest rewritten before intake, and a worker from before trail signatures whose checkpoints were
     * replaced. (A signed manifest naming a checkpoint under the worker's own prefix that does not hash is evidence:
     * {@link #aDrawnSegmentWhoseCommittedCheckpointIsNotTheTrailsIsRejectedWithEvidence}.)
     */
    @Test
    void aMissingUnreadableOrUnprovableArtifactLeavesTheUpdateOutUnslashed() throws Exception {
        io.fedmarket.fl.job.JobPlan.Verification terms = new io.fedmarket.fl.job.JobPlan.Verification(0.5, 0.5, null, null, null, null);

        VerifyFixture.Task deleted = VerifyFixture.task(4, terms);
        VerifyFixture.Run rd = VerifyFixture.run(deleted, VerifyFixture.honest(deleted));
        try (software.amazon.awssdk.services.s3.S3Client s3 = BucketStack.s3()) {
            s3.deleteObject(b -> b.bucket(BucketStack.BUCKET).key(rd.checkpointUris().get(4)));
        }
        recordThenDraw(rd, SqsEvents.Rec.of(rd.message())); // decided once the cheap checks are measured: every update's figures are kept
        assertThat(sub(deleted.taskId(), "checks")).contains("updateNorm");
        assertLeftOut(deleted, "CHECKPOINT_ARTIFACT_MISMATCH: committed checkpoint 4 (" + rd.checkpointUris().get(4) + ") is missing");

        VerifyFixture.Task unreadable = VerifyFixture.task(4, terms);
        VerifyFixture.Run ru = VerifyFixture.run(unreadable, VerifyFixture.honest(unreadable));
        for (int i = 0; i < 4; i++) {
            BucketStack.put(ru.checkpointUris().get(i), "not a checkpoint".getBytes(StandardCharsets.UTF_8));
        }
        recordThenDraw(ru, SqsEvents.Rec.of(ru.message()));
        assertLeftOut(unreadable, "CHECKPOINT_ARTIFACT_MISMATCH: committed checkpoint ");
        assertThat(verdict(unreadable.taskId()).reason()).contains("cannot be read");

        VerifyFixture.Task rewritten = VerifyFixture.task(4, terms);
        VerifyFixture.Run rw = VerifyFixture.run(rewritten, VerifyFixture.honest(rewritten));
        BucketStack.putJson(rw.trailUri(), pointedAtNothing(rw));
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(rw.message())))).isEmpty();
        assertLeftOut(rewritten, "TRAIL_BROKEN: the trail manifest " + rw.trailUri() + " is not the one the worker signed");

        VerifyFixture.Task legacy = VerifyFixture.task(4, terms);
        VerifyFixture.Run rl = VerifyFixture.run(legacy, VerifyFixture.honest(legacy), java.util.function.UnaryOperator.identity(), false);
        for (int i = 0; i < 4; i++) {
            float[] x = rl.checkpoints().get(i).flat();
            x[0] += 0.25f;
            BucketStack.put(rl.checkpointUris().get(i), VerifyFixture.atStep(legacy.start().withFlat(x), i * VerifyFixture.K).encode());
        }
        recordThenDraw(rl, SqsEvents.Rec.of(rl.message()));
        assertLeftOut(legacy, "CHECKPOINT_ARTIFACT_MISMATCH: stored checkpoint ");
        assertThat(verdict(legacy.taskId()).reason()).contains("nothing shows the worker wrote it");
    }

    static void assertLeftOut(VerifyFixture.Task t, String reasonStart) throws Exception {
        assertThat(sub(t.taskId(), "stage || ' ' || coalesce(evidence_doc, '-')")).isEqualTo("DECIDED -");
        io.fedmarket.messages.VerdictReached v = verdict(t.taskId());
        assertThat(v.accepted()).isFalse();
        assertThat(v.evidenceHash()).as("no evidence: never slashed").isNull();
        assertThat(v.reason()).startsWith(reasonStart).endsWith("(not provably the worker's: not slashed)");
        assertThat(count("from reexec_requests where task_id = '" + t.taskId() + "'")).isZero();
    }
}
