package io.fedmarket.matching;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;

/** Turns an unmatchable intent into the first hard constraint that fails and by how much. */
final class Diagnosis {
    private Diagnosis() {
    }

    /** Cheap checks, each a count over the prefiltered candidates; null when the search should run. */
    static NoMatch beforeSearch(Problem p) {
        MatchRequest r = p.req;
        int min = p.minParticipants;
        if (p.dataInDomain == 0) {
            return no(p, NoMatch.Reason.DOMAIN, min, 0, "data providers",
                    "no data provider serves domain '" + r.domain() + "' (" + p.dataTotal + " registered in other domains): "
                            + "choose a domain that is served or wait until providers register for it");
        }
        if (p.dataBonded < min) {
            return no(p, NoMatch.Reason.DATA_BOND, min, p.dataBonded, "data providers",
                    "only " + p.dataBonded + " of " + p.dataInDomain + " data providers in domain '" + r.domain() + "' have a bond >= "
                            + MatchingSolver.fmt(r.requiredBond()) + " and no slash in the last " + r.slashCooldown().toDays()
                            + " days; the intent needs at least " + min + ": lower requiredBond or minParticipants");
        }
        double[] held = new double[p.nLabels];
        for (int i = 0; i < p.nData; i++) {
            p.addCounts(i, held);
        }
        int missing = p.firstUncoveredRequired(held);
        if (missing >= 0) {
            return no(p, NoMatch.Reason.LABELS, 1, 0, "samples of label '" + p.labels[missing] + "'",
                    "required label '" + p.labels[missing] + "' is held by none of the " + p.nData + " eligible data providers in domain '"
                            + r.domain() + "': drop it from the required labels or wait for a provider that has it");
        }
        if (p.nData < min) {
            return no(p, NoMatch.Reason.PARTICIPANTS, min, p.nData, "data providers",
                    "only " + p.nData + " eligible data providers hold samples of the intent's labels; the intent needs at least " + min
                            + ": lower minParticipants");
        }
        if (p.gpuUnderPrice == 0) {
            BigInteger lowest = p.lowestAskOverall == null ? BigInteger.ZERO : p.lowestAskOverall;
            if (p.gpuTotal == 0) {
                return no(p, NoMatch.Reason.GPU_CAPACITY, BigDecimal.valueOf(min), BigDecimal.ZERO, "GPUs",
                        "no GPU provider is registered: wait until GPU capacity is offered");
            }
            return no(p, NoMatch.Reason.MAX_PRICE, new BigDecimal(lowest), new BigDecimal(p.maxPrice), "base units per GPU-second",
                    "every one of the " + p.gpuTotal + " GPU providers asks more than the max price " + MatchingSolver.fmt(p.maxPrice)
                            + " per GPU-second; the lowest ask is " + MatchingSolver.fmt(lowest) + ": raise maxPricePerGpuSecond by at least "
                            + MatchingSolver.fmt(lowest.subtract(p.maxPrice)));
        }
        if (p.nGpu == 0) {
            return no(p, NoMatch.Reason.GPU_BOND, min, 0, "GPU providers",
                    "none of the " + p.gpuUnderPrice + " GPU providers asking at most the max price has a bond >= "
                            + MatchingSolver.fmt(r.requiredBond()) + ", no slash in the last " + r.slashCooldown().toDays()
                            + " days and a measured speed: lower requiredBond");
        }
        if (p.gpuSlots < min) {
            return no(p, NoMatch.Reason.GPU_CAPACITY, min, p.gpuSlots, "GPUs",
                    "the " + p.nGpu + " eligible GPU providers offer " + p.gpuSlots + " GPUs in all; a job with " + min
                            + " participants needs one GPU each: lower minParticipants or raise the max price to reach more providers");
        }
        long[] perRound = smallest(perRoundOnFastest(p), min);
        long fits = Arrays.stream(perRound).filter(s -> s <= p.perRoundSeconds).count();
        if (fits < min) {
            long needed = perRound[min - 1];
            return no(p, NoMatch.Reason.DEADLINE, needed, p.perRoundSeconds, "seconds of training per round",
                    "only " + fits + " eligible data providers can finish a round in time even on the fastest eligible GPU ("
                            + String.format(java.util.Locale.ROOT, "%.0f", p.maxSpeed) + " samples/s): with " + min
                            + " participants a round needs " + needed + " s but the deadline allows " + p.perRoundSeconds
                            + " s per round: move the deadline later by at least " + (needed - p.perRoundSeconds) * p.rounds
                            + " s or cut rounds or local epochs");
        }
        BigInteger cheapest = cheapestCostBound(p, perRound);
        if (cheapest.compareTo(p.budget) > 0) {
            return budget(p, cheapest);
        }
        return null;
    }

    /** After a search found nothing: the interplay of budget, capacity and deadline is what failed. */
    static NoMatch afterSearch(Problem p) {
        BigInteger cheapest = cheapestCostBound(p, smallest(perRoundOnFastest(p), p.minParticipants));
        return no(p, NoMatch.Reason.BUDGET, new BigDecimal(cheapest.max(p.budget.add(BigInteger.ONE))), new BigDecimal(p.budget),
                "base units",
                "no set of " + p.minParticipants + " or more data providers with free GPUs fast enough for the deadline fits budget "
                        + MatchingSolver.fmt(p.budget) + " at a clearing price the asks allow (a loose lower bound of the cost is "
                        + MatchingSolver.fmt(cheapest) + "): raise the budget, move the deadline or lower minParticipants");
    }

    private static NoMatch budget(Problem p, BigInteger cheapest) {
        return no(p, NoMatch.Reason.BUDGET, new BigDecimal(cheapest), new BigDecimal(p.budget), "base units",
                "the cheapest conceivable job (" + p.minParticipants + " smallest eligible data sets on the fastest GPU at the lowest ask "
                        + MatchingSolver.fmt(p.ask[p.byAsk[0]]) + ") costs at least " + MatchingSolver.fmt(cheapest) + " but the budget is "
                        + MatchingSolver.fmt(p.budget) + ": raise the budget by at least " + MatchingSolver.fmt(cheapest.subtract(p.budget))
                        + " or cut rounds, local epochs or minParticipants");
    }

    /** Per data provider, training seconds per round on the fastest eligible GPU. */
    private static long[] perRoundOnFastest(Problem p) {
        long[] s = new long[p.nData];
        for (int i = 0; i < p.nData; i++) {
            s[i] = (long) Math.ceil(p.work[i] / p.maxSpeed);
        }
        return s;
    }

    /** The k smallest values, ascending, in O(n·k) worst case but O(n) typically (k is a participant count). */
    static long[] smallest(long[] v, int k) {
        long[] top = new long[Math.min(k, v.length)];
        int n = 0;
        for (long x : v) {
            if (n < top.length) {
                int j = n++;
                while (j > 0 && top[j - 1] > x) {
                    top[j] = top[j - 1];
                    j--;
                }
                top[j] = x;
            } else if (x < top[n - 1]) {
                int j = n - 1;
                while (j > 0 && top[j - 1] > x) {
                    top[j] = top[j - 1];
                    j--;
                }
                top[j] = x;
            }
        }
        return top;
    }

    /** Lower bound of any feasible job's cost: lowest ask × the min smallest GPU-second needs on the fastest GPU. */
    private static BigInteger cheapestCostBound(Problem p, long[] perRoundSorted) {
        long gs = 0;
        for (int k = 0; k < p.minParticipants && k < perRoundSorted.length; k++) {
            gs += perRoundSorted[k] * p.rounds;
        }
        return p.ask[p.byAsk[0]].multiply(BigInteger.valueOf(gs));
    }

    private static NoMatch no(Problem p, NoMatch.Reason reason, long required, long available, String unit, String message) {
        return no(p, reason, BigDecimal.valueOf(required), BigDecimal.valueOf(available), unit, message);
    }

    private static NoMatch no(Problem p, NoMatch.Reason reason, BigDecimal required, BigDecimal available, String unit, String message) {
        return new NoMatch(p.req.intentId(), reason, required, available, unit, "intent " + p.req.intentId() + " cannot be matched: "
                + message);
    }
}
