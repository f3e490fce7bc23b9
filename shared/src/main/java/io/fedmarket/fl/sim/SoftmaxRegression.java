package io.fedmarket.fl.sim;

import java.util.SplittableRandom;

/**
 * Multinomial logistic regression trained by mini-batch SGD in float32: a convex stand-in for
 * the DJL model, so the simulator exercises real training without native code. Parameters
 * are [W (classes × dim, row-major) | b (classes)].
 *
 * <p>A step is deterministic given its batch; a "non-deterministic kernel" is simulated the
 * way GPUs cause it, by accumulating the per-example gradients in a different order, which
 * changes float32 rounding in the last bits.
 */
public final class SoftmaxRegression {
    private final int dim;
    private final int classes;

    public SoftmaxRegression(int dim, int classes) {
        this.dim = dim;
        this.classes = classes;
    }

    public int size() {
        return classes * dim + classes;
    }

    /**
     * One SGD step on the given rows, in place.
     *
     * @param kernelOrder null for the deterministic kernel; else the source of a random
     *                    accumulation order
     */
    public void step(float[] w, Dataset data, int[] batch, float lr, SplittableRandom kernelOrder) {
        float[] grad = new float[size()];
        float[] logits = new float[classes];
        int[] order = batch.clone();
        if (kernelOrder != null) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = kernelOrder.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        int bOff = classes * dim;
        for (int e : order) {
            float[] x = data.x()[e];
            probabilities(w, x, logits);
            int y = data.y()[e];
            for (int c = 0; c < classes; c++) {
                float g = logits[c] - (c == y ? 1f : 0f);
                int off = c * dim;
                for (int d = 0; d < dim; d++) {
                    grad[off + d] += g * x[d];
                }
                grad[bOff + c] += g;
            }
        }
        float scale = lr / batch.length;
        for (int i = 0; i < w.length; i++) {
            w[i] -= scale * grad[i];
        }
    }

    /** Softmax probabilities into {@code out}. */
    void probabilities(float[] w, float[] x, float[] out) {
        int bOff = classes * dim;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            float z = w[bOff + c];
            int off = c * dim;
            for (int d = 0; d < dim; d++) {
                z += w[off + d] * x[d];
            }
            out[c] = z;
            max = Math.max(max, z);
        }
        float s = 0;
        for (int c = 0; c < classes; c++) {
            out[c] = (float) Math.exp(out[c] - max);
            s += out[c];
        }
        for (int c = 0; c < classes; c++) {
            out[c] /= s;
        }
    }

    public double accuracy(float[] w, Dataset data) {
        float[] p = new float[classes];
        int ok = 0;
        for (int i = 0; i < data.size(); i++) {
            probabilities(w, data.x()[i], p);
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (p[c] > p[best]) {
                    best = c;
                }
            }
            if (best == data.y()[i]) {
                ok++;
            }
        }
        return (double) ok / data.size();
    }

    /** Mean cross-entropy. */
    public double loss(float[] w, Dataset data) {
        float[] p = new float[classes];
        double s = 0;
        for (int i = 0; i < data.size(); i++) {
            probabilities(w, data.x()[i], p);
            s -= Math.log(Math.max(p[data.y()[i]], 1e-12));
        }
        return s / data.size();
    }
}
