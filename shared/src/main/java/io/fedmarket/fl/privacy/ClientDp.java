package io.fedmarket.fl.privacy;

import io.fedmarket.fl.model.ModelState;

import java.util.SplittableRandom;

/**
 * Client-side DP-FedAvg as the workers apply it to a trained update, and as the verifier replays it: the update
 * Δ = trained − global is clipped to L2 ≤ C and N(0, (σC)²) noise is added per coordinate, from a seed derived from the
 * task's seed. Deterministic given the seed, so a verifier that has the trail's last checkpoint (before noise) can check
 * that the submitted update is exactly that checkpoint, clipped and noised: the noise cannot hide a fake.
 */
public final class ClientDp {
    /** The task seed's salt for the DP noise (the manifest records the resulting seed). */
    public static final long SALT = 0x44505F4E4F495345L;

    private ClientDp() {
    }

    public static long noiseSeed(long taskSeed) {
        return taskSeed ^ SALT;
    }

    public static ModelState privatize(ModelState global, ModelState trained, double clip, double sigma, long seed) {
        double norm2 = 0;
        for (int i = 0; i < trained.params().length; i++) {
            for (int j = 0; j < trained.params()[i].length; j++) {
                double d = trained.params()[i][j] - global.params()[i][j];
                norm2 += d * d;
            }
        }
        double scale = Math.min(1, clip / Math.max(1e-12, Math.sqrt(norm2)));
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] out = new float[trained.params().length][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new float[trained.params()[i].length];
            for (int j = 0; j < out[i].length; j++) {
                double d = (trained.params()[i][j] - global.params()[i][j]) * scale;
                out[i][j] = (float) (global.params()[i][j] + d + gaussian(rnd) * sigma * clip);
            }
        }
        return new ModelState(trained.names(), trained.shapes(), out, null, trained.step());
    }

    /** Box-Muller, one draw per call (the order of draws is part of the replayable noise). */
    public static double gaussian(SplittableRandom rnd) {
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }
}
