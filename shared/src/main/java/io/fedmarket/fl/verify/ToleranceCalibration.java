package io.fedmarket.fl.verify;

/**
 * How the distance threshold for non-deterministic kernels was set, recorded in every verdict
 * that used it so anyone can judge the margin: the largest relative distance seen between
 * two honest executions of the same segments, times a safety factor, never below a floor.
 *
 * @param method free text: which kernels/hardware/thread counts the samples came from
 */
public record ToleranceCalibration(int samples, double maxObserved, double safetyFactor, double floor,
                                   double threshold, String method) {
    public ToleranceCalibration {
        if (samples <= 0) {
            throw new IllegalArgumentException("a calibration needs at least one honest sample pair; measure some "
                    + "segments twice on the kernels in question first");
        }
        if (!(threshold > 0) || Double.isInfinite(threshold)) {
            throw new IllegalArgumentException("calibrated threshold must be a finite number > 0 but was " + threshold);
        }
    }

    public static ToleranceCalibration fromSamples(double[] honestDistances, double safetyFactor, double floor,
                                                   String method) {
        if (honestDistances.length == 0) {
            throw new IllegalArgumentException("no honest distances given; measure some segments twice first");
        }
        if (!(safetyFactor >= 1)) {
            throw new IllegalArgumentException("safety factor must be >= 1 but was " + safetyFactor);
        }
        double max = 0;
        for (double d : honestDistances) {
            if (!Double.isFinite(d) || d < 0) {
                throw new IllegalArgumentException("honest distance " + d + " is not a finite non-negative number");
            }
            max = Math.max(max, d);
        }
        return new ToleranceCalibration(honestDistances.length, max, safetyFactor, floor,
                Math.max(floor, max * safetyFactor), method);
    }
}
