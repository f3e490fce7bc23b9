package io.fedmarket.fl.verify;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The measured tolerance calibrations the marketplace ships ({@code io/fedmarket/calibration/tolerance.json}, written by
 * {@code ./mkt bench calibrate --out …}): for each model, the relative L2 distances between honest executions of the same
 * segments on kernels that are not bit-identical (on CPU: other intra-op thread counts), and the threshold taken from
 * them (largest × safety factor, never below a floor). A job that compares with a tolerance and names none uses its
 * model's calibrated threshold, and every verdict records where the threshold came from.
 */
public final class Calibrations {
    public static final String RESOURCE = "/io/fedmarket/calibration/tolerance.json";

    /** One measured model at one segment length. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Entry(String modelSpec, int segmentSteps, int samples, double maxObserved, double median, double safetyFactor,
                        double floor, double threshold, String method, List<Double> distances) {
        public ToleranceCalibration calibration(String measuredAt) {
            return new ToleranceCalibration(samples, maxObserved, safetyFactor, floor, threshold,
                    method + ", segments of " + segmentSteps + " step(s), measured " + measuredAt);
        }
    }

    /** The whole file. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record File(String measuredAt, String engine, String machine, String command, List<Entry> entries) {
    }

    private static volatile File shipped;

    private Calibrations() {
    }

    /** The calibrations on the classpath (empty when none is shipped). */
    public static File shipped() {
        File f = shipped;
        if (f == null) {
            try (InputStream in = Calibrations.class.getResourceAsStream(RESOURCE)) {
                f = in == null ? new File(null, null, null, null, List.of()) : new ObjectMapper().readValue(in, File.class);
            } catch (IOException e) {
                throw new UncheckedIOException("the shipped tolerance calibration " + RESOURCE + " is not readable: " + e.getMessage(), e);
            }
            shipped = f;
        }
        return f;
    }

    /**
     * The calibration for {@code modelSpec}: of its measured segment lengths, the one with the highest threshold (the
     * distance grows with the segment's length, so the longest measured is the safe bound), or empty when the model was
     * not calibrated.
     */
    public static Optional<ToleranceCalibration> forModel(String modelSpec) {
        String spec = modelSpec == null ? "" : modelSpec.trim().toLowerCase(Locale.ROOT);
        File f = shipped();
        return f.entries().stream().filter(e -> e.modelSpec().equals(spec)).max(Comparator.comparingDouble(Entry::threshold))
                .map(e -> e.calibration(f.measuredAt()));
    }
}
