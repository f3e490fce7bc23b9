package io.fedmarket.fl.aggregation;

import java.util.List;

/**
 * A server-side aggregation rule: a pure function of the current global model, the round's
 * verified updates and the optimiser state. Implementations never mutate their inputs.
 */
public interface AggregationRule {
    /** Canonical name as written in an intent (e.g. {@code fedavg}, {@code multi-krum}). */
    String name();

    /** Fewest updates this rule can aggregate; the round closer waits for at least this many. */
    default int minUpdates() {
        return 1;
    }

    /**
     * @throws IllegalArgumentException when there are fewer than {@link #minUpdates()} updates
     *     or the vectors' dimensions disagree; callers should check {@link #minUpdates()} first
     *     and treat a short round as a value (keep the previous global model).
     */
    AggregationResult aggregate(float[] globalModel, List<ClientUpdate> updates, ServerState state);

    static void requireEnough(AggregationRule rule, List<ClientUpdate> updates) {
        if (updates.size() < rule.minUpdates()) {
            throw new IllegalArgumentException(rule.name() + " needs at least " + rule.minUpdates()
                    + " verified updates but got " + updates.size()
                    + "; wait for more updates or keep the previous global model for this round");
        }
    }
}
