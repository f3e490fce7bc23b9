package io.fedmarket.worker.loop;

import io.fedmarket.config.Queues;
import io.fedmarket.config.StackEndpoints;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.infra.local.LocalStack;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.messages.ReexecTask;
import io.fedmarket.messages.Submission;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.pol.ProofTrails;
import io.fedmarket.pol.ReexecSigner;
import io.fedmarket.pol.SubmissionSigner;
import io.fedmarket.pol.TrailManifest;
import io.fedmarket.worker.WorkerMain;
import io.fedmarket.worker.store.ArtifactStore;
import io.fedmarket.worker.store.TaskProgress;
import io.fedmarket.fl.model.ModelState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.sqs.model.Message;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The task loop against ElasticMQ and s3proxy from the local stack, with real DJL training on small generated data. */
class WorkerStackTest {
    static final String KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    /** A second, different worker: the one that re-executes the first one's segments. */
    static final String OTHER_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
    static LocalStack stack;
    static StackEndpoints ep;
    static Path endpointsFile;

    @BeforeAll
    static void start(@TempDir Path dir) {
        stack = LocalStack.builder().dataDir(dir).sqs(true).s3(true).evm(false).postgres(false).start();
        ep = stack.endpoints();
        endpointsFile = dir.resolve("endpoints.json");
        ep.write(endpointsFile);
        System.setProperty("mkt.endpoints", endpointsFile.toString());
    }

    @AfterAll
    static void stop() {
        System.clearProperty("mkt.endpoints");
        if (stack != null) {
            stack.close();
        }
    }

    @BeforeEach
    void emptyQueues() {
        try (TaskLoop l = loop(Map.of())) {
            for (String k : List.of(Queues.TASKS, Queues.REEXEC, Queues.SUBMISSIONS)) {
                l.sqs().purgeQueue(b -> b.queueUrl(ep.sqs().queueUrl(k)));
            }
        }
    }

    static TaskLoop loop(Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(Map.of("FEDMARKET_WORKER_KEY", KEY, "FEDMARKET_POLL_SECONDS", "1",
                "FEDMARKET_IDLE_EXIT_SECONDS", "2", "FEDMARKET_WORKER_ID", "test-worker"));
        s.putAll(extra);
        return new TaskLoop(WorkerConfig.from(s::get));
    }

    static TrainTask task(String id, int steps, int k) {
        return new TrainTask(id, UUID.nameUUIDFromBytes(id.getBytes()), 0, "mlp:64", null, null, "synthetic:1200", "iid", 3, 1, 42,
                null, 7, 0.01, 0.9, 0.0, 32, 0, steps, k, 1, null, null, 600, 0);
    }

    static void send(TaskLoop l, String queueKey, Object body) throws Exception {
        String json = ArtifactStore.JSON.writeValueAsString(body);
        l.sqs().sendMessage(b -> b.queueUrl(ep.sqs().queueUrl(queueKey)).messageBody(json));
    }

    static List<Message> drain(TaskLoop l, String queueKey) {
        List<Message> out = new ArrayList<>();
        while (true) {
            List<Message> ms = l.sqs().receiveMessage(b -> b.queueUrl(ep.sqs().queueUrl(queueKey)).maxNumberOfMessages(10)
                    .waitTimeSeconds(1)).messages();
            if (ms.isEmpty()) {
                return out;
            }
            out.addAll(ms);
            for (Message m : ms) {
                l.sqs().deleteMessage(b -> b.queueUrl(ep.sqs().queueUrl(queueKey)).receiptHandle(m.receiptHandle()));
            }
        }
    }

    @Test
    void trainsSubmitsSignsAndThenAnswersReexecutionBitExactly() throws Exception {
        TrainTask t = task("t-train-" + UUID.randomUUID(), 60, 20);
        Submission sub;
        String badId;
        try (TaskLoop l = loop(Map.of("FEDMARKET_MAX_TASKS", "1"))) {
            send(l, Queues.TASKS, t);
            assertThat(l.run()).isEqualTo(TaskLoop.Exit.MAX_TASKS);
            List<Message> subs = drain(l, Queues.SUBMISSIONS);
            assertThat(subs).hasSize(1);
            sub = ArtifactStore.JSON.readValue(subs.get(0).body(), Submission.class);
            assertThat(l.store().getJson(ArtifactStore.submissionKey(t.taskId()), Submission.class)).contains(sub);
            assertThat(drain(l, Queues.TASKS)).as("the task message is deleted once submitted").isEmpty();

            // the update in the bucket is what was signed
            ModelState update = ModelState.decode(l.store().getVerified(sub.updateUri()), sub.updateUri());
            assertThat(Hashes.hex(update.paramsHash())).isEqualTo(sub.updateHash());
            TrailManifest trail = l.store().getJson(sub.trailUri(), TrailManifest.class).orElseThrow();
            assertThat(trail.checkpointHashes()).hasSize(4);
            // the trail commits whole states (parameters, momentum, step); the last one's parameters are the update
            ModelState last = ModelState.decode(l.store().getVerified(trail.checkpointUris().get(3)), "checkpoint 3");
            assertThat(trail.checkpointHashes().get(3)).isEqualTo(Hashes.hex(last.stateHash()));
            assertThat(last.velocity()).as("momentum is in the committed state").isNotNull();
            assertThat(Hashes.hex(last.paramsHash())).isEqualTo(sub.updateHash());
            String own = SubmissionSigner.workerPrefix(sub.worker());
            assertThat(sub.trailUri()).startsWith(own);
            assertThat(sub.updateUri()).startsWith(own);
            assertThat(trail.checkpointUris()).allSatisfy(u -> assertThat(u).startsWith(own + "checkpoints/"));
            // the manifest file as stored is the one signed (Trail(task, manifestHash))
            byte[] manifestFile = l.store().get(sub.trailUri());
            assertThat(sub.trailHash()).isEqualTo(Hashes.hex(SubmissionSigner.manifestHash(manifestFile)));
            assertThat(Hashes.hex(ProofTrails.proofRoot(trail.checkpointHashes().stream().map(Hashes::fromHex32).toList())))
                    .isEqualTo(sub.proofRoot());
            assertThat(trail.threads()).isEqualTo(1);
            SubmissionSigner signer = new SubmissionSigner(31337, "0x0000000000000000000000000000000000000000");
            String signerAddress = signer.recover(Hashes.fromHex(sub.signature()), ProofTrails.taskKey(t.taskId()),
                    Hashes.fromHex32(sub.updateHash()), Hashes.fromHex32(sub.proofRoot()), sub.steps(), sub.gpuSeconds());
            assertThat(signerAddress).isEqualTo(sub.worker()).isEqualTo(org.web3j.crypto.Credentials.create(KEY).getAddress());
            assertThat(signer.recoverTrail(Hashes.fromHex(sub.trailSignature()), ProofTrails.taskKey(t.taskId()), Hashes.fromHex32(sub.trailHash())))
                    .isEqualToIgnoringCase(sub.worker());
            assertThat(sub.gpuSeconds()).isBetween(1L, 600L);

            // segment 1 (steps 20..40) re-executed from its committed start checkpoint, by a re-execution request
            ReexecTask ok = new ReexecTask("rx-ok-" + UUID.randomUUID(), t, 1, 20, 20, trail.checkpointUris().get(1),
                    trail.checkpointHashes().get(1), trail.checkpointHashes().get(2), Queues.VERDICTS, null);
            badId = "rx-bad-" + UUID.randomUUID();
            ReexecTask wrongStart = new ReexecTask(badId, t, 2, 40, 20, trail.checkpointUris().get(1),
                    trail.checkpointHashes().get(2), trail.checkpointHashes().get(3), null, null);
            send(l, Queues.REEXEC, ok);
            send(l, Queues.REEXEC, wrongStart);
        }
        try (TaskLoop self = loop(Map.of())) {
            assertThat(self.run()).as("a worker never re-executes its own trail").isEqualTo(TaskLoop.Exit.IDLE);
            assertThat(self.store().getJson(ArtifactStore.reexecKey(badId), ReexecResult.class)).isEmpty();
        }
        try (TaskLoop l = loop(Map.of("FEDMARKET_WORKER_KEY", OTHER_KEY, "FEDMARKET_WORKER_ID", "verifier-worker"))) {
            assertThat(l.run()).isEqualTo(TaskLoop.Exit.IDLE);
            List<ReexecResult> results = new ArrayList<>();
            for (Message m : drain(l, Queues.VERDICTS)) {
                results.add(ArtifactStore.JSON.readValue(m.body(), ReexecResult.class));
            }
            assertThat(results).hasSize(1);
            ReexecResult r = results.get(0);
            assertThat(r.error()).isNull();
            assertThat(r.matches()).isTrue();
            TrailManifest trail = l.store().getJson(sub.trailUri(), TrailManifest.class).orElseThrow();
            assertThat(r.endHash()).isEqualTo(trail.checkpointHashes().get(2));
            ReexecResult bad = l.store().getJson(ArtifactStore.reexecKey(badId), ReexecResult.class).orElseThrow();
            assertThat(bad.matches()).isFalse();
            assertThat(bad.error()).contains("hashes to");

            // both results are signed by the re-executor; the good one's end state is in the bucket
            String other = org.web3j.crypto.Credentials.create(OTHER_KEY).getAddress();
            ReexecSigner rs = new ReexecSigner(31337, "0x0000000000000000000000000000000000000000");
            assertThat(rs.recover(Hashes.fromHex(r.signature()), r.reexecId(), r.segment(), Hashes.fromHex32(r.startHash()),
                    Hashes.fromHex32(r.endHash()))).isEqualTo(other).isEqualTo(r.worker());
            assertThat(rs.recover(Hashes.fromHex(bad.signature()), bad.reexecId(), bad.segment(), Hashes.fromHex32(bad.startHash()),
                    null)).isEqualTo(other);
            assertThat(bad.endUri()).isNull();
            assertThat(r.endUri()).startsWith(SubmissionSigner.workerPrefix(other) + "reexec-states/").endsWith(".ckpt");
            ModelState end = ModelState.decode(l.store().getVerified(r.endUri()), r.endUri());
            assertThat(Hashes.hex(end.stateHash())).isEqualTo(r.endHash());
            assertThat(end.step()).isEqualTo(40);
            assertThat(end.velocity()).as("momentum is part of the end state").isNotNull();
        }
        // a request that excludes a worker (any case) is left to the others, like a segment of its own update
        String excludedId = "rx-excl-" + UUID.randomUUID();
        try (TaskLoop l = loop(Map.of("FEDMARKET_WORKER_KEY", OTHER_KEY, "FEDMARKET_WORKER_ID", "verifier-worker"))) {
            TrailManifest trail = l.store().getJson(sub.trailUri(), TrailManifest.class).orElseThrow();
            String other = org.web3j.crypto.Credentials.create(OTHER_KEY).getAddress();
            send(l, Queues.REEXEC, new ReexecTask(excludedId, t, 0, 0, 20, trail.checkpointUris().get(0), trail.checkpointHashes().get(0),
                    null, null, List.of("0x" + other.substring(2).toUpperCase())));
            assertThat(l.run()).isEqualTo(TaskLoop.Exit.IDLE);
            assertThat(l.store().getJson(ArtifactStore.reexecKey(excludedId), ReexecResult.class)).isEmpty();
        }
        // a request drawn for another worker is left to that one; one drawn for this worker (any case) is re-executed by it
        String elsewhereId = "rx-drawn-elsewhere-" + UUID.randomUUID();
        String mineId = "rx-drawn-mine-" + UUID.randomUUID();
        try (TaskLoop l = loop(Map.of("FEDMARKET_WORKER_KEY", OTHER_KEY, "FEDMARKET_WORKER_ID", "verifier-worker"))) {
            TrailManifest trail = l.store().getJson(sub.trailUri(), TrailManifest.class).orElseThrow();
            String other = org.web3j.crypto.Credentials.create(OTHER_KEY).getAddress();
            // behind 25 requests drawn for somebody else: a worker looks past the head of the queue for its own
            for (int i = 0; i < 25; i++) {
                send(l, Queues.REEXEC, new ReexecTask(i == 0 ? elsewhereId : elsewhereId + "-" + i, t, 0, 0, 20, trail.checkpointUris().get(0),
                        trail.checkpointHashes().get(0), null, null, List.of(), "0x00000000000000000000000000000000000000aa"));
            }
            send(l, Queues.REEXEC, new ReexecTask(mineId, t, 1, 20, 20, trail.checkpointUris().get(1), trail.checkpointHashes().get(1),
                    null, null, List.of(), "0x" + other.substring(2).toUpperCase()));
            // a copy past its expiry (drawn anew or decided since) is deleted by whoever receives it, never re-executed
            String expiredId = "rx-expired-" + UUID.randomUUID();
            send(l, Queues.REEXEC, new ReexecTask(expiredId, t, 1, 20, 20, trail.checkpointUris().get(1), trail.checkpointHashes().get(1),
                    null, null, List.of(), other.toLowerCase(), java.time.Instant.now().getEpochSecond() - 10));
            assertThat(l.run()).isEqualTo(TaskLoop.Exit.IDLE);
            assertThat(l.store().getJson(ArtifactStore.reexecKey(elsewhereId), ReexecResult.class)).as("drawn for somebody else").isEmpty();
            List<Message> left = drain(l, Queues.REEXEC);
            assertThat(left).as("the 25 requests drawn for somebody else are back on the queue").filteredOn(m -> m.body().contains(elsewhereId)).hasSize(25);
            assertThat(left).as("the expired copy is gone").noneMatch(m -> m.body().contains(expiredId));
            assertThat(l.store().getJson(ArtifactStore.reexecKey(expiredId), ReexecResult.class)).isEmpty();
            ReexecResult mine = l.store().getJson(ArtifactStore.reexecKey(mineId), ReexecResult.class).orElseThrow();
            assertThat(mine.worker()).isEqualToIgnoringCase(other);
            assertThat(mine.endHash()).isEqualTo(trail.checkpointHashes().get(2));
        }
    }

    @Test
    void twoWorkersEachHoldingASegmentOfTheirOwnUpdateReexecuteEachOthersAtOnce() throws Exception {
        Map<String, String> a = Map.of("FEDMARKET_MAX_TASKS", "1");
        Map<String, String> b = Map.of("FEDMARKET_MAX_TASKS", "1", "FEDMARKET_WORKER_KEY", OTHER_KEY, "FEDMARKET_WORKER_ID", "worker-b");
        List<ReexecTask> requests = new ArrayList<>();
        for (Map<String, String> who : List.of(a, b)) {
            TrainTask t = task("t-own-" + UUID.randomUUID(), 40, 20);
            try (TaskLoop l = loop(who)) {
                send(l, Queues.TASKS, t);
                assertThat(l.run()).isEqualTo(TaskLoop.Exit.MAX_TASKS);
                Submission sub = ArtifactStore.JSON.readValue(drain(l, Queues.SUBMISSIONS).get(0).body(), Submission.class);
                TrailManifest trail = l.store().getJson(sub.trailUri(), TrailManifest.class).orElseThrow();
                requests.add(new ReexecTask("rx-own-" + UUID.randomUUID(), t, 0, 0, 20, trail.checkpointUris().get(0),
                        trail.checkpointHashes().get(0), trail.checkpointHashes().get(1), null, null));
            }
        }
        // the owner polls the re-execution queue in the same rhythm as everyone else; it must not keep receiving its own segment
        String addrA = org.web3j.crypto.Credentials.create(KEY).getAddress();
        String addrB = org.web3j.crypto.Credentials.create(OTHER_KEY).getAddress();
        try (TaskLoop la = loop(Map.of("FEDMARKET_IDLE_EXIT_SECONDS", "0"));
             TaskLoop lb = loop(Map.of("FEDMARKET_WORKER_KEY", OTHER_KEY, "FEDMARKET_WORKER_ID", "worker-b", "FEDMARKET_IDLE_EXIT_SECONDS", "0"))) {
            // one thread each (the common pool may have a single thread on a 2-core machine)
            java.util.concurrent.FutureTask<TaskLoop.Exit> runA = new java.util.concurrent.FutureTask<>(la::run);
            java.util.concurrent.FutureTask<TaskLoop.Exit> runB = new java.util.concurrent.FutureTask<>(lb::run);
            Thread.ofPlatform().daemon().start(runA);
            Thread.ofPlatform().daemon().start(runB);
            Thread.sleep(1500); // both idle and polling
            send(la, Queues.REEXEC, requests.get(0));
            ReexecResult onlyA = awaitResult(la, requests.get(0).reexecId(), 10_000);
            assertThat(onlyA).as("A's segment, alone on the queue, re-executed by B within 10 s").isNotNull();
            assertThat(onlyA.worker()).isEqualToIgnoringCase(addrB);

            // now each worker's own segment waits on the queue at the same time: each must take the other's
            ReexecTask againA = new ReexecTask("rx-own-" + UUID.randomUUID(), requests.get(0).task(), 0, 0, 20, requests.get(0).startCheckpointUri(),
                    requests.get(0).startHash(), requests.get(0).expectedEndHash(), null, null);
            send(la, Queues.REEXEC, againA);
            send(la, Queues.REEXEC, requests.get(1));
            ReexecResult ofA = awaitResult(la, againA.reexecId(), 10_000);
            ReexecResult ofB = awaitResult(la, requests.get(1).reexecId(), 10_000);
            la.stop();
            lb.stop();
            assertThat(runA.get(60, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(TaskLoop.Exit.STOPPED);
            assertThat(runB.get(60, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(TaskLoop.Exit.STOPPED);
            assertThat(ofA).as("A's segment re-executed within 10 s").isNotNull();
            assertThat(ofB).as("B's segment re-executed within 10 s").isNotNull();
            assertThat(ofA.worker()).isEqualToIgnoringCase(addrB);
            assertThat(ofB.worker()).isEqualToIgnoringCase(addrA);
            assertThat(List.of(onlyA, ofA, ofB)).allSatisfy(r -> assertThat(r.matches()).isTrue());
        }
    }

    /**
     * A worker idle in a long poll wakes for either queue at once: with polls of 10 s, a task sent to it is taken within a second
     * (its submission reports when it was received, trained and sent, in that order) and a re-execution request sent while it
     * waits on the task queue is answered within a couple of seconds, not after the task poll runs out.
     */
    @Test
    void anIdleWorkerWakesForATaskOrAReexecutionWithinASecondNotAPollInterval() throws Exception {
        TrainTask mine = task("t-wake-" + UUID.randomUUID(), 40, 20);
        ReexecTask request;
        try (TaskLoop l = loop(Map.of("FEDMARKET_MAX_TASKS", "1"))) {
            send(l, Queues.TASKS, mine);
            assertThat(l.run()).isEqualTo(TaskLoop.Exit.MAX_TASKS);
            Submission sub = ArtifactStore.JSON.readValue(drain(l, Queues.SUBMISSIONS).get(0).body(), Submission.class);
            TrailManifest trail = l.store().getJson(sub.trailUri(), TrailManifest.class).orElseThrow();
            request = new ReexecTask("rx-wake-" + UUID.randomUUID(), mine, 1, 20, 20, trail.checkpointUris().get(1),
                    trail.checkpointHashes().get(1), trail.checkpointHashes().get(2), null, null);
        }
        String addrB = org.web3j.crypto.Credentials.create(OTHER_KEY).getAddress();
        try (TaskLoop lb = loop(Map.of("FEDMARKET_WORKER_KEY", OTHER_KEY, "FEDMARKET_WORKER_ID", "worker-b", "FEDMARKET_IDLE_EXIT_SECONDS", "0",
                "FEDMARKET_POLL_SECONDS", "10"))) {
            java.util.concurrent.FutureTask<TaskLoop.Exit> run = new java.util.concurrent.FutureTask<>(lb::run);
            Thread.ofPlatform().daemon().start(run);
            Thread.sleep(1500); // idle: inside both long polls
            long sentAt = System.currentTimeMillis();
            send(lb, Queues.TASKS, task("t-wake-b-" + UUID.randomUUID(), 20, 20));
            List<Message> subs = new ArrayList<>();
            long end = System.currentTimeMillis() + 20_000;
            while (subs.isEmpty() && System.currentTimeMillis() < end) {
                subs = drain(lb, Queues.SUBMISSIONS);
            }
            assertThat(subs).as("the task trained and submitted").hasSize(1);
            Submission.Timings times = ArtifactStore.JSON.readValue(subs.get(0).body(), Submission.class).timings();
            assertThat(times).as("the worker reports its instants").isNotNull();
            assertThat(times.receivedAtMs() - sentAt).as("picked up within a second of the publish").isBetween(0L, 1_000L);
            assertThat(times.trainedAtMs()).isGreaterThanOrEqualTo(times.receivedAtMs()).isLessThanOrEqualTo(times.sentAtMs());

            Thread.sleep(1500); // idle again
            long reexecSent = System.nanoTime();
            send(lb, Queues.REEXEC, request);
            ReexecResult r = awaitResult(lb, request.reexecId(), 10_000);
            long tookMs = (System.nanoTime() - reexecSent) / 1_000_000;
            lb.stop();
            assertThat(run.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(TaskLoop.Exit.STOPPED);
            assertThat(r).as("re-executed").isNotNull();
            assertThat(r.worker()).isEqualToIgnoringCase(addrB);
            assertThat(r.matches()).isTrue();
            assertThat(tookMs).as("answered while the task poll (10 s) was still waiting").isLessThan(3_000L);
        }
    }

    /** The re-execution result once it is in the bucket, or null after {@code maxMillis}: a liveness bound, not a benchmark. */
    static ReexecResult awaitResult(TaskLoop l, String reexecId, long maxMillis) throws InterruptedException {
        long end = System.nanoTime() + maxMillis * 1_000_000;
        while (System.nanoTime() < end) {
            Optional<ReexecResult> r = l.store().getJson(ArtifactStore.reexecKey(reexecId), ReexecResult.class);
            if (r.isPresent()) {
                return r.get();
            }
            Thread.sleep(100);
        }
        return null;
    }

    @Test
    void aRedeliveredSubmittedTaskIsAnnouncedAgainNotRetrained() throws Exception {
        TrainTask t = task("t-redeliver-" + UUID.randomUUID(), 40, 20);
        try (TaskLoop l = loop(Map.of("FEDMARKET_MAX_TASKS", "1"))) {
            send(l, Queues.TASKS, t);
            l.run();
            assertThat(l.lastCompleted()).isNotNull();
        }
        Submission first;
        try (TaskLoop l = loop(Map.of("FEDMARKET_MAX_TASKS", "1"))) {
            first = ArtifactStore.JSON.readValue(drain(l, Queues.SUBMISSIONS).get(0).body(), Submission.class);
            TaskProgress before = l.store().getJson(ArtifactStore.progressKey(t.taskId()), TaskProgress.class).orElseThrow();
            send(l, Queues.TASKS, t);
            assertThat(l.run()).isEqualTo(TaskLoop.Exit.MAX_TASKS);
            assertThat(l.lastCompleted()).as("no training happened").isNull();
            List<Message> again = drain(l, Queues.SUBMISSIONS);
            assertThat(again).hasSize(1);
            assertThat(ArtifactStore.JSON.readValue(again.get(0).body(), Submission.class)).isEqualTo(first);
            assertThat(l.store().getJson(ArtifactStore.progressKey(t.taskId()), TaskProgress.class).orElseThrow()).isEqualTo(before);
            assertThat(drain(l, Queues.TASKS)).isEmpty();
        }
    }

    @Test
    void aSpotNoticeReleasesTheTaskWithinTenSecondsAndTheNextWorkerResumes(@TempDir Path dir) throws Exception {
        TrainTask t = task("t-spot-" + UUID.randomUUID(), 200_000, 100);
        Path noticeFile = dir.resolve("instance-action");
        TaskLoop l = loop(Map.of("FEDMARKET_SPOT_NOTICE", "file:" + noticeFile));
        send(l, Queues.TASKS, t);
        CompletableFuture<TaskLoop.Exit> exit = CompletableFuture.supplyAsync(l::run);
        waitForProgress(l, t.taskId(), 200);
        Files.writeString(noticeFile, "{\"action\":\"terminate\"}");
        long noticeAt = System.nanoTime();
        TaskLoop.Exit e = exit.get(20, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - noticeAt) / 1e9;
        l.close();
        assertThat(e).isEqualTo(TaskLoop.Exit.SPOT_INTERRUPTION);
        assertThat(seconds).as("seconds from notice to release").isLessThan(10);
        TaskProgress p = l.store().getJson(ArtifactStore.progressKey(t.taskId()), TaskProgress.class).orElseThrow();
        assertThat(p.latestStep()).isGreaterThan(0);
        try (TaskLoop other = loop(Map.of())) {
            List<Message> visible = other.sqs().receiveMessage(b -> b.queueUrl(ep.sqs().queueUrl(Queues.TASKS)).waitTimeSeconds(1))
                    .messages();
            assertThat(visible).as("the task is visible again at once").hasSize(1);
            ModelState ck = ModelState.decode(other.store().getVerified(p.latestUri()), p.latestUri());
            assertThat(ck.step()).isEqualTo(p.latestStep());
            assertThat(ck.velocity()).as("momentum buffers are checkpointed").isNotNull();
            other.sqs().deleteMessage(b -> b.queueUrl(ep.sqs().queueUrl(Queues.TASKS)).receiptHandle(visible.get(0).receiptHandle()));
        }
        System.out.printf("spot notice → task released in %.2f s at step %d%n", seconds, p.latestStep());
    }

    @Test
    void aKilledWorkersTaskIsResumedFromItsCheckpointByAnotherWorkerWithTheSameResult() throws Exception {
        // the same training under another task id is the reference: the task id does not enter training
        TrainTask ref = task("t-ref-" + UUID.randomUUID(), 600, 100);
        String expected;
        try (TaskLoop l = loop(Map.of("FEDMARKET_MAX_TASKS", "1"))) {
            send(l, Queues.TASKS, ref);
            l.run();
            expected = l.lastCompleted().submission().updateHash();
            drain(l, Queues.SUBMISSIONS);
        }
        TrainTask t = new TrainTask("t-kill-" + UUID.randomUUID(), ref.jobId(), 0, ref.modelSpec(), null, null, ref.dataset(),
                ref.partition(), ref.clients(), ref.client(), ref.partitionSeed(), null, ref.seed(), ref.lr(), ref.momentum(),
                ref.proxMu(), ref.batchSize(), 0, ref.steps(), ref.checkpointEvery(), 1, null, null, 600, 0);
        try (TaskLoop l = loop(Map.of())) {
            send(l, Queues.TASKS, t);
            // a separate worker process, killed (SIGKILL) once it has a durable checkpoint
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
                    "-Dai.djl.pytorch.num_interop_threads=1", "-cp", System.getProperty("java.class.path"), WorkerMain.class.getName())
                    .inheritIO();
            pb.environment().put("MKT_ENDPOINTS", endpointsFile.toString());
            pb.environment().put("FEDMARKET_WORKER_KEY", KEY);
            pb.environment().put("FEDMARKET_WORKER_ID", "doomed-worker");
            pb.environment().put("FEDMARKET_VISIBILITY_SECONDS", "3");
            Process p = pb.start();
            try {
                waitForProgress(l, t.taskId(), 200);
            } finally {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            TaskProgress atKill = l.store().getJson(ArtifactStore.progressKey(t.taskId()), TaskProgress.class).orElseThrow();
            assertThat(atKill.latestStep()).isLessThan(600);
        }
        try (TaskLoop l = loop(Map.of("FEDMARKET_MAX_TASKS", "1", "FEDMARKET_POLL_SECONDS", "10", "FEDMARKET_WORKER_KEY", OTHER_KEY,
                "FEDMARKET_WORKER_ID", "resuming-worker"))) {
            // the killed worker's message becomes visible when its 3 s visibility timeout expires; another key takes it over
            assertThat(l.run()).isEqualTo(TaskLoop.Exit.MAX_TASKS);
            assertThat(l.lastCompleted()).isNotNull();
            int resumed = l.lastCompleted().resumedFromStep();
            assertThat(resumed).isGreaterThan(0);
            assertThat(l.lastCompleted().submission().updateHash()).isEqualTo(expected);
            // the resumer's trail names only objects under its own prefix (the adopted checkpoints copied there, each the state
            // the trail commits) and says how many steps it adopted: a mismatch there is not held against it
            TrailManifest m = l.lastCompleted().trail();
            String own = SubmissionSigner.workerPrefix(org.web3j.crypto.Credentials.create(OTHER_KEY).getAddress());
            assertThat(m.adoptedSteps()).isEqualTo(resumed);
            assertThat(m.checkpointUris()).allSatisfy(u -> assertThat(u).startsWith(own));
            for (int i = 0; i < m.checkpointUris().size(); i++) {
                ModelState ck = ModelState.decode(l.store().getVerified(m.checkpointUris().get(i)), "checkpoint " + i);
                assertThat(Hashes.hex(ck.stateHash())).isEqualTo(m.checkpointHashes().get(i));
                assertThat(ck.step()).isEqualTo(i * t.checkpointEvery());
            }
        }
    }

    static void waitForProgress(TaskLoop l, String taskId, int minStep) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            Optional<TaskProgress> p = l.store().getJson(ArtifactStore.progressKey(taskId), TaskProgress.class);
            if (p.isPresent() && p.get().latestStep() >= minStep) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("task " + taskId + " made no progress to step " + minStep + " within 90 s");
    }
}
