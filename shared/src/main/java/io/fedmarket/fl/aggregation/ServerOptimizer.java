package io.fedmarket.fl.aggregation;

import java.util.List;

/**
 * Adaptive server optimisers of Reddi et al. 2021, "Adaptive Federated Optimization",
 * Algorithm 2. The sample-weighted mean of the client models minus the global model is the
 * pseudo-gradient Δ; the server keeps moments m (first) and v (second):
 * <pre>
 *   m ← β1·m + (1−β1)·Δ
 *   v ← β2·v + (1−β2)·Δ²                 (FedAdam)
 *   v ← v − (1−β2)·Δ²·sign(v − Δ²)       (FedYogi)
 *   x ← x + η·m / (√v + τ)
 * </pre>
 * As in the paper (not Flower, which starts at 0), v starts at τ² and there is no bias
 * correction; τ bounds the adaptivity. Weighting Δ by samples follows Flower.
 */
public final class ServerOptimizer implements AggregationRule {
    public enum Kind { ADAM, YOGI }

    private final Kind kind;
    private final double eta;
    private final double beta1;
    private final double beta2;
    private final double tau;

    public ServerOptimizer(Kind kind, double eta, double beta1, double beta2, double tau) {
        String n = kind == Kind.ADAM ? "fedadam" : "fedyogi";
        if (!(eta > 0) || Double.isInfinite(eta)) {
            throw new IllegalArgumentException(n + ": eta (server learning rate) must be > 0 but was " + eta
                    + "; the paper tunes it in 1e-3..1");
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException(n + ": beta1 must be in [0, 1) but was " + beta1 + "; 0.9 is usual");
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(n + ": beta2 must be in [0, 1) but was " + beta2 + "; 0.99 is usual");
        }
        if (!(tau > 0) || Double.isInfinite(tau)) {
            throw new IllegalArgumentException(n + ": tau (adaptivity) must be > 0 but was " + tau
                    + "; the paper uses 1e-3");
        }
        this.kind = kind;
        this.eta = eta;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.tau = tau;
    }

    @Override
    public String name() {
        return kind == Kind.ADAM ? "fedadam" : "fedyogi";
    }

    @Override
    public AggregationResult aggregate(float[] globalModel, List<ClientUpdate> updates, ServerState state) {
        AggregationRule.requireEnough(this, updates);
        int d = globalModel.length;
        double[] mean = FedAvg.weightedMean(d, updates);
        double[] m;
        double[] v;
        if (state == null || state.isEmpty()) {
            m = new double[d];
            v = new double[d];
            java.util.Arrays.fill(v, tau * tau);
        } else {
            if (state.m().length != d || state.v().length != d) {
                throw new IllegalArgumentException(name() + ": server state has " + state.m().length
                        + " moments but the model has " + d + " parameters; start the job with ServerState.NONE");
            }
            m = state.m().clone();
            v = state.v().clone();
        }
        float[] next = new float[d];
        for (int i = 0; i < d; i++) {
            double delta = mean[i] - globalModel[i];
            double d2 = delta * delta;
            m[i] = beta1 * m[i] + (1 - beta1) * delta;
            if (kind == Kind.ADAM) {
                v[i] = beta2 * v[i] + (1 - beta2) * d2;
            } else {
                v[i] = v[i] - (1 - beta2) * d2 * Math.signum(v[i] - d2);
            }
            next[i] = (float) (globalModel[i] + eta * m[i] / (Math.sqrt(v[i]) + tau));
        }
        long round = state == null ? 1 : state.round() + 1;
        return new AggregationResult(next, new ServerState(m, v, round), FedAvg.taskIds(updates));
    }
}
