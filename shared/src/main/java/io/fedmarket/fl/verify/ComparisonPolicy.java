package io.fedmarket.fl.verify;

import io.fedmarket.fl.Vectors;
import io.fedmarket.fl.proof.Hashes;

import java.util.Arrays;

/**
 * How a re-executed segment is compared with the worker's committed checkpoint.
 * Bit-exact where the kernels are deterministic (same engine, same thread count: verified
 * for DJL/PyTorch CPU); otherwise the relative L2 distance
 * ‖reexecuted − committed‖ / ‖reexecuted − start‖ (distance measured against how far the
 * segment moves the parameters) must stay within a calibrated threshold.
 */
public sealed interface ComparisonPolicy {
    String mode();

    Result compare(float[] start, float[] committedEnd, byte[] committedEndHash, float[] reexecutedEnd);

    /** {@code distance} is NaN when not computed (bit-exact mode). */
    record Result(boolean match, double distance) {
    }

    static double relativeDistance(float[] start, float[] committedEnd, float[] reexecutedEnd) {
        double moved = Vectors.distance(reexecutedEnd, start);
        double diff = Vectors.distance(reexecutedEnd, committedEnd);
        if (diff == 0) {
            return 0;
        }
        return moved == 0 ? Double.POSITIVE_INFINITY : diff / moved;
    }

    record BitExact() implements ComparisonPolicy {
        @Override
        public String mode() {
            return "bit-exact";
        }

        @Override
        public Result compare(float[] start, float[] committedEnd, byte[] committedEndHash, float[] reexecutedEnd) {
            return new Result(Arrays.equals(Hashes.paramsHash(reexecutedEnd), committedEndHash), Double.NaN);
        }
    }

    record Tolerance(ToleranceCalibration calibration) implements ComparisonPolicy {
        @Override
        public String mode() {
            return "relative-l2";
        }

        @Override
        public Result compare(float[] start, float[] committedEnd, byte[] committedEndHash, float[] reexecutedEnd) {
            if (Arrays.equals(Hashes.paramsHash(reexecutedEnd), committedEndHash)) {
                return new Result(true, 0);
            }
            if (committedEnd == null) {
                return new Result(false, Double.POSITIVE_INFINITY);
            }
            double d = relativeDistance(start, committedEnd, reexecutedEnd);
            return new Result(d <= calibration.threshold(), d);
        }
    }
}
