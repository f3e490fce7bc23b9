package io.fedmarket.matching;

import java.math.BigDecimal;

/**
 * No job can be opened for the intent.
 *
 * @param intentId  the intent
 * @param reason    the hard constraint that failed first
 * @param required  what the constraint needs (in {@code unit})
 * @param available the best the market offers (in {@code unit}); required − available is the shortfall
 * @param unit      unit of the two figures, e.g. "data providers", "base units", "seconds per round"
 * @param message   what failed, by how much, and what the builder can change
 */
public record NoMatch(String intentId, Reason reason, BigDecimal required, BigDecimal available, String unit, String message)
        implements MatchResult {

    /** The hard constraints, in the order the solver checks them. */
    public enum Reason {
        /** No registered data provider serves the domain. */
        DOMAIN,
        /** Data providers of the domain exist, but too few are bonded enough and not recently slashed. */
        DATA_BOND,
        /** A required label is held by no eligible data provider. */
        LABELS,
        /** Fewer eligible data providers than the minimum participants. */
        PARTICIPANTS,
        /** Every GPU provider asks more than the builder's max price. */
        MAX_PRICE,
        /** Eligible GPU providers exist, but too few are bonded enough and not recently slashed. */
        GPU_BOND,
        /** Eligible GPUs together have fewer GPUs than the minimum participants. */
        GPU_CAPACITY,
        /** No GPU is fast enough to finish enough participants' rounds before the deadline. */
        DEADLINE,
        /** The cheapest feasible job costs more than the budget. */
        BUDGET,
        /** Re-matching found no replacement and the job would fall below its minimum participants. */
        NO_REPLACEMENT
    }

    /** Shortfall: required − available. */
    public BigDecimal shortfall() {
        return required.subtract(available);
    }
}
