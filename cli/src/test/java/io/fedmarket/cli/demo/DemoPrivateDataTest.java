package io.fedmarket.cli.demo;

import io.fedmarket.cli.report.DemoRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ./mkt demo --private-data} in a shorter configuration: every provider's shard exported to its own PNG folder,
 * committed there, offered as private data and trained there by its own worker only, through the whole marketplace
 * (functions, queues, chain, worker JVMs). Cheaters are still caught, nobody honest is slashed, verification revealed only
 * drawn segments' samples (counted per provider and per update), the shards of removed cheaters go untrained rather than
 * to someone else, and the run's audit finds no sample's bytes or leaf hash in the bucket, the database or any log.
 */
class DemoPrivateDataTest {
    @Test
    void privateShardsAreTrainedAtHomeCheatersAreCaughtAndOnlyDrawnSamplesAreRevealed(@TempDir Path dir) throws Exception {
        // three honest providers and a cheater (noise); no all-honest baseline (not what this checks). A removed cheater's private
        // shard is nobody else's to train, so the model learns from three non-IID shards: 45% after 3 rounds of 40 steps
        DemoRunner.Options opts = new DemoRunner.Options(4, 3, 1, 11, false, 40, dir, 0.45).withTraining("mlp", 40, 1.0, false, false)
                .withMix(new DemoRunner.Options.Mix(java.util.List.of("none", "none", "none", "noise"), 0, 0, "bit-exact", null))
                .withPrivateData(true);
        DemoRun run = new DemoRunner(opts, System.out::println).run();

        assertThat(run.rounds()).hasSize(3);
        assertThat(run.finalAccuracy()).as("final test accuracy").isGreaterThanOrEqualTo(0.45);
        Set<String> cheaters = run.providers().stream().filter(p -> !p.behaviour().equals("honest")).map(DemoRun.Provider::name).collect(Collectors.toSet());
        assertThat(cheaters).hasSize(1);
        assertThat(run.slashes()).extracting(DemoRun.Slash::provider).as("slashed = exactly the injected cheaters")
                .containsExactlyInAnyOrderElementsOf(cheaters);
        for (DemoRun.Provider p : run.providers()) {
            assertThat(p.claimedOnChain()).isEqualTo(p.ledgerPaid());
            if (!cheaters.contains(p.name())) {
                assertThat(p.slashed()).isZero();
                assertThat(p.ledgerPaid()).as("%s was paid", p.name()).isPositive();
            } else {
                assertThat(p.ledgerPaid()).isEqualTo(BigInteger.ZERO);
            }
        }
        // every task was trained by the worker that holds its shard: the provider whose shard it is
        assertThat(run.tasks()).isNotEmpty().allSatisfy(t -> assertThat(t.verdict()).isNotNull());
        assertThat(run.tasks()).filteredOn(t -> !cheaters.contains(t.worker()))
                .allSatisfy(t -> assertThat(t.verdict()).as("%s by %s: %s", t.taskId(), t.worker(), t.reason()).isEqualTo("ACCEPTED"));

        DemoRun.Privacy pv = run.privacy();
        assertThat(pv).isNotNull();
        assertThat(pv.revealedSamples()).as("drawn segments were revealed").isPositive();
        assertThat(pv.revealedSamples()).isLessThan(pv.sharedSamples());
        assertThat(pv.maxRevealedPerUpdate()).as("q segments of 20 steps of batch 64 at most, per update").isLessThanOrEqualTo(2L * 20 * 64);
        assertThat(pv.providers()).filteredOn(p -> !cheaters.contains(p.name())).allSatisfy(p -> {
            assertThat(p.revealed()).as("%s's samples were shown to its drawn re-executors only", p.name()).isPositive().isLessThan(p.samples());
            assertThat(p.recipients()).isNotEmpty().doesNotContain(p.name());
        });
        assertThat(pv.auditFindings()).as(pv.audit()).isEmpty();
        assertThat(pv.audit()).doesNotStartWith("0 bucket objects");
        // the cheaters' shards were nobody else's to train once they were removed
        assertThat(pv.missingShards()).isNotEmpty().allSatisfy(m -> assertThat(cheaters.stream().anyMatch(m::contains)).as(m).isTrue());
        // each provider's data is PNG files in its own folder, with the commitment next to it
        for (DemoRun.Provider p : run.providers()) {
            Path folder = dir.resolve("private-data").resolve(p.name());
            try (Stream<Path> s = Files.walk(folder)) {
                assertThat(s.filter(f -> f.toString().endsWith(".png")).count()).isPositive();
            }
            assertThat(folder.resolve(".fedmarket/commitment.json")).exists();
        }
    }
}
