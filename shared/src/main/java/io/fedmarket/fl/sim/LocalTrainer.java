package io.fedmarket.fl.sim;

import io.fedmarket.fl.proof.TrailHeader;
import io.fedmarket.fl.verify.UpdateVerifier;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Plain-Java local training with a checkpoint every k steps. The batch of step s depends
 * only on (task seed, s), so any segment can be re-executed alone from its start checkpoint.
 */
public final class LocalTrainer {
    private final SoftmaxRegression model;
    private final Dataset data;

    public LocalTrainer(SoftmaxRegression model, Dataset data) {
        this.model = model;
        this.data = data;
    }

    /** What a task fixes for the simulator: header (seed, steps, k), shard rows, lr, batch. */
    public record Task(TrailHeader header, int[] shard, float lr, int batchSize) {
    }

    public static int[] batch(long seed, int step, int shardSize, int batchSize) {
        SplittableRandom r = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (step + 1L)));
        int[] b = new int[batchSize];
        for (int i = 0; i < batchSize; i++) {
            b[i] = r.nextInt(shardSize);
        }
        return b;
    }

    /** Runs segment {@code segment} in place on a copy of {@code start}. */
    public float[] runSegment(float[] start, Task task, int segment, SplittableRandom kernel) {
        float[] w = start.clone();
        int k = task.header().checkpointEvery();
        int[] rows = new int[task.batchSize()];
        for (int s = segment * k; s < (segment + 1) * k; s++) {
            int[] b = batch(task.header().seed(), s, task.shard().length, task.batchSize());
            for (int i = 0; i < b.length; i++) {
                rows[i] = task.shard()[b[i]];
            }
            model.step(w, data, rows, task.lr(), kernel);
        }
        return w;
    }

    /** Checkpoints 0..segments (checkpoint 0 = start); segments may be fewer than the task's. */
    public List<float[]> train(float[] global, Task task, int segments, SplittableRandom kernel) {
        List<float[]> cps = new ArrayList<>(segments + 1);
        float[] w = global.clone();
        cps.add(w);
        for (int i = 0; i < segments; i++) {
            w = runSegment(w, task, i, kernel);
            cps.add(w);
        }
        return cps;
    }

    /** The verifier's deterministic re-executor for one task. */
    public UpdateVerifier.SegmentExecutor executor(Task task) {
        return (start, segment) -> runSegment(start, task, segment, null);
    }
}
