package io.fedmarket.matching;

import java.math.BigInteger;
import java.util.List;
import java.util.Objects;

/**
 * The yard-stick: depth-first enumeration of every assignment of data providers to GPUs (each data provider skipped
 * or placed on one free GPU fast enough for the deadline), pruned by participant count and by a cost lower bound
 * (highest chosen ask × GPU-seconds so far, which the clearing price can never undercut), with the clearing price
 * computed by the auction rule at every node. Exact for the same objective and constraints as {@link MatchingSolver};
 * exponential, so only for small instances. Keeps its search state in fields: one instance per thread.
 */
public final class ExactSolver {
    public static final int MAX_DATA = 20;
    public static final int MAX_GPU = 12;

    private Problem p;
    private double[] h;
    private int[] d;
    private int[] g;
    private int[] used;
    private boolean[] chosenGpu;
    private int[] chosenList;
    private int nChosen;
    private int[] setter;
    private double bestTotal;
    private int[] bestD;
    private int[] bestG;
    private int bestN;
    private long nodes;

    /** Solves exactly; throws IllegalArgumentException when the instance is too large to enumerate. */
    public MatchResult solve(MatchRequest request, List<DataCandidate> dataProviders, List<GpuCandidate> gpuProviders) {
        Objects.requireNonNull(request, "request");
        p = new Problem(request, dataProviders, gpuProviders);
        if (p.nData > MAX_DATA || p.nGpu > MAX_GPU) {
            throw new IllegalArgumentException("the exact solver enumerates every assignment: at most " + MAX_DATA + " eligible data and "
                    + MAX_GPU + " GPU providers, got " + p.nData + " and " + p.nGpu + "; use MatchingSolver for real markets");
        }
        NoMatch early = Diagnosis.beforeSearch(p);
        if (early != null) {
            return early;
        }
        int k = p.maxParticipants;
        h = new double[p.nLabels];
        d = new int[k];
        g = new int[k];
        used = new int[p.nGpu];
        chosenGpu = new boolean[p.nGpu];
        chosenList = new int[p.nGpu];
        setter = new int[1];
        bestTotal = Double.NEGATIVE_INFINITY;
        bestD = new int[k];
        bestG = new int[k];
        bestN = -1;
        nodes = 0;
        dfs(0, 0, 0, 0, 0, BigInteger.ZERO);
        if (bestN < 0) {
            return Diagnosis.afterSearch(p);
        }
        Problem.Evaluation ev = p.evaluate(bestD, bestG, bestN, null);
        if (!ev.feasible()) {
            throw new IllegalStateException("exact solver produced an infeasible set: " + ev.violation());
        }
        return MatchingSolver.toMatch(p, bestD, bestG, bestN, ev, null, null);
    }

    /** Nodes visited by the last solve. */
    public long nodesVisited() {
        return nodes;
    }

    private void dfs(int next, int n, double rel, double fit, long gs, BigInteger topAsk) {
        nodes++;
        if (n >= p.minParticipants) {
            consider(n, rel, fit, gs);
        }
        if (n == p.maxParticipants) {
            return;
        }
        for (int i = next; i < p.nData; i++) {
            int row = i * p.nLabels;
            for (int l = 0; l < p.nLabels; l++) {
                h[l] += p.hist[row + l];
            }
            for (int gg = 0; gg < p.nGpu; gg++) {
                if (used[gg] >= p.capacity[gg]) {
                    continue;
                }
                long perRound = p.gpuSecondsPerRound(i, gg);
                if (perRound > p.perRoundSeconds) {
                    continue;
                }
                long gs2 = gs + perRound * p.rounds;
                BigInteger top2 = topAsk.max(p.ask[gg]);
                if (top2.multiply(BigInteger.valueOf(gs2)).compareTo(p.budget) > 0) {
                    continue; // the price is at least the highest chosen ask, and adding more only costs more
                }
                d[n] = i;
                g[n] = gg;
                if (used[gg]++ == 0) {
                    chosenGpu[gg] = true;
                    chosenList[nChosen++] = gg;
                }
                dfs(i + 1, n + 1, rel + p.dataRel[i] * p.gpuRel[gg], fit + p.fit[p.dataRegion[i]][p.gpuRegion[gg]], gs2, top2);
                if (--used[gg] == 0) {
                    chosenGpu[gg] = false;
                    nChosen--;
                }
            }
            for (int l = 0; l < p.nLabels; l++) {
                h[l] -= p.hist[row + l];
            }
        }
    }

    private void consider(int n, double rel, double fit, long gs) {
        if (p.firstUncoveredRequired(h) >= 0) {
            return;
        }
        BigInteger price = p.clearingPrice(chosenGpu, chosenList, nChosen, setter);
        BigInteger cost = price.multiply(BigInteger.valueOf(gs));
        if (cost.compareTo(p.budget) > 0) {
            return;
        }
        Weights w = p.w;
        double total = w.coverage() * p.coverage(h) + (w.reliability() * rel + w.regionFit() * fit) / p.maxParticipants
                + w.cost() * (1.0 - cost.doubleValue() / p.budgetD);
        if (total > bestTotal) {
            bestTotal = total;
            System.arraycopy(d, 0, bestD, 0, n);
            System.arraycopy(g, 0, bestG, 0, n);
            bestN = n;
        }
    }
}
