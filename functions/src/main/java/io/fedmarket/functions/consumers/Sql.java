package io.fedmarket.functions.consumers;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/** Conversions of native-query column values (the reactive driver's types) to the domain's. */
final class Sql {
    private Sql() {
    }

    static BigInteger big(Object v) {
        if (v == null) {
            return BigInteger.ZERO;
        }
        if (v instanceof BigInteger b) {
            return b;
        }
        if (v instanceof BigDecimal d) {
            return d.toBigIntegerExact();
        }
        return new BigDecimal(v.toString()).toBigIntegerExact();
    }

    static long lng(Object v) {
        return v == null ? 0 : ((Number) v).longValue();
    }

    static double dbl(Object v) {
        return v == null ? 0 : ((Number) v).doubleValue();
    }

    static Instant instant(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Instant i) {
            return i;
        }
        if (v instanceof OffsetDateTime o) {
            return o.toInstant();
        }
        if (v instanceof LocalDateTime l) {
            return l.toInstant(ZoneOffset.UTC);
        }
        if (v instanceof java.util.Date d) {
            return d.toInstant();
        }
        throw new IllegalStateException("unexpected timestamp type " + v.getClass());
    }
}
