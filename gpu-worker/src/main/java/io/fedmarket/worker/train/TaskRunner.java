package io.fedmarket.worker.train;

import io.fedmarket.fl.model.ModelState;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.fl.proof.ProofTrail;
import io.fedmarket.fl.proof.TrailHeader;
import io.fedmarket.messages.Submission;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.pol.ProofTrails;
import io.fedmarket.pol.SubmissionSigner;
import io.fedmarket.pol.TrailManifest;
import io.fedmarket.worker.model.ModelSpec;
import io.fedmarket.worker.store.ArtifactStore;
import io.fedmarket.worker.store.TaskProgress;
import org.web3j.crypto.Credentials;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * Trains one task with its proof trail: resumes from the task's last durable checkpoint if a
 * previous worker got that far, hashes the parameters every k steps, uploads each checkpoint
 * (parameters + momentum) content-addressed in the background and records progress after it,
 * applies client-side DP to the final update when asked, uploads update and trail manifest, and
 * returns the signed submission. Stops at the next step when {@code stop} turns true, leaving a
 * checkpoint of exactly that step.
 */
public final class TaskRunner {
    public sealed interface Outcome permits Completed, Interrupted {
    }

    public record Completed(Submission submission, TrailManifest trail, int resumedFromStep, Stats stats) implements Outcome {
    }

    public record Interrupted(int step, String checkpointUri) implements Outcome {
    }

    /** Where the time went (nanoseconds): pure SGD steps, trail work on the training thread, everything. */
    public record Stats(long stepNanos, long trailNanos, long totalNanos, int stepsRun) {
    }


    private final ArtifactStore store;
    private final Credentials key;
    private final SubmissionSigner signer;
    private final String workerName;
    private final Fault fault;
    private final CheckpointHold hold;

    public TaskRunner(ArtifactStore store, Credentials key, SubmissionSigner signer, String workerName, Fault fault) {
        this(store, key, signer, workerName, fault, CheckpointHold.NONE);
    }

    public TaskRunner(ArtifactStore store, Credentials key, SubmissionSigner signer, String workerName, Fault fault, CheckpointHold hold) {
        this.store = store;
        this.key = key;
        this.signer = signer;
        this.workerName = workerName;
        this.fault = fault == null ? Fault.NONE : fault;
        this.hold = hold == null ? CheckpointHold.NONE : hold;
    }

    private io.fedmarket.worker.data.local.LocalShards local = io.fedmarket.worker.data.local.LocalShards.NONE;

    /** The private data sets this worker holds (tasks of private data train from here). */
    public TaskRunner localData(io.fedmarket.worker.data.local.LocalShards l) {
        this.local = l == null ? io.fedmarket.worker.data.local.LocalShards.NONE : l;
        return this;
    }

    public io.fedmarket.worker.data.local.LocalShards localData() {
        return local;
    }

    public Fault fault() {
        return fault;
    }

    public String workerAddress() {
        return key.getAddress();
    }

    /** The model a task starts from: the round's global model (hash checked) or the seeded initialisation. */
    public ModelState globalModel(TrainTask t, ModelSpec spec) {
        if (t.globalModelUri() == null) {
            return TrainingSession.initialState(spec, t.seed());
        }
        ModelState g = ModelState.decode(store.getVerified(t.globalModelUri()), t.globalModelUri()).withoutVelocity();
        String h = Hashes.hex(g.paramsHash());
        if (!h.equalsIgnoreCase(t.globalModelHash())) {
            throw new IllegalArgumentException("task " + t.taskId() + ": global model " + t.globalModelUri() + " hashes to " + h
                    + ", the task says " + t.globalModelHash());
        }
        return new ModelState(g.names(), g.shapes(), g.params(), null, 0);
    }

    public Outcome run(TrainTask task, BooleanSupplier stop) {
        Fault fault = this.fault;
        ModelState copied = null;
        if (fault.kind().equals("scaled-copy")) {
            // a copier has nothing to copy before some other worker's update of an earlier round exists: it trains honestly
            // until then (and is not caught for what it did not do), then submits a scaled copy instead of training
            ModelSpec sp = ModelSpec.parse(task.validate().modelSpec());
            copied = fault.scaledCopy(store, task, globalModel(task, sp), key.getAddress()).orElse(null);
            if (copied == null) {
                fault = Fault.NONE;
            }
        }
        return run(task, stop, fault, copied);
    }

    private Outcome run(TrainTask task, BooleanSupplier stop, Fault fault, ModelState copiedUpdate) {
        long tStart = System.nanoTime();
        task.validate();
        ModelSpec spec = ModelSpec.parse(task.modelSpec());
        ShardResolver.Shard shard = ShardResolver.resolve(task, local);
        // the shard trained on; only the wrong-shard fault trains on another one while claiming this one
        ShardResolver.Shard trainOn = fault.trainingShard(task, shard);
        int steps = ShardResolver.steps(task, shard);
        int k = task.checkpointEvery();
        if (steps % k != 0) {
            throw new IllegalArgumentException("task " + task.taskId() + ": " + steps + " steps is not a multiple of k=" + k);
        }
        Engines.useThreads(fault.trainingThreads(task.threads()));
        // what the manifest and submission report: the nondeterministic fault trains with other threads than it says
        int reportedThreads = fault.kind().equals("nondeterministic") ? task.threads() : Engines.threads();
        BatchPlan plan = new BatchPlan(trainOn.indices(), task.batchSize(), task.seed());
        ModelState global = globalModel(task, spec);
        byte[] h0 = global.paramsHash();
        // everything this worker commits to lives under its own prefix (only it may write there: IAM on AWS, the convention on
        // the local stack), so a checkpoint its signed manifest names is its own doing, and nobody else's is taken for it
        String own = SubmissionSigner.workerPrefix(key.getAddress());

        List<String> hashes = new ArrayList<>();
        List<String> uris = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        ModelState start = global;
        long prevTrainMillis = 0;
        int resumedFrom = 0;
        Optional<TaskProgress> progress = store.getJson(ArtifactStore.progressKey(task.taskId()), TaskProgress.class);
        List<String> resumedUris = progress.isPresent() && progress.get().latestUri() != null && !fault.cheats()
                ? adopt(task, progress.get(), own, k) : null;
        int adopted = 0; // steps this worker did not train itself (another worker's progress resumed)
        if (resumedUris != null) {
            TaskProgress p = progress.get();
            ModelState ck = ModelState.decode(store.getVerified(p.latestUri()), p.latestUri());
            if (!Hashes.hex(ck.stateHash()).equalsIgnoreCase(p.latestHash()) || ck.step() != p.latestStep()) {
                throw new IllegalStateException("task " + task.taskId() + ": progress says step " + p.latestStep() + " hash "
                        + p.latestHash() + " but " + p.latestUri() + " holds step " + ck.step());
            }
            start = ck;
            resumedFrom = ck.step();
            adopted = Math.max(p.adoptedSteps() == null ? 0 : p.adoptedSteps(), p.latestUri().startsWith(own) ? 0 : resumedFrom);
            hashes.addAll(p.checkpointHashes());
            uris.addAll(resumedUris);
            losses.addAll(p.segmentLosses());
            prevTrainMillis = p.trainMillis();
        } else {
            ModelState zero = new ModelState(global.names(), global.shapes(), global.params(), null, 0);
            String uri = store.putContent(own + "checkpoints", "ckpt", zero.encode());
            hashes.add(Hashes.hex(zero.stateHash()));
            uris.add(uri);
        }
        Integer adoptedSteps = adopted > 0 ? adopted : null;
        Stats stats;
        ModelState last;
        ExecutorService uploader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "checkpoint-upload-" + task.taskId());
            t.setDaemon(true);
            return t;
        });
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        long stepNanos = 0;
        long trailNanos = 0;
        int ran = 0;
        boolean held = false;
        long trainedAtMs;
        // a warm session of this worker's (reset to the start state) when one fits: training and re-execution share them
        TrainingSession s = WarmSessions.open(spec, task.batchSize(), start, global, task.lr(), task.momentum(), task.proxMu());
        boolean reusable = false;
        try {
            int limit = fault.trainedSteps(steps, k);
            double lossSum = 0;
            int lossN = 0;
            for (int st = s.currentStep(); st < limit; st++) {
                if (stop.getAsBoolean()) {
                    chain.join();
                    ModelState here = s.snapshot(true);
                    String uri = store.putContent(own + "checkpoints", "ckpt", here.encode());
                    store.putJson(ArtifactStore.progressKey(task.taskId()), new TaskProgress(task.taskId(), workerName, st, uri,
                            Hashes.hex(here.stateHash()), hashes, uris, losses,
                            prevTrainMillis + stepNanos / 1_000_000, Instant.now().getEpochSecond(), adoptedSteps));
                    uploader.shutdown();
                    reusable = true;
                    return new Interrupted(st, uri);
                }
                fault.maybeCrash(st);
                long a = System.nanoTime();
                float loss = s.step(trainOn.data(), plan.batch(st));
                fault.afterStep();
                long b = System.nanoTime();
                stepNanos += b - a;
                ran++;
                lossSum += loss;
                lossN++;
                if ((st + 1) % k == 0) {
                    ModelState snap = fault.reported(s.snapshot(true));
                    String h = Hashes.hex(snap.stateHash()); // parameters (batch-norm statistics included), momentum and step: the whole state re-execution starts from
                    hashes.add(h);
                    losses.add(lossSum / lossN);
                    lossSum = 0;
                    lossN = 0;
                    List<String> hs = List.copyOf(hashes);
                    List<Double> ls = List.copyOf(losses);
                    int uriIndex;
                    synchronized (uris) {
                        uriIndex = uris.size();
                        uris.add(null);
                    }
                    long trainSoFar = prevTrainMillis + stepNanos / 1_000_000;
                    int stepDone = st + 1;
                    trailNanos += System.nanoTime() - b;
                    chain = chain.thenRunAsync(() -> {
                        String uri = store.putContent(own + "checkpoints", "ckpt", snap.encode());
                        synchronized (uris) {
                            uris.set(uriIndex, uri);
                        }
                        List<String> us;
                        synchronized (uris) {
                            // later checkpoints may already have placeholders: record only this one and earlier
                            us = List.copyOf(uris.subList(0, uriIndex + 1));
                        }
                        store.putJson(ArtifactStore.progressKey(task.taskId()), new TaskProgress(task.taskId(), workerName,
                                stepDone, uri, h, hs, us, ls, trainSoFar, Instant.now().getEpochSecond(), adoptedSteps));
                    }, uploader);
                    if (!held && hold.applies(task)) {
                        held = true;
                        chain.join(); // the progress record of this checkpoint is in the bucket before the pause
                        hold.await(task, stepDone);
                    }
                }
            }
            trainedAtMs = System.currentTimeMillis(); // training done: what follows is the upload of its results
            chain.join();
            last = fault.reported(s.snapshot(false));
            reusable = true;
        } finally {
            uploader.shutdownNow();
            if (reusable) {
                WarmSessions.release(s);
            } else {
                s.close();
            }
        }
        long trainMillis = prevTrainMillis + stepNanos / 1_000_000;
        stats = new Stats(stepNanos, trailNanos, 0, ran);

        // fault injection (demo cheaters): a trail that does not come from training
        if (fault.fabricates()) {
            last = fault.forge(global, last, copiedUpdate, hashes, losses, steps, k, task.seed());
            while (uris.size() < hashes.size()) {
                uris.add(uris.get(uris.size() - 1));
            }
        }
        fault.forgeIntermediateHashes(hashes, task.seed());
        ModelState update = last.withoutVelocity();
        Long dpSeed = null;
        if (task.dpClip() != null) {
            dpSeed = io.fedmarket.fl.privacy.ClientDp.noiseSeed(task.seed());
            update = privatize(global, update, task.dpClip(), task.dpNoiseMultiplier(), dpSeed);
        }
        byte[] updateHash = update.paramsHash();
        String updateUri = store.putContent(own + "updates", "ckpt", update.encode());
        List<byte[]> hashBytes = hashes.stream().map(Hashes::fromHex32).toList();
        byte[] proofRoot = ProofTrails.proofRoot(hashBytes);
        ProofTrail chainTrail = ProofTrails.chain(new TrailHeader(task.taskId(), h0, shard.commitment(), task.seed(), steps, k),
                hashBytes);
        TrailManifest manifest = new TrailManifest(task.taskId(), Hashes.hex(h0), Hashes.hex(shard.commitment()), task.seed(), steps, k,
                Engines.description(), reportedThreads, Engines.interopThreads(), List.copyOf(hashes), List.copyOf(uris),
                Hashes.hex(proofRoot), Hashes.hex(chainTrail.commitment()), Hashes.hex(updateHash), updateUri, dpSeed,
                List.copyOf(losses), adoptedSteps);
        String trailUri = ArtifactStore.trailKey(key.getAddress(), task.taskId());
        byte[] manifestFile;
        try {
            manifestFile = ArtifactStore.JSON.writeValueAsBytes(manifest);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        store.put(trailUri, manifestFile, "application/json");
        // the manifest as stored, signed: where the checkpoints are is the worker's word as much as what they hash to
        byte[] manifestHash = SubmissionSigner.manifestHash(manifestFile);
        byte[] trailSig = signer.signTrail(key, ProofTrails.taskKey(task.taskId()), manifestHash);
        long gpuSeconds = Math.max(1, (trainMillis + 999) / 1000);
        if (task.budgetSeconds() > 0) {
            gpuSeconds = Math.min(gpuSeconds, task.budgetSeconds());
        }
        byte[] sig = signer.sign(key, ProofTrails.taskKey(task.taskId()), updateHash, proofRoot, steps, gpuSeconds);
        double meanLoss = losses.isEmpty() ? Double.NaN : losses.get(losses.size() - 1);
        Submission sub = new Submission(task.taskId(), task.jobId(), task.round(), key.getAddress(), updateUri, Hashes.hex(updateHash),
                Hashes.hex(proofRoot), trailUri, steps, k, gpuSeconds, trainMillis, shard.indices().length, meanLoss, reportedThreads,
                Hashes.hex(sig), Instant.now().getEpochSecond(), Hashes.hex(manifestHash), Hashes.hex(trailSig),
                new Submission.Timings(0, trainedAtMs, 0));
        stats = new Stats(stats.stepNanos(), stats.trailNanos(), System.nanoTime() - tStart, stats.stepsRun());
        return new Completed(sub, manifest, resumedFrom, stats);
    }

    /**
     * The checkpoints of a task's progress (perhaps another worker's, interrupted) copied under this worker's own prefix,
     * each checked against the hash the progress commits and to be the state after i·k steps, so the trail this worker signs
     * names only objects it wrote itself; null (train from the start) when any of them is missing or is not what the progress
     * says. What another worker trained is not re-executed here: the trail says how many steps were adopted, and a mismatch
     * there is not held against this worker.
     */
    private List<String> adopt(TrainTask task, TaskProgress p, String own, int k) {
        if (p.checkpointUris() == null || p.checkpointHashes() == null || p.checkpointUris().size() != p.checkpointHashes().size()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        try {
            for (int i = 0; i < p.checkpointUris().size(); i++) {
                String uri = p.checkpointUris().get(i);
                byte[] b = store.getVerified(uri);
                ModelState st = ModelState.decode(b, uri);
                if (!Hashes.hex(st.stateHash()).equalsIgnoreCase(p.checkpointHashes().get(i)) || st.step() != i * k) {
                    System.err.println("task " + task.taskId() + ": progress checkpoint " + i + " (" + uri + ") is not the state it commits: training from the start");
                    return null;
                }
                out.add(uri.startsWith(own) ? uri : store.putContent(own + "checkpoints", "ckpt", b));
            }
        } catch (RuntimeException e) {
            System.err.println("task " + task.taskId() + ": progress not resumable (" + e.getMessage() + "): training from the start");
            return null;
        }
        return out;
    }

    /** DP-FedAvg client side: clip the update Δ to L2 ≤ C, add N(0, (σC)²) per coordinate (shared's replayable ClientDp). */
    static ModelState privatize(ModelState global, ModelState trained, double clip, double sigma, long seed) {
        return io.fedmarket.fl.privacy.ClientDp.privatize(global, trained, clip, sigma, seed);
    }

    static double gaussian(SplittableRandom rnd) {
        return io.fedmarket.fl.privacy.ClientDp.gaussian(rnd);
    }
}
