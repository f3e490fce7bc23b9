package io.fedmarket.matching;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The fast matching solver: lazy greedy per planning price, best price level wins. Pure and thread-safe (no state
 * between calls). See {@code package-info.java} for the model.
 */
public final class MatchingSolver {
    /** With at most this many distinct asks every price level is tried; above it, levels by doubling pool size. */
    static final int ALL_LEVELS_UP_TO = 24;
    /** Above this many levels, every other level first, then the neighbours of the best (coarse to fine). */
    static final int COARSE_ABOVE = 6;

    /** Matches an intent against candidates. Candidates failing a per-provider hard constraint are ignored. */
    public MatchResult solve(MatchRequest request, List<DataCandidate> dataProviders, List<GpuCandidate> gpuProviders) {
        return solve(request, MarketSnapshot.of(dataProviders, gpuProviders));
    }

    /** Matches an intent against a prebuilt {@link MarketSnapshot} (the fast path for a consumer that keeps one). */
    public MatchResult solve(MatchRequest request, MarketSnapshot market) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(market, "market");
        Problem p = new Problem(request, market);
        NoMatch early = Diagnosis.beforeSearch(p);
        if (early != null) {
            return early;
        }
        GreedyRun.Prep prep = new GreedyRun.Prep(p);
        double[] h0 = new double[p.nLabels];
        double[] gain0 = new double[p.nData];
        for (int i = 0; i < p.nData; i++) {
            gain0[i] = p.coverageGain(i, h0, true);
        }
        int[] levels = priceLevels(p);
        Pass[] passes = new Pass[levels.length];
        // Small markets: every level. Large: every other level, then the neighbours of the best (coarse to fine).
        boolean coarse = levels.length > COARSE_ABOVE;
        for (int k = 0; k < levels.length; k++) {
            if (!coarse || k % 2 == 0 || k == levels.length - 1) {
                passes[k] = pass(p, prep, gain0, levels[k]);
            }
        }
        if (coarse) {
            int b = bestIndex(passes);
            for (int k = Math.max(0, b - 1); k <= Math.min(levels.length - 1, b + 1) && b >= 0; k++) {
                if (passes[k] == null) {
                    passes[k] = pass(p, prep, gain0, levels[k]);
                }
            }
        }
        int b = bestIndex(passes);
        if (b < 0) {
            // Weighted passes can spend the budget or the fast GPUs on their first picks and miss the minimum: look for
            // any feasible job, cheapest pairs first, then let the local search improve it.
            double[] bonus0 = new double[p.nData];
            for (int i = 0; i < p.nData; i++) {
                bonus0[i] = p.requiredLabelBonus(i, h0);
            }
            for (int k = 0; k < levels.length; k++) {
                passes[k] = pass(p, prep, bonus0, levels[k], true);
            }
            b = bestIndex(passes);
            if (b < 0) {
                return Diagnosis.afterSearch(p);
            }
        }
        // Local search on the best few passes: a pass that ranks second before the search can rank first after it.
        Pass best = null;
        Problem.Evaluation bestEval = null;
        int[] attempts = {POLISH_ATTEMPTS};
        for (int t = 0; t < POLISH_PASSES && b >= 0; t++) {
            Pass cand = passes[b];
            Problem.Evaluation ev = attempts[0] > 0 ? polish(p, cand.run, cand.eval, attempts) : cand.eval;
            if (bestEval == null || ev.objective().total() > bestEval.objective().total()) {
                best = cand;
                bestEval = ev;
            }
            passes[b] = null;
            b = bestIndex(passes);
        }
        return toMatch(p, best.run.dSel, best.run.gSel, best.run.count, bestEval, null, null);
    }

    /** Local search rounds over the chosen participants. */
    static final int POLISH_ROUNDS = 2;
    /** Passes the local search starts from. */
    static final int POLISH_PASSES = 3;
    /**
     * Moves the local search may try per solve, over all its passes: a small job gets the full search on three passes,
     * a large one about one round on the best pass, which keeps the latency bounded whatever the job size.
     */
    static final int POLISH_ATTEMPTS = 96;

    /**
     * Local search on the best pass: take one participant out and let the greedy refill from the pass's candidates,
     * once with the same data provider barred (a data swap) and once allowed back (a GPU move); keep a move only when
     * the true objective (at the true clearing price) improves. Repairs the greedy's classic knapsack mistake of an
     * early expensive pick that crowds out two better cheap ones.
     */
    static Problem.Evaluation polish(Problem p, GreedyRun run, Problem.Evaluation ev, int[] attemptsLeft) {
        run.costOnly = false;
        for (int round = 0; round < POLISH_ROUNDS && attemptsLeft[0] > 0; round++) {
            boolean improved = false;
            for (int k = 0; k < run.count; k++) {
                for (int variant = 0; variant < 2; variant++) {
                    if (k >= run.count || attemptsLeft[0]-- <= 0) {
                        break;
                    }
                    GreedyRun.Snapshot snap = run.snapshot();
                    int removed = run.dSel[k];
                    run.remove(k);
                    boolean bar = variant == 0;
                    run.chosen[removed] = bar;
                    run.runOverCandidates(p.maxParticipants - run.count, false);
                    if (bar) {
                        run.chosen[removed] = false;
                    }
                    if (run.count >= p.minParticipants && p.firstUncoveredRequired(run.h) < 0) {
                        Problem.Evaluation e2 = p.evaluate(run.dSel, run.gSel, run.count, null);
                        if (e2.feasible() && e2.objective().total() > ev.objective().total() + 1e-12) {
                            ev = e2;
                            improved = true;
                            continue;
                        }
                    }
                    run.restore(snap);
                }
            }
            if (!improved) {
                break;
            }
        }
        return ev;
    }

    private record Pass(GreedyRun run, Problem.Evaluation eval) {
    }

    private static Pass pass(Problem p, GreedyRun.Prep prep, double[] gain0, int poolEnd) {
        return pass(p, prep, gain0, poolEnd, false);
    }

    private static Pass pass(Problem p, GreedyRun.Prep prep, double[] gain0, int poolEnd, boolean costOnly) {
        double price = poolEnd == p.nGpu ? p.maxPriceD : p.askD[p.byAsk[poolEnd]];
        GreedyRun run = new GreedyRun(prep, price, poolEnd, p.capacity, p.maxParticipants);
        run.costOnly = costOnly;
        run.run(gain0, p.maxParticipants, false);
        while (run.count < p.minParticipants && run.addByMovingOne()) {
            run.runOverCandidates(p.minParticipants - run.count, false);
        }
        if (run.count < p.minParticipants || p.firstUncoveredRequired(run.h) >= 0) {
            return new Pass(run, null);
        }
        Problem.Evaluation ev = p.evaluate(run.dSel, run.gSel, run.count, null);
        return new Pass(run, ev.feasible() ? ev : null);
    }

    private static int bestIndex(Pass[] passes) {
        int b = -1;
        for (int k = 0; k < passes.length; k++) {
            if (passes[k] != null && passes[k].eval() != null
                    && (b < 0 || passes[k].eval().objective().total() > passes[b].eval().objective().total())) {
                b = k;
            }
        }
        return b;
    }

    /**
     * Pool boundaries to try, as positions in the ask order: the pool is every GPU before the position and the GPU at
     * the position is the rejected ask that bounds the price (the end means the builder's max bounds it).
     */
    static int[] priceLevels(Problem p) {
        int m = p.nGpu;
        int[] bounds = new int[m + 1];
        int nb = 0;
        for (int pos = 1; pos < m; pos++) {
            if (p.compareAsk(p.byAsk[pos], p.byAsk[pos - 1]) > 0) {
                bounds[nb++] = pos;
            }
        }
        bounds[nb++] = m;
        if (nb <= ALL_LEVELS_UP_TO) {
            return Arrays.copyOf(bounds, nb);
        }
        long[] prefix = new long[m + 1];
        for (int pos = 0; pos < m; pos++) {
            prefix[pos + 1] = prefix[pos] + p.capacity[p.byAsk[pos]];
        }
        int[] chosen = new int[nb];
        int nc = 0;
        long target = p.minParticipants;
        int b = 0;
        while (b < nb - 1) {
            while (b < nb - 1 && prefix[bounds[b]] < target) {
                b++;
            }
            if (nc == 0 || chosen[nc - 1] != bounds[b]) {
                chosen[nc++] = bounds[b];
            }
            target = Math.max(target + 1, target == p.minParticipants ? p.maxParticipants : target * 2);
        }
        if (chosen[nc - 1] != m) {
            chosen[nc++] = m;
        }
        return Arrays.copyOf(chosen, nc);
    }

    /**
     * Replaces a provider that dropped out of a matched job (no-show, interruption beyond grace, slash) and leaves every
     * other participant and the clearing price as they are. A dropped data provider is replaced by the best remaining
     * one; the data providers of a dropped GPU provider move to other GPUs whose asks the job's price covers, and any
     * that cannot move are replaced too. The request may be updated by the caller (remaining rounds, new now).
     *
     * @param existing          the job's current match
     * @param droppedProviderId a data or GPU provider of {@code existing}
     */
    public MatchResult rematch(MatchRequest request, Match existing, String droppedProviderId, List<DataCandidate> dataProviders,
                               List<GpuCandidate> gpuProviders) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(existing, "existing");
        Objects.requireNonNull(droppedProviderId, "droppedProviderId");
        boolean isData = existing.assignments().stream().anyMatch(a -> a.dataProviderId().equals(droppedProviderId));
        boolean isGpu = existing.assignments().stream().anyMatch(a -> a.gpuProviderId().equals(droppedProviderId));
        if (!isData && !isGpu) {
            throw new IllegalArgumentException("provider " + droppedProviderId + " is not part of the match of intent "
                    + existing.intentId() + ": only a participant of the job can be re-matched");
        }
        List<DataCandidate> data = dataProviders.stream().filter(d -> !d.id().equals(droppedProviderId)).toList();
        List<GpuCandidate> gpus = gpuProviders.stream().filter(g -> !g.id().equals(droppedProviderId)).toList();
        Problem p = new Problem(request, data, gpus);
        BigInteger price = existing.clearingPricePerGpuSecond();
        int poolEnd = 0;
        while (poolEnd < p.nGpu && p.ask[p.byAsk[poolEnd]].compareTo(price) <= 0) {
            poolEnd++;
        }
        int[] capLeft = p.capacity.clone();
        List<Assignment> kept = new ArrayList<>();
        List<Integer> orphans = new ArrayList<>();
        int lost = 0;
        for (Assignment a : existing.assignments()) {
            if (a.dataProviderId().equals(droppedProviderId)) {
                lost++;
                continue;
            }
            Integer i = p.dataIndexOf(a.dataProviderId());
            if (i == null) {
                throw new IllegalArgumentException("data provider " + a.dataProviderId() + " of the job is not among the eligible "
                        + "candidates (missing, under-bonded or slashed): re-match it as dropped first");
            }
            if (a.gpuProviderId().equals(droppedProviderId)) {
                orphans.add(i);
                continue;
            }
            Integer g = p.gpuIndexOf(a.gpuProviderId());
            if (g == null) {
                throw new IllegalArgumentException("GPU provider " + a.gpuProviderId() + " of the job is not among the eligible "
                        + "candidates (missing, under-bonded, slashed or over the max price): re-match it as dropped first");
            }
            capLeft[g]--;
            kept.add(a);
        }
        int slotsNeeded = lost + orphans.size();
        GreedyRun.Prep prep = new GreedyRun.Prep(p);
        GreedyRun run = new GreedyRun(prep, price.doubleValue(), poolEnd, clampAtZero(capLeft), Math.max(1, slotsNeeded));
        for (Assignment a : kept) {
            int i = p.dataIndexOf(a.dataProviderId());
            int g = p.gpuIndexOf(a.gpuProviderId());
            run.keep(i, g);
        }
        int keptCount = run.count;
        List<String> notes = new ArrayList<>();
        for (int i : orphans) {
            run.chosen[i] = true; // an orphan is never "replaced" by itself
        }
        for (int i : orphans) {
            run.chosen[i] = false;
            run.bestPair(i);
            int g = run.bestGpu();
            if (g >= 0) {
                run.accept(i, g);
            } else {
                run.chosen[i] = true; // stays out: no GPU can take it at the job's price
                lost++;
            }
        }
        int rehomed = run.count - keptCount;
        double[] gain = new double[p.nData];
        for (int i = 0; i < p.nData; i++) {
            gain[i] = run.chosen[i] ? 0 : p.coverageGain(i, run.h, true);
        }
        run.run(gain, lost, true);
        if (run.count < p.minParticipants || p.firstUncoveredRequired(run.h) >= 0) {
            String why = run.count < p.minParticipants
                    ? "the job would keep " + run.count + " participants, below its minimum " + p.minParticipants
                    : "required label '" + p.labels[p.firstUncoveredRequired(run.h)] + "' would no longer be covered";
            return new NoMatch(request.intentId(), NoMatch.Reason.NO_REPLACEMENT, BigDecimal.valueOf(p.minParticipants),
                    BigDecimal.valueOf(run.count), "participants",
                    "no replacement for " + droppedProviderId + " at the job's clearing price " + price + " per GPU-second within "
                            + "budget, capacity and deadline: " + why + "; raise the budget or the max price and match again");
        }
        Problem.Evaluation ev = p.evaluate(run.dSel, run.gSel, run.count, price);
        if (!ev.feasible()) {
            return new NoMatch(request.intentId(), NoMatch.Reason.NO_REPLACEMENT, BigDecimal.ONE, BigDecimal.ZERO, "feasible jobs",
                    "re-matching after " + droppedProviderId + " left no feasible job: " + ev.violation());
        }
        for (int k = 0; k < rehomed; k++) {
            notes.add("moved from dropped GPU provider " + droppedProviderId + "; ");
        }
        String[] prefix = new String[run.count];
        for (int k = keptCount; k < run.count; k++) {
            prefix[k] = k - keptCount < rehomed ? notes.get(k - keptCount) : "replaces " + droppedProviderId + "; ";
        }
        Match fresh = toMatch(p, run.dSel, run.gSel, run.count, ev, prefix,
                "Re-matched after " + droppedProviderId + " dropped out: the job keeps its clearing price " + fmt(price)
                        + " per GPU-second (new GPU providers were only taken at asks it covers). ");
        List<Assignment> all = new ArrayList<>(kept);
        all.addAll(fresh.assignments().subList(keptCount, run.count));
        return new Match(existing.intentId(), all, price, existing.priceSetterId(), fresh.totalGpuSeconds(), fresh.expectedCost(),
                fresh.objective(), fresh.priceExplanation());
    }

    private static int[] clampAtZero(int[] a) {
        int[] c = a.clone();
        for (int i = 0; i < c.length; i++) {
            c[i] = Math.max(0, c[i]);
        }
        return c;
    }

    static Match toMatch(Problem p, int[] d, int[] g, int n, Problem.Evaluation ev, String[] prefix, String pricePrefix) {
        List<Assignment> out = new ArrayList<>(n);
        double[] h = new double[p.nLabels];
        for (int k = 0; k < n; k++) {
            int i = d[k];
            int gg = g[k];
            DataCandidate dc = p.data[i];
            GpuCandidate gc = p.gpu[gg];
            double gain = ev.coverageGains()[k];
            p.addCounts(i, h);
            long perRound = p.gpuSecondsPerRound(i, gg);
            long total = perRound * p.rounds;
            double completion = p.dataRel[i] * p.gpuRel[gg];
            double fit = p.fit[p.dataRegion[i]][p.gpuRegion[gg]];
            ReliabilityStats dr = dc.reliability();
            String text = (prefix != null && prefix[k] != null ? prefix[k] : "")
                    + String.format(Locale.ROOT,
                    "data provider %s (%s, %,d samples) adds %.1f%% label coverage (%.1f%% of the target after it); "
                            + "expected completion %.2f = data %.2f (%d of %d tasks completed, %d of %d verifications passed) "
                            + "x GPU %.2f; trains on GPU provider %s (%s, %s, %.0f samples/s, ask %s <= price %s): %,d GPU-s per round "
                            + "of the %,d s the deadline allows, %,d GPU-s over %d rounds",
                    dc.id(), dc.region(), dc.sampleCount(), 100 * gain, 100 * p.coverage(h), completion, p.dataRel[i],
                    dr.tasksCompleted(), dr.tasksAssigned(), dr.verificationsPassed(), dr.verificationsRun(), p.gpuRel[gg],
                    gc.id(), gc.region(), fit >= 1 ? "same region" : fit >= 0.5 ? "same continent" : "other continent",
                    gc.samplesPerSecond(), fmt(gc.askPerGpuSecond()), fmt(ev.price()), perRound, p.perRoundSeconds, total, p.rounds);
            out.add(new Assignment(dc.id(), gc.id(), p.work[i], perRound, total, ev.price().multiply(BigInteger.valueOf(total)),
                    completion, fit, gain, text));
        }
        BigInteger highestChosenAsk = BigInteger.ZERO;
        for (int k = 0; k < n; k++) {
            highestChosenAsk = highestChosenAsk.max(p.ask[g[k]]);
        }
        String setterId = ev.priceSetter() >= 0 ? p.gpu[ev.priceSetter()].id() : null;
        String how;
        if (pricePrefix != null) {
            how = pricePrefix;
        } else if (setterId != null) {
            how = "Uniform-price reverse auction over " + p.nGpu + " eligible GPU providers: the clearing price " + fmt(ev.price())
                    + " per GPU-second is the lowest rejected ask (" + setterId + " asked it and was not chosen), under the builder's max "
                    + fmt(p.maxPrice) + ". ";
        } else {
            how = "Uniform-price reverse auction over " + p.nGpu + " eligible GPU providers: no rejected ask lay between the highest "
                    + "chosen ask and the builder's max, so the max " + fmt(p.maxPrice) + " per GPU-second is the clearing price. ";
        }
        String priceText = how + "Every chosen GPU provider is paid this price per proven GPU-second; the highest chosen ask is "
                + fmt(highestChosenAsk) + ", so no one is paid below its ask; a chosen provider's own ask decides whether it is chosen, not what it is paid, "
                + "which is why asking one's true cost is the best strategy. "
                + String.format(Locale.ROOT, "Expected cost %s x %,d GPU-s = %s of budget %s (%.1f%%).", fmt(ev.price()),
                ev.totalGpuSeconds(), fmt(ev.cost()), fmt(p.budget), 100 * ev.cost().doubleValue() / p.budgetD);
        return new Match(p.req.intentId(), out, ev.price(), setterId, ev.totalGpuSeconds(), ev.cost(), ev.objective(), priceText);
    }

    static String fmt(BigInteger v) {
        return String.format(Locale.ROOT, "%,d", v);
    }
}
