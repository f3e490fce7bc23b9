package io.fedmarket.worker.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.fl.verify.Calibrations;
import io.fedmarket.fl.verify.ComparisonPolicy;
import io.fedmarket.fl.verify.ToleranceCalibration;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.Partitions;
import io.fedmarket.worker.model.ModelSpec;
import io.fedmarket.worker.train.BatchPlan;
import io.fedmarket.worker.train.Engines;
import io.fedmarket.worker.train.TrainingSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./mkt bench calibrate}: measures the distance threshold for non-deterministic kernels, the number a job that
 * compares with a tolerance relies on. For each model ({@code mlp}, {@code cnn}) and segment length ({@code 1}, {@code 20}
 * steps), honest segments (Fashion-MNIST, batch 64, SGD lr 0.01, momentum 0.9) are committed with one intra-op thread
 * count and each re-executed from its committed checkpoint (parameters + momentum) with the other, both ways (2 → 1,
 * 1 → 2), from step 0 and after a warm-up: the relative L2 distance ‖reexec − committed‖ / ‖reexec − start‖ of
 * {@link ComparisonPolicy#relativeDistance}. On CPU the thread count is the stand-in for a GPU's non-deterministic
 * kernels. The same count on both sides must reproduce bit-exactly (checked). The threshold is the largest honest
 * distance × {@link #SAFETY_FACTOR}, never below {@link #FLOOR}.
 * <p>Prints a table (or {@code --json}); {@code --out FILE} writes the calibration file the marketplace ships
 * ({@code shared/src/main/resources/io/fedmarket/calibration/tolerance.json}). {@code --segments N} per direction and
 * start (default 8), {@code --models mlp,cnn}.
 */
public final class ToleranceCalibrationRun {
    public static final double SAFETY_FACTOR = 10;
    public static final double FLOOR = 1e-5;
    static final int BATCH = 64;
    static final int WARM_UP = 300;

    private ToleranceCalibrationRun() {
    }

    public static void main(String[] args) throws Exception {
        run(args);
        System.exit(0);
    }

    public static void run(String[] args) throws Exception {
        boolean json = false;
        Path out = null;
        int segments = 8;
        List<String> models = List.of("mlp", "cnn");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--json" -> json = true;
                case "--quick" -> segments = 3;
                case "--out" -> out = Path.of(next(args, ++i, "--out"));
                case "--segments" -> segments = Integer.parseInt(next(args, ++i, "--segments"));
                case "--models" -> models = Arrays.stream(next(args, ++i, "--models").split(",")).map(String::strip).toList();
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "' for bench calibrate: use --segments N, --models mlp,cnn, "
                        + "--out FILE, --quick, --json");
            }
        }
        if (segments < 1) {
            throw new IllegalArgumentException("--segments must be at least 1");
        }
        String name = Files.isRegularFile(Datasets.fashionDir().resolve("train-images-idx3-ubyte.gz")) ? "fashion-mnist" : "synthetic:6000";
        ImageData data = Datasets.load(name);
        int[] shard = Partitions.shard(data, "iid", 10, 0, 1);
        List<Calibrations.Entry> entries = new ArrayList<>();
        for (String model : models) {
            ModelSpec spec = ModelSpec.parse(model);
            for (int k : new int[] {1, 20}) {
                List<Double> d = new ArrayList<>();
                for (int offset : new int[] {0, WARM_UP}) {
                    for (int[] threads : new int[][] {{2, 1}, {1, 2}}) {
                        System.err.printf(Locale.ROOT, "calibrate: %s, segments of %d step(s) from step %d, committed with %d thread(s), re-executed with %d …%n",
                                model, k, offset, threads[0], threads[1]);
                        for (double x : segments(spec, data, shard, k, offset, segments, threads[0], threads[1])) {
                            d.add(x);
                        }
                    }
                }
                double[] same = segments(spec, data, shard, k, WARM_UP, Math.min(2, segments), 1, 1);
                if (Arrays.stream(same).anyMatch(x -> x != 0)) {
                    throw new IllegalStateException("the same thread count must re-execute bit-exactly, got " + Arrays.toString(same));
                }
                double[] sorted = d.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                ToleranceCalibration c = ToleranceCalibration.fromSamples(sorted, SAFETY_FACTOR, FLOOR,
                        Engines.description() + ", " + name + ", batch " + BATCH + ", 1 vs 2 intra-op threads");
                entries.add(new Calibrations.Entry(spec.text(), k, sorted.length, c.maxObserved(), sorted[sorted.length / 2], SAFETY_FACTOR, FLOOR,
                        c.threshold(), c.method(), d));
            }
        }
        Calibrations.File file = new Calibrations.File(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), Engines.description(),
                Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.arch") + ", " + System.getProperty("os.name"),
                "./mkt bench calibrate" + (args.length == 0 ? "" : " " + String.join(" ", args)), entries);
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, om.writeValueAsString(file) + "\n");
            System.err.println("calibrate: wrote " + out);
        }
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("benchmark", "calibrate");
            o.put("measuredAt", file.measuredAt());
            o.put("engine", file.engine());
            o.put("entries", entries.stream().map(e -> Map.of("modelSpec", e.modelSpec(), "segmentSteps", e.segmentSteps(), "samples", e.samples(),
                    "median", e.median(), "maxObserved", e.maxObserved(), "threshold", e.threshold())).toList());
            System.out.println(new ObjectMapper().writeValueAsString(o));
            return;
        }
        System.out.println("tolerance calibration (" + file.engine() + ", " + name + "; honest 1 vs 2 intra-op threads, both ways, from step 0 and " + WARM_UP + ")");
        System.out.printf(Locale.ROOT, "%-6s %8s %8s %12s %12s %12s%n", "model", "seg.steps", "samples", "median", "max", "threshold");
        for (Calibrations.Entry e : entries) {
            System.out.printf(Locale.ROOT, "%-6s %8d %8d %12.3e %12.3e %12.3e%n", e.modelSpec(), e.segmentSteps(), e.samples(), e.median(),
                    e.maxObserved(), e.threshold());
        }
        System.out.println("threshold = max(" + FLOOR + ", " + SAFETY_FACTOR + " × largest honest distance); a job with comparison \"tolerance\" "
                + "and no tolerance of its own uses its model's largest threshold");
    }

    private static String next(String[] a, int i, String opt) {
        if (i >= a.length) {
            throw new IllegalArgumentException(opt + " needs a value");
        }
        return a[i];
    }

    /** {@code n} segments of k steps from {@code offset}: committed with {@code tc} threads, each re-executed with {@code tr}. */
    public static double[] segments(ModelSpec spec, ImageData data, int[] shard, int k, int offset, int n, int tc, int tr) {
        BatchPlan plan = new BatchPlan(shard, BATCH, 7);
        ModelState init = TrainingSession.initialState(spec, 7);
        List<ModelState> cps = new ArrayList<>();
        Engines.useThreads(tc);
        try (TrainingSession s = TrainingSession.open(spec, BATCH, init, init, 0.01, 0.9, 0)) {
            for (int st = 0; st < offset; st++) {
                s.step(data, plan.batch(st));
            }
            cps.add(s.snapshot(true));
            for (int i = 0; i < n; i++) {
                for (int st = offset + i * k; st < offset + (i + 1) * k; st++) {
                    s.step(data, plan.batch(st));
                }
                cps.add(s.snapshot(true));
            }
        }
        Engines.useThreads(tr);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            ModelState start = cps.get(i);
            try (TrainingSession s = TrainingSession.open(spec, BATCH, start, init, 0.01, 0.9, 0)) {
                for (int st = start.step(); st < start.step() + k; st++) {
                    s.step(data, plan.batch(st));
                }
                out[i] = ComparisonPolicy.relativeDistance(start.flat(), cps.get(i + 1).flat(), s.snapshot(false).flat());
            }
        }
        Engines.useThreads(1);
        return out;
    }
}
