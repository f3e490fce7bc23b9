package io.fedmarket.fl.aggregation;

import java.util.List;

/**
 * FedProx (Li et al. 2020). The server side is exactly FedAvg; what differs is the client
 * objective, which adds (μ/2)·‖w − w_global‖². {@link #mu()} travels to the workers in the
 * task so that they call {@link ProximalTerm}.
 */
public final class FedProx implements AggregationRule {
    private final double mu;
    private final FedAvg fedAvg = new FedAvg();

    public FedProx(double mu) {
        if (!(mu >= 0) || Double.isInfinite(mu)) {
            throw new IllegalArgumentException("fedprox: mu must be a finite number >= 0 but was " + mu
                    + "; typical values are 0.001 to 1");
        }
        this.mu = mu;
    }

    public double mu() {
        return mu;
    }

    @Override
    public String name() {
        return "fedprox";
    }

    @Override
    public AggregationResult aggregate(float[] globalModel, List<ClientUpdate> updates, ServerState state) {
        return fedAvg.aggregate(globalModel, updates, state);
    }
}
