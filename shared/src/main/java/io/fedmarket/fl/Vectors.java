package io.fedmarket.fl;

import java.util.List;

/**
 * Small, allocation-explicit vector arithmetic over model parameter vectors.
 * Sums run in double so that aggregating many float32 updates does not lose precision,
 * and every result is rounded to float32 once at the end (what a model stores).
 */
public final class Vectors {
    private Vectors() {
    }

    /** Fails with a message naming the offending vector when dimensions differ. */
    public static int requireSameLength(List<float[]> vectors, String what) {
        if (vectors.isEmpty()) {
            throw new IllegalArgumentException(what + ": no vectors given");
        }
        int d = vectors.get(0).length;
        for (int i = 1; i < vectors.size(); i++) {
            if (vectors.get(i).length != d) {
                throw new IllegalArgumentException(what + ": vector " + i + " has " + vectors.get(i).length
                        + " parameters but vector 0 has " + d + "; all updates of a round must come from the same model");
            }
        }
        return d;
    }

    public static void requireLength(float[] v, int d, String what) {
        if (v.length != d) {
            throw new IllegalArgumentException(what + " has " + v.length + " parameters, expected " + d
                    + "; all updates of a round must come from the same model");
        }
    }

    public static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    public static double norm(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    public static double distance(float[] a, float[] b) {
        return Math.sqrt(squaredDistance(a, b));
    }

    public static double squaredDistance(float[] a, float[] b) {
        requireLength(b, a.length, "second vector");
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            s += d * d;
        }
        return s;
    }

    public static double dot(float[] a, float[] b) {
        requireLength(b, a.length, "second vector");
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    /** Cosine similarity; 0 when either vector is zero (no direction to compare). */
    public static double cosine(float[] a, float[] b) {
        double na = norm(a);
        double nb = norm(b);
        if (na == 0 || nb == 0) {
            return 0;
        }
        return dot(a, b) / (na * nb);
    }

    /** a − b as a new vector. */
    public static float[] subtract(float[] a, float[] b) {
        requireLength(b, a.length, "second vector");
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] - b[i];
        }
        return r;
    }

    /** a + s·b as a new vector. */
    public static float[] addScaled(float[] a, float[] b, double s) {
        requireLength(b, a.length, "second vector");
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = (float) (a[i] + s * b[i]);
        }
        return r;
    }

    public static float[] toFloat(double[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = (float) v[i];
        }
        return r;
    }

    public static boolean allFinite(float[] v) {
        for (float x : v) {
            if (!Float.isFinite(x)) {
                return false;
            }
        }
        return true;
    }
}
