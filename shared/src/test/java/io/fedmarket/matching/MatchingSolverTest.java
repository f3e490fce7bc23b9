package io.fedmarket.matching;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Hand-sized markets whose right answer can be worked out on paper. */
class MatchingSolverTest {
    static final Instant NOW = Instant.parse("2026-11-25T00:00:00Z");
    static final ReliabilityStats GOOD = new ReliabilityStats(100, 95, 20, 19);
    final MatchingSolver solver = new MatchingSolver();

    static DataCandidate data(String id, String domain, long a, long b, long bond, Instant slashed) {
        return new DataCandidate(id, domain, "eu-west-1", a + b, Map.of("a", a, "b", b), BigInteger.valueOf(bond), slashed, GOOD);
    }

    static GpuCandidate gpu(String id, long ask, double speed, int cap) {
        return new GpuCandidate(id, "eu-west-1", cap, BigInteger.valueOf(ask), speed, BigInteger.valueOf(100), null, GOOD);
    }

    /** 10 rounds of 1 epoch, 100 s of training per round, 2–3 participants, max price 100. */
    static MatchRequest.Builder request() {
        return MatchRequest.builder().intentId("intent-1").domain("xray").requiredLabels(List.of("a", "b"))
                .targetLabelDistribution(Map.of("a", 0.5, "b", 0.5)).rounds(10).localEpochs(1).participants(2, 3)
                .budget(BigInteger.valueOf(10_000_000)).maxPricePerGpuSecond(BigInteger.valueOf(100)).now(NOW)
                .deadline(NOW.plusSeconds(10 * 160)).roundOverheadSeconds(60).requiredBond(BigInteger.TEN);
    }

    /** d1 holds only a, d2 only b, d3 both; d4 is another domain, d5 under-bonded, d6 slashed yesterday, d7 off-target. */
    static List<DataCandidate> dataProviders() {
        return List.of(data("d1", "xray", 1000, 0, 50, null), data("d2", "XRAY", 0, 1000, 50, null), data("d3", "xray", 500, 500, 50, null),
                data("d4", "audio", 800, 800, 50, null), data("d5", "xray", 900, 900, 5, null),
                data("d6", "xray", 900, 900, 50, NOW.minus(Duration.ofDays(1))),
                new DataCandidate("d7", "xray", "eu-west-1", 700, Map.of("z", 700L), BigInteger.valueOf(50), null, GOOD));
    }

    /** g1 cheapest with 2 GPUs; g4 is cheap but far too slow for the deadline (1000 samples at 5/s = 200 s > 100 s). */
    static List<GpuCandidate> gpuProviders() {
        return List.of(gpu("g1", 10, 100, 2), gpu("g2", 20, 100, 1), gpu("g3", 30, 100, 5), gpu("g4", 15, 5, 4));
    }

    @Test
    void choosesTheCoveringSetAndPaysTheLowestRejectedAsk() {
        MatchRequest r = request().build();
        Match m = (Match) solver.solve(r, dataProviders(), gpuProviders());

        assertThat(m.assignments()).extracting(Assignment::dataProviderId).containsExactlyInAnyOrder("d1", "d2", "d3");
        assertThat(m.assignments()).extracting(Assignment::gpuProviderId).containsExactlyInAnyOrder("g1", "g1", "g2");
        // highest chosen ask is g2's 20; g4 (15) was rejected for speed, not price, so the lowest rejected ask >= 20 is g3's
        assertThat(m.clearingPricePerGpuSecond()).isEqualTo(BigInteger.valueOf(30));
        assertThat(m.priceSetterId()).isEqualTo("g3");
        assertThat(m.totalGpuSeconds()).isEqualTo(3 * 10 * 10);
        assertThat(m.expectedCost()).isEqualTo(BigInteger.valueOf(30 * 300));
        assertThat(m.objective().coverage()).isEqualTo(1.0);
        assertThat(m.priceExplanation()).contains("g3", "lowest rejected ask", "9,000");
        assertThat(m.assignments().get(0).explanation()).contains("label coverage", "GPU-s per round", "ask");
        assertThat(Constraints.violations(r, dataProviders(), gpuProviders(), m, true)).isEmpty();
    }

    @Test
    void withoutARejectedAskAboveTheChosenTheBuildersMaxIsThePrice() {
        List<GpuCandidate> gpus = List.of(gpu("g1", 10, 100, 2), gpu("g2", 20, 100, 1), gpu("g3", 200, 100, 5));
        MatchRequest r = request().build();
        Match m = (Match) solver.solve(r, dataProviders(), gpus);

        assertThat(m.clearingPricePerGpuSecond()).isEqualTo(BigInteger.valueOf(100));
        assertThat(m.priceSetterId()).isNull();
        assertThat(m.priceExplanation()).contains("the max 100");
        assertThat(Constraints.violations(r, dataProviders(), gpus, m, true)).isEmpty();
    }

    private NoMatch noMatch(UnaryOperator<MatchRequest.Builder> change, List<DataCandidate> data, List<GpuCandidate> gpus) {
        MatchResult result = solver.solve(change.apply(request()).build(), data, gpus);
        assertThat(result).isInstanceOf(NoMatch.class);
        return (NoMatch) result;
    }

    @Test
    void noMatchNamesTheFailedConstraintAndTheShortfall() {
        List<DataCandidate> d = dataProviders();
        List<GpuCandidate> g = gpuProviders();

        NoMatch domain = noMatch(b -> b.domain("mri"), d, g);
        assertThat(domain.reason()).isEqualTo(NoMatch.Reason.DOMAIN);
        assertThat(domain.message()).contains("'mri'", "intent-1");

        NoMatch bond = noMatch(b -> b.requiredBond(BigInteger.valueOf(1_000_000)), d, g);
        assertThat(bond.reason()).isEqualTo(NoMatch.Reason.DATA_BOND);
        assertThat(bond.available()).isEqualByComparingTo("0");
        assertThat(bond.message()).contains("1,000,000", "requiredBond");

        NoMatch labels = noMatch(b -> b.requiredLabels(List.of("a", "b", "c")), d, g);
        assertThat(labels.reason()).isEqualTo(NoMatch.Reason.LABELS);
        assertThat(labels.message()).contains("'c'");

        NoMatch participants = noMatch(b -> b.participants(4, 5), d, g);
        assertThat(participants.reason()).isEqualTo(NoMatch.Reason.PARTICIPANTS);
        assertThat(participants.required()).isEqualByComparingTo("4");
        assertThat(participants.available()).isEqualByComparingTo("3");

        NoMatch price = noMatch(b -> b.maxPricePerGpuSecond(BigInteger.valueOf(5)), d, g);
        assertThat(price.reason()).isEqualTo(NoMatch.Reason.MAX_PRICE);
        assertThat(price.shortfall()).isEqualByComparingTo("5");
        assertThat(price.message()).contains("lowest ask is 10", "raise maxPricePerGpuSecond by at least 5");

        List<GpuCandidate> unbonded = g.stream().map(x -> new GpuCandidate(x.id(), x.region(), x.capacityGpus(), x.askPerGpuSecond(),
                x.samplesPerSecond(), BigInteger.ONE, null, x.reliability())).toList();
        assertThat(noMatch(b -> b, d, unbonded).reason()).isEqualTo(NoMatch.Reason.GPU_BOND);

        NoMatch capacity = noMatch(b -> b.maxPricePerGpuSecond(BigInteger.valueOf(12)).participants(3, 3), d, g);
        assertThat(capacity.reason()).isEqualTo(NoMatch.Reason.GPU_CAPACITY);
        assertThat(capacity.required()).isEqualByComparingTo("3");
        assertThat(capacity.available()).isEqualByComparingTo("2");

        NoMatch deadline = noMatch(b -> b.deadline(NOW.plusSeconds(10 * 65)), d, g);
        assertThat(deadline.reason()).isEqualTo(NoMatch.Reason.DEADLINE);
        assertThat(deadline.required()).isEqualByComparingTo("10");
        assertThat(deadline.available()).isEqualByComparingTo("5");
        assertThat(deadline.unit()).isEqualTo("seconds of training per round");

        // two 1000-sample sets on the fastest GPU at the lowest ask: 10 x (10 s + 10 s) x 10 rounds = 2,000
        NoMatch budget = noMatch(b -> b.budget(BigInteger.valueOf(100)), d, g);
        assertThat(budget.reason()).isEqualTo(NoMatch.Reason.BUDGET);
        assertThat(budget.required()).isEqualByComparingTo("2000");
        assertThat(budget.shortfall()).isEqualByComparingTo(new BigDecimal(1900));
        assertThat(budget.message()).contains("raise the budget by at least 1,900");

        // 2,500 passes the bound, but any two participants on g1 leave g4 (15) as the price: 15 x 200 GPU-s = 3,000
        NoMatch interplay = noMatch(b -> b.budget(BigInteger.valueOf(2_500)), d, g);
        assertThat(interplay.reason()).isEqualTo(NoMatch.Reason.BUDGET);
        assertThat(interplay.available()).isEqualByComparingTo("2500");
        assertThat(interplay.required()).isGreaterThan(interplay.available());
    }

    @Test
    void rematchReplacesADroppedDataProviderAndLeavesTheOthersAlone() {
        MatchRequest r = request().build();
        Match before = (Match) solver.solve(r, dataProviders(), gpuProviders());
        List<DataCandidate> now = new ArrayList<>(dataProviders());
        now.add(data("d8", "xray", 800, 200, 50, null));

        Match after = (Match) solver.rematch(r, before, "d1", now, gpuProviders());

        List<Assignment> others = before.assignments().stream().filter(a -> !a.dataProviderId().equals("d1")).toList();
        assertThat(after.assignments()).containsAll(others);
        assertThat(after.assignments()).extracting(Assignment::dataProviderId).containsExactlyInAnyOrder("d2", "d3", "d8");
        assertThat(after.clearingPricePerGpuSecond()).isEqualTo(before.clearingPricePerGpuSecond());
        assertThat(after.assignmentOf("d8").explanation()).startsWith("replaces d1");
        assertThat(Constraints.violations(r, now, gpuProviders(), after, false)).isEmpty();
    }

    @Test
    void rematchMovesTheDataOfADroppedGpuToAGpuThePriceCovers() {
        MatchRequest r = request().build();
        Match before = (Match) solver.solve(r, dataProviders(), gpuProviders());
        String onG2 = before.assignments().stream().filter(a -> a.gpuProviderId().equals("g2")).findFirst().orElseThrow().dataProviderId();

        Match after = (Match) solver.rematch(r, before, "g2", dataProviders(), gpuProviders());

        assertThat(after.assignments()).containsAll(before.assignments().stream().filter(a -> !a.gpuProviderId().equals("g2")).toList());
        Assignment moved = after.assignmentOf(onG2);
        assertThat(moved.gpuProviderId()).isEqualTo("g3"); // ask 30 <= the job's price 30; g4 is too slow
        assertThat(moved.explanation()).startsWith("moved from dropped GPU provider g2");
        assertThat(Constraints.violations(r, dataProviders(), gpuProviders(), after, false)).isEmpty();
    }

    @Test
    void rematchWithoutAReplacementBelowTheMinimumSaysSo() {
        MatchRequest r = request().participants(3, 3).build();
        Match before = (Match) solver.solve(r, dataProviders(), gpuProviders());
        MatchResult after = solver.rematch(r, before, "d2", dataProviders(), gpuProviders());
        assertThat(after).isInstanceOf(NoMatch.class);
        NoMatch no = (NoMatch) after;
        assertThat(no.reason()).isEqualTo(NoMatch.Reason.NO_REPLACEMENT);
        assertThat(no.required()).isEqualByComparingTo("3");
        assertThat(no.available()).isEqualByComparingTo("2");

        assertThatThrownBy(() -> solver.rematch(r, before, "nobody", dataProviders(), gpuProviders()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nobody").hasMessageContaining("not part of the match");
    }

    @Test
    void exactSolverAgreesOnTheHandInstance() {
        MatchRequest r = request().build();
        Match exact = (Match) new ExactSolver().solve(r, dataProviders(), gpuProviders());
        Match fast = (Match) solver.solve(r, dataProviders(), gpuProviders());
        assertThat(fast.objective().total()).isCloseTo(exact.objective().total(), org.assertj.core.data.Offset.offset(1e-12));
        assertThat(exact.clearingPricePerGpuSecond()).isEqualTo(BigInteger.valueOf(30));
    }

    @Test
    void badRequestsSayWhatToChange() {
        assertThatThrownBy(() -> request().budget(BigInteger.ZERO).build()).hasMessageContaining("budget is 0");
        assertThatThrownBy(() -> request().deadline(NOW.minusSeconds(1)).build()).hasMessageContaining("give a future deadline");
        assertThatThrownBy(() -> request().participants(3, 2).build()).hasMessageContaining("1 <= min <= max");
        assertThatThrownBy(() -> request().requiredLabels(List.of()).targetLabelDistribution(Map.of()).build())
                .hasMessageContaining("name the labels");
        assertThatThrownBy(() -> request().deadline(NOW.plusSeconds(600)).build()).hasMessageContaining("cut rounds");
        assertThatThrownBy(() -> new Weights(-1, 1, 1, 1)).hasMessageContaining("coverage");
        assertThatThrownBy(() -> new ReliabilityStats(5, 6, 0, 0)).hasMessageContaining("cannot exceed");
        assertThatThrownBy(() -> gpu("g", -1, 1, 1)).hasMessageContaining("asks -1");
    }

    @Test
    void reliabilityIsAPosteriorMeanSoNewcomersStartLow() {
        assertThat(ReliabilityStats.NONE.expectedCompletion()).isEqualTo(0.25);
        assertThat(new ReliabilityStats(98, 98, 48, 48).expectedCompletion()).isCloseTo(0.99 * 0.98, org.assertj.core.data.Offset.offset(1e-12));
    }
}
