package io.fedmarket.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** ./mkt bench all: one table with each benchmark's headline figures, taken from the JSON the benchmarks print. */
class BenchSummaryTest {

    @Test
    void theTableShowsEachBenchmarksHeadlineFiguresAndSaysWhichFailed() throws Exception {
        String json = """
                {"match":{"scales":[{"providers":10000,"p50_ms":7.9,"p99_ms":13.1}],"gap":{"instances":176,"mean_gap_pct":0.353,"max_gap_pct":6.4}},
                 "chain":{"gasPerOperation":{"postRound (round 2+)":44142},"postRoundByParticipants":{"10":{"postRoundGasLaterRound":38578},
                  "1000":{"postRoundGasLaterRound":38578}},"claimGasByRoundsCovered":{"1":71504,"50":70735},"throughput":{"txPerSecondWithReceipts":381.6}},
                 "train":"failed: java.lang.IllegalStateException: no stack",
                 "integrity":{"rows":[{"cheaterFraction":0.3,"detection":{"RANDOM_NOISE":{"submitted":20,"caught":20},
                  "GLOBAL_UNCHANGED":{"submitted":36,"caught":35}},"falseSlashes":0,"accuracyDeltaVsAllHonest":-0.001,"verificationFraction":0.029}]}}
                """;
        String table = BenchCommand.summary(new ObjectMapper().readTree(json));
        assertThat(table.lines().toList()).contains(
                String.format("%-10s %-58s %s", "match", "solve p50 / p99 at 10000 providers (ms)", "7.9 / 13.1"),
                String.format("%-10s %-58s %s", "match", "optimality gap vs exact, mean / max (%) on 176 instances", "0.353 / 6.4"),
                String.format("%-10s %-58s %s", "chain", "gas: postRound (later round) by participants", "10: 38578, 1000: 38578"),
                String.format("%-10s %-58s %s", "chain", "gas: claim covering 1 vs 50 rounds", "1 round(s): 71504, 50 round(s): 70735"),
                String.format("%-10s %-58s %s", "train", "result", "failed: java.lang.IllegalStateException: no stack"),
                String.format("%-10s %-58s %s", "integrity", "30% cheaters: caught, false slashes, Δacc, verified", "55/56, 0, -0.0010, 2.9%"));
    }
}
