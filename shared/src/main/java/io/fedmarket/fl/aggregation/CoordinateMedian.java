package io.fedmarket.fl.aggregation;

import java.util.List;

/**
 * Coordinate-wise median (Yin et al. 2018): unweighted, since a cheater could otherwise
 * claim a large sample count to pull the median. Even counts take the mean of the two
 * middle values.
 */
public final class CoordinateMedian implements AggregationRule {
    @Override
    public String name() {
        return "median";
    }

    @Override
    public AggregationResult aggregate(float[] globalModel, List<ClientUpdate> updates, ServerState state) {
        AggregationRule.requireEnough(this, updates);
        return new AggregationResult(TrimmedMean.trimmed(globalModel.length, updates, -1), state,
                FedAvg.taskIds(updates));
    }
}
