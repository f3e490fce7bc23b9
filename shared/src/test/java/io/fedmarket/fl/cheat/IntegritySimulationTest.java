package io.fedmarket.fl.cheat;

import io.fedmarket.fl.sim.FederatedSimulation;
import io.fedmarket.fl.sim.FederatedSimulation.Counts;
import io.fedmarket.fl.sim.FederatedSimulation.WorkerKind;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole policy on a simulated job: non-IID Dirichlet(0.5) shards, real SGD with hash
 * trails, every cheating strategy, and honest workers of every kind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IntegritySimulationTest {
    /** Small enough for the unit suite: 10 shards, 400 steps (= 400 segments), 10 rounds. */
    static final FederatedSimulation.Config SMALL = new FederatedSimulation.Config(10, 30, 10, 20, 10, 3000, 1000, 0.5,
            0.5, 400, 1, 32, 0.01f, 0, "fedavg", Map.of(), 0.25, 0.99, 0.5, 10, true, 42);

    FederatedSimulation.Result honest;
    FederatedSimulation.Result thirty;
    FederatedSimulation.Result ninety;

    @BeforeAll
    void run() {
        honest = new FederatedSimulation(SMALL).run();
        thirty = new FederatedSimulation(SMALL.withCheaterFraction(0.3)).run();
        ninety = new FederatedSimulation(SMALL.withCheaterFraction(0.9)).run();
    }

    @Test
    void everyStrategyIsCaught() {
        for (FederatedSimulation.Result r : List.of(thirty, ninety)) {
            Map<String, Counts> byName = FederatedSimulation.byName(r.cheaters());
            for (CheatStrategy s : CheatStrategy.values()) {
                Counts c = byName.get(s.name());
                assertThat(c.submitted()).as(s + " must have been tried").isPositive();
                assertThat(c.rate()).as(s + " detection").isGreaterThanOrEqualTo(0.99);
            }
            assertThat(r.cheaterUpdatesAggregated()).isZero();
            assertThat(r.paidToCheaters()).isEqualTo(BigInteger.ZERO);
        }
    }

    @Test
    void noHonestWorkerIsRejectedIncludingNonDeterministicAndSlowOnes() {
        for (FederatedSimulation.Result r : List.of(honest, thirty, ninety)) {
            assertThat(r.falseSlashes()).as(r.falseRejectReasons().toString()).isZero();
            for (WorkerKind k : List.of(WorkerKind.HONEST, WorkerKind.HONEST_NONDETERMINISTIC, WorkerKind.HONEST_SLOW)) {
                assertThat(r.honest().get(k).submitted()).as(k + " must have worked").isPositive();
            }
            assertThat(r.calibration().threshold()).isLessThan(1e-2);
        }
    }

    @Test
    void accuracyStaysWithinTwoPointsOfTheAllHonestRun() {
        double base = lastRounds(honest);
        assertThat(base).as("the all-honest job must learn").isGreaterThan(0.6);
        assertThat(lastRounds(thirty)).isGreaterThan(base - 0.02);
        assertThat(lastRounds(ninety)).isGreaterThan(base - 0.02);
    }

    @Test
    void verificationReexecutesAtMostFivePercentOfTrainingSteps() {
        for (FederatedSimulation.Result r : List.of(honest, thirty, ninety)) {
            assertThat(r.verificationFraction()).isLessThanOrEqualTo(0.05);
            assertThat((double) r.honestReexecutedSteps() / r.honestClaimedSteps()).isLessThanOrEqualTo(0.05);
            assertThat(r.reexecutedSteps()).isPositive();
        }
    }

    @Test
    void onlyVerifiedWorkIsPaidAndEachTaskOnce() {
        for (FederatedSimulation.Result r : List.of(honest, thirty, ninety)) {
            int honestTasks = r.honest().values().stream().mapToInt(Counts::submitted).sum();
            // per accepted task: price 1000 x 400 proven GPU-seconds, plus the data provider's 20 %
            BigInteger perTask = BigInteger.valueOf(1_000L * 400 + 1_000L * 400 * 2_000 / 10_000);
            assertThat(r.paidTotal()).isEqualTo(perTask.multiply(BigInteger.valueOf(honestTasks)));
        }
    }

    static double lastRounds(FederatedSimulation.Result r) {
        List<Double> a = r.accuracyPerRound();
        return a.subList(a.size() - 3, a.size()).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }
}
