package io.fedmarket.fl.aggregation;

import io.fedmarket.fl.Vectors;

/** The client side of FedProx: the proximal term (μ/2)·‖w − w_global‖² and its gradient. */
public final class ProximalTerm {
    private ProximalTerm() {
    }

    public static double value(float[] local, float[] global, double mu) {
        return 0.5 * mu * Vectors.squaredDistance(local, global);
    }

    /** Adds μ·(w − w_global) to {@code gradient} in place: the worker calls this every step. */
    public static void addGradient(float[] gradient, float[] local, float[] global, double mu) {
        Vectors.requireLength(local, gradient.length, "local parameters");
        Vectors.requireLength(global, gradient.length, "global parameters");
        for (int i = 0; i < gradient.length; i++) {
            gradient[i] += (float) (mu * (local[i] - global[i]));
        }
    }
}
