package io.fedmarket.matching;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An intent and its candidates compiled into flat arrays: the hard constraints that concern a single provider are
 * applied here (prefilter), everything that concerns a set of providers is checked by {@link #evaluate}. Shared by
 * the fast solver and the exact yard-stick so both optimise exactly the same function.
 */
final class Problem {
    /** Selection bonus per newly covered required label: larger than any objective (≤ 1), so labels come first. */
    static final double REQUIRED_LABEL_BONUS = 10.0;

    final MatchRequest req;
    final Weights w;
    final int rounds;
    final long perRoundSeconds;
    final int minParticipants;
    final int maxParticipants;
    final BigInteger budget;
    final double budgetD;
    final BigInteger maxPrice;
    final double maxPriceD;

    // labels
    final String[] labels;
    final int nLabels;
    final double[] share;      // normalised target share
    final double[] demand;     // samples wanted per label
    final int[] requiredLabels;

    // regions
    final List<String> regionNames;
    final double[][] fit;

    // eligible data providers
    final int nData;
    final DataCandidate[] data;
    final long[] work;
    final double[] dataRel;
    final int[] dataRegion;
    final double[] hist;       // nData × nLabels, row-major
    private Map<String, Integer> dataIndex;

    // eligible GPU providers
    final int nGpu;
    final GpuCandidate[] gpu;
    final double[] speed;
    final double[] gpuRel;
    final int[] gpuRegion;
    final int[] capacity;
    final BigInteger[] ask;
    final double[] askD;
    final long[] askCapped;    // ask, or Long.MAX_VALUE past 2^63
    final int[] byAsk;         // eligible GPUs by ask ascending
    final MarketSnapshot market;
    final int[] snapshotIndex; // eligible GPU -> its index in the snapshot
    final int[] toProblem;     // snapshot GPU -> eligible index, or -1
    final int[] askRank;       // position of each GPU in byAsk
    private boolean[] scratchChosenGpu;
    private int[] scratchUsed;
    private boolean[] scratchUsedData;
    private Map<String, Integer> gpuIndex;

    // funnel, for NoMatch reasons
    final int dataTotal;
    final int dataInDomain;
    final int dataBonded;
    final int gpuTotal;
    final int gpuUnderPrice;
    final BigInteger lowestAskOverall;
    final long gpuSlots;
    final double maxSpeed;

    Problem(MatchRequest req, List<DataCandidate> dataCandidates, List<GpuCandidate> gpuCandidates) {
        this(req, MarketSnapshot.of(dataCandidates, gpuCandidates));
    }

    Problem(MatchRequest req, MarketSnapshot market) {
        this.req = req;
        this.w = req.weights();
        this.rounds = req.rounds();
        this.perRoundSeconds = req.trainingSecondsPerRound();
        this.minParticipants = req.minParticipants();
        this.maxParticipants = req.maxParticipants();
        this.budget = req.budget();
        this.budgetD = budget.doubleValue();
        this.maxPrice = req.maxPricePerGpuSecond();
        this.maxPriceD = maxPrice.doubleValue();
        Instant slashedBefore = req.now().minus(req.slashCooldown());

        // labels: target labels first, then required ones the target leaves out
        Map<String, Integer> labelIndex = new LinkedHashMap<>();
        for (String l : req.targetLabelDistribution().keySet().stream().sorted().toList()) {
            labelIndex.putIfAbsent(l, labelIndex.size());
        }
        for (String l : req.requiredLabels()) {
            labelIndex.putIfAbsent(l, labelIndex.size());
        }
        nLabels = labelIndex.size();
        labels = labelIndex.keySet().toArray(new String[0]);
        share = new double[nLabels];
        if (req.targetLabelDistribution().isEmpty()) {
            for (String l : req.requiredLabels()) {
                share[labelIndex.get(l)] = 1.0;
            }
        } else {
            for (Map.Entry<String, Double> e : req.targetLabelDistribution().entrySet()) {
                share[labelIndex.get(e.getKey())] = e.getValue();
            }
        }
        double shareSum = Arrays.stream(share).sum();
        for (int l = 0; l < nLabels; l++) {
            share[l] /= shareSum;
        }
        requiredLabels = req.requiredLabels().stream().distinct().mapToInt(labelIndex::get).toArray();

        MarketSnapshot snap = market;
        regionNames = snap.regionNames;
        fit = snap.fit;
        Integer domainId = snap.domainIds.get(req.domain().toLowerCase(java.util.Locale.ROOT));
        int dom = domainId == null ? -1 : domainId;
        BigInteger reqBond = req.requiredBond();
        long reqBondCapped = MarketSnapshot.capped(reqBond);
        int[] labelMap = new int[snap.labelIds.size()];
        Arrays.fill(labelMap, -1);
        for (Map.Entry<String, Integer> e : snap.labelIds.entrySet()) {
            Integer li = labelIndex.get(e.getKey());
            if (li != null) {
                labelMap[e.getValue()] = li;
            }
        }

        // data prefilter, over the snapshot's columns
        int inDomain = 0;
        int bonded = 0;
        int n = 0;
        int nd = snap.nData;
        DataCandidate[] d = new DataCandidate[nd];
        long[] wk = new long[nd];
        double[] rel = new double[nd];
        int[] reg = new int[nd];
        double[] h = new double[nd * Math.max(1, nLabels)];
        long sampleSum = 0;
        for (int i = 0; i < nd; i++) {
            if (snap.dataDomain[i] != dom) {
                continue;
            }
            inDomain++;
            if (!snap.dataBonded(i, reqBond, reqBondCapped) || snap.dataSlashedAfter(i, slashedBefore)) {
                continue;
            }
            bonded++;
            long samples = snap.sampleCount[i];
            if (samples <= 0) {
                continue;
            }
            int row = n * nLabels;
            boolean useful = false;
            for (int k = snap.histStart[i]; k < snap.histStart[i + 1]; k++) {
                int li = labelMap[snap.histLabel[k]];
                if (li >= 0) {
                    h[row + li] = snap.histCount[k];
                    useful = true;
                }
            }
            if (!useful) {
                continue;
            }
            d[n] = snap.data[i];
            wk[n] = req.samplesPerRound(samples);
            rel[n] = snap.dataRel[i];
            reg[n] = snap.dataRegion[i];
            sampleSum += samples;
            n++;
        }
        dataTotal = nd;
        dataInDomain = inDomain;
        dataBonded = bonded;
        nData = n;
        data = Arrays.copyOf(d, n);
        work = Arrays.copyOf(wk, n);
        dataRel = Arrays.copyOf(rel, n);
        dataRegion = Arrays.copyOf(reg, n);
        hist = h; // rows past nData stay unused: copying megabytes to trim them costs more than it saves

        double targetSamples = req.targetSamples() > 0 ? req.targetSamples()
                : n == 0 ? 1 : (double) maxParticipants * sampleSum / n;
        demand = new double[nLabels];
        for (int l = 0; l < nLabels; l++) {
            demand[l] = share[l] * targetSamples;
        }

        // GPU prefilter
        long maxPriceCapped = MarketSnapshot.capped(maxPrice);
        int ng = snap.nGpu;
        int underPrice = 0;
        int lowestIdx = -1;
        int[] keep = new int[ng];
        int m = 0;
        for (int g = 0; g < ng; g++) {
            if (lowestIdx < 0 || snap.askCapped[g] < snap.askCapped[lowestIdx]
                    || (snap.askCapped[g] == Long.MAX_VALUE && snap.ask[g].compareTo(snap.ask[lowestIdx]) < 0)) {
                lowestIdx = g;
            }
            if (!snap.askAtMost(g, maxPrice, maxPriceCapped)) {
                continue;
            }
            underPrice++;
            if (!snap.gpuBonded(g, reqBond, reqBondCapped) || snap.gpuSlashedAfter(g, slashedBefore) || snap.capacity[g] < 1
                    || !(snap.speed[g] > 0)) {
                continue;
            }
            keep[m++] = g;
        }
        gpuTotal = ng;
        gpuUnderPrice = underPrice;
        lowestAskOverall = lowestIdx < 0 ? null : snap.ask[lowestIdx];
        nGpu = m;
        gpu = new GpuCandidate[m];
        speed = new double[m];
        gpuRel = new double[m];
        gpuRegion = new int[m];
        capacity = new int[m];
        ask = new BigInteger[m];
        askD = new double[m];
        askCapped = new long[m];
        long slots = 0;
        double fastest = 0;
        for (int k = 0; k < m; k++) {
            int g = keep[k];
            gpu[k] = snap.gpu[g];
            speed[k] = snap.speed[g];
            gpuRel[k] = snap.gpuRel[g];
            gpuRegion[k] = snap.gpuRegion[g];
            capacity[k] = snap.capacity[g];
            ask[k] = snap.ask[g];
            askD[k] = snap.askD[g];
            askCapped[k] = snap.askCapped[g];
            slots += capacity[k];
            fastest = Math.max(fastest, speed[k]);
        }
        gpuSlots = slots;
        maxSpeed = fastest;
        this.market = snap;
        snapshotIndex = Arrays.copyOf(keep, m);
        int[] toProblem = new int[ng];
        Arrays.fill(toProblem, -1);
        for (int k = 0; k < m; k++) {
            toProblem[keep[k]] = k;
        }
        byAsk = new int[m];
        int pos = 0;
        for (int g : snap.gpuByAsk) {
            if (toProblem[g] >= 0) {
                byAsk[pos++] = toProblem[g];
            }
        }
        this.toProblem = toProblem;
        askRank = new int[m];
        for (int i = 0; i < m; i++) {
            askRank[byAsk[i]] = i;
        }
    }

    /** Index of a data provider by id, or null (built on first use: only re-matching needs it). */
    Integer dataIndexOf(String id) {
        if (dataIndex == null) {
            dataIndex = new HashMap<>();
            for (int i = 0; i < nData; i++) {
                if (dataIndex.putIfAbsent(data[i].id(), i) != null) {
                    throw new IllegalArgumentException("data provider id " + data[i].id() + " appears twice among the candidates: ids must be unique");
                }
            }
        }
        return dataIndex.get(id);
    }

    /** Index of a GPU provider by id, or null. */
    Integer gpuIndexOf(String id) {
        if (gpuIndex == null) {
            gpuIndex = new HashMap<>();
            for (int g = 0; g < nGpu; g++) {
                if (gpuIndex.putIfAbsent(gpu[g].id(), g) != null) {
                    throw new IllegalArgumentException("GPU provider id " + gpu[g].id() + " appears twice among the candidates: ids must be unique");
                }
            }
        }
        return gpuIndex.get(id);
    }

    /**
     * Indices 0..n-1 ordered by value ascending, ties by index. A primitive sort of (value, index) packed in a long when
     * the values are small enough (asks in base units per second always are), else a comparator sort.
     */
    static int[] sortedIndices(int n, long[] capped, BigInteger[] values) {
        int[] out = new int[n];
        int idxBits = 32 - Integer.numberOfLeadingZeros(Math.max(1, n));
        boolean packable = true;
        for (int i = 0; i < n && packable; i++) {
            packable = capped[i] >= 0 && 64 - Long.numberOfLeadingZeros(capped[i]) + idxBits <= 62;
        }
        if (packable) {
            long[] keys = new long[n];
            for (int i = 0; i < n; i++) {
                keys[i] = (capped[i] << idxBits) | i;
            }
            Arrays.sort(keys);
            long mask = (1L << idxBits) - 1;
            for (int i = 0; i < n; i++) {
                out[i] = (int) (keys[i] & mask);
            }
            return out;
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int c = values[a].compareTo(values[b]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        for (int i = 0; i < n; i++) {
            out[i] = order[i];
        }
        return out;
    }

    /** ask of g compared with ask of h, on the capped longs where they decide. */
    int compareAsk(int g, int h) {
        if (askCapped[g] < Long.MAX_VALUE || askCapped[h] < Long.MAX_VALUE) {
            return Long.compare(askCapped[g], askCapped[h]);
        }
        return ask[g].compareTo(ask[h]);
    }

    /** 1 in the same region, 0.5 on the same continent (same prefix before the first '-'), else 0. */
    static double regionFit(String a, String b) {
        if (a.equalsIgnoreCase(b)) {
            return 1.0;
        }
        int ia = a.indexOf('-');
        int ib = b.indexOf('-');
        String ca = ia < 0 ? a : a.substring(0, ia);
        String cb = ib < 0 ? b : b.substring(0, ib);
        return ca.equalsIgnoreCase(cb) ? 0.5 : 0.0;
    }

    /** GPU-seconds one round of data provider i takes on one GPU of provider g, rounded up. */
    long gpuSecondsPerRound(int i, int g) {
        return (long) Math.ceil(work[i] / speed[g]);
    }

    boolean meetsDeadline(int i, int g) {
        return gpuSecondsPerRound(i, g) <= perRoundSeconds;
    }

    /** Coverage of label counts {@code h}: Σ share × min(1, h / demand). */
    double coverage(double[] h) {
        double c = 0;
        for (int l = 0; l < nLabels; l++) {
            if (demand[l] > 0) {
                c += share[l] * Math.min(1.0, h[l] / demand[l]);
            }
        }
        return c;
    }

    /** Coverage added by data provider i on top of counts {@code h}, plus the selection bonus for required labels. */
    double coverageGain(int i, double[] h, boolean withBonus) {
        int row = i * nLabels;
        double gain = 0;
        for (int l = 0; l < nLabels; l++) {
            double x = hist[row + l];
            if (x > 0 && demand[l] > 0) {
                double before = h[l];
                if (before < demand[l]) {
                    gain += share[l] * (Math.min(1.0, (before + x) / demand[l]) - before / demand[l]);
                }
            }
        }
        if (withBonus) {
            for (int l : requiredLabels) {
                if (h[l] <= 0 && hist[row + l] > 0) {
                    gain += REQUIRED_LABEL_BONUS;
                }
            }
        }
        return gain;
    }

    /** The selection bonus alone: required labels data provider i would cover for the first time. */
    double requiredLabelBonus(int i, double[] h) {
        int row = i * nLabels;
        double gain = 0;
        for (int l : requiredLabels) {
            if (h[l] <= 0 && hist[row + l] > 0) {
                gain += REQUIRED_LABEL_BONUS;
            }
        }
        return gain;
    }

    void addCounts(int i, double[] h) {
        int row = i * nLabels;
        for (int l = 0; l < nLabels; l++) {
            h[l] += hist[row + l];
        }
    }

    /** Pair value apart from coverage, for a planning price per GPU-second. */
    double pairValue(int i, int g, double price) {
        double cost = price * rounds * gpuSecondsPerRound(i, g);
        return (w.reliability() * dataRel[i] * gpuRel[g] + w.regionFit() * fit[dataRegion[i]][gpuRegion[g]]) / maxParticipants
                - w.cost() * cost / budgetD;
    }

    /** Where no uncovered required label remains, or the first uncovered one's index. */
    int firstUncoveredRequired(double[] h) {
        for (int l : requiredLabels) {
            if (h[l] <= 0) {
                return l;
            }
        }
        return -1;
    }

    /**
     * Uniform clearing price for a set of chosen GPU providers: the lowest ask among the eligible providers not chosen
     * that is at least the highest chosen ask, capped by the builder's max. Returns the price setter's index in
     * {@code setter[0]} (-1 when the cap set it).
     */
    BigInteger clearingPrice(boolean[] chosenGpu, int[] chosenList, int nChosen, int[] setter) {
        int top = -1;
        for (int k = 0; k < nChosen; k++) {
            int g = chosenList[k];
            if (top < 0 || askRank[g] > askRank[top]) {
                top = g;
            }
        }
        setter[0] = -1;
        if (top < 0) {
            return maxPrice;
        }
        // ties with the highest chosen ask may sit before it in byAsk: they are rejected asks >= it too
        int start = askRank[top];
        while (start > 0 && ask[byAsk[start - 1]].equals(ask[top])) {
            start--;
        }
        for (int pos = start; pos < nGpu; pos++) {
            int g = byAsk[pos];
            if (!chosenGpu[g]) {
                if (ask[g].compareTo(maxPrice) < 0) {
                    setter[0] = g;
                    return ask[g];
                }
                return maxPrice;
            }
        }
        return maxPrice;
    }

    /** A complete evaluation of a set of pairs, with every set-level constraint checked. */
    record Evaluation(boolean feasible, String violation, ObjectiveBreakdown objective, BigInteger price, int priceSetter,
                      long totalGpuSeconds, BigInteger cost, double[] coverageGains) {
    }

    /**
     * Evaluates pairs (dataIdx[k], gpuIdx[k]); with {@code fixedPrice} null the clearing price follows the auction rule,
     * else the given price applies (re-matching keeps the job's price).
     */
    Evaluation evaluate(int[] dataIdx, int[] gpuIdx, int n, BigInteger fixedPrice) {
        double[] h = new double[nLabels];
        double[] gains = new double[n];
        if (scratchUsed == null) {
            scratchChosenGpu = new boolean[nGpu];
            scratchUsed = new int[nGpu];
            scratchUsedData = new boolean[nData];
        }
        boolean[] chosenGpu = scratchChosenGpu;
        int[] chosenList = new int[n];
        int nChosen = 0;
        int[] used = scratchUsed;
        boolean[] usedData = scratchUsedData;
        double rel = 0;
        double fitSum = 0;
        long gs = 0;
        String violation = null;
        if (n < minParticipants || n > maxParticipants) {
            violation = n + " participants, outside [" + minParticipants + ", " + maxParticipants + "]";
        }
        for (int k = 0; k < n; k++) {
            int i = dataIdx[k];
            int g = gpuIdx[k];
            if (usedData[i]) {
                violation = "data provider " + data[i].id() + " chosen twice";
            }
            usedData[i] = true;
            gains[k] = coverageGain(i, h, false);
            addCounts(i, h);
            if (!chosenGpu[g]) {
                chosenGpu[g] = true;
                chosenList[nChosen++] = g;
            }
            if (++used[g] > capacity[g]) {
                violation = "GPU provider " + gpu[g].id() + " over capacity " + capacity[g];
            }
            long perRound = gpuSecondsPerRound(i, g);
            if (perRound > perRoundSeconds) {
                violation = "pair " + data[i].id() + "/" + gpu[g].id() + " needs " + perRound + " s per round > " + perRoundSeconds;
            }
            gs += perRound * rounds;
            rel += dataRel[i] * gpuRel[g];
            fitSum += fit[dataRegion[i]][gpuRegion[g]];
        }
        int missing = firstUncoveredRequired(h);
        if (missing >= 0) {
            violation = "required label " + labels[missing] + " not covered";
        }
        int[] setter = new int[1];
        BigInteger price;
        if (fixedPrice != null) {
            price = fixedPrice;
            setter[0] = -2;
            for (int k = 0; k < nChosen; k++) {
                if (ask[chosenList[k]].compareTo(price) > 0) {
                    violation = "GPU provider " + gpu[chosenList[k]].id() + " asks more than the job's price " + price;
                }
            }
        } else {
            price = clearingPrice(chosenGpu, chosenList, nChosen, setter);
        }
        for (int k = 0; k < n; k++) {
            chosenGpu[gpuIdx[k]] = false;
            used[gpuIdx[k]] = 0;
            usedData[dataIdx[k]] = false;
        }
        BigInteger cost = price.multiply(BigInteger.valueOf(gs));
        if (cost.compareTo(budget) > 0) {
            violation = "cost " + cost + " over budget " + budget;
        }
        double costScore = 1.0 - cost.doubleValue() / budgetD;
        ObjectiveBreakdown ob = ObjectiveBreakdown.of(coverage(h), rel / maxParticipants, fitSum / maxParticipants, costScore, w);
        return new Evaluation(violation == null, violation, ob, price, setter[0], gs, cost, gains);
    }
}
