package io.fedmarket.matching;

import io.fedmarket.matching.bench.InstanceGenerator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Properties over seeded random markets of varied shape: they must hold for every instance, not on average. */
class MatchingPropertiesTest {
    final MatchingSolver solver = new MatchingSolver();

    static InstanceGenerator.Instance instance(long seed, int dataProviders, int gpuProviders, int minP, int maxP, double tightness,
                                               int maxCapacity) {
        return InstanceGenerator.generate(seed, new InstanceGenerator.Shape(dataProviders, gpuProviders, 6, 5, Math.min(minP, maxP), maxP,
                8, tightness, maxCapacity));
    }

    @Property(tries = 200)
    void aMatchNeverViolatesAConstraintAndNobodyIsPaidBelowItsAsk(@ForAll @LongRange(min = 1, max = 1_000_000) long seed,
                                                                  @ForAll @IntRange(min = 2, max = 300) int dataProviders,
                                                                  @ForAll @IntRange(min = 1, max = 120) int gpuProviders,
                                                                  @ForAll @IntRange(min = 1, max = 6) int minP,
                                                                  @ForAll @IntRange(min = 1, max = 25) int maxP,
                                                                  @ForAll @DoubleRange(min = 0.02, max = 2.0) double tightness,
                                                                  @ForAll @IntRange(min = 1, max = 6) int maxCapacity) {
        InstanceGenerator.Instance in = instance(seed, dataProviders, gpuProviders, minP, maxP, tightness, maxCapacity);
        MatchResult result = solver.solve(in.request(), in.data(), in.gpus());
        if (result instanceof Match m) {
            assertThat(Constraints.violations(in.request(), in.data(), in.gpus(), m, true)).isEmpty();
            for (Assignment a : m.assignments()) {
                GpuCandidate g = in.gpus().stream().filter(x -> x.id().equals(a.gpuProviderId())).findFirst().orElseThrow();
                assertThat(m.clearingPricePerGpuSecond()).isGreaterThanOrEqualTo(g.askPerGpuSecond());
            }
        } else {
            NoMatch no = (NoMatch) result;
            assertThat(no.message()).contains(in.request().intentId()).contains(":");
            assertThat(no.required()).isGreaterThan(no.available());
        }
    }

    @Property(tries = 100)
    void rematchKeepsEveryOtherParticipantAndStaysValid(@ForAll @LongRange(min = 1, max = 1_000_000) long seed,
                                                        @ForAll @IntRange(min = 20, max = 300) int dataProviders,
                                                        @ForAll @IntRange(min = 5, max = 100) int gpuProviders,
                                                        @ForAll @IntRange(min = 2, max = 12) int maxP,
                                                        @ForAll @IntRange(min = 0, max = 1000) int pick,
                                                        @ForAll boolean dropGpu) {
        InstanceGenerator.Instance in = instance(seed, dataProviders, gpuProviders, 1, maxP, 1.5, 3);
        if (!(solver.solve(in.request(), in.data(), in.gpus()) instanceof Match before)) {
            return;
        }
        Assignment victim = before.assignments().get(pick % before.assignments().size());
        String dropped = dropGpu ? victim.gpuProviderId() : victim.dataProviderId();
        MatchResult after = solver.rematch(in.request(), before, dropped, in.data(), in.gpus());
        List<Assignment> untouched = before.assignments().stream()
                .filter(a -> !a.dataProviderId().equals(dropped) && !a.gpuProviderId().equals(dropped)).toList();
        if (after instanceof Match m) {
            assertThat(m.assignments()).containsAll(untouched);
            assertThat(m.assignments()).noneMatch(a -> a.dataProviderId().equals(dropped) || a.gpuProviderId().equals(dropped));
            assertThat(m.clearingPricePerGpuSecond()).isEqualTo(before.clearingPricePerGpuSecond());
            List<DataCandidate> data = in.data().stream().filter(d -> !d.id().equals(dropped)).toList();
            List<GpuCandidate> gpus = in.gpus().stream().filter(g -> !g.id().equals(dropped)).toList();
            assertThat(Constraints.violations(in.request(), data, gpus, m, false)).isEmpty();
        } else {
            NoMatch no = (NoMatch) after;
            assertThat(no.reason()).isIn(NoMatch.Reason.NO_REPLACEMENT);
            assertThat(no.message()).contains(dropped);
        }
    }

    @Property(tries = 60)
    void noMatchNamesTheConstraintThatWasBroken(@ForAll @LongRange(min = 1, max = 1_000_000) long seed,
                                                @ForAll @IntRange(min = 20, max = 200) int dataProviders,
                                                @ForAll @IntRange(min = 10, max = 80) int gpuProviders) {
        InstanceGenerator.Instance in = instance(seed, dataProviders, gpuProviders, 1, 5, 1.5, 3);
        MatchRequest r = in.request();
        if (!(solver.solve(r, in.data(), in.gpus()) instanceof Match)) {
            return;
        }
        // Each change breaks exactly one constraint of a matchable intent; the answer must name that one.
        NoMatch budget = (NoMatch) solver.solve(r.toBuilder().budget(BigInteger.ONE).build(), in.data(), in.gpus());
        assertThat(budget.reason()).isEqualTo(NoMatch.Reason.BUDGET);
        assertThat(budget.available()).isEqualByComparingTo("1");
        assertThat(budget.required()).isGreaterThan(budget.available());

        BigInteger lowestAsk = in.gpus().stream().map(GpuCandidate::askPerGpuSecond).min(BigInteger::compareTo).orElseThrow();
        if (lowestAsk.compareTo(BigInteger.ONE) > 0) {
            NoMatch price = (NoMatch) solver.solve(r.toBuilder().maxPricePerGpuSecond(lowestAsk.subtract(BigInteger.ONE)).build(),
                    in.data(), in.gpus());
            assertThat(price.reason()).isEqualTo(NoMatch.Reason.MAX_PRICE);
            assertThat(price.shortfall()).isEqualByComparingTo("1");
        }

        NoMatch domain = (NoMatch) solver.solve(r.toBuilder().domain("no-such-domain").build(), in.data(), in.gpus());
        assertThat(domain.reason()).isEqualTo(NoMatch.Reason.DOMAIN);

        NoMatch bond = (NoMatch) solver.solve(r.toBuilder().requiredBond(BigInteger.TEN.pow(30)).build(), in.data(), in.gpus());
        assertThat(bond.reason()).isEqualTo(NoMatch.Reason.DATA_BOND);

        NoMatch label = (NoMatch) solver.solve(r.toBuilder().requiredLabels(List.of("label-0", "no-such-label")).build(), in.data(),
                in.gpus());
        assertThat(label.reason()).isEqualTo(NoMatch.Reason.LABELS);
        assertThat(label.message()).contains("no-such-label");

        // one second less per round than the quickest data set needs on the fastest GPU: nobody fits. Both are bounds over all
        // candidates (a superset of the eligible ones), so the eligible ones need at least as long.
        double fastest = in.gpus().stream().mapToDouble(GpuCandidate::samplesPerSecond).max().orElseThrow();
        long quickest = in.data().stream().mapToLong(d -> (long) Math.ceil(r.samplesPerRound(d.sampleCount()) / fastest)).min()
                .orElseThrow();
        if (quickest >= 2) {
            NoMatch deadline = (NoMatch) solver.solve(r.toBuilder().deadline(r.now().plus(Duration.ofSeconds(
                    (r.roundOverheadSeconds() + quickest - 1) * r.rounds()))).build(), in.data(), in.gpus());
            assertThat(deadline.reason()).isEqualTo(NoMatch.Reason.DEADLINE);
            assertThat(deadline.available()).isEqualByComparingTo(BigDecimal.valueOf(quickest - 1));
            assertThat(deadline.required()).isGreaterThan(deadline.available());
        }
    }
}
