package io.fedmarket.fl.sim;

import io.fedmarket.fl.Vectors;
import io.fedmarket.fl.aggregation.AggregationRegistry;
import io.fedmarket.fl.aggregation.AggregationResult;
import io.fedmarket.fl.aggregation.AggregationRule;
import io.fedmarket.fl.aggregation.ClientUpdate;
import io.fedmarket.fl.aggregation.CoordinateMedian;
import io.fedmarket.fl.aggregation.ServerState;
import io.fedmarket.fl.cheat.CheatStrategy;
import io.fedmarket.fl.cheat.Cheats;
import io.fedmarket.fl.cheat.ForgedWork;
import io.fedmarket.fl.payout.PayoutLedger;
import io.fedmarket.fl.payout.TaskSettlement;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.fl.proof.TrailHeader;
import io.fedmarket.fl.verify.CheapCheckPolicy;
import io.fedmarket.fl.verify.ComparisonPolicy;
import io.fedmarket.fl.verify.DetectionPlanner;
import io.fedmarket.fl.verify.ToleranceCalibration;
import io.fedmarket.fl.verify.UpdateVerifier;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The plain-Java simulated marketplace: non-IID shards, a pool of bonded workers of which a
 * fraction cheat, one task per shard per round, verification of every submission, re-offer
 * of rejected tasks, aggregation of the accepted updates and cumulative payouts. Honest
 * workers come in three kinds: deterministic, non-deterministic kernel (float accumulation
 * order differs), and slow (its update arrives after the round closed: verified and paid,
 * not aggregated). Slashed cheaters are not removed from the pool: the worst case of a
 * cheater who re-bonds under a new identity every round.
 */
public final class FederatedSimulation {
    public enum WorkerKind { HONEST, HONEST_NONDETERMINISTIC, HONEST_SLOW, CHEATER }

    public record Config(int clients, int workers, int rounds, int dim, int classes, int trainSamples, int testSamples,
                         double separation, double dirichletAlpha, int localSteps, int checkpointEvery, int batchSize,
                         float lr, double cheaterFraction, String aggregation, Map<String, ?> aggregationParams,
                         double targetFakedFraction, double targetDetection, double partialTrainedFraction,
                         int maxAttempts, boolean verify, long seed) {
        public static Config defaults() {
            return new Config(20, 40, 30, 20, 10, 6000, 2000, 0.5, 0.5, 1000, 1, 32, 0.01f, 0.0, "fedavg", Map.of(),
                    0.1, 0.99, 0.5, 10, true, 42);
        }

        public Config withCheaterFraction(double c) {
            return new Config(clients, workers, rounds, dim, classes, trainSamples, testSamples, separation,
                    dirichletAlpha, localSteps, checkpointEvery, batchSize, lr, c, aggregation, aggregationParams,
                    targetFakedFraction, targetDetection, partialTrainedFraction, maxAttempts, verify, seed);
        }

        public Config withVerification(boolean v, String rule, Map<String, ?> params) {
            return new Config(clients, workers, rounds, dim, classes, trainSamples, testSamples, separation,
                    dirichletAlpha, localSteps, checkpointEvery, batchSize, lr, cheaterFraction, rule, params,
                    targetFakedFraction, targetDetection, partialTrainedFraction, maxAttempts, v, seed);
        }

        public Config withScale(int rounds, int localSteps) {
            return new Config(clients, workers, rounds, dim, classes, trainSamples, testSamples, separation,
                    dirichletAlpha, localSteps, checkpointEvery, batchSize, lr, cheaterFraction, aggregation,
                    aggregationParams, targetFakedFraction, targetDetection, partialTrainedFraction, maxAttempts,
                    verify, seed);
        }

        public Config withTraining(float learningRate, int attempts) {
            return new Config(clients, workers, rounds, dim, classes, trainSamples, testSamples, separation,
                    dirichletAlpha, localSteps, checkpointEvery, batchSize, learningRate, cheaterFraction, aggregation,
                    aggregationParams, targetFakedFraction, targetDetection, partialTrainedFraction, attempts, verify,
                    seed);
        }

        public Config withSeed(long newSeed) {
            return new Config(clients, workers, rounds, dim, classes, trainSamples, testSamples, separation,
                    dirichletAlpha, localSteps, checkpointEvery, batchSize, lr, cheaterFraction, aggregation,
                    aggregationParams, targetFakedFraction, targetDetection, partialTrainedFraction, maxAttempts,
                    verify, newSeed);
        }

        /** Share of the steps a PARTIAL_TRAINING cheater really trains; 1 − this is its faked fraction. */
        public Config withPartialTrained(double trained) {
            if (!(trained > 0 && trained < 1)) {
                throw new IllegalArgumentException("partial-training cheaters must train a fraction in (0, 1), got "
                        + trained);
            }
            return new Config(clients, workers, rounds, dim, classes, trainSamples, testSamples, separation,
                    dirichletAlpha, localSteps, checkpointEvery, batchSize, lr, cheaterFraction, aggregation,
                    aggregationParams, targetFakedFraction, targetDetection, trained, maxAttempts, verify, seed);
        }

        public Config withTarget(double fakedFraction, double detection) {
            return new Config(clients, workers, rounds, dim, classes, trainSamples, testSamples, separation,
                    dirichletAlpha, localSteps, checkpointEvery, batchSize, lr, cheaterFraction, aggregation,
                    aggregationParams, fakedFraction, detection, partialTrainedFraction, maxAttempts, verify, seed);
        }
    }

    public record Counts(int submitted, int rejected) {
        public double rate() {
            return submitted == 0 ? Double.NaN : (double) rejected / submitted;
        }

        Counts add(boolean rej) {
            return new Counts(submitted + 1, rejected + (rej ? 1 : 0));
        }
    }

    public record Result(Config config, double finalAccuracy, double finalLoss, List<Double> accuracyPerRound,
                         Map<CheatStrategy, Counts> cheaters, Map<WorkerKind, Counts> honest, long claimedSteps,
                         long reexecutedSteps, long honestClaimedSteps, long honestReexecutedSteps, int segments, int q,
                         ToleranceCalibration calibration, BigInteger paidToCheaters, BigInteger paidTotal,
                         int cheaterUpdatesAggregated, int roundsKeptGlobal, List<String> falseRejectReasons,
                         int honestFlagged) {
        public int falseSlashes() {
            return honest.values().stream().mapToInt(Counts::rejected).sum();
        }

        public double verificationFraction() {
            return claimedSteps == 0 ? 0 : (double) reexecutedSteps / claimedSteps;
        }
    }

    private record Worker(String address, WorkerKind kind, CheatStrategy strategy) {
    }

    private final Config cfg;
    private final SyntheticData.Split data;
    private final List<int[]> shards;
    private final byte[][] commitments;
    private final SoftmaxRegression model;
    private final LocalTrainer trainer;

    public FederatedSimulation(Config cfg) {
        if (cfg.localSteps() % cfg.checkpointEvery() != 0) {
            throw new IllegalArgumentException("localSteps must be a multiple of checkpointEvery");
        }
        if (cfg.cheaterFraction() < 0 || cfg.cheaterFraction() > 1) {
            throw new IllegalArgumentException("cheater fraction must be in [0, 1] but was " + cfg.cheaterFraction());
        }
        this.cfg = cfg;
        this.data = SyntheticData.gaussianClasses(cfg.trainSamples(), cfg.testSamples(), cfg.dim(), cfg.classes(),
                cfg.separation(), cfg.seed());
        this.shards = SyntheticData.dirichletPartition(data.train().y(), cfg.classes(), cfg.clients(),
                cfg.dirichletAlpha(), cfg.batchSize(), cfg.seed() + 1);
        this.commitments = new byte[shards.size()][];
        for (int i = 0; i < shards.size(); i++) {
            commitments[i] = SyntheticData.shardCommitment(data.train(), shards.get(i));
        }
        this.model = new SoftmaxRegression(cfg.dim(), cfg.classes());
        this.trainer = new LocalTrainer(model, data.train());
    }

    public SyntheticData.Split data() {
        return data;
    }

    public List<int[]> shards() {
        return shards;
    }

    public LocalTrainer trainer() {
        return trainer;
    }

    public SoftmaxRegression model() {
        return model;
    }

    public LocalTrainer.Task task(String taskId, float[] global, int shard, long seed) {
        TrailHeader h = new TrailHeader(taskId, Hashes.paramsHash(global), commitments[shard], seed, cfg.localSteps(),
                cfg.checkpointEvery());
        return new LocalTrainer.Task(h, shards.get(shard), cfg.lr(), cfg.batchSize());
    }

    /**
     * Measures how far two honest executions of the same segment drift apart when only the
     * float accumulation order differs, along a real honest trajectory on every shard.
     */
    public ToleranceCalibration calibrate(int samplesPerShard) {
        SplittableRandom r = new SplittableRandom(cfg.seed() + 7);
        float[] w = new float[model.size()];
        List<Double> d = new ArrayList<>();
        for (int s = 0; s < shards.size(); s++) {
            LocalTrainer.Task t = task("calibration-" + s, w, s, r.nextLong());
            float[] cur = w.clone();
            int n = t.header().segments();
            int stride = Math.max(1, n / samplesPerShard);
            for (int i = 0; i < n && d.size() < (long) (s + 1) * samplesPerShard; i++) {
                float[] det = trainer.runSegment(cur, t, i, null);
                if (i % stride == 0) {
                    float[] nd = trainer.runSegment(cur, t, i, new SplittableRandom(r.nextLong()));
                    d.add(ComparisonPolicy.relativeDistance(cur, nd, det));
                }
                cur = det;
            }
        }
        return ToleranceCalibration.fromSamples(d.stream().mapToDouble(Double::doubleValue).toArray(), 100, 1e-6,
                "plain-Java float32 softmax regression, gradient accumulation order permuted per step; "
                        + "relative L2 = |reexec - committed| / |reexec - start|, max over honest pairs x 100");
    }

    public Result run() {
        SplittableRandom rng = new SplittableRandom(cfg.seed() + 11);
        List<Worker> pool = pool(rng);
        AggregationRule rule = AggregationRegistry.create(cfg.aggregation(), cfg.aggregationParams());
        int n = cfg.localSteps() / cfg.checkpointEvery();
        int q = DetectionPlanner.segmentsFor(cfg.targetFakedFraction(), cfg.targetDetection(), n);
        int qEscalated = Math.min(n, 2 * q);
        ToleranceCalibration cal = calibrate(10);
        UpdateVerifier verifier = new UpdateVerifier(new UpdateVerifier.Config(
                new CheapCheckPolicy(1e-6, null, -0.5, null, null), q, qEscalated, new ComparisonPolicy.Tolerance(cal)));

        float[] global = new float[model.size()];
        ServerState state = ServerState.NONE;
        BigInteger price = BigInteger.valueOf(1_000);
        int dataShareBps = 2_000;
        // escrow sized for the worst case (every offer of every wave paid) so that clipping never hides a result
        BigInteger budget = price.multiply(BigInteger.valueOf((long) cfg.clients() * cfg.rounds() * cfg.localSteps()
                * cfg.maxAttempts())).multiply(BigInteger.valueOf(10_000 + dataShareBps)).divide(BigInteger.valueOf(10_000));
        PayoutLedger ledger = PayoutLedger.open(budget);

        Map<CheatStrategy, Counts> cheaters = new EnumMap<>(CheatStrategy.class);
        Map<WorkerKind, Counts> honest = new EnumMap<>(WorkerKind.class);
        for (WorkerKind k : WorkerKind.values()) {
            if (k != WorkerKind.CHEATER) {
                honest.put(k, new Counts(0, 0));
            }
        }
        List<String> falseReasons = new ArrayList<>();
        long claimed = 0;
        long reexec = 0;
        long honestClaimed = 0;
        long honestReexec = 0;
        int cheaterAggregated = 0;
        int keptGlobal = 0;
        int honestFlagged = 0;
        List<Double> accuracy = new ArrayList<>();
        List<float[]> previousDeltas = List.of();
        byte[] blockSecret = Hashes.keccak(Hashes.u64(cfg.seed()), "later blocks".getBytes(StandardCharsets.UTF_8));

        for (int round = 0; round < cfg.rounds(); round++) {
            List<Integer> pending = new ArrayList<>();
            for (int s = 0; s < shards.size(); s++) {
                pending.add(s);
            }
            List<ClientUpdate> updates = new ArrayList<>();
            List<Boolean> fromCheater = new ArrayList<>();
            List<float[]> deltas = new ArrayList<>();
            List<TaskSettlement> settlements = new ArrayList<>();
            float[] centre = null;
            for (int wave = 0; wave < cfg.maxAttempts() && !pending.isEmpty(); wave++) {
                List<Integer> stillPending = new ArrayList<>();
                List<Offer> items = new ArrayList<>();
                for (int s : pending) {
                    Worker w = pool.get(rng.nextInt(pool.size()));
                    String taskId = "r" + round + "-s" + s + "-a" + wave;
                    LocalTrainer.Task t = task(taskId, global, s, rng.nextLong());
                    Produced p = produce(w, t, global, s, previousDeltas, rng);
                    items.add(new Offer(s, w, t, p));
                }
                if (centre == null) {
                    List<ClientUpdate> all = new ArrayList<>();
                    for (Offer it : items) {
                        all.add(new ClientUpdate("c", it.produced().work().update(), 1));
                    }
                    centre = new CoordinateMedian().aggregate(global, all, ServerState.NONE).model();
                }
                byte[] blockHash = Hashes.keccak(blockSecret, Hashes.u64(round), Hashes.u64(wave));
                for (Offer it : items) {
                    int s = it.shard();
                    Worker w = it.worker();
                    LocalTrainer.Task t = it.task();
                    Produced p = it.produced();
                    ForgedWork fw = p.work();
                    boolean accepted;
                    long steps = 0;
                    if (cfg.verify()) {
                        byte[] subHash = Hashes.keccak(t.header().hash(), Hashes.paramsHash(fw.update()),
                                fw.trail().commitment());
                        UpdateVerifier.Submission sub = new UpdateVerifier.Submission(t.header(), subHash, fw.update(),
                                "mem://" + t.header().taskId() + "/update", fw.trail(), store(t.header().taskId(), fw));
                        UpdateVerifier.Outcome o = verifier.verify(sub, global, centre, null, blockHash,
                                trainer.executor(t), Instant.EPOCH.plusSeconds(round));
                        accepted = o.verdict().accepted();
                        steps = o.reexecutedSteps();
                        if (w.kind() != WorkerKind.CHEATER && !o.verdict().flags().isEmpty()) {
                            honestFlagged++;
                        }
                        if (!accepted && w.kind() != WorkerKind.CHEATER) {
                            falseReasons.add(t.header().taskId() + ":" + o.verdict().reason());
                        }
                    } else {
                        accepted = true;
                    }
                    claimed += cfg.localSteps();
                    reexec += steps;
                    if (w.kind() == WorkerKind.CHEATER) {
                        cheaters.merge(p.strategy(), new Counts(1, accepted ? 0 : 1),
                                (a, b) -> new Counts(a.submitted() + b.submitted(), a.rejected() + b.rejected()));
                    } else {
                        honest.put(w.kind(), honest.get(w.kind()).add(!accepted));
                        honestClaimed += cfg.localSteps();
                        honestReexec += steps;
                    }
                    settlements.add(new TaskSettlement(t.header().taskId(), w.address(), "data-" + s, accepted,
                            cfg.localSteps()));
                    if (!accepted) {
                        stillPending.add(s);
                        continue;
                    }
                    if (w.kind() == WorkerKind.HONEST_SLOW) {
                        // a straggler looks like a dropped task at the wave deadline: the shard is re-offered,
                        // the late update is still verified and paid but never aggregated
                        stillPending.add(s);
                        continue;
                    }
                    updates.add(new ClientUpdate(t.header().taskId(), fw.update(), t.shard().length));
                    fromCheater.add(w.kind() == WorkerKind.CHEATER);
                    deltas.add(Vectors.subtract(fw.update(), global));
                }
                pending = stillPending;
            }
            if (updates.size() >= rule.minUpdates()) {
                AggregationResult ar = rule.aggregate(global, updates, state);
                for (int i = 0; i < updates.size(); i++) {
                    if (fromCheater.get(i) && ar.usedTaskIds().contains(updates.get(i).taskId())) {
                        cheaterAggregated++;
                    }
                }
                global = ar.model();
                state = ar.state();
            } else {
                keptGlobal++;
            }
            if (!deltas.isEmpty()) {
                previousDeltas = deltas;
            }
            ledger = ledger.settleRound(round, price, dataShareBps, settlements).ledger();
            accuracy.add(model.accuracy(global, data.test()));
        }
        BigInteger toCheaters = BigInteger.ZERO;
        for (Worker w : pool) {
            if (w.kind() == WorkerKind.CHEATER) {
                toCheaters = toCheaters.add(ledger.of(w.address()));
            }
        }
        return new Result(cfg, model.accuracy(global, data.test()), model.loss(global, data.test()), accuracy, cheaters,
                honest, claimed, reexec, honestClaimed, honestReexec, n, q, cal, toCheaters, ledger.totalPaid(),
                cheaterAggregated, keptGlobal, falseReasons, honestFlagged);
    }

    private record Produced(ForgedWork work, CheatStrategy strategy) {
    }

    /** One task offered to one worker in one wave of a round. */
    private record Offer(int shard, Worker worker, LocalTrainer.Task task, Produced produced) {
    }

    private Produced produce(Worker w, LocalTrainer.Task t, float[] global, int shard, List<float[]> previousDeltas,
                             SplittableRandom rng) {
        int n = t.header().segments();
        TrailHeader h = t.header();
        switch (w.kind()) {
            case HONEST, HONEST_SLOW -> {
                return new Produced(Cheats.honest(h, trainer.train(global, t, n, null)), null);
            }
            case HONEST_NONDETERMINISTIC -> {
                return new Produced(Cheats.honest(h, trainer.train(global, t, n, new SplittableRandom(rng.nextLong()))),
                        null);
            }
            default -> {
                // fall through to the cheating strategies below
            }
        }
        CheatStrategy s = w.strategy();
        if (s == CheatStrategy.SCALED_COPY && previousDeltas.isEmpty()) {
            s = CheatStrategy.RANDOM_NOISE; // nothing to copy in the first round
        }
        ForgedWork fw = switch (s) {
            case RANDOM_NOISE -> Cheats.randomNoise(h, global, 0.05, rng.nextLong());
            case GLOBAL_UNCHANGED -> Cheats.globalUnchanged(h, global);
            case SCALED_COPY -> Cheats.scaledCopy(h, global, previousDeltas.get(rng.nextInt(previousDeltas.size())),
                    0.8 + 0.4 * rng.nextDouble());
            case PARTIAL_TRAINING -> Cheats.partialTraining(h,
                    trainer.train(global, t, Math.max(1, (int) Math.floor(cfg.partialTrainedFraction() * n)), null));
            case FORGED_TRAIL -> Cheats.forgedTrail(h, Cheats.randomNoise(h, global, 0.05, rng.nextLong()).checkpoints(),
                    rng.nextLong());
            case WRONG_SHARD -> {
                int other = (shard + 1 + rng.nextInt(shards.size() - 1)) % shards.size();
                LocalTrainer.Task fake = new LocalTrainer.Task(h, shards.get(other), t.lr(), t.batchSize());
                yield Cheats.wrongShard(h, trainer.train(global, fake, n, null));
            }
        };
        return new Produced(fw, s);
    }

    private static UpdateVerifier.CheckpointStore store(String taskId, ForgedWork fw) {
        return new UpdateVerifier.CheckpointStore() {
            @Override
            public float[] load(int i) {
                return i < fw.checkpoints().size() ? fw.checkpoints().get(i) : null;
            }

            @Override
            public String uri(int i) {
                return "mem://" + taskId + "/checkpoint/" + i;
            }
        };
    }

    private List<Worker> pool(SplittableRandom rng) {
        int p = cfg.workers();
        int cheaters = (int) Math.round(cfg.cheaterFraction() * p);
        CheatStrategy[] strategies = CheatStrategy.values();
        List<Worker> pool = new ArrayList<>();
        for (int i = 0; i < p; i++) {
            if (i < cheaters) {
                pool.add(new Worker("0xcheater" + i, WorkerKind.CHEATER, strategies[i % strategies.length]));
            } else {
                int j = i - cheaters;
                WorkerKind k = switch (j % 4) {
                    case 1 -> WorkerKind.HONEST_NONDETERMINISTIC;
                    case 2 -> WorkerKind.HONEST_SLOW;
                    default -> WorkerKind.HONEST;
                };
                pool.add(new Worker("0xhonest" + i, k, null));
            }
        }
        // honest kinds must all occur even at 90% cheaters, so the pool always keeps one of each
        if (cheaters > 0 && p - cheaters < 3) {
            throw new IllegalArgumentException("keep at least 3 honest workers in the pool (one of each honest kind)");
        }
        return pool;
    }

    /** Per-strategy detection as an ordered map for reports. */
    public static Map<String, Counts> byName(Map<CheatStrategy, Counts> m) {
        Map<String, Counts> out = new LinkedHashMap<>();
        for (CheatStrategy s : CheatStrategy.values()) {
            out.put(s.name(), m.getOrDefault(s, new Counts(0, 0)));
        }
        return out;
    }
}
