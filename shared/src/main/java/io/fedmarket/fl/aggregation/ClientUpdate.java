package io.fedmarket.fl.aggregation;

import java.util.Objects;

/**
 * One verified client result entering aggregation: the full local model parameters after
 * training (not the delta), and the number of training samples that produced them.
 * Flower's {@code FitRes} in the marketplace's words.
 */
public record ClientUpdate(String taskId, float[] parameters, long numSamples) {
    public ClientUpdate {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(parameters, "parameters");
        if (numSamples <= 0) {
            throw new IllegalArgumentException("update of task " + taskId + " reports " + numSamples
                    + " samples; a verified update must have trained on at least one sample");
        }
    }
}
