package io.fedmarket.worker.train;

import io.fedmarket.fl.model.ModelState;
import io.fedmarket.fl.verify.ComparisonPolicy;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.Partitions;
import io.fedmarket.worker.model.ModelSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * On demand, not in the default suite (the name does not end in Test):
 * {@code ./mvnw -pl gpu-worker test -Dtest=NondeterminismCalibration}. Measures what the
 * {@code nondeterministic} fault does to bit-exact re-execution: the {@code mlp} (784-128-10, batch 64, SGD lr 0.01,
 * momentum 0.9) is trained with one intra-op thread count, checkpointing (parameters + momentum) every k steps,
 * and each segment is re-executed from the committed checkpoint with the other count; printed is the relative L2
 * distance ‖reexec − committed‖ / ‖reexec − start‖ of {@link ComparisonPolicy#relativeDistance}, per segment and
 * summarised, for k = 3 and k = 20, starting at step 0 and after a warm-up, and both ways (2 → 1, 1 → 2). The
 * same count on both sides must give 0 (bit-exact). Fashion-MNIST when installed, else synthetic:6000. The calibration the
 * marketplace ships is measured by {@code ./mkt bench calibrate} ({@link io.fedmarket.worker.bench.ToleranceCalibrationRun}).
 */
class NondeterminismCalibration {
    static final int BATCH = 64;

    @Test
    void printRelativeDistancesBetweenThreadCounts() {
        String name = Files.isRegularFile(Datasets.fashionDir().resolve("train-images-idx3-ubyte.gz")) ? "fashion-mnist" : "synthetic:6000";
        ImageData data = Datasets.load(name);
        int[] shard = Partitions.shard(data, "iid", 10, 0, 1);
        ModelSpec spec = ModelSpec.parse("mlp");
        System.out.println("nondeterminism calibration: " + Engines.description() + ", " + name + ", mlp, batch " + BATCH
                + ", cores " + Runtime.getRuntime().availableProcessors());
        List<Double> all = new ArrayList<>();
        for (int k : new int[]{3, 20}) {
            for (int offset : new int[]{0, 600}) {
                for (int[] threads : new int[][]{{2, 1}, {1, 2}, {1, 1}}) {
                    double[] d = segments(spec, data, shard, k, offset, 8, threads[0], threads[1]);
                    double[] sorted = d.clone();
                    Arrays.sort(sorted);
                    System.out.printf(Locale.ROOT, "  k=%2d from step %4d, committed %d thread(s), re-executed %d: min %.3e median %.3e max %.3e  %s%n",
                            k, offset, threads[0], threads[1], sorted[0], sorted[sorted.length / 2], sorted[sorted.length - 1],
                            Arrays.toString(Arrays.stream(d).mapToObj(x -> String.format(Locale.ROOT, "%.2e", x)).toArray()));
                    if (threads[0] != threads[1]) {
                        for (double x : d) {
                            all.add(x);
                        }
                    } else if (sorted[sorted.length - 1] != 0) {
                        throw new AssertionError("the same thread count must re-execute bit-exactly, got " + Arrays.toString(d));
                    }
                }
            }
        }
        System.out.printf(Locale.ROOT, "  all cross-thread segments: n=%d max %.3e%n", all.size(), all.stream().mapToDouble(x -> x).max().orElse(0));
    }

    /** {@code n} segments of k steps from {@code offset}: committed with {@code tc} threads, each re-executed with {@code tr}. */
    static double[] segments(ModelSpec spec, ImageData data, int[] shard, int k, int offset, int n, int tc, int tr) {
        return io.fedmarket.worker.bench.ToleranceCalibrationRun.segments(spec, data, shard, k, offset, n, tc, tr);
    }
}
