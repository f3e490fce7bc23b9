package io.fedmarket.worker.train;

import io.fedmarket.fl.model.ModelState;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.messages.Submission;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.pol.TrailManifest;
import io.fedmarket.worker.store.ArtifactStore;

import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * FAULT INJECTION for demos and integrity tests, never for production: makes this worker a
 * cheater, a crash or an honest but awkward worker. Chosen by {@code FEDMARKET_FAULT} (see
 * {@link #parse}). A cheating worker still signs its submission, so the verifier has to catch it
 * from the trail; a cheater never resumes another worker's checkpoint.
 * <p>Cheaters ({@link #cheats()}):
 * <ul>
 *   <li>{@code free-ride}: trains nothing, returns the global model unchanged, every checkpoint hash = h_0</li>
 *   <li>{@code noise}: trains nothing, returns the global model plus Gaussian noise, random checkpoint hashes</li>
 *   <li>{@code partial:F}: trains the first fraction F of the segments honestly, extrapolates the rest
 *       linearly and hashes the made-up checkpoints</li>
 *   <li>{@code scaled-copy}: trains nothing; takes another worker's submission of the previous round of the same
 *       job from the bucket, submits global + s·(their update − their start) with s ∈ [0.8, 1.2] drawn from the task
 *       seed, and a made-up trail interpolating global → that forgery. With nothing to copy (the job's first
 *       round) it behaves like {@code noise}</li>
 *   <li>{@code forged-trail}: trains honestly and uploads the real checkpoints, but reports random 32-byte hashes
 *       for every intermediate checkpoint (not the first, not the last), so hashes and artifacts disagree</li>
 *   <li>{@code wrong-shard}: trains honestly on another client's shard ((client + 1) mod clients of the same data
 *       set, partition and partition seed) while the trail header and manifest claim the task's own shard
 *       commitment (with a single client it is the same shard, and the worker is honest)</li>
 *   <li>{@code fake-buffers}: trains honestly, but every checkpoint and the update it commits carry made-up batch-norm
 *       running statistics (the initial mean 0 and variance 1, as a worker that skipped them would report): the weights
 *       are the honest ones bit for bit, only the buffers are not (with a model without batch norm it is honest)</li>
 * </ul>
 * Honest ones:
 * <ul>
 *   <li>{@code crash-after:N}: halts the JVM (like a kill -9) before step N</li>
 *   <li>{@code refuse-reveal}: trains its private shard honestly, but never reveals a drawn segment's samples to the
 *       re-executor: its update cannot be verified, so it is left out unpaid (not slashed)</li>
 *   <li>{@code slow:MS}: a straggler, sleeps MS milliseconds after every step (counted as step time, as on a
 *       slower device)</li>
 *   <li>{@code nondeterministic}: trains with task.threads + 1 intra-op threads but reports task.threads in its
 *       trail manifest and submission: on CPU the closest stand-in for a GPU's non-deterministic kernels; the
 *       work is honest, but bit-exact re-execution with task.threads does not reproduce it. Measured by the
 *       on-demand {@code NondeterminismCalibration} test (DJL 0.36 / PyTorch 2.7.1 CPU, 2 cores, {@code mlp}
 *       784-128-10, batch 64, SGD lr 0.01, momentum 0.9, Fashion-MNIST, 8 consecutive segments per row, each
 *       re-executed from the committed checkpoint with the other thread count; identical across JVM runs): the
 *       relative L2 distance ‖reexec − committed‖ / ‖reexec − start‖ per segment is
 *       <ul>
 *         <li>k = 3: 8.4e-9 … 6.2e-8 (median 3.6e-8) from step 0; from step 600 five of eight segments are
 *             bit-exact and the rest reach 1.1e-7</li>
 *         <li>k = 20: 7.0e-8 … 3.5e-7 (median 2.6e-7) from step 0, 1.0e-7 … 4.9e-7 (median 3.6e-7) from step 600</li>
 *         <li>the other way round (committed with 1 thread, re-executed with 2) the same order, largest 9.4e-7;
 *             the same thread count on both sides: always 0</li>
 *       </ul>
 *       So the distance grows with the segment length (median ~4e-8 for 3 steps, ~3e-7 for 20), stays below 1e-6,
 *       and short segments are sometimes bit-exact by chance. For comparison, {@code wrong-shard} (honest SGD on
 *       another IID shard) scores about 0.2 on a 20-step segment ({@code FaultInjectionTest}).</li>
 * </ul>
 */
public record Fault(String kind, double fraction, int crashStep, long sleepMillis) {
    public static final Fault NONE = new Fault("none", 1, -1, 0);

    private static final String USAGE = "free-ride, noise, partial:F (0<F<1), scaled-copy, forged-trail, wrong-shard, fake-buffers, "
            + "slow:MS, nondeterministic, lying-verifier, refuse-reveal or crash-after:N";

    public static Fault parse(String text) {
        if (text == null || text.isBlank() || text.equals("none")) {
            return NONE;
        }
        try {
            switch (text) {
                case "free-ride", "noise", "scaled-copy", "forged-trail", "fake-buffers" -> {
                    return new Fault(text, 0, -1, 0);
                }
                case "wrong-shard", "nondeterministic", "lying-verifier", "refuse-reveal" -> {
                    return new Fault(text, 1, -1, 0);
                }
                default -> {
                }
            }
            if (text.startsWith("partial:")) {
                double f = Double.parseDouble(text.substring(8));
                if (f <= 0 || f >= 1) {
                    throw new NumberFormatException();
                }
                return new Fault("partial", f, -1, 0);
            }
            if (text.startsWith("crash-after:")) {
                return new Fault("crash-after", 1, Integer.parseInt(text.substring(12)), 0);
            }
            if (text.startsWith("slow:")) {
                long ms = Long.parseLong(text.substring(5));
                if (ms < 0) {
                    throw new NumberFormatException();
                }
                return new Fault("slow", 1, -1, ms);
            }
        } catch (NumberFormatException e) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("unknown FEDMARKET_FAULT '" + text + "': use " + USAGE);
    }

    /** A cheater's submission is not the honest result of its task; a cheater never resumes a checkpoint. */
    boolean cheats() {
        return switch (kind) {
            case "free-ride", "noise", "partial", "scaled-copy", "forged-trail", "wrong-shard", "fake-buffers" -> true;
            default -> false;
        };
    }

    /**
     * The state this worker commits for what it trained: the state itself, except for {@code fake-buffers}, whose
     * batch-norm running statistics are replaced by their initial values (mean 0, variance 1); weights and momentum unchanged.
     */
    io.fedmarket.fl.model.ModelState reported(io.fedmarket.fl.model.ModelState s) {
        if (!kind.equals("fake-buffers")) {
            return s;
        }
        float[][] p = s.params().clone();
        for (int i = 0; i < p.length; i++) {
            String n = s.names().get(i);
            if (io.fedmarket.fl.model.ModelLayouts.isBuffer(n)) {
                p[i] = new float[p[i].length];
                if (n.endsWith("_runningVar")) {
                    java.util.Arrays.fill(p[i], 1f);
                }
            }
        }
        return new io.fedmarket.fl.model.ModelState(s.names(), s.shapes(), p, s.velocity(), s.step());
    }

    /** Whether the end of the trail (and the update) is made up by {@link #forge} rather than trained. */
    boolean fabricates() {
        return switch (kind) {
            case "free-ride", "noise", "partial", "scaled-copy" -> true;
            default -> false;
        };
    }

    /**
     * {@code lying-verifier}: trains its own tasks honestly but, re-executing somebody else's segment, signs a made-up end
     * hash, as a verifier trying to get an honest competitor slashed would. The marketplace must never reject on one word.
     */
    public boolean liesAsVerifier() {
        return kind.equals("lying-verifier");
    }

    /** {@code refuse-reveal}: a data owner's worker that trains its private shard honestly but never reveals a drawn segment. */
    public boolean refusesReveals() {
        return kind.equals("refuse-reveal");
    }

    int trainedSteps(int steps, int k) {
        return switch (kind) {
            case "free-ride", "noise", "scaled-copy" -> 0;
            case "partial" -> Math.max(1, (int) (steps / k * fraction)) * k;
            default -> steps;
        };
    }

    /** Intra-op threads to train with: the task's, except for {@code nondeterministic}. */
    int trainingThreads(int taskThreads) {
        return kind.equals("nondeterministic") ? taskThreads + 1 : taskThreads;
    }

    /** The shard trained on: the task's own, except for {@code wrong-shard} (the next client's, no commitment check). */
    ShardResolver.Shard trainingShard(TrainTask t, ShardResolver.Shard own) {
        if (kind.equals("wrong-shard") && t.isPrivate()) {
            // a private shard has no other client to take: the samples trained on are the held ones with every label moved
            // to the next class (other data than the committed set, as a worker that trains on something else would)
            io.fedmarket.worker.data.ImageData d = own.data();
            int classes = io.fedmarket.messages.DataSource.classes(t.dataset()).getAsInt();
            int[] moved = new int[d.labels().length];
            for (int i = 0; i < moved.length; i++) {
                moved[i] = (d.labels()[i] + 1) % classes;
            }
            return new ShardResolver.Shard(new io.fedmarket.worker.data.ImageData(d.name() + "-relabelled", d.pixels(), moved, d.rows(), d.cols(), d.floats()),
                    own.indices(), own.commitment());
        }
        if (!kind.equals("wrong-shard") || t.clients() < 2) {
            return own;
        }
        TrainTask other = new TrainTask(t.taskId(), t.jobId(), t.round(), t.modelSpec(), t.globalModelUri(), t.globalModelHash(),
                t.dataset(), t.partition(), t.clients(), (t.client() + 1) % t.clients(), t.partitionSeed(), null, t.seed(), t.lr(),
                t.momentum(), t.proxMu(), t.batchSize(), t.epochs(), t.steps(), t.checkpointEvery(), t.threads(), t.dpClip(),
                t.dpNoiseMultiplier(), t.budgetSeconds(), t.deadlineEpochSeconds());
        return ShardResolver.resolve(other);
    }

    void maybeCrash(int step) {
        if (crashStep >= 0 && step >= crashStep) {
            System.err.println("FAULT INJECTION crash-after:" + crashStep + ": halting at step " + step);
            Runtime.getRuntime().halt(137);
        }
    }

    /** {@code slow:MS}: the pause after a step. */
    void afterStep() {
        if (sleepMillis > 0) {
            try {
                Thread.sleep(sleepMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {@code forged-trail}: every intermediate checkpoint hash (1 … n−1) replaced by 32 random bytes. */
    void forgeIntermediateHashes(List<String> hashes, long seed) {
        if (!kind.equals("forged-trail")) {
            return;
        }
        SplittableRandom rnd = new SplittableRandom(seed ^ 0xF0F6EDL);
        for (int i = 1; i < hashes.size() - 1; i++) {
            byte[] b = new byte[32];
            for (int j = 0; j < b.length; j += 8) {
                long v = rnd.nextLong();
                for (int q = 0; q < 8; q++) {
                    b[j + q] = (byte) (v >>> (8 * q));
                }
            }
            hashes.set(i, Hashes.hex(b));
        }
    }

    /** {@code scaled-copy}: the scale s ∈ [0.8, 1.2] of the copied delta, from the task seed. */
    static double copyScale(long seed) {
        return 0.8 + 0.4 * new SplittableRandom(seed ^ 0x5CA1EDC0L).nextDouble();
    }

    /**
     * {@code scaled-copy}: global + s·(their update − their start) for the first submission (in key order) under
     * {@code submissions/} of the same job, the previous round and another worker whose artifacts fit this model;
     * empty when there is none.
     */
    Optional<ModelState> scaledCopy(ArtifactStore store, TrainTask task, ModelState global, String self) {
        if (task.jobId() == null || task.round() < 1) {
            return Optional.empty();
        }
        double s = copyScale(task.seed());
        for (String key : store.list("submissions/")) {
            if (!key.endsWith(".json")) {
                continue;
            }
            try {
                Optional<Submission> o = store.getJson(key, Submission.class);
                if (o.isEmpty()) {
                    continue;
                }
                Submission sub = o.get();
                if (!task.jobId().equals(sub.jobId()) || sub.round() != task.round() - 1 || sub.worker() == null
                        || sub.worker().equalsIgnoreCase(self) || sub.updateUri() == null || sub.trailUri() == null) {
                    continue;
                }
                Optional<TrailManifest> m = store.getJson(sub.trailUri(), TrailManifest.class);
                if (m.isEmpty() || m.get().checkpointUris() == null || m.get().checkpointUris().isEmpty()) {
                    continue;
                }
                String startUri = m.get().checkpointUris().get(0);
                ModelState theirStart = ModelState.decode(store.getVerified(startUri), startUri);
                ModelState theirUpdate = ModelState.decode(store.getVerified(sub.updateUri()), sub.updateUri());
                if (!fits(theirStart, global) || !fits(theirUpdate, global)) {
                    continue;
                }
                float[][] out = new float[global.params().length][];
                for (int i = 0; i < out.length; i++) {
                    out[i] = new float[global.params()[i].length];
                    for (int j = 0; j < out[i].length; j++) {
                        out[i][j] = (float) (global.params()[i][j] + s * (theirUpdate.params()[i][j] - theirStart.params()[i][j]));
                    }
                }
                System.err.println("FAULT INJECTION scaled-copy: submitting " + String.format("%.3f", s) + " × the delta of "
                        + sub.taskId() + " by " + sub.worker());
                return Optional.of(new ModelState(global.names(), global.shapes(), out, null, 0));
            } catch (RuntimeException e) {
                // a candidate with missing or corrupt artifacts: try the next one
            }
        }
        return Optional.empty();
    }

    private static boolean fits(ModelState m, ModelState like) {
        if (m.params().length != like.params().length) {
            return false;
        }
        for (int i = 0; i < m.params().length; i++) {
            if (m.params()[i].length != like.params()[i].length) {
                return false;
            }
        }
        return true;
    }

    /**
     * Fills the trail up to {@code steps} with made-up checkpoints and returns the forged final model.
     *
     * @param copied for {@code scaled-copy}, the forgery the trail leads to (null: nothing to copy, noise instead)
     */
    ModelState forge(ModelState global, ModelState trained, ModelState copied, List<String> hashes, List<Double> losses, int steps,
                     int k, long seed) {
        int segments = steps / k;
        SplittableRandom rnd = new SplittableRandom(seed ^ 0xBADL);
        String how = kind.equals("scaled-copy") && copied == null ? "noise" : kind;
        float[][] out = new float[global.params().length][];
        int done = hashes.size() - 1;
        for (int seg = done + 1; seg <= segments; seg++) {
            float[][] p = new float[global.params().length][];
            for (int i = 0; i < p.length; i++) {
                p[i] = new float[global.params()[i].length];
                for (int j = 0; j < p[i].length; j++) {
                    float g = global.params()[i][j];
                    float t = trained.params()[i][j];
                    p[i][j] = switch (how) {
                        case "free-ride" -> g;
                        case "noise" -> (float) (g + TaskRunner.gaussian(rnd) * 0.01);
                        case "scaled-copy" -> seg == segments ? copied.params()[i][j]
                                : g + (copied.params()[i][j] - g) * seg / segments;
                        default -> t + (t - g) * (seg - done) / Math.max(1, done);
                    };
                }
            }
            ModelState m = new ModelState(global.names(), global.shapes(), p, null, seg * k);
            hashes.add(Hashes.hex(m.stateHash()));
            losses.add(losses.isEmpty() ? 2.3 : losses.get(losses.size() - 1));
            out = p;
        }
        return new ModelState(global.names(), global.shapes(), out, null, steps);
    }
}
