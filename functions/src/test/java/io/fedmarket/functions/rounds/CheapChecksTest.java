package io.fedmarket.functions.rounds;

import io.fedmarket.fl.verify.ReasonCode;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The cheap checks' bounds, relative to the round, with hand-computed figures. */
class CheapChecksTest {
    @Test
    void theNormBoundIsFourTimesTheOthersMedianOnceTwoAreKnown() {
        assertThat(CheapChecks.maxNorm(List.of())).isNull();
        assertThat(CheapChecks.maxNorm(List.of(2.0))).as("one peer is no yardstick").isNull();
        // median of 1, 2, 4 = 2 → 8; a free-rider's 0 and an unknown norm are left out
        assertThat(CheapChecks.maxNorm(Arrays.asList(1.0, 4.0, 0.0, null, 2.0))).isEqualTo(8.0);
        // median of 1, 3 = 2 → 8
        assertThat(CheapChecks.maxNorm(List.of(1.0, 3.0))).isEqualTo(8.0);
    }

    @Test
    void theLossBoundIsTheRoundModelsPlusLn10OrThreeTimesTheOthersMedian() {
        // no peers: 0.5 + ln 10 = 2.8026
        assertThat(CheapChecks.maxValidationLoss(0.5, List.of())).isCloseTo(0.5 + Math.log(10), within(1e-12));
        // peers 0.9, 1.1, 1.3: median 1.1 → 3.3 > 2.8026
        assertThat(CheapChecks.maxValidationLoss(0.5, List.of(0.9, 1.1, 1.3))).isCloseTo(3.3, within(1e-12));
        // peers 0.2, 0.4: median 0.3 → 0.9 < 2.8026; NaN and unknown losses left out
        assertThat(CheapChecks.maxValidationLoss(0.5, Arrays.asList(0.2, Double.NaN, null, 0.4))).isCloseTo(0.5 + Math.log(10), within(1e-12));
    }

    @Test
    void theFlagsTheBoundsRaise() {
        CheapChecks.Measured m = new CheapChecks.Measured(1, 8.0, null, 3, null, null, 0.5, 2.8, "test", "plain-java", List.of(), null);
        float[] global = {0, 0};
        // a free-rider (Δ = 0), a blown-up update (‖Δ‖ = 10 > 8) and a loss above the bound each raise their flag
        assertThat(m.policy().flags(new float[] {0, 0}, global, null, 1.0)).containsExactly(ReasonCode.NORM_OUT_OF_BOUNDS);
        assertThat(m.policy().flags(new float[] {6, 8}, global, null, 1.0)).containsExactly(ReasonCode.NORM_OUT_OF_BOUNDS);
        assertThat(m.policy().flags(new float[] {3, 4}, global, null, 2.9)).containsExactly(ReasonCode.HIGH_VALIDATION_LOSS);
        // pointing away from the round's centre: cosine −1 < −0.5
        assertThat(m.policy().flags(new float[] {3, 4}, global, new float[] {-3, -4}, 1.0)).containsExactly(ReasonCode.LOW_SIMILARITY_TO_CENTRE);
        assertThat(m.policy().flags(new float[] {3, 4}, global, new float[] {3, 4}, 1.0)).isEmpty();
        assertThat(m.json()).contains("\"maxNorm\":8.0").contains("\"validation\":\"test\"").contains("\"flags\":[]");
    }

    @Test
    void aValidationSplitIsTheSameDistinctSamplesForTheSameSeed() {
        int[] a = ValidationSets.pick(10_000, 512, 1);
        assertThat(a).hasSize(512).doesNotHaveDuplicates().isEqualTo(ValidationSets.pick(10_000, 512, 1)).isNotEqualTo(ValidationSets.pick(10_000, 512, 2));
        assertThat(java.util.Arrays.stream(a).min().orElseThrow()).isGreaterThanOrEqualTo(0);
        assertThat(java.util.Arrays.stream(a).max().orElseThrow()).isLessThan(10_000);
        assertThat(ValidationSets.pick(5, 512, 1)).as("all of a small set").containsExactlyInAnyOrder(0, 1, 2, 3, 4);
    }
}
