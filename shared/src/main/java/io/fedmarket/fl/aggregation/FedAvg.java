package io.fedmarket.fl.aggregation;

import io.fedmarket.fl.Vectors;

import java.util.ArrayList;
import java.util.List;

/** FedAvg (McMahan et al. 2017): average of client models weighted by their sample counts. */
public final class FedAvg implements AggregationRule {
    @Override
    public String name() {
        return "fedavg";
    }

    @Override
    public AggregationResult aggregate(float[] globalModel, List<ClientUpdate> updates, ServerState state) {
        AggregationRule.requireEnough(this, updates);
        return new AggregationResult(Vectors.toFloat(weightedMean(globalModel.length, updates)), state,
                taskIds(updates));
    }

    /** Sample-weighted mean in double precision; shared by the server optimisers and Multi-Krum. */
    static double[] weightedMean(int d, List<ClientUpdate> updates) {
        double[] acc = new double[d];
        double total = 0;
        for (ClientUpdate u : updates) {
            Vectors.requireLength(u.parameters(), d, "update of task " + u.taskId());
            total += u.numSamples();
        }
        for (ClientUpdate u : updates) {
            double w = u.numSamples() / total;
            float[] p = u.parameters();
            for (int i = 0; i < d; i++) {
                acc[i] += w * p[i];
            }
        }
        return acc;
    }

    static List<String> taskIds(List<ClientUpdate> updates) {
        List<String> ids = new ArrayList<>(updates.size());
        for (ClientUpdate u : updates) {
            ids.add(u.taskId());
        }
        return ids;
    }
}
