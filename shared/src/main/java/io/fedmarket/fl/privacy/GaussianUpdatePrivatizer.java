package io.fedmarket.fl.privacy;

import io.fedmarket.fl.Vectors;

import java.util.Random;

/**
 * Client-side DP-FedAvg step: clip the model delta to L2 norm C, then add N(0, (σ·C)²) to
 * every coordinate. The noise is drawn from {@link Random} seeded by the task, whose
 * Gaussian algorithm is fixed by the Java specification, so a verifier re-executing the
 * task draws the very same noise (privacy against the aggregator and the public, not against
 * a verifier who holds the seed: the seed must stay with the worker and verifier only).
 */
public final class GaussianUpdatePrivatizer {
    private final double clipNorm;
    private final double noiseMultiplier;

    public GaussianUpdatePrivatizer(double clipNorm, double noiseMultiplier) {
        if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("DP clip norm must be a finite number > 0 but was " + clipNorm
                    + "; pick it near the median honest update norm");
        }
        if (!(noiseMultiplier >= 0) || Double.isInfinite(noiseMultiplier)) {
            throw new IllegalArgumentException("DP noise multiplier must be a finite number >= 0 but was "
                    + noiseMultiplier + "; 0 disables noise, ~1 is usual");
        }
        this.clipNorm = clipNorm;
        this.noiseMultiplier = noiseMultiplier;
    }

    public double clipNorm() {
        return clipNorm;
    }

    public double noiseMultiplier() {
        return noiseMultiplier;
    }

    /** delta scaled by min(1, C/‖delta‖); a new vector. */
    public static float[] clip(float[] delta, double clipNorm) {
        double n = Vectors.norm(delta);
        double s = n > clipNorm ? clipNorm / n : 1.0;
        float[] r = new float[delta.length];
        for (int i = 0; i < delta.length; i++) {
            r[i] = (float) (delta[i] * s);
        }
        return r;
    }

    /** The privatised delta: clip(delta) + N(0, (σC)²)·I, reproducible from {@code seed}. */
    public float[] privatizeDelta(float[] delta, long seed) {
        if (!Vectors.allFinite(delta)) {
            throw new IllegalArgumentException("update delta contains NaN or infinity; the local training diverged, "
                    + "lower the learning rate");
        }
        float[] clipped = clip(delta, clipNorm);
        Random rnd = new Random(seed);
        double sd = noiseMultiplier * clipNorm;
        for (int i = 0; i < clipped.length; i++) {
            clipped[i] = (float) (clipped[i] + sd * rnd.nextGaussian());
        }
        return clipped;
    }

    /** global + privatised (local − global): what a DP worker submits as its model. */
    public float[] privatizeModel(float[] global, float[] local, long seed) {
        float[] d = privatizeDelta(Vectors.subtract(local, global), seed);
        return Vectors.addScaled(global, d, 1.0);
    }
}
