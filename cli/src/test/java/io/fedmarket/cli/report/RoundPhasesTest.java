package io.fedmarket.cli.report;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RoundPhasesTest {
    static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

    /** A round whose instants follow each other by the given gaps (ms) from {@code start}. */
    static RoundPhases.Instants round(int n, Instant start, long trainMillis, boolean clean, long... gaps) {
        assertThat(gaps).hasSize(9);
        Instant[] at = new Instant[10];
        at[0] = start;
        for (int i = 0; i < 9; i++) {
            at[i + 1] = at[i].plusMillis(gaps[i]);
        }
        return new RoundPhases.Instants(n, at[0], at[1], at[2], at[3], at[4], at[5], at[6], at[7], at[8], at[9], trainMillis, clean);
    }

    @Test
    void theWallTimeSplitsIntoThePhasesWithNothingLeftOver() {
        RoundPhases.Round r = RoundPhases.of(round(3, T0, 180, true, 120, 400, 300, 250, 900, 1500, 200, 350, 80));
        assertThat(r.phaseMillis()).containsExactly(120, 400, 300, 250, 900, 1500, 200, 350, 80);
        assertThat(r.wallMillis()).isEqualTo(4100);
        assertThat(r.coordinationMillis()).as("wall less the longest training").isEqualTo(3920);
        assertThat(r.byPhase()).containsEntry("draw wait", 900L).containsEntry("re-execution", 1500L).containsEntry("next publish", 80L);
    }

    @Test
    void subMillisecondInstantsStillAddUpToTheWallTime() {
        Instant a = T0.plusNanos(400_000);
        RoundPhases.Instants in = new RoundPhases.Instants(1, a, a.plusNanos(700_000), a.plusNanos(1_400_000), a.plusNanos(2_100_000),
                a.plusNanos(2_800_000), a.plusNanos(3_500_000), a.plusNanos(4_200_000), a.plusNanos(4_900_000), a.plusNanos(5_600_000),
                a.plusNanos(6_300_000), 1, true);
        RoundPhases.Round r = RoundPhases.of(in);
        assertThat(java.util.Arrays.stream(r.phaseMillis()).sum()).isEqualTo(r.wallMillis()).isEqualTo(6);
    }

    @Test
    void aRoundWithAnUnknownInstantIsLeftOut() {
        RoundPhases.Instants last = new RoundPhases.Instants(10, T0, T0, T0, T0, T0, T0, T0, T0, T0, null, 100, true);
        assertThat(RoundPhases.of(last)).as("the last round has no next publish").isNull();
        RoundPhases.Instants noWorkerTimes = new RoundPhases.Instants(2, T0, null, null, null, T0, T0, T0, T0, T0, T0.plusSeconds(5), 100, true);
        assertThat(RoundPhases.of(noWorkerTimes)).isNull();
        assertThat(RoundPhases.report(List.of(last, noWorkerTimes))).isNull();
    }

    @Test
    void percentilesAndSharesAreOverTheCleanRounds() {
        List<RoundPhases.Instants> in = new ArrayList<>();
        Instant at = T0;
        // 20 clean rounds: re-execution takes 1000 + 100·i ms, everything else 100 ms; training 50 ms
        for (int i = 0; i < 20; i++) {
            RoundPhases.Instants r = round(i + 1, at, 50, true, 100, 100, 100, 100, 100, 1000 + 100L * i, 100, 100, 100);
            in.add(r);
            at = r.nextPublished();
        }
        // a round with a rejection took 60 s: not among the measured ones
        in.add(round(21, at, 50, false, 100, 100, 100, 100, 100, 60_000, 100, 100, 100));
        RoundPhases.Report rep = RoundPhases.report(in);
        assertThat(rep.rounds()).hasSize(21);
        assertThat(rep.measured()).isEqualTo(20);
        assertThat(rep.cleanOnly()).isTrue();
        RoundPhases.Phase rx = rep.phases().get(RoundPhases.PHASES.indexOf("re-execution"));
        // nearest rank over 1000..2900: p50 is the 10th value, p95 the 19th
        assertThat(rx.p50Millis()).isEqualTo(1900);
        assertThat(rx.p95Millis()).isEqualTo(2800);
        long wallSum = 0;
        long rxSum = 0;
        for (int i = 0; i < 20; i++) {
            wallSum += 800 + 1000 + 100L * i;
            rxSum += 1000 + 100L * i;
        }
        assertThat(rx.shareOfWall()).isCloseTo(rxSum / (double) wallSum, within(1e-12));
        assertThat(rep.phases().stream().mapToDouble(RoundPhases.Phase::shareOfWall).sum()).as("the shares add up to the wall time").isCloseTo(1.0, within(1e-12));
        assertThat(rep.wallP50Millis()).isEqualTo(2700);
        assertThat(rep.coordinationP50Millis()).isEqualTo(2650);
        assertThat(rep.trainP50Millis()).isEqualTo(50);
        assertThat(rep.table()).contains("re-execution").contains("1.900").contains("over 20 clean round(s)");
        assertThat(RoundPhases.toMap(rep)).containsEntry("wallP50Seconds", 2.7).containsEntry("roundsMeasured", 20);
    }

    @Test
    void withoutACleanRoundEveryCompleteRoundCounts() {
        RoundPhases.Report rep = RoundPhases.report(List.of(round(1, T0, 10, false, 1, 1, 1, 1, 1, 1, 1, 1, 1),
                round(2, T0.plusSeconds(1), 10, false, 2, 2, 2, 2, 2, 2, 2, 2, 2)));
        assertThat(rep.measured()).isEqualTo(2);
        assertThat(rep.cleanOnly()).isFalse();
        assertThat(rep.wallP50Millis()).isEqualTo(9);
        assertThat(rep.wallP95Millis()).isEqualTo(18);
    }

    @Test
    void theReportSurvivesRunJson(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        RoundPhases.Report rep = RoundPhases.report(List.of(round(1, T0, 10, true, 1, 2, 3, 4, 5, 6, 7, 8, 9)));
        DemoRun run = new DemoRun("t", 0, 1, java.util.Map.of(), List.of(), List.of(), List.of(), List.of(), List.of(), java.util.Map.of(), 0.05, 0.7,
                List.of(), rep, 0.051);
        RunRecords.write(run, dir.resolve("run.json"));
        DemoRun back = RunRecords.read(dir.resolve("run.json"));
        assertThat(back.phases().rounds().get(0).phaseMillis()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(back.phases().wallP50Millis()).isEqualTo(45);
        assertThat(back.verificationTimeShare()).isEqualTo(0.051);
        assertThat(HtmlReport.phaseTable(back.phases())).contains("id=\"round-phases\"").contains("draw wait").contains("<td class=\"num\">0.005</td>");
    }
}
