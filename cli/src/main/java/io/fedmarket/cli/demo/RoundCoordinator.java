package io.fedmarket.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.fl.aggregation.AggregationResult;
import io.fedmarket.fl.aggregation.AggregationRule;
import io.fedmarket.fl.aggregation.ClientUpdate;
import io.fedmarket.fl.aggregation.ServerState;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.fl.proof.ProofTrail;
import io.fedmarket.fl.proof.TrailHeader;
import io.fedmarket.fl.verify.Evidence;
import io.fedmarket.fl.verify.UpdateVerifier;
import io.fedmarket.fl.verify.Verdict;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.messages.ReexecTask;
import io.fedmarket.messages.Submission;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.pol.ProofTrails;
import io.fedmarket.pol.SubmissionSigner;
import io.fedmarket.pol.TrailManifest;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.model.ModelSpec;
import io.fedmarket.worker.store.ArtifactStore;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.worker.train.TrainingSession;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Runs a job's rounds off chain over the real queues and bucket: publishes the global model
 * (content-addressed), sends one task per data shard, collects signed submissions until every task
 * is in or the round deadline passes (stragglers and drops are values), verifies each update
 * (signature and bond, trail structure, re-execution of sampled segments by another worker), and
 * aggregates the accepted ones. On AWS these steps are the verify and aggregate consumers; the demo
 * runs them in one process over the same queues.
 */
final class RoundCoordinator {
    static final ObjectMapper JSON = ArtifactStore.JSON;

    /**
     * @param steps    local steps of each client's task (clients = steps.length)
     * @param segments about how many trail segments a task has: checkpointEvery ≈ steps / segments, so one re-executed
     *                 segment is at most 1/segments of the task's training
     */
    record Config(UUID jobId, long jobSeed, String modelSpec, String dataset, String partition, int[] steps,
                  int segments, int batch, double lr, double momentum, Duration roundTimeout, Duration reexecTimeout) {
        int clients() {
            return steps.length;
        }

        /** k for a task of {@code raw} steps: between raw/(1.5·segments) and raw/segments, the one that loses fewest steps. */
        int checkpointEvery(int client) {
            int raw = steps[client];
            int best = Math.max(1, raw / segments);
            for (int k = best; k >= Math.max(1, raw * 2 / (3 * segments)); k--) {
                if (raw % k < raw % best) {
                    best = k;
                }
            }
            return best;
        }

        /** The task's steps: a multiple of its checkpoint interval (at most one interval less than asked). */
        int stepsOf(int client) {
            int k = checkpointEvery(client);
            return Math.max(k, steps[client] - steps[client] % k);
        }
    }

    record Verified(Submission submission, Verdict verdict, ModelState update, long reexecSteps) {
    }

    record RoundOutcome(int round, String globalUri, String globalHash, ModelState nextGlobal, double accuracy,
                        List<Verified> verified, List<String> droppedTasks, long startedMs, long closedMs,
                        long trainedSteps, long reexecSteps) {
        List<Verified> accepted() {
            return verified.stream().filter(v -> v.verdict() != null && v.verdict().accepted()).toList();
        }

        List<Verified> rejected() {
            return verified.stream().filter(v -> v.verdict() != null && !v.verdict().accepted()).toList();
        }

        List<Verified> inconclusive() {
            return verified.stream().filter(v -> v.verdict() == null).toList();
        }
    }

    private final Config cfg;
    private final SqsClient sqs;
    private final String tasksQueue;
    private final String reexecQueue;
    private final String submissionsQueue;
    private final ArtifactStore store;
    private final SubmissionSigner signer;
    private final Predicate<String> bonded;
    private final UpdateVerifier verifier;
    private final AggregationRule rule;
    private final ModelSpec spec;
    private final ImageData testData;
    private final Map<Integer, String> shardCommitments;
    private final Consumer<String> progress;
    private final long t0;
    private ServerState serverState;
    private final Set<String> submittedTaskIds = ConcurrentHashMap.newKeySet();

    RoundCoordinator(Config cfg, SqsClient sqs, String tasksQueue, String reexecQueue, String submissionsQueue,
                     ArtifactStore store, SubmissionSigner signer, Predicate<String> bonded, UpdateVerifier verifier,
                     AggregationRule rule, ImageData testData, Map<Integer, String> shardCommitments,
                     Consumer<String> progress, long t0) {
        this.cfg = cfg;
        this.sqs = sqs;
        this.tasksQueue = tasksQueue;
        this.reexecQueue = reexecQueue;
        this.submissionsQueue = submissionsQueue;
        this.store = store;
        this.signer = signer;
        this.bonded = bonded;
        this.verifier = verifier;
        this.rule = rule;
        this.spec = ModelSpec.parse(cfg.modelSpec());
        this.testData = testData;
        this.shardCommitments = shardCommitments;
        this.progress = progress;
        this.t0 = t0;
    }

    static String taskId(UUID job, int round, int client) {
        return "job-" + job.toString().substring(0, 8) + "-r" + round + "-c" + client;
    }

    long taskSeed(int round, int client) {
        return cfg.jobSeed() * 1_000_003L + round * 10_007L + client;
    }

    TrainTask task(int round, int client, String globalUri, String globalHash) {
        return new TrainTask(taskId(cfg.jobId(), round, client), cfg.jobId(), round, cfg.modelSpec(), globalUri, globalHash,
                cfg.dataset(), cfg.partition(), cfg.clients(), client, cfg.jobSeed(), shardCommitments.get(client),
                taskSeed(round, client), cfg.lr(), cfg.momentum(), 0, cfg.batch(), 0, cfg.stepsOf(client), cfg.checkpointEvery(client), 1,
                null, null, 600, Instant.now().plus(cfg.roundTimeout()).getEpochSecond()).validate();
    }

    /** One round; {@code tick} runs about once a second while the round is open (fault injection, fleet repair). */
    RoundOutcome runRound(int round, ModelState global, Runnable tick) throws Exception {
        long started = System.currentTimeMillis() - t0;
        String globalUri = store.putContent("models", "fmck", global.withoutVelocity().encode());
        String globalHash = Hashes.hex(global.paramsHash());
        Map<String, TrainTask> tasks = new LinkedHashMap<>();
        for (int c = 0; c < cfg.clients(); c++) {
            TrainTask t = task(round, c, globalUri, globalHash);
            tasks.put(t.taskId(), t);
            sqs.sendMessage(b -> b.queueUrl(tasksQueue).messageBody(write(t)));
        }
        progress.accept(String.format("round %d: global model %s… published, %d tasks sent", round, globalHash.substring(0, 12), tasks.size()));

        Map<String, Submission> submissions = new LinkedHashMap<>();
        Instant deadline = Instant.now().plus(cfg.roundTimeout());
        long lastTick = 0;
        while (submissions.size() < tasks.size() && Instant.now().isBefore(deadline)) {
            for (Message m : sqs.receiveMessage(b -> b.queueUrl(submissionsQueue).waitTimeSeconds(1).maxNumberOfMessages(10)).messages()) {
                Submission s = JSON.readValue(m.body(), Submission.class);
                // idempotent on the business key: a redelivered submission changes nothing
                if (tasks.containsKey(s.taskId()) && !submissions.containsKey(s.taskId()) && submittedTaskIds.add(s.taskId())) {
                    submissions.put(s.taskId(), s);
                    progress.accept(String.format("round %d: %-22s submitted by %s (%d/%d)", round, s.taskId(),
                            shortAddr(s.worker()), submissions.size(), tasks.size()));
                }
                sqs.deleteMessage(b -> b.queueUrl(submissionsQueue).receiptHandle(m.receiptHandle()));
            }
            if (System.currentTimeMillis() - lastTick > 1000) {
                tick.run();
                lastTick = System.currentTimeMillis();
            }
        }
        List<String> dropped = tasks.keySet().stream().filter(id -> !submissions.containsKey(id)).toList();
        if (!dropped.isEmpty()) {
            progress.accept("round " + round + ": deadline passed without " + dropped + " (stragglers: not paid, not aggregated)");
        }

        float[] globalFlat = flatten(global);
        List<Verified> verified = verifyAll(round, tasks, submissions, globalFlat, tick);
        List<ClientUpdate> updates = new ArrayList<>();
        long trained = 0;
        long reexec = 0;
        for (Verified v : verified) {
            reexec += v.reexecSteps();
            trained += v.submission().steps();
            if (v.verdict() != null && v.verdict().accepted()) {
                updates.add(new ClientUpdate(v.submission().taskId(), flatten(v.update()), Math.max(1, v.submission().sampleCount())));
            }
        }
        ModelState next = global;
        if (updates.size() >= rule.minUpdates()) {
            AggregationResult agg = rule.aggregate(globalFlat, updates, serverState);
            serverState = agg.state();
            next = unflatten(agg.model(), global);
        } else {
            progress.accept("round " + round + ": only " + updates.size() + " accepted updates (rule needs " + rule.minUpdates()
                    + "): the global model is kept");
        }
        double acc = accuracy(next);
        long closed = System.currentTimeMillis() - t0;
        return new RoundOutcome(round, globalUri, globalHash, next, acc, verified, dropped, started, closed, trained, reexec);
    }

    private List<Verified> verifyAll(int round, Map<String, TrainTask> tasks, Map<String, Submission> subs, float[] global,
                                     Runnable tick) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, subs.size()));
        try {
            List<Future<Verified>> futures = new ArrayList<>();
            for (Submission s : subs.values()) {
                futures.add(pool.submit(() -> verify(tasks.get(s.taskId()), s, global)));
            }
            List<Verified> out = new ArrayList<>();
            for (Future<Verified> f : futures) {
                while (!f.isDone()) {
                    tick.run();
                    Thread.sleep(500);
                }
                Verified v = f.get();
                out.add(v);
                if (v.verdict() == null) {
                    continue;
                }
                progress.accept(String.format("round %d: %-22s %s%s", round, v.submission().taskId(),
                        v.verdict().accepted() ? "ACCEPTED" : "REJECTED " + v.verdict().reason(),
                        v.verdict().accepted() ? " (" + v.verdict().reexecutedSegments() + " segment(s) re-executed by another worker, bit-exact)"
                                : ": " + v.verdict().evidence().detail()));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    Verified verify(TrainTask task, Submission s, float[] global) throws Exception {
        TrailManifest manifest = store.getJson(s.trailUri(), TrailManifest.class)
                .orElseThrow(() -> new IllegalStateException("trail manifest " + s.trailUri() + " is missing"));
        ModelState update = ModelState.decode(store.get(s.updateUri()), s.updateUri());
        // 1. the signature is by a bonded key over exactly what was submitted
        String signerAddr = signer.recover(Hashes.fromHex(s.signature()), ProofTrails.taskKey(s.taskId()),
                Hashes.fromHex(s.updateHash()), Hashes.fromHex(s.proofRoot()), s.steps(), s.gpuSeconds());
        if (!signerAddr.equalsIgnoreCase(s.worker()) || !bonded.test(s.worker())) {
            Verdict v = new Verdict(s.taskId(), submissionHash(s), false, io.fedmarket.fl.verify.ReasonCode.BAD_SIGNATURE,
                    List.of(), List.of(), 0, "signature", null,
                    new Evidence(-1, s.worker(), signerAddr, List.of(s.trailUri()), null, null,
                            "signature does not recover to a bonded worker"), Instant.now().getEpochSecond());
            return new Verified(s, v, update, 0);
        }
        TrailHeader header = new TrailHeader(task.taskId(), Hashes.fromHex(task.globalModelHash()),
                Hashes.fromHex(task.shardCommitment()), task.seed(), task.steps(), task.checkpointEvery());
        List<byte[]> hashes = manifest.checkpointHashes().stream().map(Hashes::fromHex).toList();
        ProofTrail trail = ProofTrail.fromHashes(header, hashes);
        Map<Integer, float[]> cache = new ConcurrentHashMap<>();
        UpdateVerifier.CheckpointStore checkpoints = new UpdateVerifier.CheckpointStore() {
            @Override
            public float[] load(int i) {
                if (i >= manifest.checkpointUris().size() || manifest.checkpointUris().get(i) == null) {
                    return null;
                }
                return cache.computeIfAbsent(i, k -> flatten(ModelState.decode(store.get(manifest.checkpointUris().get(k)), "checkpoint " + k)));
            }

            @Override
            public String uri(int i) {
                return i < manifest.checkpointUris().size() ? manifest.checkpointUris().get(i) : null;
            }
        };
        Map<Integer, ReexecResult> results = new ConcurrentHashMap<>();
        UpdateVerifier.SegmentExecutor executor = (start, i) -> {
            ReexecResult r = reexecuteReliably(task, manifest, i);
            results.put(i, r);
            byte[] committed = hashes.get(i + 1);
            if (r.error() == null && r.endHash() != null && Arrays.equals(Hashes.fromHex(r.endHash()), committed)) {
                return checkpoints.load(i + 1) != null ? checkpoints.load(i + 1) : flatten(update);
            }
            float[] differs = start.clone();
            differs[0] = Float.NaN; // the re-executor reached another state; its hash goes into the evidence below
            return differs;
        };
        byte[] laterBlock = Hashes.keccak(submissionHashBytes(s), Hashes.u64(System.nanoTime())); // unknown to the worker at submission
        UpdateVerifier.Submission vs = new UpdateVerifier.Submission(header, submissionHashBytes(s), flatten(update), s.updateUri(),
                trail, checkpoints);
        UpdateVerifier.Outcome o;
        try {
            o = verifier.verify(vs, global, global, null, laterBlock, executor, Instant.now());
        } catch (Inconclusive e) {
            progress.accept("verification of " + s.taskId() + " inconclusive (" + e.getMessage() + "): left out of this round, not paid, not slashed");
            return new Verified(s, null, update, 0);
        }
        Verdict v = o.verdict();
        if (!v.accepted() && v.evidence() != null && results.containsKey(v.evidence().segmentIndex())) {
            ReexecResult r = results.get(v.evidence().segmentIndex());
            Evidence e = v.evidence();
            List<String> uris = new ArrayList<>(e.artifactUris());
            uris.add(ArtifactStore.reexecKey(r.reexecId()));
            v = new Verdict(v.taskId(), v.submissionHash(), false, v.reason(), v.flags(), v.sampledSegments(), v.reexecutedSegments(),
                    v.comparison(), v.calibration(), new Evidence(e.segmentIndex(), e.expectedHash(),
                    r.error() != null ? "error: " + r.error() : r.endHash(), uris, e.distance(), e.threshold(),
                    "segment " + e.segmentIndex() + " re-executed by " + shortAddr(r.worker()) + " ends at "
                            + (r.endHash() == null ? "(no hash)" : r.endHash().substring(0, 12) + "…") + ", the trail commits "
                            + e.expectedHash().substring(0, 12) + "…"), v.decidedAtEpochSecond());
        }
        return new Verified(s, v, update, (long) o.reexecutedSegments() * task.checkpointEvery());
    }

    /** Thrown when no re-executor could run a segment: no verdict either way, so nobody is paid or slashed for it. */
    static final class Inconclusive extends RuntimeException {
        Inconclusive(String message) {
            super(message);
        }
    }

    /**
     * A re-executor's own failure (its error, not a different hash) is not evidence against the submitter: the
     * segment goes to another re-execution, and after four failures the update is left out, unpaid and unslashed.
     */
    private ReexecResult reexecuteReliably(TrainTask task, TrailManifest manifest, int segment) {
        ReexecResult last = null;
        for (int attempt = 0; attempt < 4; attempt++) {
            last = reexecute(task, manifest, segment, attempt);
            if (last.error() == null && last.endHash() != null) {
                return last;
            }
            if (last.error() != null && (last.error().contains("hashes to") || last.error().contains("holds the state after"))) {
                return last; // the committed start checkpoint is not what the trail says it is: evidence against the trail
            }
        }
        throw new Inconclusive("segment " + segment + " of " + task.taskId() + " could not be re-executed: " + last.error());
    }

    private ReexecResult reexecute(TrainTask task, TrailManifest manifest, int segment, int attempt) {
        String id = task.taskId() + "-seg" + segment + (attempt == 0 ? "" : "-retry" + attempt);
        ReexecTask r = new ReexecTask(id, task, segment, segment * task.checkpointEvery(), task.checkpointEvery(),
                manifest.checkpointUris().get(segment), manifest.checkpointHashes().get(segment), null, null);
        sqs.sendMessage(b -> b.queueUrl(reexecQueue).messageBody(write(r)));
        Instant until = Instant.now().plus(cfg.reexecTimeout());
        while (Instant.now().isBefore(until)) {
            Optional<ReexecResult> got = store.getJson(ArtifactStore.reexecKey(id), ReexecResult.class);
            if (got.isPresent()) {
                return got.get();
            }
            sleep(200);
        }
        return new ReexecResult(id, task.taskId(), segment, null, null, null, null, cfg.reexecTimeout().toMillis(), 0,
                "no worker re-executed it within " + cfg.reexecTimeout().toSeconds() + " s");
    }

    double accuracy(ModelState state) {
        try (TrainingSession s = TrainingSession.open(spec, 500, state.withoutVelocity(), null, 0.01, 0, 0)) {
            return s.accuracy(testData, 500);
        }
    }

    static float[] flatten(ModelState s) {
        return s.flat();
    }

    static ModelState unflatten(float[] flat, ModelState template) {
        return template.withFlat(flat);
    }

    static String submissionHash(Submission s) {
        return Hashes.hex(submissionHashBytes(s));
    }

    static byte[] submissionHashBytes(Submission s) {
        return Hashes.keccak(s.taskId().getBytes(java.nio.charset.StandardCharsets.UTF_8), Hashes.fromHex(s.updateHash()),
                Hashes.fromHex(s.proofRoot()), Hashes.fromHex(s.signature()));
    }

    static String shortAddr(String a) {
        return a == null || a.length() < 10 ? String.valueOf(a) : a.substring(0, 8) + "…";
    }

    private static String write(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }


}
