package io.fedmarket.fl.aggregation;

import io.fedmarket.fl.Vectors;

import java.util.Arrays;
import java.util.List;

/**
 * Coordinate-wise β-trimmed mean (Yin et al. 2018): per coordinate, drop the ⌊β·n⌋ largest
 * and ⌊β·n⌋ smallest values and average the rest (unweighted, for the same reason as the
 * median).
 */
public final class TrimmedMean implements AggregationRule {
    private final double beta;

    public TrimmedMean(double beta) {
        if (!(beta >= 0 && beta < 0.5)) {
            throw new IllegalArgumentException("trimmed-mean: beta must be in [0, 0.5) but was " + beta
                    + "; it is the fraction cut from EACH end, e.g. 0.1 or 0.2");
        }
        this.beta = beta;
    }

    public double beta() {
        return beta;
    }

    @Override
    public String name() {
        return "trimmed-mean";
    }

    @Override
    public AggregationResult aggregate(float[] globalModel, List<ClientUpdate> updates, ServerState state) {
        AggregationRule.requireEnough(this, updates);
        int cut = (int) Math.floor(beta * updates.size());
        return new AggregationResult(trimmed(globalModel.length, updates, cut), state, FedAvg.taskIds(updates));
    }

    /** cut &lt; 0 means median. */
    static float[] trimmed(int d, List<ClientUpdate> updates, int cut) {
        int n = updates.size();
        for (ClientUpdate u : updates) {
            Vectors.requireLength(u.parameters(), d, "update of task " + u.taskId());
        }
        float[] out = new float[d];
        float[] col = new float[n];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < n; j++) {
                col[j] = updates.get(j).parameters()[i];
            }
            Arrays.sort(col);
            if (cut < 0) {
                out[i] = (n % 2 == 1) ? col[n / 2] : (float) (((double) col[n / 2 - 1] + col[n / 2]) / 2);
            } else {
                double s = 0;
                for (int j = cut; j < n - cut; j++) {
                    s += col[j];
                }
                out[i] = (float) (s / (n - 2 * cut));
            }
        }
        return out;
    }
}
