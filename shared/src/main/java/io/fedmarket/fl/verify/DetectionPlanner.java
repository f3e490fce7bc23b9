package io.fedmarket.fl.verify;

/**
 * How many segments to re-execute. A worker that faked a fraction f of its segments escapes
 * q independent draws with probability (1−f)^q, so q = ⌈ln(1−p)/ln(1−f)⌉ reaches detection
 * probability p (f = 0.1, p = 0.99 ⇒ q = 44). Drawing without replacement from a trail of n
 * segments is at least as good; {@link #segmentsFor(double, double, int)} uses the exact
 * hypergeometric probability and may need fewer.
 */
public final class DetectionPlanner {
    private DetectionPlanner() {
    }

    /** Smallest q with 1 − (1 − f)^q ≥ p (draws with replacement: an upper bound on what is needed). */
    public static int segmentsFor(double fakedFraction, double targetDetection) {
        check(fakedFraction, targetDetection);
        if (fakedFraction == 1) {
            return 1;
        }
        int q = (int) Math.ceil(Math.log1p(-targetDetection) / Math.log1p(-fakedFraction) - 1e-12);
        return Math.max(1, q);
    }

    /** Smallest q ≤ n drawn without replacement that detects ⌈f·n⌉ faked segments with probability ≥ p. */
    public static int segmentsFor(double fakedFraction, double targetDetection, int segments) {
        check(fakedFraction, targetDetection);
        if (segments <= 0) {
            throw new IllegalArgumentException("a trail must have at least one segment but has " + segments);
        }
        int faked = (int) Math.ceil(fakedFraction * segments - 1e-9);
        for (int q = 1; q <= segments; q++) {
            if (detectionProbability(segments, faked, q) >= targetDetection) {
                return q;
            }
        }
        return segments;
    }

    public static double detectionProbability(double fakedFraction, int q) {
        return 1 - Math.pow(1 - fakedFraction, q);
    }

    /** 1 − C(n−m, q)/C(n, q): at least one of m faked segments among q distinct draws from n. */
    public static double detectionProbability(int segments, int faked, int q) {
        if (faked <= 0) {
            return 0;
        }
        if (q > segments - faked) {
            return 1;
        }
        double miss = 1;
        for (int i = 0; i < q; i++) {
            miss *= (double) (segments - faked - i) / (segments - i);
        }
        return 1 - miss;
    }

    private static void check(double f, double p) {
        if (!(f > 0 && f <= 1)) {
            throw new IllegalArgumentException("faked fraction f must be in (0, 1] but was " + f
                    + "; it is the smallest share of faked segments the job must catch, e.g. 0.1");
        }
        if (!(p > 0 && p < 1)) {
            throw new IllegalArgumentException("target detection probability must be in (0, 1) but was " + p
                    + "; e.g. 0.99");
        }
    }
}
