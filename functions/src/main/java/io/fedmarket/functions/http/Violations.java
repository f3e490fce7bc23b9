package io.fedmarket.functions.http;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Collects every problem of a request so the client can fix them all at once. */
public final class Violations {
    public static final BigInteger UINT256_MAX = BigInteger.TWO.pow(256).subtract(BigInteger.ONE);
    private static final Pattern DIGITS = Pattern.compile("^[0-9]{1,78}$");

    public static final String LABEL_RULE = io.fedmarket.model.Labels.RULE;

    /** A class label as intents and data offers name it: 1-64 printable characters, no padding. */
    public static boolean label(String l) {
        return io.fedmarket.model.Labels.valid(l);
    }

    private final List<String> missing = new ArrayList<>();
    private final List<Map<String, String>> problems = new ArrayList<>();

    public boolean present(String field, Object value) {
        if (value == null) {
            missing.add(field);
            return false;
        }
        return true;
    }

    /** Records a problem with {@code field} unless {@code ok}; returns {@code ok}. */
    public boolean check(boolean ok, String field, String problem) {
        if (!ok) {
            problems.add(Map.of("field", field, "problem", problem));
        }
        return ok;
    }

    /** Whether a problem with {@code field} has been recorded. */
    public boolean hasAny(String field) {
        return problems.stream().anyMatch(p -> p.get("field").equals(field));
    }

    public void range(String field, Integer v, int min, int max) {
        if (present(field, v)) {
            check(v >= min && v <= max, field, "must be between " + min + " and " + max + ", got " + v);
        }
    }

    /** A positive uint256 amount in base units, as a decimal string; null when missing or bad. */
    public BigInteger amount(String field, String v) {
        if (!present(field, v)) {
            return null;
        }
        if (!DIGITS.matcher(v).matches()) {
            check(false, field, "must be a decimal string of base units (digits only, e.g. \"500000000\"), got \"" + abbreviate(v) + "\"");
            return null;
        }
        BigInteger b = new BigInteger(v);
        check(b.signum() > 0, field, "must be greater than 0");
        check(b.compareTo(UINT256_MAX) <= 0, field, "must fit uint256 (at most 2^256-1)");
        return b.signum() > 0 && b.compareTo(UINT256_MAX) <= 0 ? b : null;
    }

    private static String abbreviate(String v) {
        return v.length() > 40 ? v.substring(0, 40) + "…" : v;
    }

    /** Throws 400 for missing fields, else 422 for broken rules; nothing has been changed yet. */
    public void throwIfAny(String what) {
        if (!missing.isEmpty()) {
            throw ApiError.badRequest("missing_field", what + " is missing required field(s) " + missing + ": add them",
                    Map.of("missing", List.copyOf(missing)));
        }
        if (!problems.isEmpty()) {
            throw ApiError.unprocessable("invalid_" + what.toLowerCase().replace(' ', '_'), what + " breaks " + problems.size()
                    + " rule(s): " + problems.stream().map(p -> p.get("field") + " " + p.get("problem")).toList(),
                    Map.of("violations", List.copyOf(problems)));
        }
    }
}
