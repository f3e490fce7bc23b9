package io.fedmarket.matching;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An independent check of a match against the raw request and candidates, written from the rules in the issue and
 * not from the solver's internals, so a solver bug cannot hide behind a shared helper.
 */
final class Constraints {
    private Constraints() {
    }

    static boolean eligibleGpu(MatchRequest r, GpuCandidate g) {
        Instant cutoff = r.now().minus(r.slashCooldown());
        return g.askPerGpuSecond().compareTo(r.maxPricePerGpuSecond()) <= 0 && g.bond().compareTo(r.requiredBond()) >= 0
                && (g.lastSlashedAt() == null || !g.lastSlashedAt().isAfter(cutoff)) && g.capacityGpus() >= 1 && g.samplesPerSecond() > 0;
    }

    /** Every violated rule, in words; empty when the match is valid. {@code priceRule}: check the auction rule too. */
    static List<String> violations(MatchRequest r, List<DataCandidate> data, List<GpuCandidate> gpus, Match m, boolean priceRule) {
        List<String> v = new ArrayList<>();
        Map<String, DataCandidate> dById = new HashMap<>();
        data.forEach(d -> dById.put(d.id(), d));
        Map<String, GpuCandidate> gById = new HashMap<>();
        gpus.forEach(g -> gById.put(g.id(), g));
        Instant cutoff = r.now().minus(r.slashCooldown());
        long perRoundAllowed = Duration.between(r.now(), r.deadline()).getSeconds() / r.rounds() - r.roundOverheadSeconds();
        int n = m.assignments().size();
        if (n < r.minParticipants() || n > r.maxParticipants()) {
            v.add(n + " participants outside [" + r.minParticipants() + ", " + r.maxParticipants() + "]");
        }
        BigInteger price = m.clearingPricePerGpuSecond();
        if (price.compareTo(r.maxPricePerGpuSecond()) > 0) {
            v.add("price " + price + " above the builder's max " + r.maxPricePerGpuSecond());
        }
        Set<String> seen = new HashSet<>();
        Map<String, Integer> gpuUse = new HashMap<>();
        Map<String, Long> union = new HashMap<>();
        long totalGs = 0;
        for (Assignment a : m.assignments()) {
            DataCandidate d = dById.get(a.dataProviderId());
            GpuCandidate g = gById.get(a.gpuProviderId());
            if (d == null || g == null) {
                v.add("unknown provider in " + a.dataProviderId() + "/" + a.gpuProviderId());
                continue;
            }
            if (!seen.add(d.id())) {
                v.add("data provider " + d.id() + " chosen twice");
            }
            if (!d.domain().equalsIgnoreCase(r.domain())) {
                v.add(d.id() + " serves domain " + d.domain());
            }
            if (d.bond().compareTo(r.requiredBond()) < 0) {
                v.add(d.id() + " bond " + d.bond() + " below " + r.requiredBond());
            }
            if (g.bond().compareTo(r.requiredBond()) < 0) {
                v.add(g.id() + " bond " + g.bond() + " below " + r.requiredBond());
            }
            if (d.lastSlashedAt() != null && d.lastSlashedAt().isAfter(cutoff)) {
                v.add(d.id() + " slashed recently");
            }
            if (g.lastSlashedAt() != null && g.lastSlashedAt().isAfter(cutoff)) {
                v.add(g.id() + " slashed recently");
            }
            if (g.askPerGpuSecond().compareTo(price) > 0) {
                v.add(g.id() + " paid " + price + " below its ask " + g.askPerGpuSecond());
            }
            if (g.askPerGpuSecond().compareTo(r.maxPricePerGpuSecond()) > 0) {
                v.add(g.id() + " asks above the builder's max");
            }
            gpuUse.merge(g.id(), 1, Integer::sum);
            long work = r.samplesPerRound(d.sampleCount());
            long perRound = (long) Math.ceil(work / g.samplesPerSecond());
            if (a.gpuSecondsPerRound() != perRound) {
                v.add(d.id() + " on " + g.id() + " reports " + a.gpuSecondsPerRound() + " GPU-s per round, measured speed gives " + perRound);
            }
            if (perRound > perRoundAllowed) {
                v.add(d.id() + " on " + g.id() + " needs " + perRound + " s per round, deadline allows " + perRoundAllowed);
            }
            if (a.gpuSecondsTotal() != perRound * r.rounds()) {
                v.add(d.id() + " total GPU-s " + a.gpuSecondsTotal() + " != " + perRound + " x " + r.rounds());
            }
            if (!a.expectedPayment().equals(price.multiply(BigInteger.valueOf(a.gpuSecondsTotal())))) {
                v.add(d.id() + " payment " + a.expectedPayment() + " is not price x GPU-s");
            }
            totalGs += a.gpuSecondsTotal();
            d.labelHistogram().forEach((l, c) -> union.merge(l, c, Long::sum));
            if (a.explanation() == null || !a.explanation().contains(d.id()) || !a.explanation().contains(g.id())) {
                v.add("explanation of " + d.id() + " does not name both providers");
            }
        }
        gpuUse.forEach((id, used) -> {
            if (used > gById.get(id).capacityGpus()) {
                v.add(id + " used " + used + " times, capacity " + gById.get(id).capacityGpus());
            }
        });
        for (String l : r.requiredLabels()) {
            if (union.getOrDefault(l, 0L) <= 0) {
                v.add("required label " + l + " not covered");
            }
        }
        if (m.totalGpuSeconds() != totalGs) {
            v.add("total GPU-s " + m.totalGpuSeconds() + " != sum " + totalGs);
        }
        BigInteger cost = price.multiply(BigInteger.valueOf(totalGs));
        if (!m.expectedCost().equals(cost)) {
            v.add("expected cost " + m.expectedCost() + " != " + cost);
        }
        if (cost.compareTo(r.budget()) > 0) {
            v.add("cost " + cost + " over budget " + r.budget());
        }
        if (priceRule) {
            BigInteger top = BigInteger.ZERO;
            for (String id : gpuUse.keySet()) {
                top = top.max(gById.get(id).askPerGpuSecond());
            }
            BigInteger expected = r.maxPricePerGpuSecond();
            for (GpuCandidate g : gpus) {
                if (!gpuUse.containsKey(g.id()) && eligibleGpu(r, g) && g.askPerGpuSecond().compareTo(top) >= 0) {
                    expected = expected.min(g.askPerGpuSecond());
                }
            }
            if (!price.equals(expected)) {
                v.add("clearing price " + price + " but the lowest rejected ask at or above the highest chosen ask " + top
                        + " (capped by the max) is " + expected);
            }
        }
        if (m.objective().total() < 0 || m.objective().total() > 1 + 1e-9) {
            v.add("objective " + m.objective().total() + " outside [0, 1]");
        }
        return v;
    }
}
