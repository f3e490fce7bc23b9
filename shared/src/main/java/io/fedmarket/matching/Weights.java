package io.fedmarket.matching;

/**
 * Weights of the matching objective. Each component of the objective lies in [0, 1], so the weights
 * say directly how much one unit of each is worth against the others; they are normalised to sum 1.
 *
 * @param coverage    label coverage of the chosen data against the intent's target distribution
 * @param reliability expected completion (reliability history of data and GPU provider of each pair)
 * @param regionFit   region proximity of each data provider to its GPU provider (transfer latency)
 * @param cost        1 − expected cost / budget: cheaper jobs score higher
 */
public record Weights(double coverage, double reliability, double regionFit, double cost) {

    /** Coverage first (the model is only as good as its data), then completion, cost, latency. */
    public static final Weights DEFAULT = new Weights(0.5, 0.25, 0.1, 0.15);

    public Weights {
        check("coverage", coverage);
        check("reliability", reliability);
        check("regionFit", regionFit);
        check("cost", cost);
        double sum = coverage + reliability + regionFit + cost;
        if (!(sum > 0)) {
            throw new IllegalArgumentException("matching weights are all zero: give at least one positive weight "
                    + "(defaults: coverage 0.5, reliability 0.25, regionFit 0.1, cost 0.15)");
        }
        coverage /= sum;
        reliability /= sum;
        regionFit /= sum;
        cost /= sum;
    }

    private static void check(String name, double w) {
        if (!Double.isFinite(w) || w < 0) {
            throw new IllegalArgumentException("matching weight " + name + " is " + w + ": weights must be finite and >= 0");
        }
    }
}
