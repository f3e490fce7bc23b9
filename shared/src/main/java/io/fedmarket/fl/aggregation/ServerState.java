package io.fedmarket.fl.aggregation;

/**
 * Server-optimiser state carried from round to round (first and second moments of
 * FedAdam/FedYogi). Stateless rules return {@link #NONE}. Persist it with the round so
 * that a restarted aggregator continues the same trajectory.
 */
public record ServerState(double[] m, double[] v, long round) {
    public static final ServerState NONE = new ServerState(new double[0], new double[0], 0);

    public boolean isEmpty() {
        return m.length == 0;
    }
}
