package io.fedmarket.matching;

import java.util.Arrays;

/**
 * One lazy-greedy pass at one planning price: a pool of GPU providers (those whose asks the price covers), a
 * shortlist of that pool that provably contains every GPU an optimal choice could need, and the data providers
 * added one at a time by marginal gain (coverage gain + best pair value on a free GPU).
 *
 * <p>Why lazy greedy is sound here: a data provider's gain can only fall as the selection grows (coverage is
 * submodular; GPUs and budget are only used up), so a stale gain is an upper bound and the first popped candidate
 * whose fresh gain still tops the heap is the true best (Minoux 1978). For the coverage term alone this is the
 * (1−1/e)-approximate greedy of Nemhauser, Wolsey and Fisher.
 */
final class GreedyRun {
    private static final double[] FIT_OF_CLASS = {1.0, 0.5, 0.0};
    /**
     * A pass keeps the data providers with the best optimistic gains, at least this many. In large markets the
     * greedy picks tens of providers out of tens of thousands, and one ranked below the first few thousand by its
     * optimistic gain practically never wins a round of the greedy; keeping the rest would only churn the heap
     * (saturating coverage lowers everyone's gain at once). Small instances keep every candidate.
     */
    static final int MIN_CANDIDATES = 1024;
    static final int CANDIDATES_PER_SLOT = 32;
    /** Refills of the local search and of re-matching draw from this many best candidates of the pass. */
    static final int POLISH_CANDIDATES = 192;

    /** Work shared by every pass of one solve: GPU orderings and scratch buffers. */
    static final class Prep {
        final Problem p;
        final int[] relRank;
        final int[][] regionLists;
        final long[] fenwick;
        final int[] shortlistBuf;
        final double[] keyBuf;
        final int[] itemBuf;
        final MaxHeap heap;
        final double[] pairCache;
        final double[] pairKeyBuf;
        final int[] itemBuf2;
        final boolean[] mark;
        final int[] pairGpu;

        Prep(Problem p) {
            this.p = p;
            int m = p.nGpu;
            MarketSnapshot snap = p.market;
            // ranks and speed order come precomputed from the snapshot: a solve only filters them
            relRank = new int[m];
            for (int k = 0; k < m; k++) {
                relRank[k] = snap.gpuRelRank[p.snapshotIndex[k]];
            }
            int nr = p.regionNames.size();
            int[] counts = new int[nr];
            for (int g = 0; g < m; g++) {
                counts[p.gpuRegion[g]]++;
            }
            regionLists = new int[nr][];
            for (int r = 0; r < nr; r++) {
                regionLists[r] = new int[counts[r]];
            }
            int[] fill = new int[nr];
            for (int sg : snap.gpuBySpeedDesc) {
                int g = p.toProblem[sg];
                if (g >= 0) {
                    int r = p.gpuRegion[g];
                    regionLists[r][fill[r]++] = g;
                }
            }
            fenwick = new long[snap.nGpu + 1];
            shortlistBuf = new int[m];
            keyBuf = new double[p.nData];
            itemBuf = new int[p.nData];
            heap = new MaxHeap(p.nData);
            pairCache = new double[p.nData];
            pairKeyBuf = new double[p.nData];
            itemBuf2 = new int[p.nData];
            mark = new boolean[p.nData];
            pairGpu = new int[p.nData];
        }

        /**
         * Indices by value descending (ties by index): a primitive sort of the value quantised to 2^-36 of the maximum,
         * packed with the index. Values closer than that count as equal, which moves nothing measurable.
         */
        static int[] sortDescending(double[] v, int n) {
            double max = 0;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, v[i]);
            }
            int idxBits = 32 - Integer.numberOfLeadingZeros(Math.max(1, n));
            double scale = max > 0 ? Math.scalb(1.0, 36) / max : 0;
            long[] keys = new long[n];
            for (int i = 0; i < n; i++) {
                long q = (1L << 36) - (long) Math.floor(v[i] * scale); // descending
                keys[i] = (q << idxBits) | i;
            }
            java.util.Arrays.sort(keys);
            long mask = (1L << idxBits) - 1;
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = (int) (keys[i] & mask);
            }
            return out;
        }

        private void fenAdd(int rank, long v) {
            for (int i = rank + 1; i < fenwick.length; i += i & -i) {
                fenwick[i] += v;
            }
        }

        /** Slots added so far with rank ≤ {@code rank} (reliability at least as high). */
        private long fenPrefix(int rank) {
            long s = 0;
            for (int i = rank + 1; i > 0; i -= i & -i) {
                s += fenwick[i];
            }
            return s;
        }
    }

    final Problem p;
    final Prep prep;
    final double price;
    final int[] capLeft;
    final double[] h;
    final boolean[] chosen;
    final int[] dSel;
    final int[] gSel;
    final double[] gainAtChoice;
    double spent;
    int count;

    private int[] shortlist;
    private int nShort;
    private double[] slSpeed;
    private double[] slRel;
    private int[] slRegion;
    private final double[][] classRel;
    private final double[][] classSpeed;
    private int bestGpu;
    private int[] candidates = new int[0];
    /** Feasibility mode: cheapest pairs first (with required labels still first), used when the weighted passes fail. */
    boolean costOnly;

    /**
     * @param poolEnd     GPUs at positions [0, poolEnd) of the ask order are in the pool
     * @param capLeft     free GPUs per provider (copied)
     * @param slotsNeeded most participants this pass may still add
     */
    GreedyRun(Prep prep, double price, int poolEnd, int[] capLeft, int slotsNeeded) {
        this.p = prep.p;
        this.prep = prep;
        this.price = price;
        this.capLeft = capLeft.clone();
        this.h = new double[p.nLabels];
        this.chosen = new boolean[p.nData];
        this.dSel = new int[p.maxParticipants];
        this.gSel = new int[p.maxParticipants];
        this.gainAtChoice = new double[p.maxParticipants];
        int nr = p.regionNames.size();
        this.classRel = new double[nr][3];
        this.classSpeed = new double[nr][3];
        buildShortlist(poolEnd, slotsNeeded);
    }

    /** Adds an existing pair (re-matching keeps the job's other participants as they are). */
    void keep(int i, int g) {
        gainAtChoice[count] = p.coverageGain(i, h, false);
        dSel[count] = i;
        gSel[count] = g;
        count++;
        chosen[i] = true;
        p.addCounts(i, h);
        spent += price * p.rounds * p.gpuSecondsPerRound(i, g);
    }

    /**
     * Keeps only pool GPUs that fewer than {@code slotsNeeded} free GPUs of the same region dominate (at least as fast
     * and at least as reliable): a dominated GPU can never beat the free dominating one left for it, whatever the
     * data provider, because region fit is equal and speed lowers both cost and the deadline risk.
     */
    private void buildShortlist(int poolEnd, int slotsNeeded) {
        int n = 0;
        for (int[] list : prep.regionLists) {
            for (int g : list) {
                if (p.askRank[g] >= poolEnd || capLeft[g] <= 0) {
                    continue;
                }
                int rank = prep.relRank[g];
                if (prep.fenPrefix(rank) < slotsNeeded) {
                    prep.shortlistBuf[n++] = g;
                }
                prep.fenAdd(rank, Math.min(capLeft[g], slotsNeeded));
            }
            for (int g : list) {
                if (p.askRank[g] < poolEnd && capLeft[g] > 0) {
                    prep.fenAdd(prep.relRank[g], -Math.min(capLeft[g], slotsNeeded));
                }
            }
        }
        nShort = n;
        // a copy of its own: several passes stay alive for the local search, and the scratch buffer is shared
        shortlist = Arrays.copyOf(prep.shortlistBuf, n);
        slSpeed = new double[n];
        slRel = new double[n];
        slRegion = new int[n];
        int nr = p.regionNames.size();
        double[] regRel = new double[nr];
        double[] regSpeed = new double[nr];
        for (int k = 0; k < n; k++) {
            int g = shortlist[k];
            slSpeed[k] = p.speed[g];
            slRel[k] = p.gpuRel[g];
            slRegion[k] = p.gpuRegion[g];
            regRel[slRegion[k]] = Math.max(regRel[slRegion[k]], slRel[k]);
            regSpeed[slRegion[k]] = Math.max(regSpeed[slRegion[k]], slSpeed[k]);
        }
        for (int rho = 0; rho < nr; rho++) {
            for (int r = 0; r < nr; r++) {
                if (regSpeed[r] <= 0) {
                    continue;
                }
                double f = p.fit[rho][r];
                int c = f >= 1.0 ? 0 : f >= 0.5 ? 1 : 2;
                classRel[rho][c] = Math.max(classRel[rho][c], regRel[r]);
                classSpeed[rho][c] = Math.max(classSpeed[rho][c], regSpeed[r]);
            }
        }
    }

    int shortlistSize() {
        return nShort;
    }

    /** Moves the {@code k} largest keys (with their items) to the front, in expected O(n) (quickselect). */
    static void selectTop(double[] keys, int[] items, int n, int k) {
        int lo = 0;
        int hi = n - 1;
        java.util.SplittableRandom r = new java.util.SplittableRandom(n);
        while (lo < hi) {
            int pivotIdx = lo + r.nextInt(hi - lo + 1);
            double pivot = keys[pivotIdx];
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (keys[i] > pivot) {
                    i++;
                }
                while (keys[j] < pivot) {
                    j--;
                }
                if (i <= j) {
                    double tk = keys[i];
                    keys[i] = keys[j];
                    keys[j] = tk;
                    int ti = items[i];
                    items[i] = items[j];
                    items[j] = ti;
                    i++;
                    j--;
                }
            }
            if (k - 1 <= j) {
                hi = j;
            } else if (k - 1 >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    /** Upper bound of the best pair value of data provider i in this pass, or -∞ when no GPU can take it. */
    private double pairUpperBound(int i) {
        double best = Double.NEGATIVE_INFINITY;
        int rho = p.dataRegion[i];
        double remaining = p.budgetD - spent;
        double kInv = 1.0 / p.maxParticipants;
        for (int c = 0; c < 3; c++) {
            double s = classSpeed[rho][c];
            if (s <= 0) {
                continue;
            }
            long gsr = (long) Math.ceil(p.work[i] / s);
            if (gsr > p.perRoundSeconds) {
                continue;
            }
            double cost = price * p.rounds * gsr;
            if (cost > remaining) {
                continue;
            }
            double v = costOnly ? -cost / p.budgetD
                    : (p.w.reliability() * p.dataRel[i] * classRel[rho][c] + p.w.regionFit() * FIT_OF_CLASS[c]) * kInv
                    - p.w.cost() * cost / p.budgetD;
            best = Math.max(best, v);
        }
        return best;
    }

    /** Best pair value of data provider i on a free shortlisted GPU; sets {@link #bestGpu} (-1 when none fits). */
    double bestPair(int i) {
        double best = Double.NEGATIVE_INFINITY;
        int arg = -1;
        double remaining = p.budgetD - spent;
        double kInv = 1.0 / p.maxParticipants;
        double relW = p.w.reliability() * p.dataRel[i];
        double[] fitRow = p.fit[p.dataRegion[i]];
        double work = p.work[i];
        double costPerGs = price * p.rounds;
        double costW = p.w.cost() / p.budgetD;
        for (int k = 0; k < nShort; k++) {
            int g = shortlist[k];
            if (capLeft[g] <= 0) {
                continue;
            }
            long gsr = (long) Math.ceil(work / slSpeed[k]);
            if (gsr > p.perRoundSeconds) {
                continue;
            }
            double cost = costPerGs * gsr;
            if (cost > remaining) {
                continue;
            }
            double v = costOnly ? -cost / p.budgetD : (relW * slRel[k] + p.w.regionFit() * fitRow[slRegion[k]]) * kInv - costW * cost;
            if (v > best) {
                best = v;
                arg = g;
            }
        }
        bestGpu = arg;
        return best;
    }

    int bestGpu() {
        return bestGpu;
    }

    /**
     * Repair when the greedy stalls below the minimum: adds a candidate that no free GPU can take by moving one
     * participant to another free GPU and giving the candidate that participant's GPU (an augmenting path of length
     * two), the cheapest such move first. Returns whether it added one.
     */
    boolean addByMovingOne() {
        double remaining = p.budgetD - spent;
        double perGs = price * p.rounds;
        double bestExtra = Double.POSITIVE_INFINITY;
        int bestI = -1;
        int bestK = -1;
        int bestTo = -1;
        for (int i : candidates) {
            if (chosen[i]) {
                continue;
            }
            for (int k = 0; k < count; k++) {
                int g = gSel[k];
                long gsI = p.gpuSecondsPerRound(i, g);
                if (gsI > p.perRoundSeconds) {
                    continue;
                }
                int j = dSel[k];
                double before = perGs * p.gpuSecondsPerRound(j, g);
                for (int s2 = 0; s2 < nShort; s2++) {
                    int to = shortlist[s2];
                    if (to == g || capLeft[to] <= 0) {
                        continue;
                    }
                    long gsJ = p.gpuSecondsPerRound(j, to);
                    if (gsJ > p.perRoundSeconds) {
                        continue;
                    }
                    double extra = perGs * (gsI + gsJ) - before;
                    if (extra <= remaining && extra < bestExtra) {
                        bestExtra = extra;
                        bestI = i;
                        bestK = k;
                        bestTo = to;
                    }
                }
            }
        }
        if (bestI < 0) {
            return false;
        }
        int j = dSel[bestK];
        int g = gSel[bestK];
        spent += perGs * (p.gpuSecondsPerRound(j, bestTo) - p.gpuSecondsPerRound(j, g));
        gSel[bestK] = bestTo;
        capLeft[bestTo]--;
        capLeft[g]++;
        accept(bestI, g);
        return true;
    }

    /** Removes the k-th participant, keeping the order of the others. */
    void remove(int k) {
        int i = dSel[k];
        int g = gSel[k];
        int row = i * p.nLabels;
        for (int l = 0; l < p.nLabels; l++) {
            h[l] -= p.hist[row + l];
        }
        capLeft[g]++;
        spent -= price * p.rounds * p.gpuSecondsPerRound(i, g);
        chosen[i] = false;
        System.arraycopy(dSel, k + 1, dSel, k, count - k - 1);
        System.arraycopy(gSel, k + 1, gSel, k, count - k - 1);
        System.arraycopy(gainAtChoice, k + 1, gainAtChoice, k, count - k - 1);
        count--;
    }

    /** The selection as it is now, to go back to when a local-search move does not pay. */
    record Snapshot(int[] d, int[] g, double[] gains, int count, double[] h, double spent) {
    }

    Snapshot snapshot() {
        return new Snapshot(dSel.clone(), gSel.clone(), gainAtChoice.clone(), count, h.clone(), spent);
    }

    void restore(Snapshot s) {
        for (int k = 0; k < count; k++) {
            capLeft[gSel[k]]++;
            chosen[dSel[k]] = false;
        }
        System.arraycopy(s.d(), 0, dSel, 0, s.count());
        System.arraycopy(s.g(), 0, gSel, 0, s.count());
        System.arraycopy(s.gains(), 0, gainAtChoice, 0, s.count());
        count = s.count();
        for (int k = 0; k < count; k++) {
            capLeft[gSel[k]]--;
            chosen[dSel[k]] = true;
        }
        System.arraycopy(s.h(), 0, h, 0, h.length);
        spent = s.spent();
    }

    void accept(int i, int g) {
        gainAtChoice[count] = p.coverageGain(i, h, false);
        dSel[count] = i;
        gSel[count] = g;
        count++;
        chosen[i] = true;
        p.addCounts(i, h);
        capLeft[g]--;
        spent += price * p.rounds * p.gpuSecondsPerRound(i, g);
    }

    /**
     * Adds up to {@code maxAdds} data providers by lazy greedy. Stops early when the best gain is not positive and the
     * minimum is reached, unless {@code force}.
     *
     * @param initialGain per data provider, an upper bound of its coverage gain (with required-label bonus) now
     */
    void run(double[] initialGain, int maxAdds, boolean force) {
        int n = 0;
        double[] keys = prep.keyBuf;
        int[] items = prep.itemBuf;
        double[] pairKeys = prep.pairKeyBuf;
        for (int i = 0; i < p.nData; i++) {
            if (chosen[i]) {
                continue;
            }
            double ub = pairUpperBound(i);
            if (ub == Double.NEGATIVE_INFINITY) {
                continue;
            }
            keys[n] = initialGain[i] + ub;
            pairKeys[n] = ub;
            items[n] = i;
            n++;
        }
        int limit = Math.max(MIN_CANDIDATES, CANDIDATES_PER_SLOT * maxAdds) / 2;
        if (n > 2 * limit) {
            // The best by optimistic total gain (first picks, coverage still open) and the best by pair value alone
            // (later picks, once coverage saturates and everyone's coverage gain has shrunk).
            int[] byPair = prep.itemBuf2;
            System.arraycopy(items, 0, byPair, 0, n);
            selectTop(pairKeys, byPair, n, limit);
            selectTop(keys, items, n, limit);
            boolean[] mark = prep.mark;
            for (int k = 0; k < limit; k++) {
                mark[items[k]] = true;
            }
            int m = limit;
            for (int k = 0; k < limit; k++) {
                int i = byPair[k];
                if (!mark[i]) {
                    keys[m] = initialGain[i] + pairKeys[k];
                    items[m++] = i;
                }
            }
            for (int k = 0; k < limit; k++) {
                mark[items[k]] = false;
            }
            n = m;
        }
        if (n > POLISH_CANDIDATES) {
            double[] k2 = Arrays.copyOf(keys, n);
            int[] i2 = Arrays.copyOf(items, n);
            selectTop(k2, i2, n, POLISH_CANDIDATES);
            candidates = Arrays.copyOf(i2, POLISH_CANDIDATES);
        } else {
            candidates = Arrays.copyOf(items, n);
        }
        lazyGreedy(keys, items, n, maxAdds, force);
    }

    /**
     * Adds up to {@code maxAdds} more among the best {@link #POLISH_CANDIDATES} candidates of the last {@link #run} by
     * optimistic gain (fresh gains): the refill step of the local search and of the repair.
     */
    void runOverCandidates(int maxAdds, boolean force) {
        double[] keys = prep.keyBuf;
        int[] items = prep.itemBuf;
        int n = 0;
        for (int i : candidates) {
            if (chosen[i]) {
                continue;
            }
            double ub = pairUpperBound(i);
            if (ub == Double.NEGATIVE_INFINITY) {
                continue;
            }
            keys[n] = gainOf(i) + ub;
            items[n++] = i;
        }
        lazyGreedy(keys, items, n, maxAdds, force);
    }

    /** Selection gain apart from the pair: coverage with the required-label bonus, or the bonus alone in cost-only mode. */
    private double gainOf(int i) {
        return costOnly ? p.requiredLabelBonus(i, h) : p.coverageGain(i, h, true);
    }

    private void lazyGreedy(double[] keys, int[] items, int n, int maxAdds, boolean force) {
        MaxHeap heap = prep.heap;
        heap.heapify(keys, items, n);
        // Cached best pair per data provider: a stale value stays an upper bound (GPUs and budget only get used up),
        // and it is still exact while its GPU has a free slot and its cost fits what is left of the budget.
        double[] pairCache = prep.pairCache;
        int[] pairGpu = prep.pairGpu;
        for (int k = 0; k < n; k++) {
            pairGpu[items[k]] = -2;
        }
        int adds = 0;
        while (adds < maxAdds && count < p.maxParticipants && heap.size() > 0) {
            int i = heap.topItem();
            heap.pop();
            double cov = gainOf(i);
            int g = pairGpu[i];
            double pair;
            if (g == -2) {
                pair = pairUpperBound(i);
            } else {
                pair = pairCache[i];
            }
            boolean exact = g >= 0 && capLeft[g] > 0 && price * p.rounds * p.gpuSecondsPerRound(i, g) <= p.budgetD - spent;
            if (heap.size() > 0 && cov + pair < heap.topKey()) {
                heap.push(cov + pair, i);
                continue;
            }
            if (!exact) {
                pair = bestPair(i);
                g = bestGpu;
                pairGpu[i] = g;
                pairCache[i] = pair;
                if (g < 0) {
                    continue; // no free GPU can take it now, and none will later
                }
            }
            double value = cov + pair;
            if (heap.size() > 0 && value < heap.topKey()) {
                heap.push(value, i);
                continue;
            }
            if (!force && value <= 0 && count >= p.minParticipants) {
                break;
            }
            accept(i, g);
            adds++;
        }
    }
}
