package io.fedmarket.fl.aggregation;

import java.util.List;

/**
 * The next global model. {@code usedTaskIds} lists the updates that actually contributed
 * (Multi-Krum leaves some out), so provenance records exactly who shaped the model.
 */
public record AggregationResult(float[] model, ServerState state, List<String> usedTaskIds) {
    public AggregationResult {
        usedTaskIds = List.copyOf(usedTaskIds);
    }
}
