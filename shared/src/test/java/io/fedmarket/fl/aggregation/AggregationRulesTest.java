package io.fedmarket.fl.aggregation;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class AggregationRulesTest {
    private static final float[] GLOBAL = {0f, 0f};

    private static ClientUpdate u(String id, long n, float... p) {
        return new ClientUpdate(id, p, n);
    }

    @Test
    void fedAvgWeightsBySamples() {
        // (1·[1,2] + 3·[5,6]) / 4 = [4, 5]
        AggregationResult r = new FedAvg().aggregate(GLOBAL, List.of(u("a", 1, 1, 2), u("b", 3, 5, 6)), ServerState.NONE);
        assertThat(r.model()).containsExactly(4f, 5f);
        assertThat(r.usedTaskIds()).containsExactly("a", "b");
    }

    @Test
    void fedAvgRejectsMismatchedDimensionsAndEmptyRounds() {
        assertThatThrownBy(() -> new FedAvg().aggregate(GLOBAL, List.of(u("a", 1, 1, 2), u("b", 1, 1)), ServerState.NONE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("task b").hasMessageContaining("same model");
        assertThatThrownBy(() -> new FedAvg().aggregate(GLOBAL, List.of(), ServerState.NONE))
                .hasMessageContaining("needs at least 1").hasMessageContaining("keep the previous global model");
    }

    @Test
    void fedProxServerSideIsFedAvgAndClientTermPullsTowardsGlobal() {
        List<ClientUpdate> ups = List.of(u("a", 1, 1, 2), u("b", 3, 5, 6));
        assertThat(new FedProx(0.1).aggregate(GLOBAL, ups, ServerState.NONE).model())
                .containsExactly(new FedAvg().aggregate(GLOBAL, ups, ServerState.NONE).model());
        float[] local = {3f, -1f};
        float[] global = {1f, 1f};
        // (μ/2)·‖w − g‖² = 0.25·(4 + 4) = 2 with μ = 0.5
        assertThat(ProximalTerm.value(local, global, 0.5)).isEqualTo(2.0);
        float[] grad = {10f, 10f};
        ProximalTerm.addGradient(grad, local, global, 0.5);
        assertThat(grad).containsExactly(11f, 9f);
        assertThatThrownBy(() -> new FedProx(-1)).hasMessageContaining("mu must be");
    }

    @Test
    void fedAdamFollowsReddiAlgorithmTwo() {
        // one coordinate, eta=0.1, beta1=0.9, beta2=0.99, tau=0.1; x=1, client mean 3 ⇒ Δ=2
        ServerOptimizer adam = new ServerOptimizer(ServerOptimizer.Kind.ADAM, 0.1, 0.9, 0.99, 0.1);
        AggregationResult r1 = adam.aggregate(new float[] {1f}, List.of(u("a", 1, 3f)), ServerState.NONE);
        // m = 0.1·2 = 0.2; v = 0.99·0.01 + 0.01·4 = 0.0499; x = 1 + 0.1·0.2/(√0.0499 + 0.1)
        double m1 = 0.2;
        double v1 = 0.99 * 0.01 + 0.01 * 4;
        assertThat(r1.state().m()[0]).isCloseTo(m1, within(1e-12));
        assertThat(r1.state().v()[0]).isCloseTo(v1, within(1e-12));
        assertThat((double) r1.model()[0]).isCloseTo(1 + 0.1 * m1 / (Math.sqrt(v1) + 0.1), within(1e-6));
        assertThat(r1.state().round()).isEqualTo(1);
        // second round: x1, client mean x1 − 1 ⇒ Δ = −1
        float x1 = r1.model()[0];
        AggregationResult r2 = adam.aggregate(new float[] {x1}, List.of(u("a", 1, x1 - 1f)), r1.state());
        double m2 = 0.9 * m1 + 0.1 * -1;
        double v2 = 0.99 * v1 + 0.01 * 1;
        assertThat((double) r2.model()[0]).isCloseTo(x1 + 0.1 * m2 / (Math.sqrt(v2) + 0.1), within(1e-6));
    }

    @Test
    void fedYogiUsesSignedAdditiveSecondMoment() {
        ServerOptimizer yogi = new ServerOptimizer(ServerOptimizer.Kind.YOGI, 0.1, 0.9, 0.99, 0.1);
        AggregationResult r1 = yogi.aggregate(new float[] {1f}, List.of(u("a", 1, 3f)), ServerState.NONE);
        // v0 = τ² = 0.01 < Δ² = 4 ⇒ sign = −1 ⇒ v = 0.01 + 0.01·4 = 0.05
        assertThat(r1.state().v()[0]).isCloseTo(0.05, within(1e-12));
        assertThat((double) r1.model()[0]).isCloseTo(1 + 0.1 * 0.2 / (Math.sqrt(0.05) + 0.1), within(1e-6));
        // Δ = 0.1 ⇒ Δ² = 0.01 < v ⇒ v decreases by 0.01·0.01
        float x1 = r1.model()[0];
        AggregationResult r2 = yogi.aggregate(new float[] {x1}, List.of(u("a", 1, x1 + 0.1f)), r1.state());
        assertThat(r2.state().v()[0]).isCloseTo(0.05 - 0.01 * ((double) (x1 + 0.1f) - x1) * ((double) (x1 + 0.1f) - x1),
                within(1e-9));
    }

    @Test
    void serverOptimizerRejectsStateOfAnotherModel() {
        ServerOptimizer adam = new ServerOptimizer(ServerOptimizer.Kind.ADAM, 0.1, 0.9, 0.99, 0.1);
        ServerState wrong = new ServerState(new double[3], new double[3], 1);
        assertThatThrownBy(() -> adam.aggregate(GLOBAL, List.of(u("a", 1, 1, 1)), wrong))
                .hasMessageContaining("ServerState.NONE");
        assertThatThrownBy(() -> new ServerOptimizer(ServerOptimizer.Kind.YOGI, 0.1, 1.0, 0.99, 0.1))
                .hasMessageContaining("beta1");
    }

    @Test
    void medianIgnoresSampleCountsAndOutliers() {
        List<ClientUpdate> ups = List.of(u("a", 1, 1, 10), u("b", 1, 2, 20), u("c", 1000, 100, -100));
        assertThat(new CoordinateMedian().aggregate(GLOBAL, ups, ServerState.NONE).model()).containsExactly(2f, 10f);
        List<ClientUpdate> even = List.of(u("a", 1, 1, 0), u("b", 1, 2, 0), u("c", 1, 4, 0), u("d", 1, 9, 0));
        assertThat(new CoordinateMedian().aggregate(GLOBAL, even, ServerState.NONE).model()).containsExactly(3f, 0f);
    }

    @Test
    void trimmedMeanCutsBetaFromEachEnd() {
        // n=5, β=0.2 ⇒ cut 1 each end: coordinate 0 {−50,1,2,3,99} → mean(1,2,3)=2
        List<ClientUpdate> ups = List.of(u("a", 1, -50, 1), u("b", 1, 1, 1), u("c", 1, 2, 1), u("d", 1, 3, 1),
                u("e", 1, 99, 7));
        assertThat(new TrimmedMean(0.2).aggregate(GLOBAL, ups, ServerState.NONE).model()).containsExactly(2f, 1f);
        // β=0.1 ⇒ ⌊0.5⌋ = 0: plain mean
        assertThat(new TrimmedMean(0.1).aggregate(GLOBAL, ups, ServerState.NONE).model()[0]).isEqualTo(11f);
        assertThatThrownBy(() -> new TrimmedMean(0.5)).hasMessageContaining("[0, 0.5)");
    }

    @Test
    void multiKrumSelectsTheClusterAndDropsTheOutlier() {
        // five updates on a line: 0,1,2,3 and an outlier at 100; f=1 ⇒ k = n−f−2 = 2 neighbours
        List<ClientUpdate> ups = List.of(u("a", 1, 0, 0), u("b", 1, 1, 0), u("c", 1, 2, 0), u("d", 1, 3, 0),
                u("x", 1, 100, 0));
        double[] s = MultiKrum.scores(ups, 1);
        // a: 1+4=5, b: 1+1=2, c: 1+1=2, d: 1+4=5, x: 97²+98²
        assertThat(s).containsExactly(5, 2, 2, 5, 97 * 97 + 98 * 98);
        AggregationResult krum = new MultiKrum(1, 1).aggregate(GLOBAL, ups, ServerState.NONE);
        assertThat(krum.usedTaskIds()).containsExactly("b"); // tie with c broken by task id
        AggregationResult mk = new MultiKrum(1, 3).aggregate(GLOBAL, ups, ServerState.NONE);
        assertThat(mk.usedTaskIds()).containsExactly("b", "c", "a");
        assertThat(mk.model()).containsExactly(1f, 0f);
    }

    @Test
    void multiKrumNeedsMoreThanTwoFPlusTwoUpdates() {
        List<ClientUpdate> four = List.of(u("a", 1, 0, 0), u("b", 1, 1, 0), u("c", 1, 2, 0), u("d", 1, 3, 0));
        MultiKrum k = new MultiKrum(1, 1);
        assertThat(k.minUpdates()).isEqualTo(5);
        assertThatThrownBy(() -> k.aggregate(GLOBAL, four, ServerState.NONE))
                .hasMessageContaining("n > 2f+2").hasMessageContaining("lower f");
        assertThatThrownBy(() -> new MultiKrum(0, 4).aggregate(GLOBAL, four.subList(0, 3), ServerState.NONE))
                .hasMessageContaining("m=4 exceeds n - f");
    }
}
