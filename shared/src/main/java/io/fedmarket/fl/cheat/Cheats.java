package io.fedmarket.fl.cheat;

import io.fedmarket.fl.Vectors;
import io.fedmarket.fl.proof.ProofTrail;
import io.fedmarket.fl.proof.TrailHeader;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Cheating strategies as pure transformations. Each produces a consistent-looking
 * submission (a trail that hashes its own checkpoints, the update equal to the last
 * checkpoint) wherever the strategy allows, so that what catches it is the verifier's
 * real work and not a sloppy forgery.
 */
public final class Cheats {
    private Cheats() {
    }

    /** An honest submission from real checkpoints (checkpoint 0 = global, last = update). */
    public static ForgedWork honest(TrailHeader task, List<float[]> checkpoints) {
        return new ForgedWork(checkpoints.get(checkpoints.size() - 1), checkpoints, ProofTrail.build(task, checkpoints));
    }

    public static ForgedWork randomNoise(TrailHeader task, float[] global, double noiseStd, long seed) {
        Random r = new Random(seed);
        float[] u = global.clone();
        for (int i = 0; i < u.length; i++) {
            u[i] += (float) (noiseStd * r.nextGaussian());
        }
        return interpolated(task, global, u);
    }

    public static ForgedWork globalUnchanged(TrailHeader task, float[] global) {
        return interpolated(task, global, global.clone());
    }

    /** global + scale·(another participant's previous-round update − that round's global). */
    public static ForgedWork scaledCopy(TrailHeader task, float[] global, float[] otherPreviousDelta, double scale) {
        return interpolated(task, global, Vectors.addScaled(global, otherPreviousDelta, scale));
    }

    /**
     * Given the real checkpoints of the first m segments (m+1 vectors, m &lt; segments), fill the
     * rest by continuing the average velocity of the trained part: what a worker does to claim
     * all steps while computing only m of them.
     */
    public static ForgedWork partialTraining(TrailHeader task, List<float[]> trainedPrefix) {
        int n = task.segments();
        int m = trainedPrefix.size() - 1;
        if (m < 1 || m >= n) {
            throw new IllegalArgumentException("partial training needs between 1 and " + (n - 1)
                    + " trained segments, got " + m);
        }
        float[] first = trainedPrefix.get(0);
        float[] last = trainedPrefix.get(m);
        float[] velocity = Vectors.subtract(last, first);
        List<float[]> cps = new ArrayList<>(trainedPrefix);
        for (int j = m + 1; j <= n; j++) {
            cps.add(Vectors.addScaled(last, velocity, (double) (j - m) / m));
        }
        return honest(task, cps);
    }

    /** Real checkpoints and hashes, but links that are random bytes instead of a hash chain. */
    public static ForgedWork forgedTrail(TrailHeader task, List<float[]> checkpoints, long seed) {
        ProofTrail real = ProofTrail.build(task, checkpoints);
        Random r = new Random(seed);
        List<byte[]> links = new ArrayList<>();
        for (int i = 0; i < real.links().size(); i++) {
            byte[] b = new byte[32];
            r.nextBytes(b);
            links.add(b);
        }
        return new ForgedWork(checkpoints.get(checkpoints.size() - 1), checkpoints,
                new ProofTrail(task, real.checkpointHashes(), links));
    }

    /** Checkpoints really trained, but on another shard; the trail claims the task's shard. */
    public static ForgedWork wrongShard(TrailHeader task, List<float[]> checkpointsFromOtherShard) {
        return honest(task, checkpointsFromOtherShard);
    }

    /** Straight line from global to the claimed update: a trail with no training behind it. */
    static ForgedWork interpolated(TrailHeader task, float[] global, float[] update) {
        int n = task.segments();
        float[] dir = Vectors.subtract(update, global);
        List<float[]> cps = new ArrayList<>(n + 1);
        cps.add(global.clone());
        for (int i = 1; i < n; i++) {
            cps.add(Vectors.addScaled(global, dir, (double) i / n));
        }
        cps.add(update);
        return honest(task, cps);
    }
}
