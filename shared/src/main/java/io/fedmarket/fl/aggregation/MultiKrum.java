package io.fedmarket.fl.aggregation;

import io.fedmarket.fl.Vectors;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Multi-Krum (Blanchard et al. 2017; El Mhamdi et al. 2018). Each update is scored by the sum
 * of squared distances to its n − f − 2 nearest neighbours; the m lowest-scored updates are
 * averaged weighted by samples (as Flower does). m = 1 is Krum. Tolerates f Byzantine
 * updates only when n &gt; 2f + 2. Ties in score break by task id so that anyone recomputing
 * the round gets the same selection.
 */
public final class MultiKrum implements AggregationRule {
    private final int f;
    private final int m;

    public MultiKrum(int f, int m) {
        if (f < 0) {
            throw new IllegalArgumentException("multi-krum: f (tolerated Byzantine updates) must be >= 0 but was " + f);
        }
        if (m < 1) {
            throw new IllegalArgumentException("multi-krum: m (updates to average) must be >= 1 but was " + m
                    + "; m = 1 is plain Krum");
        }
        this.f = f;
        this.m = m;
    }

    public int f() {
        return f;
    }

    public int m() {
        return m;
    }

    @Override
    public String name() {
        return m == 1 ? "krum" : "multi-krum";
    }

    /** n &gt; 2f + 2 and m ≤ n − f. */
    @Override
    public int minUpdates() {
        return Math.max(2 * f + 3, m + f);
    }

    @Override
    public AggregationResult aggregate(float[] globalModel, List<ClientUpdate> updates, ServerState state) {
        int n = updates.size();
        if (n <= 2 * f + 2) {
            throw new IllegalArgumentException(name() + " with f=" + f + " needs n > 2f+2 = " + (2 * f + 2)
                    + " updates but got " + n + "; lower f or wait for at least " + (2 * f + 3) + " updates");
        }
        if (m > n - f) {
            throw new IllegalArgumentException(name() + ": m=" + m + " exceeds n - f = " + (n - f)
                    + " (n=" + n + ", f=" + f + "); lower m or wait for more updates");
        }
        int d = globalModel.length;
        for (ClientUpdate u : updates) {
            Vectors.requireLength(u.parameters(), d, "update of task " + u.taskId());
        }
        double[] scores = scores(updates, f);
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> scores[i])
                .thenComparing(i -> updates.get(i).taskId()));
        List<ClientUpdate> chosen = new ArrayList<>(m);
        for (int k = 0; k < m; k++) {
            chosen.add(updates.get(order[k]));
        }
        return new AggregationResult(Vectors.toFloat(FedAvg.weightedMean(d, chosen)), state, FedAvg.taskIds(chosen));
    }

    /** Krum score of every update: sum of squared distances to its n − f − 2 closest others. */
    public static double[] scores(List<ClientUpdate> updates, int f) {
        int n = updates.size();
        int k = n - f - 2;
        double[][] dist = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double s = Vectors.squaredDistance(updates.get(i).parameters(), updates.get(j).parameters());
                dist[i][j] = s;
                dist[j][i] = s;
            }
        }
        double[] scores = new double[n];
        double[] row = new double[n - 1];
        for (int i = 0; i < n; i++) {
            int c = 0;
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    row[c++] = dist[i][j];
                }
            }
            Arrays.sort(row);
            double s = 0;
            for (int j = 0; j < k; j++) {
                s += row[j];
            }
            scores[i] = s;
        }
        return scores;
    }
}
