package io.fedmarket.worker.train;

import io.fedmarket.fl.model.ModelState;
import io.fedmarket.crypto.Hashes;

import java.util.List;
import java.util.SplittableRandom;

/**
 * FAULT INJECTION for demos and integrity tests, never for production: makes this worker a
 * cheater or a crash. Chosen by {@code FEDMARKET_FAULT} (see {@link #parse}). A cheating worker
 * still signs its submission, so the verifier has to catch it from the trail.
 * <ul>
 *   <li>{@code free-ride}: trains nothing, returns the global model unchanged, every checkpoint hash = h_0</li>
 *   <li>{@code noise}: trains nothing, returns the global model plus Gaussian noise, random checkpoint hashes</li>
 *   <li>{@code partial:F}: trains the first fraction F of the segments honestly, extrapolates the rest
 *       linearly and hashes the made-up checkpoints</li>
 *   <li>{@code crash-after:N}: halts the JVM (like a kill -9) before step N</li>
 * </ul>
 */
public record Fault(String kind, double fraction, int crashStep) {
    public static final Fault NONE = new Fault("none", 1, -1);

    public static Fault parse(String text) {
        if (text == null || text.isBlank() || text.equals("none")) {
            return NONE;
        }
        try {
            if (text.equals("free-ride")) {
                return new Fault("free-ride", 0, -1);
            }
            if (text.equals("noise")) {
                return new Fault("noise", 0, -1);
            }
            if (text.startsWith("partial:")) {
                double f = Double.parseDouble(text.substring(8));
                if (f <= 0 || f >= 1) {
                    throw new NumberFormatException();
                }
                return new Fault("partial", f, -1);
            }
            if (text.startsWith("crash-after:")) {
                return new Fault("crash-after", 1, Integer.parseInt(text.substring(12)));
            }
        } catch (NumberFormatException e) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("unknown FEDMARKET_FAULT '" + text + "': use free-ride, noise, partial:F (0<F<1) or crash-after:N");
    }

    boolean cheats() {
        return kind.equals("free-ride") || kind.equals("noise") || kind.equals("partial");
    }

    int trainedSteps(int steps, int k) {
        return switch (kind) {
            case "free-ride", "noise" -> 0;
            case "partial" -> Math.max(1, (int) (steps / k * fraction)) * k;
            default -> steps;
        };
    }

    void maybeCrash(int step) {
        if (crashStep >= 0 && step >= crashStep) {
            System.err.println("FAULT INJECTION crash-after:" + crashStep + ": halting at step " + step);
            Runtime.getRuntime().halt(137);
        }
    }

    /** Fills the trail up to {@code steps} with made-up checkpoints and returns the forged final model. */
    ModelState forge(ModelState global, ModelState trained, List<String> hashes, List<Double> losses, int steps, int k, long seed) {
        int segments = steps / k;
        SplittableRandom rnd = new SplittableRandom(seed ^ 0xBADL);
        float[][] out = new float[global.params().length][];
        int done = hashes.size() - 1;
        for (int seg = done + 1; seg <= segments; seg++) {
            float[][] p = new float[global.params().length][];
            for (int i = 0; i < p.length; i++) {
                p[i] = new float[global.params()[i].length];
                for (int j = 0; j < p[i].length; j++) {
                    float g = global.params()[i][j];
                    float t = trained.params()[i][j];
                    p[i][j] = switch (kind) {
                        case "free-ride" -> g;
                        case "noise" -> (float) (g + TaskRunner.gaussian(rnd) * 0.01);
                        default -> t + (t - g) * (seg - done) / Math.max(1, done);
                    };
                }
            }
            ModelState m = new ModelState(global.names(), global.shapes(), p, null, seg * k);
            hashes.add(Hashes.hex(m.paramsHash()));
            losses.add(losses.isEmpty() ? 2.3 : losses.get(losses.size() - 1));
            out = p;
        }
        return new ModelState(global.names(), global.shapes(), out, null, steps);
    }
}
