package io.fedmarket.fl.aggregation;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Chooses the aggregation rule named in an intent. Names are case-insensitive and accept
 * '_' for '-'. Parameters come as a JSON-like map of numbers; unknown keys are an error
 * rather than silently ignored, so a typo in an intent never changes the rule's behaviour.
 * <pre>
 *   fedavg
 *   fedprox        mu (0.01)
 *   fedadam        eta (0.01), beta1 (0.9), beta2 (0.99), tau (0.001)
 *   fedyogi        eta (0.01), beta1 (0.9), beta2 (0.99), tau (0.001)
 *   median
 *   trimmed-mean   beta (0.1)
 *   krum           f (1)
 *   multi-krum     f (1), m (required)
 * </pre>
 */
public final class AggregationRegistry {
    private static final Map<String, Set<String>> PARAMS = new LinkedHashMap<>();

    static {
        PARAMS.put("fedavg", Set.of());
        PARAMS.put("fedprox", Set.of("mu"));
        PARAMS.put("fedadam", Set.of("eta", "beta1", "beta2", "tau"));
        PARAMS.put("fedyogi", Set.of("eta", "beta1", "beta2", "tau"));
        PARAMS.put("median", Set.of());
        PARAMS.put("trimmed-mean", Set.of("beta"));
        PARAMS.put("krum", Set.of("f"));
        PARAMS.put("multi-krum", Set.of("f", "m"));
    }

    private AggregationRegistry() {
    }

    public static Set<String> names() {
        return PARAMS.keySet();
    }

    public static AggregationRule create(String name) {
        return create(name, Map.of());
    }

    public static AggregationRule create(String name, Map<String, ?> params) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("no aggregation rule named; choose one of " + names());
        }
        String key = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        if (key.equals("coordinate-median")) {
            key = "median";
        }
        Set<String> allowed = PARAMS.get(key);
        if (allowed == null) {
            throw new IllegalArgumentException("unknown aggregation rule '" + name + "'; choose one of " + names());
        }
        Map<String, ?> p = params == null ? Map.of() : params;
        Set<String> unknown = new TreeSet<>(p.keySet());
        unknown.removeAll(allowed);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("aggregation rule " + key + " does not take parameter(s) " + unknown
                    + "; it accepts " + (allowed.isEmpty() ? "none" : new TreeSet<>(allowed)));
        }
        return switch (key) {
            case "fedavg" -> new FedAvg();
            case "fedprox" -> new FedProx(num(key, p, "mu", 0.01));
            case "fedadam" -> new ServerOptimizer(ServerOptimizer.Kind.ADAM, num(key, p, "eta", 0.01),
                    num(key, p, "beta1", 0.9), num(key, p, "beta2", 0.99), num(key, p, "tau", 1e-3));
            case "fedyogi" -> new ServerOptimizer(ServerOptimizer.Kind.YOGI, num(key, p, "eta", 0.01),
                    num(key, p, "beta1", 0.9), num(key, p, "beta2", 0.99), num(key, p, "tau", 1e-3));
            case "median" -> new CoordinateMedian();
            case "trimmed-mean" -> new TrimmedMean(num(key, p, "beta", 0.1));
            case "krum" -> new MultiKrum(integer(key, p, "f", 1), 1);
            case "multi-krum" -> {
                if (!p.containsKey("m")) {
                    throw new IllegalArgumentException("multi-krum needs parameter m (how many updates to average); "
                            + "use krum for m = 1");
                }
                yield new MultiKrum(integer(key, p, "f", 1), integer(key, p, "m", 1));
            }
            default -> throw new IllegalStateException("rule " + key + " is listed but not built");
        };
    }

    private static double num(String rule, Map<String, ?> p, String k, double dflt) {
        Object v = p.get(k);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException(rule + ": parameter " + k + " must be a number but was '" + v + "'");
    }

    private static int integer(String rule, Map<String, ?> p, String k, int dflt) {
        double d = num(rule, p, k, dflt);
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(rule + ": parameter " + k + " must be a whole number but was " + d);
        }
        return (int) d;
    }
}
