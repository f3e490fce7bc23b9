package io.fedmarket.fl.job;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.fl.privacy.RdpAccountant;
import io.fedmarket.fl.verify.DetectionPlanner;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * How every task of a job is built and checked, fixed when the job is matched (stored with the job as JSON) so that
 * the functions that publish rounds, verify submissions and judge re-executions all read the same numbers.
 *
 * <p>Training: the model the workers build ({@link #modelSpec}: a catalogue spec with the intent's input shape and
 * classes, e.g. {@code mlp}, {@code cnn} or {@code resnet:20;input=3x32x32;classes=5}, see {@link #modelSpecFor}), SGD with momentum, batch size, local steps per task (the intent's local epochs over
 * each shard, or a fixed {@link #localSteps}), the intra-op thread count every worker must use (bit-exact
 * re-execution needs the same), FedProx's μ, client-side DP (clip, noise multiplier from the intent's ε, δ).
 *
 * <p>Verification: a task's trail has {@link TaskShape#segments()} segments; {@link TaskShape#q()} of them, drawn after
 * the submission is recorded, are re-executed by another worker. q is the smallest number that catches a worker who
 * faked at least {@link #fakedFraction} of its segments with probability {@link #targetDetection}
 * ({@link DetectionPlanner}); the segment count is chosen so that q segments are at most {@link #maxReexecShare} of the
 * task's steps (when the task has too few steps for that, every step is a segment and the share is higher: the
 * job's explanation says so). Comparison: {@code bit-exact} (deterministic kernels, verified for DJL/PyTorch CPU) or
 * {@code tolerance} (relative L2 distance ≤ {@link #tolerance}, calibrated for non-deterministic kernels).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record JobPlan(String modelSpec, int batchSize, double lr, double momentum, double proxMu, int localEpochs,
                      Integer localSteps, int threads, double targetDetection, double fakedFraction, double maxReexecShare,
                      String comparison, Double tolerance, Double dpClip, Double dpNoiseMultiplier, long seed,
                      String aggregation, int rounds, long roundSeconds, Integer minUpdates, java.util.Map<String, Object> aggregationParams,
                      ValidationSplit validation, Integer maxRevealedSamples) {

    /** A plan without a cap on the samples a verification reveals. */
    public JobPlan(String modelSpec, int batchSize, double lr, double momentum, double proxMu, int localEpochs,
                   Integer localSteps, int threads, double targetDetection, double fakedFraction, double maxReexecShare,
                   String comparison, Double tolerance, Double dpClip, Double dpNoiseMultiplier, long seed,
                   String aggregation, int rounds, long roundSeconds, Integer minUpdates, java.util.Map<String, Object> aggregationParams,
                   ValidationSplit validation) {
        this(modelSpec, batchSize, lr, momentum, proxMu, localEpochs, localSteps, threads, targetDetection, fakedFraction, maxReexecShare,
                comparison, tolerance, dpClip, dpNoiseMultiplier, seed, aggregation, rounds, roundSeconds, minUpdates, aggregationParams, validation, null);
    }

    /** A plan without a round quorum, rule parameters or validation split (every task must be decided; the rule's defaults). */
    public JobPlan(String modelSpec, int batchSize, double lr, double momentum, double proxMu, int localEpochs,
                   Integer localSteps, int threads, double targetDetection, double fakedFraction, double maxReexecShare,
                   String comparison, Double tolerance, Double dpClip, Double dpNoiseMultiplier, long seed,
                   String aggregation, int rounds, long roundSeconds) {
        this(modelSpec, batchSize, lr, momentum, proxMu, localEpochs, localSteps, threads, targetDetection, fakedFraction, maxReexecShare,
                comparison, tolerance, dpClip, dpNoiseMultiplier, seed, aggregation, rounds, roundSeconds, null, null, null);
    }

    /**
     * The builder's validation split the verify function measures every update's loss on (a cheap check: a high loss only
     * raises how many segments are re-executed): {@code samples} images of the data set {@code dataset} (a name the
     * marketplace's bucket holds under {@code datasets/<dataset>/}, e.g. {@code fashion-mnist-test}), chosen by {@code seed}.
     */
    @JsonIgnoreProperties(ignoreUnknown = false)
    public record ValidationSplit(String dataset, Integer samples, Long seed) {
        public static final int DEFAULT_SAMPLES = 512;

        public int sampleCount() {
            return samples == null ? DEFAULT_SAMPLES : samples;
        }

        public long seedOrDefault() {
            return seed == null ? 1L : seed;
        }

        public List<String[]> problems() {
            List<String[]> p = new ArrayList<>();
            if (dataset == null || !dataset.matches("^[a-z0-9][a-z0-9-]{0,62}$")) {
                p.add(new String[] {"verification.validation.dataset", "must name a data set of the marketplace's bucket (datasets/<name>/), "
                        + "lower-case letters, digits and '-', e.g. \"fashion-mnist-test\""});
            }
            if (samples != null && (samples < 16 || samples > 10_000)) {
                p.add(new String[] {"verification.validation.samples", "must be 16 to 10000 (default " + DEFAULT_SAMPLES + ")"});
            }
            return p;
        }
    }

    public static final int DEFAULT_BATCH = 64;
    public static final double DEFAULT_LR = 0.05;
    public static final double DEFAULT_MOMENTUM = 0.5;
    public static final double DEFAULT_TARGET_DETECTION = 0.99;
    public static final double DEFAULT_FAKED_FRACTION = 0.5;
    public static final double DEFAULT_MAX_REEXEC_SHARE = 0.05;
    public static final double DEFAULT_DP_CLIP = 1.0;
    public static final double DEFAULT_FEDPROX_MU = 0.01;

    /** The intent's optional {@code training} object; every field may be left out (the defaults above). */
    @JsonIgnoreProperties(ignoreUnknown = false)
    public record Training(Integer batchSize, Double learningRate, Double momentum, Integer localSteps, Double proxMu,
                           Integer threads, Double dpClip, Integer minUpdates) {
        public static final Training DEFAULTS = new Training(null, null, null, null, null, null, null, null);

        public Training(Integer batchSize, Double learningRate, Double momentum, Integer localSteps, Double proxMu, Integer threads, Double dpClip) {
            this(batchSize, learningRate, momentum, localSteps, proxMu, threads, dpClip, null);
        }

        /** What is wrong, as (field, message) pairs; empty when the object is usable. */
        public List<String[]> problems() {
            List<String[]> p = new ArrayList<>();
            if (batchSize != null && (batchSize < 1 || batchSize > 4096)) {
                p.add(new String[] {"training.batchSize", "must be 1 to 4096"});
            }
            if (learningRate != null && !(learningRate > 0 && learningRate <= 10)) {
                p.add(new String[] {"training.learningRate", "must be in (0, 10]"});
            }
            if (momentum != null && !(momentum >= 0 && momentum < 1)) {
                p.add(new String[] {"training.momentum", "must be in [0, 1)"});
            }
            if (localSteps != null && (localSteps < 1 || localSteps > 1_000_000)) {
                p.add(new String[] {"training.localSteps", "must be 1 to 1000000 (or left out: localEpochs over each shard)"});
            }
            if (proxMu != null && !(proxMu >= 0 && proxMu <= 10)) {
                p.add(new String[] {"training.proxMu", "must be in [0, 10]"});
            }
            if (threads != null && (threads < 1 || threads > 64)) {
                p.add(new String[] {"training.threads", "must be 1 to 64"});
            }
            if (dpClip != null && !(dpClip > 0 && dpClip <= 1000)) {
                p.add(new String[] {"training.dpClip", "must be in (0, 1000]"});
            }
            if (minUpdates != null && (minUpdates < 1 || minUpdates > 10_000)) {
                p.add(new String[] {"training.minUpdates", "must be 1 to 10000: a round closes once this many updates are verified "
                        + "(at most the job's data shards; left out: every shard)"});
            }
            return p;
        }
    }

    /** The intent's optional {@code verification} object. */
    @JsonIgnoreProperties(ignoreUnknown = false)
    public record Verification(Double targetDetection, Double fakedFraction, Double maxReexecShare, String comparison,
                               Double tolerance, ValidationSplit validation, Integer maxRevealedSamples) {
        public static final Verification DEFAULTS = new Verification(null, null, null, null, null, null, null);

        public Verification(Double targetDetection, Double fakedFraction, Double maxReexecShare, String comparison, Double tolerance) {
            this(targetDetection, fakedFraction, maxReexecShare, comparison, tolerance, null, null);
        }

        public Verification(Double targetDetection, Double fakedFraction, Double maxReexecShare, String comparison, Double tolerance,
                            ValidationSplit validation) {
            this(targetDetection, fakedFraction, maxReexecShare, comparison, tolerance, validation, null);
        }

        public List<String[]> problems() {
            List<String[]> p = new ArrayList<>();
            if (targetDetection != null && !(targetDetection >= 0.5 && targetDetection < 1)) {
                p.add(new String[] {"verification.targetDetection", "must be in [0.5, 1), e.g. 0.99"});
            }
            if (fakedFraction != null && !(fakedFraction > 0 && fakedFraction <= 1)) {
                p.add(new String[] {"verification.fakedFraction", "must be in (0, 1]: the least share of a task's segments a cheater fakes that must be caught"});
            }
            if (maxReexecShare != null && !(maxReexecShare > 0 && maxReexecShare <= 1)) {
                p.add(new String[] {"verification.maxReexecShare", "must be in (0, 1], e.g. 0.05"});
            }
            String c = comparison == null ? "bit-exact" : comparison.trim().toLowerCase(Locale.ROOT);
            if (!c.equals("bit-exact") && !c.equals("tolerance")) {
                p.add(new String[] {"verification.comparison", "must be \"bit-exact\" (deterministic kernels) or \"tolerance\" (non-deterministic kernels, with tolerance)"});
            } else if (c.equals("tolerance") && tolerance != null && !(tolerance > 0 && tolerance < 1)) {
                p.add(new String[] {"verification.tolerance", "comparison \"tolerance\" needs a calibrated relative L2 threshold in (0, 1), e.g. 0.01, "
                        + "or none: the model's calibration the marketplace measured and ships"});
            } else if (c.equals("bit-exact") && tolerance != null) {
                p.add(new String[] {"verification.tolerance", "applies only to comparison \"tolerance\": remove it or set comparison"});
            }
            if (validation != null) {
                p.addAll(validation.problems());
            }
            if (maxRevealedSamples != null && (maxRevealedSamples < 1 || maxRevealedSamples > 1_000_000_000)) {
                p.add(new String[] {"verification.maxRevealedSamples", "must be 1 to 10^9: the most samples of a private shard one update's "
                        + "verification may show its re-executors (left out: no cap)"});
            }
            return p;
        }
    }

    /** The shape of one task: its steps (a multiple of checkpointEvery), segments, q and q after a cheap-check flag. */
    public record TaskShape(int steps, int checkpointEvery, int segments, int q, int escalatedQ) {
        public double reexecShare() {
            return (double) q / segments;
        }
    }

    /**
     * The worker's model for an intent's architecture (or catalogue spec) and input shape: the spec the tasks carry, with
     * the input shape and classes in it ({@link io.fedmarket.fl.model.ModelLayouts}; defaults, one 28×28 grey image and 10
     * classes, left out, so an MLP on [784] or a CNN on [1, 28, 28] with 10 classes is {@code mlp} / {@code cnn} as before).
     *
     * @param architectureOrSpec {@code MLP}, {@code CNN}, {@code RESNET} (depth 20) or a catalogue spec such as
     *                           {@code mlp:256,128} or {@code resnet:20}
     * @param inputShape         {@code [features]}, {@code [height, width]} (one channel) or {@code [channels, height, width]}
     * @throws IllegalArgumentException saying what the workers can train
     */
    public static String modelSpecFor(String architectureOrSpec, List<Integer> inputShape, int numClasses) {
        String a = architectureOrSpec == null ? "" : architectureOrSpec.trim().toLowerCase(Locale.ROOT);
        String family = switch (a) {
            case "mlp", "cnn" -> a;
            case "resnet" -> "resnet:20";
            default -> a;
        };
        if (family.contains(";")) {
            throw new IllegalArgumentException("model.spec '" + architectureOrSpec + "': give the input shape and classes in model.inputShape "
                    + "and model.numClasses, not in the spec");
        }
        if (inputShape == null || inputShape.isEmpty() || inputShape.size() > 3 || inputShape.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("model.inputShape " + inputShape + ": give [features], [height, width] or [channels, height, width]");
        }
        List<Integer> shape = inputShape.size() == 2 ? List.of(1, inputShape.get(0), inputShape.get(1)) : inputShape;
        String text = family + ";input=" + String.join("x", shape.stream().map(String::valueOf).toList()) + ";classes=" + numClasses;
        return io.fedmarket.fl.model.ModelLayouts.layout(text).spec();
    }

    /** The job's seed: the first 8 bytes of keccak256 of its id's string form (the initial model and every task seed). */
    public static long jobSeed(UUID jobId) {
        byte[] h = Hashes.keccak256(jobId.toString().getBytes(StandardCharsets.UTF_8));
        long s = 0;
        for (int i = 0; i < 8; i++) {
            s = (s << 8) | (h[i] & 0xff);
        }
        return s;
    }

    public static JobPlan of(String modelSpec, Training t, Verification v, int localEpochs, String aggregation, boolean dp,
                             Double epsilon, Double delta, int rounds, long roundSeconds, UUID jobId) {
        return of(modelSpec, t, v, localEpochs, aggregation, null, dp, epsilon, delta, rounds, roundSeconds, jobId);
    }

    /** As above, with the aggregation rule's parameters (checked by {@link io.fedmarket.fl.aggregation.AggregationRegistry}). */
    public static JobPlan of(String modelSpec, Training t, Verification v, int localEpochs, String aggregation,
                             java.util.Map<String, Object> aggregationParams, boolean dp, Double epsilon, Double delta, int rounds,
                             long roundSeconds, UUID jobId) {
        Training tr = t == null ? Training.DEFAULTS : t;
        Verification ve = v == null ? Verification.DEFAULTS : v;
        if (!tr.problems().isEmpty() || !ve.problems().isEmpty()) {
            List<String[]> all = new ArrayList<>(tr.problems());
            all.addAll(ve.problems());
            throw new IllegalArgumentException(all.get(0)[0] + " " + all.get(0)[1]);
        }
        String agg = aggregation == null ? "fedavg" : aggregation;
        double mu = tr.proxMu() != null ? tr.proxMu() : agg.equals("fedprox") ? DEFAULT_FEDPROX_MU : 0;
        Double clip = null;
        Double sigma = null;
        if (dp) {
            clip = tr.dpClip() != null ? tr.dpClip() : DEFAULT_DP_CLIP;
            sigma = noiseMultiplierFor(epsilon, delta, rounds);
        }
        String cmp = ve.comparison() == null ? "bit-exact" : ve.comparison().trim().toLowerCase(Locale.ROOT);
        Double tolerance = ve.tolerance();
        if (cmp.equals("tolerance") && tolerance == null) {
            tolerance = io.fedmarket.fl.verify.Calibrations.forModel(modelSpec).map(io.fedmarket.fl.verify.ToleranceCalibration::threshold)
                    .orElseThrow(() -> new IllegalArgumentException("verification.tolerance: no calibration is shipped for model " + modelSpec
                            + " (measure one with ./mkt bench calibrate) : set a relative L2 threshold in (0, 1)"));
        }
        int batch = or(tr.batchSize(), DEFAULT_BATCH);
        double target = or(ve.targetDetection(), DEFAULT_TARGET_DETECTION);
        double faked = or(ve.fakedFraction(), DEFAULT_FAKED_FRACTION);
        if (ve.maxRevealedSamples() != null) {
            int q0 = faked >= 1 ? 1 : DetectionPlanner.segmentsFor(faked, target);
            long least = 2L * q0 * batch;
            if (ve.maxRevealedSamples() < least) {
                throw new IllegalArgumentException("verification.maxRevealedSamples " + ve.maxRevealedSamples() + " cannot be met: detecting a cheater "
                        + "who fakes " + faked + " of its segments with probability " + target + " re-executes q = " + q0 + " segments (2q = " + 2 * q0
                        + " once a cheap check flags the update), and even one-step segments reveal a batch of " + batch + " samples each: " + least
                        + " at least. Raise maxRevealedSamples to " + least + ", lower training.batchSize to " + Math.max(1, ve.maxRevealedSamples() / (2 * q0))
                        + ", or lower verification.targetDetection / raise verification.fakedFraction (fewer segments to re-execute)");
            }
        }
        return new JobPlan(modelSpec, or(tr.batchSize(), DEFAULT_BATCH), or(tr.learningRate(), DEFAULT_LR), or(tr.momentum(), DEFAULT_MOMENTUM),
                mu, localEpochs, tr.localSteps(), or(tr.threads(), 1), or(ve.targetDetection(), DEFAULT_TARGET_DETECTION),
                or(ve.fakedFraction(), DEFAULT_FAKED_FRACTION), or(ve.maxReexecShare(), DEFAULT_MAX_REEXEC_SHARE), cmp,
                tolerance, clip, sigma, jobSeed(jobId), agg, rounds, roundSeconds, tr.minUpdates(),
                aggregationParams == null || aggregationParams.isEmpty() ? null : java.util.Map.copyOf(aggregationParams), ve.validation(),
                ve.maxRevealedSamples());
    }

    /** How many verified updates close a round of a job with {@code tasks} tasks: the intent's minUpdates (at most tasks), else every task. */
    public int minUpdatesFor(int tasks) {
        return minUpdates == null ? tasks : Math.max(1, Math.min(minUpdates, tasks));
    }

    /** The aggregation rule of this plan with its parameters. */
    public io.fedmarket.fl.aggregation.AggregationRule aggregationRule() {
        return io.fedmarket.fl.aggregation.AggregationRegistry.create(aggregation == null ? "fedavg" : aggregation,
                aggregationParams == null ? java.util.Map.of() : aggregationParams);
    }

    /**
     * The smallest Gaussian noise multiplier σ (to 1e-3) with which {@code rounds} rounds of DP-FedAvg where every
     * client takes part (sampling rate 1) spend at most ε at δ (RDP accountant).
     */
    public static double noiseMultiplierFor(Double epsilon, Double delta, int rounds) {
        if (epsilon == null || delta == null || !(epsilon > 0) || !(delta > 0 && delta < 1)) {
            throw new IllegalArgumentException("DP needs epsilon > 0 and 0 < delta < 1");
        }
        double lo = 1e-3;
        double hi = 1e4;
        if (new RdpAccountant().step(1, hi, rounds).epsilon(delta).epsilon() > epsilon) {
            throw new IllegalArgumentException("epsilon " + epsilon + " at delta " + delta + " over " + rounds + " rounds needs more noise than 10^4 × clip");
        }
        while (hi - lo > 1e-3) {
            double mid = (lo + hi) / 2;
            if (new RdpAccountant().step(1, mid, rounds).epsilon(delta).epsilon() <= epsilon) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return hi;
    }

    private static int or(Integer v, int d) {
        return v == null ? d : v;
    }

    private static double or(Double v, double d) {
        return v == null ? d : v;
    }

    /** The task a shard of {@code sampleCount} samples gets: its steps, checkpoint interval, segments and q. */
    public TaskShape shape(long sampleCount) {
        long perEpoch = Math.max(1, sampleCount / batchSize);
        int raw = localSteps != null ? localSteps : (int) Math.min(1_000_000, (long) localEpochs * perEpoch);
        int q0 = fakedFraction >= 1 ? 1 : DetectionPlanner.segmentsFor(fakedFraction, targetDetection);
        int wanted = (int) Math.ceil(q0 / maxReexecShare - 1e-9);
        if (maxRevealedSamples != null) {
            // segments short enough that 2q of them (a flagged update) reveal at most the cap
            long kMax = Math.max(1, maxRevealedSamples / (2L * q0 * batchSize));
            wanted = (int) Math.max(wanted, Math.min(raw, (raw + kMax - 1) / kMax));
        }
        int n = Math.max(1, Math.min(raw, wanted));
        int k = Math.max(1, raw / n);
        int steps = Math.max(k, raw - raw % k);
        int segments = steps / k;
        int q = fakedFraction >= 1 ? 1 : DetectionPlanner.segmentsFor(fakedFraction, targetDetection, segments);
        return new TaskShape(steps, k, segments, q, Math.min(segments, 2 * q));
    }

    /**
     * The most samples of a shard of {@code sampleCount} samples that verifying one update shows its re-executors: the distinct
     * samples of q segments' batches ({@code flagged}: of 2q, after a cheap-check flag), at most the shard. Public shards' samples
     * are public anyway; for a private shard this is its privacy cost per update.
     */
    public long revealedPerUpdate(TaskShape s, long sampleCount, boolean flagged) {
        return Math.min(sampleCount, (long) (flagged ? s.escalatedQ() : s.q()) * s.checkpointEvery() * batchSize);
    }

    /** A task's seed: batch order, initialisation and DP noise; distinct per (round, shard). */
    public long taskSeed(int round, int shardIndex) {
        return seed * 1_000_003L + round * 10_007L + shardIndex;
    }

    /**
     * Where the tolerance came from, as every verdict records it: the model's shipped calibration when the threshold is its
     * calibrated one (samples, largest honest distance, factor, floor), else the builder's own number. Null when bit-exact.
     */
    public io.fedmarket.fl.verify.ToleranceCalibration toleranceCalibration() {
        if (bitExact() || tolerance == null) {
            return null;
        }
        return io.fedmarket.fl.verify.Calibrations.forModel(modelSpec).filter(c -> c.threshold() == tolerance)
                .orElseGet(() -> new io.fedmarket.fl.verify.ToleranceCalibration(1, tolerance, 1, 0, tolerance,
                        "threshold set by the builder's intent (verification.tolerance)"));
    }

    public boolean bitExact() {
        return !"tolerance".equals(comparison);
    }
}
