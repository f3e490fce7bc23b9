package io.fedmarket.matching;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.fedmarket.matching.MatchingSolverTest.GOOD;
import static io.fedmarket.matching.MatchingSolverTest.NOW;
import static io.fedmarket.matching.MatchingSolverTest.dataProviders;
import static io.fedmarket.matching.MatchingSolverTest.gpu;
import static io.fedmarket.matching.MatchingSolverTest.gpuProviders;
import static io.fedmarket.matching.MatchingSolverTest.request;
import static org.assertj.core.api.Assertions.assertThat;

/** The snapshot's primitive columns must decide exactly as the BigInteger and Instant values they stand for. */
class MarketSnapshotTest {
    final MatchingSolver solver = new MatchingSolver();

    @Test
    void aSnapshotAnswersLikeTheListsItWasBuiltFrom() {
        MarketSnapshot market = MarketSnapshot.of(dataProviders(), gpuProviders());
        assertThat(market.dataProviderCount()).isEqualTo(7);
        assertThat(market.gpuProviderCount()).isEqualTo(4);
        for (MatchRequest r : List.of(request().build(), request().participants(2, 2).build(), request().budget(BigInteger.TEN).build())) {
            assertThat(solver.solve(r, market)).isEqualTo(solver.solve(r, dataProviders(), gpuProviders()));
        }
    }

    @Test
    void bondsBeyondALongAreComparedExactly() {
        BigInteger huge = BigInteger.TWO.pow(80);
        List<DataCandidate> data = List.of(
                new DataCandidate("rich", "xray", "eu-west-1", 1000, Map.of("a", 500L, "b", 500L), huge.add(BigInteger.ONE), null, GOOD),
                new DataCandidate("short", "xray", "eu-west-1", 1000, Map.of("a", 500L, "b", 500L), huge.subtract(BigInteger.ONE), null, GOOD));
        List<GpuCandidate> gpus = List.of(new GpuCandidate("g", "eu-west-1", 2, BigInteger.TEN, 100, huge, null, GOOD));
        MatchRequest r = request().requiredBond(huge).participants(1, 2).build();
        Match m = (Match) solver.solve(r, data, gpus);
        assertThat(m.assignments()).extracting(Assignment::dataProviderId).containsExactly("rich");
    }

    @Test
    void aSlashInTheSameSecondAsTheCutOffCountsByItsNanoseconds() {
        // cut-off = now - 30 days; one provider slashed 1 ns after it (excluded), one exactly at it (allowed)
        var cutoff = NOW.minus(Duration.ofDays(30));
        List<DataCandidate> data = List.of(
                new DataCandidate("after", "xray", "eu-west-1", 1000, Map.of("a", 500L, "b", 500L), BigInteger.valueOf(50),
                        cutoff.plusNanos(1), GOOD),
                new DataCandidate("at", "xray", "eu-west-1", 1000, Map.of("a", 500L, "b", 500L), BigInteger.valueOf(50), cutoff, GOOD));
        Match m = (Match) solver.solve(request().participants(1, 2).build(), data, List.of(gpu("g", 10, 100, 2)));
        assertThat(m.assignments()).extracting(Assignment::dataProviderId).containsExactly("at");
    }
}
