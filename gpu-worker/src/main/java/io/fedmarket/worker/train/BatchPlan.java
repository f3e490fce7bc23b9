package io.fedmarket.worker.train;

import java.util.SplittableRandom;

/**
 * Which samples make the batch of global step s: epoch e = s / stepsPerEpoch uses its own
 * permutation of the shard drawn from (seed, e), and the step takes the next {@code batch} of it
 * (the last partial batch of an epoch is dropped). A function of (seed, step) only, so any
 * segment can be re-executed without replaying the steps before it.
 */
public final class BatchPlan {
    private final int[] shard;
    private final int batch;
    private final long seed;
    private final int stepsPerEpoch;
    private int cachedEpoch = -1;
    private int[] cachedPerm;

    public BatchPlan(int[] shard, int batch, long seed) {
        if (shard.length < batch) {
            throw new IllegalArgumentException("the shard has " + shard.length + " samples, fewer than one batch of " + batch
                    + ": lower batchSize or give this client more data");
        }
        this.shard = shard;
        this.batch = batch;
        this.seed = seed;
        this.stepsPerEpoch = shard.length / batch;
    }

    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** Data-set indices of the samples of step {@code step}. */
    public int[] batch(int step) {
        int epoch = step / stepsPerEpoch;
        if (epoch != cachedEpoch) {
            SplittableRandom rnd = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (epoch + 1)));
            int[] p = shard.clone();
            for (int i = p.length - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            cachedPerm = p;
            cachedEpoch = epoch;
        }
        int from = (step % stepsPerEpoch) * batch;
        int[] out = new int[batch];
        System.arraycopy(cachedPerm, from, out, 0, batch);
        return out;
    }
}
