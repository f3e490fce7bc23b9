package io.fedmarket.worker.train;

import io.fedmarket.crypto.Hashes;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.fl.proof.ProofTrail;
import io.fedmarket.fl.proof.TrailHeader;
import io.fedmarket.fl.verify.CheapCheckPolicy;
import io.fedmarket.fl.verify.ComparisonPolicy;
import io.fedmarket.fl.verify.ReasonCode;
import io.fedmarket.fl.verify.ToleranceCalibration;
import io.fedmarket.fl.verify.UpdateVerifier;
import io.fedmarket.fl.verify.Verdict;
import io.fedmarket.infra.local.LocalStack;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.messages.ReexecTask;
import io.fedmarket.messages.Submission;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.pol.ReexecSigner;
import io.fedmarket.pol.SubmissionSigner;
import io.fedmarket.pol.TrailManifest;
import io.fedmarket.worker.model.ModelSpec;
import io.fedmarket.worker.store.ArtifactStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.crypto.Credentials;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The FEDMARKET_FAULT kinds against the shared verifier: each cheater's signed submission is rejected when its
 * segments (all of them, bit-exact) are re-executed honestly by another worker's {@link Reexecutor}; an honest
 * straggler is accepted. Real DJL training on small generated data, artifacts in s3proxy from the local stack.
 */
class FaultInjectionTest {
    static final String KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    static final String OTHER_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
    static final String VERIFIER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    static final String MARKET = "0x0000000000000000000000000000000000000000";
    /** 10 × the largest distance NondeterminismCalibration measured (9.4e-7), floor 1e-5: far below any cheater's. */
    static final ToleranceCalibration TOLERANCE = ToleranceCalibration.fromSamples(new double[]{9.4e-7}, 10, 1e-5,
            "mlp 784-128-10, 1 vs 2 intra-op threads, PyTorch 2.7.1 CPU, NondeterminismCalibration");
    static LocalStack stack;
    static S3Client s3;
    static ArtifactStore store;

    @BeforeAll
    static void start(@TempDir Path dir) {
        stack = LocalStack.builder().dataDir(dir).sqs(false).s3(true).evm(false).postgres(false).progress(s -> { }).start();
        var ep = stack.endpoints().s3();
        s3 = S3Client.builder().region(Region.of(ep.region())).httpClientBuilder(UrlConnectionHttpClient.builder())
                .endpointOverride(URI.create(ep.endpoint()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ep.accessKey(), ep.secretKey())))
                .forcePathStyle(true).build();
        store = new ArtifactStore(s3, ep.bucket());
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    /** 60 steps of mlp:32 in 3 segments of 20 on client 1 of 3 (synthetic:1200, IID), shard commitment set. */
    static TrainTask task(UUID job, int round, String globalUri, String globalHash) {
        String id = "t-fault-" + UUID.randomUUID();
        TrainTask t = new TrainTask(id, job, round, "mlp:32", globalUri, globalHash, "synthetic:1200", "iid", 3, 1, 42, null, 7,
                0.05, 0.9, 0.0, 32, 0, 60, 20, 1, null, null, 600, 0);
        String commitment = Hashes.hex(ShardResolver.resolve(t).commitment());
        return new TrainTask(id, job, round, t.modelSpec(), globalUri, globalHash, t.dataset(), t.partition(), t.clients(), t.client(),
                t.partitionSeed(), commitment, t.seed(), t.lr(), t.momentum(), t.proxMu(), t.batchSize(), t.epochs(), t.steps(),
                t.checkpointEvery(), t.threads(), null, null, t.budgetSeconds(), 0);
    }

    static TrainTask task() {
        return task(UUID.randomUUID(), 0, null, null);
    }

    /** 6 steps of a small ResNet from DJL's model zoo (batch norm in every unit) in 3 segments of 2, on 8×8 images of 3 classes. */
    static TrainTask resnetTask(UUID job) {
        String id = "t-resnet-" + UUID.randomUUID();
        TrainTask t = new TrainTask(id, job, 0, "resnet:8;input=1x8x8;classes=3", null, null, "synthetic:120:1x8x8:3", "iid", 3, 1, 42,
                null, 7, 0.05, 0.9, 0.0, 8, 0, 6, 2, 1, null, null, 600, 0);
        String commitment = Hashes.hex(ShardResolver.resolve(t).commitment());
        return new TrainTask(id, job, 0, t.modelSpec(), null, null, t.dataset(), t.partition(), t.clients(), t.client(),
                t.partitionSeed(), commitment, t.seed(), t.lr(), t.momentum(), t.proxMu(), t.batchSize(), t.epochs(), t.steps(),
                t.checkpointEvery(), t.threads(), null, null, t.budgetSeconds(), 0);
    }

    static TaskRunner runner(String key, String fault) {
        return new TaskRunner(store, Credentials.create(key), new SubmissionSigner(31337, MARKET), "test-worker", Fault.parse(fault));
    }

    /** Runs the task under the fault and records the submission in the bucket, as the task loop does. */
    static TaskRunner.Completed submit(String key, String fault, TrainTask t) {
        TaskRunner.Completed c = (TaskRunner.Completed) runner(key, fault).run(t, () -> false);
        store.putJson(ArtifactStore.submissionKey(t.taskId()), c.submission());
        return c;
    }

    static UpdateVerifier.Outcome verify(TrainTask t, Submission sub, ComparisonPolicy comparison) {
        TrailManifest m = store.getJson(sub.trailUri(), TrailManifest.class).orElseThrow();
        TaskRunner honest = runner(VERIFIER_KEY, "none");
        ModelState global = honest.globalModel(t, ModelSpec.parse(t.modelSpec()));
        // the verifier's header comes from the task, not from the worker's manifest
        TrailHeader header = new TrailHeader(t.taskId(), global.paramsHash(), Hashes.fromHex32(t.shardCommitment()), t.seed(), t.steps(),
                t.checkpointEvery());
        ProofTrail trail = ProofTrail.fromHashes(header, m.checkpointHashes().stream().map(Hashes::fromHex32).toList());
        UpdateVerifier.CheckpointStore checkpoints = new UpdateVerifier.CheckpointStore() {
            @Override
            public float[] load(int i) {
                if (i >= m.checkpointUris().size() || m.checkpointUris().get(i) == null) {
                    return null;
                }
                return ModelState.decode(store.getVerified(m.checkpointUris().get(i)), m.checkpointUris().get(i)).flat();
            }

            @Override
            public String uri(int i) {
                return i < m.checkpointUris().size() ? m.checkpointUris().get(i) : null;
            }

            // the trail commits whole states (parameters, momentum, step): ModelState.stateHash
            @Override
            public byte[] startHash(float[] g) {
                return new ModelState(global.names(), global.shapes(), global.params(), null, 0).stateHash();
            }

            @Override
            public boolean isLast(float[] update, byte[] committedLast) {
                ModelState last = state(m.checkpointUris().size() - 1);
                return last != null && java.util.Arrays.equals(last.stateHash(), committedLast) && java.util.Arrays.equals(last.flat(), update);
            }

            @Override
            public byte[] hashOf(int i, float[] loaded) {
                ModelState st = state(i);
                return st == null ? new byte[32] : st.stateHash();
            }

            private ModelState state(int i) {
                if (i >= m.checkpointUris().size() || m.checkpointUris().get(i) == null) {
                    return null;
                }
                return ModelState.decode(store.getVerified(m.checkpointUris().get(i)), m.checkpointUris().get(i));
            }
        };
        Reexecutor rx = new Reexecutor(honest, store, Credentials.create(VERIFIER_KEY), new ReexecSigner(31337, MARKET));
        int k = t.checkpointEvery();
        java.util.Map<Integer, byte[]> endHashes = new java.util.HashMap<>();
        UpdateVerifier.SegmentExecutor executor = new UpdateVerifier.SegmentExecutor() {
            @Override
            public float[] run(float[] start, int i) {
                ReexecResult r = rx.run(new ReexecTask(t.taskId() + "-seg" + i, t, i, i * k, k, m.checkpointUris().get(i),
                        m.checkpointHashes().get(i), null, null, null));
                assertThat(r.signature()).isNotNull();
                if (r.error() != null) {
                    endHashes.put(i, new byte[32]);
                    float[] differs = start.clone();
                    differs[0] = Float.NaN;
                    return differs;
                }
                ModelState end = ModelState.decode(store.getVerified(r.endUri()), r.endUri());
                assertThat(Hashes.hex(end.stateHash())).as("the re-executor's signed end hash is its uploaded end state's").isEqualTo(r.endHash());
                endHashes.put(i, end.stateHash());
                return end.flat();
            }

            @Override
            public byte[] hashOf(int i, float[] end) {
                return endHashes.get(i);
            }
        };
        float[] update = ModelState.decode(store.getVerified(sub.updateUri()), sub.updateUri()).flat();
        byte[] subHash = Hashes.keccak256(sub.taskId().getBytes(java.nio.charset.StandardCharsets.UTF_8), Hashes.fromHex32(sub.updateHash()),
                Hashes.fromHex32(sub.proofRoot()), Hashes.fromHex(sub.signature()));
        int n = t.steps() / k;
        UpdateVerifier v = new UpdateVerifier(new UpdateVerifier.Config(CheapCheckPolicy.NONE, n, n, comparison));
        UpdateVerifier.Outcome o = v.verify(new UpdateVerifier.Submission(header, subHash, update, sub.updateUri(), trail, checkpoints),
                global.flat(), null, null, Hashes.keccak256("later block".getBytes()), executor, Instant.now());
        Verdict d = o.verdict();
        System.out.println("verdict " + d.comparison() + " on " + t.taskId() + ": " + d.reason() + " after " + o.reexecutedSegments()
                + " segment(s)" + (d.evidence() == null ? "" : " (segment " + d.evidence().segmentIndex() + ": " + d.evidence().detail()
                + (d.evidence().distance() == null ? "" : ", distance " + d.evidence().distance()) + ")"));
        return o;
    }

    static Verdict bitExact(TrainTask t, Submission sub) {
        return verify(t, sub, new ComparisonPolicy.BitExact()).verdict();
    }

    @Test
    void aSlowWorkerIsAStragglerNotACheaterAndIsAcceptedBitExact() {
        assertThat(Fault.parse("slow:5").cheats()).isFalse();
        TrainTask t = task();
        TaskRunner.Completed c = submit(KEY, "slow:5", t);
        assertThat(c.submission().trainMillis()).as("60 steps with 5 ms pauses").isGreaterThanOrEqualTo(300);
        UpdateVerifier.Outcome o = verify(t, c.submission(), new ComparisonPolicy.BitExact());
        assertThat(o.verdict().accepted()).as(String.valueOf(o.verdict().evidence())).isTrue();
        assertThat(o.reexecutedSegments()).isEqualTo(3);
    }

    /**
     * Batch norm's running mean and variance are part of the hashed, checkpointed and restored state: an honest ResNet
     * trail re-executes bit-exactly, and a cheater whose weights are the honest ones bit for bit but whose committed
     * running statistics are made up ({@code fake-buffers}) is rejected by the same re-execution.
     */
    @Test
    void batchNormBuffersAreInTheTrailAndACheaterFakingOnlyThemIsCaught() {
        UUID job = UUID.randomUUID();
        TrainTask honestTask = resnetTask(job);
        TaskRunner.Completed honest = submit(KEY, "none", honestTask);
        UpdateVerifier.Outcome ok = verify(honestTask, honest.submission(), new ComparisonPolicy.BitExact());
        assertThat(ok.verdict().accepted()).as(String.valueOf(ok.verdict().evidence())).isTrue();
        assertThat(ok.reexecutedSegments()).isEqualTo(3);

        TrainTask t = resnetTask(job); // the same shard, seed and start: the same honest training
        TaskRunner.Completed c = submit(OTHER_KEY, "fake-buffers", t);
        io.fedmarket.fl.model.ModelLayouts.Layout layout = io.fedmarket.fl.model.ModelLayouts.layout(t.modelSpec());
        assertThat(layout.bufferIndices()).isNotEmpty();
        for (int cp = 1; cp < 4; cp++) {
            ModelState real = ModelState.decode(store.getVerified(honest.trail().checkpointUris().get(cp)), "honest");
            ModelState faked = ModelState.decode(store.getVerified(c.trail().checkpointUris().get(cp)), "faked");
            assertThat(Hashes.hex(faked.stateHash())).as("the trail names the stored checkpoint %d", cp)
                    .isEqualTo(c.trail().checkpointHashes().get(cp));
            for (int i = 0; i < layout.tensorCount(); i++) {
                boolean same = java.util.Arrays.equals(real.params()[i], faked.params()[i]);
                if (layout.bufferIndices().contains(i)) {
                    if (layout.names().get(i).endsWith("_runningMean")) {
                        assertThat(same).as("faked buffer %s at checkpoint %d", layout.names().get(i), cp).isFalse();
                    }
                } else {
                    assertThat(same).as("honest weights %s at checkpoint %d", layout.names().get(i), cp).isTrue();
                }
            }
        }
        Verdict v = bitExact(t, c.submission());
        assertThat(v.accepted()).isFalse();
        assertThat(v.reason()).isEqualTo(ReasonCode.SEGMENT_MISMATCH);
        assertThat(v.evidence()).isNotNull();
    }

    @Test
    void aForgedTrailHasRealArtifactsButRandomIntermediateHashesAndIsRejected() {
        TrainTask t = task();
        TaskRunner.Completed c = submit(KEY, "forged-trail", t);
        TrailManifest m = c.trail();
        assertThat(m.checkpointHashes()).hasSize(4);
        for (int i = 0; i < 4; i++) {
            String real = Hashes.hex(ModelState.decode(store.getVerified(m.checkpointUris().get(i)), "cp").stateHash());
            if (i == 0 || i == 3) {
                assertThat(m.checkpointHashes().get(i)).as("checkpoint %d is real", i).isEqualTo(real);
            } else {
                assertThat(m.checkpointHashes().get(i)).as("checkpoint %d is forged", i).isNotEqualTo(real);
            }
        }
        assertThat(m.updateHash()).isEqualTo(c.submission().updateHash())
                .isEqualTo(Hashes.hex(ModelState.decode(store.getVerified(m.checkpointUris().get(3)), "cp").paramsHash()));
        Verdict v = bitExact(t, c.submission());
        assertThat(v.accepted()).isFalse();
        assertThat(v.reason()).isIn(ReasonCode.SEGMENT_MISMATCH, ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH);
    }

    @Test
    void trainingOnAnotherClientsShardWhileClaimingOnesOwnIsRejected() {
        TrainTask t = task();
        TaskRunner.Completed c = submit(KEY, "wrong-shard", t);
        assertThat(c.trail().shardCommitment()).as("claims the task's shard").isEqualTo(t.shardCommitment());
        assertThat(c.submission().sampleCount()).isEqualTo(ShardResolver.resolve(t).indices().length);
        Verdict v = bitExact(t, c.submission());
        assertThat(v.accepted()).isFalse();
        assertThat(v.reason()).isEqualTo(ReasonCode.SEGMENT_MISMATCH);
        // honest SGD on other IID samples is still far outside a tolerance for thread-count differences
        Verdict tol = verify(t, c.submission(), new ComparisonPolicy.Tolerance(TOLERANCE)).verdict();
        assertThat(tol.reason()).isEqualTo(ReasonCode.SEGMENT_MISMATCH);
        assertThat(Double.parseDouble(tol.evidence().distance())).isGreaterThan(0.1);
    }

    @Test
    void aScaledCopyOfAnotherWorkersPreviousRoundIsRejectedAndWithoutOneItTrainsHonestly() {
        UUID job = UUID.randomUUID();
        // round 0: another worker's honest update; it becomes round 1's global model
        TrainTask r0 = task(job, 0, null, null);
        Submission theirs = submit(OTHER_KEY, "none", r0).submission();
        ModelState theirStart = TrainingSession.initialState(ModelSpec.parse(r0.modelSpec()), r0.seed());
        ModelState theirUpdate = ModelState.decode(store.getVerified(theirs.updateUri()), theirs.updateUri());

        TrainTask r1 = task(job, 1, theirs.updateUri(), theirs.updateHash());
        TaskRunner.Completed c = submit(KEY, "scaled-copy", r1);
        ModelState forged = ModelState.decode(store.getVerified(c.submission().updateUri()), "forged");
        double s = Fault.copyScale(r1.seed());
        assertThat(s).isBetween(0.8, 1.2);
        float[] g = theirUpdate.flat();
        float[] d0 = theirStart.flat();
        float[] f = forged.flat();
        for (int j = 0; j < f.length; j += 97) {
            assertThat((double) f[j]).isCloseTo(g[j] + s * (g[j] - d0[j]), org.assertj.core.data.Offset.offset(1e-5));
        }
        assertThat(c.stats().stepsRun()).as("trained nothing").isZero();
        Verdict v = bitExact(r1, c.submission());
        assertThat(v.accepted()).isFalse();
        // its trail's last checkpoint is a made-up state that is not stored anywhere (the trail commits whole states): the
        // update is not the state the trail ends at
        assertThat(v.reason()).isIn(ReasonCode.SEGMENT_MISMATCH, ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH, ReasonCode.UPDATE_NOT_IN_TRAIL);
        assertThat(verify(r1, c.submission(), new ComparisonPolicy.Tolerance(TOLERANCE)).verdict().accepted()).isFalse();

        // the first round of a job has nothing to copy: the copier trains honestly until it has (and is not caught for it)
        TrainTask first = task(UUID.randomUUID(), 0, null, null);
        TaskRunner.Completed honest = submit(KEY, "scaled-copy", first);
        assertThat(honest.stats().stepsRun()).as("trained its task").isEqualTo(first.steps());
        assertThat(bitExact(first, honest.submission()).accepted()).isTrue();
    }

    @Test
    void aNondeterministicWorkerReportsTheTasksThreadsAndPassesATolerance() {
        assertThat(Fault.parse("nondeterministic").cheats()).isFalse();
        TrainTask t = task();
        TaskRunner.Completed c = submit(KEY, "nondeterministic", t);
        assertThat(c.trail().threads()).isEqualTo(1);
        assertThat(c.submission().threads()).isEqualTo(1);
        UpdateVerifier.Outcome tol = verify(t, c.submission(), new ComparisonPolicy.Tolerance(TOLERANCE));
        assertThat(tol.verdict().accepted()).as(String.valueOf(tol.verdict().evidence())).isTrue();

        String honest = submit(KEY, "none", task()).submission().updateHash();
        assumeThat(c.submission().updateHash()).as("2 threads changed the floating-point result on this CPU").isNotEqualTo(honest);
        Verdict exact = bitExact(t, c.submission());
        assertThat(exact.accepted()).isFalse();
        assertThat(exact.reason()).isEqualTo(ReasonCode.SEGMENT_MISMATCH);
    }

    @Test
    void cheatersNeverResumeAnotherWorkersCheckpointHonestOnesDo() {
        for (String fault : List.of("forged-trail", "wrong-shard", "slow:1")) {
            TrainTask t = task();
            int[] calls = {0};
            // another worker's run of the task, stopped (spot notice) at step 25 with a durable checkpoint
            TaskRunner.Outcome cut = runner(OTHER_KEY, "none").run(t, () -> calls[0]++ >= 25);
            assertThat(cut).isInstanceOf(TaskRunner.Interrupted.class);
            int resumed = ((TaskRunner.Completed) runner(KEY, fault).run(t, () -> false)).resumedFromStep();
            assertThat(resumed).as(fault).isEqualTo(Fault.parse(fault).cheats() ? 0 : 25);
        }
    }

    @Test
    void faultKindsParse() {
        for (String k : List.of("scaled-copy", "forged-trail", "wrong-shard", "free-ride", "noise", "partial:0.5")) {
            assertThat(Fault.parse(k).cheats()).as(k).isTrue();
        }
        for (String k : List.of("slow:10", "nondeterministic", "crash-after:5", "none")) {
            assertThat(Fault.parse(k).cheats()).as(k).isFalse();
        }
        assertThat(Fault.parse("slow:250").sleepMillis()).isEqualTo(250);
        assertThat(Fault.parse("nondeterministic").trainingThreads(3)).isEqualTo(4);
        assertThatThrownBy(() -> Fault.parse("slow:x")).hasMessageContaining("slow:MS").hasMessageContaining("forged-trail");
        assertThatThrownBy(() -> Fault.parse("slow:-1")).hasMessageContaining("unknown FEDMARKET_FAULT");
    }

    @Test
    void aHeldTaskPausesAtItsFirstDurableCheckpointAndThenFinishesAsIfNeverHeld(@TempDir Path dir) throws Exception {
        TrainTask t = task(UUID.randomUUID(), 3, null, null);
        Path file = dir.resolve("hold-round");
        java.nio.file.Files.writeString(file, "3");
        TaskRunner held = new TaskRunner(store, Credentials.create(KEY), new SubmissionSigner(31337, MARKET), "held-worker",
                Fault.NONE, CheckpointHold.parse("file:" + file));
        java.util.concurrent.CompletableFuture<TaskRunner.Outcome> run = java.util.concurrent.CompletableFuture.supplyAsync(() -> held.run(t, () -> false));
        // the first checkpoint (step 20 of 60) is in the bucket and the task is not done: the worker is mid-task
        io.fedmarket.worker.store.TaskProgress p = null;
        for (int i = 0; i < 600 && p == null; i++) {
            p = store.getJson(ArtifactStore.progressKey(t.taskId()), io.fedmarket.worker.store.TaskProgress.class).orElse(null);
            Thread.sleep(50);
        }
        assertThat(p).as("progress recorded before the pause").isNotNull();
        assertThat(p.latestStep()).isEqualTo(20);
        assertThat(p.worker()).isEqualTo("held-worker");
        Thread.sleep(300);
        assertThat(run).as("paused while the hold file is there").isNotDone();
        java.nio.file.Files.delete(file);
        TaskRunner.Completed c = (TaskRunner.Completed) run.get(60, java.util.concurrent.TimeUnit.SECONDS);
        // a task of another round never pauses; both give the same update as a run without any hold
        TaskRunner.Completed plain = (TaskRunner.Completed) runner(KEY, "none").run(task(t.jobId(), 3, null, null), () -> false);
        assertThat(c.submission().updateHash()).isEqualTo(plain.submission().updateHash());
        assertThat(c.trail().checkpointHashes()).isEqualTo(plain.trail().checkpointHashes());
        java.nio.file.Files.writeString(file, "4");
        TaskRunner other = new TaskRunner(store, Credentials.create(KEY), new SubmissionSigner(31337, MARKET), "held-worker",
                Fault.NONE, CheckpointHold.parse("file:" + file));
        assertThat(((TaskRunner.Completed) other.run(task(t.jobId(), 3, null, null), () -> false)).submission().updateHash())
                .isEqualTo(plain.submission().updateHash());
        assertThatThrownBy(() -> CheckpointHold.parse("/tmp/x")).hasMessageContaining("FEDMARKET_FAULT_HOLD").hasMessageContaining("file:/path");
        assertThat(CheckpointHold.parse(null)).isSameAs(CheckpointHold.NONE);
    }
}
