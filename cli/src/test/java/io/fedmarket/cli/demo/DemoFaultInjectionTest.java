package io.fedmarket.cli.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.cli.report.DemoRun;
import io.fedmarket.cli.report.HtmlReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The demo's acceptance in a shorter configuration: real stack, real contracts, the functions from function.zip running
 * the whole round lifecycle behind their queues (match, settle START, verify, judge, aggregate, settle), separate worker
 * JVMs training with DJL on Fashion-MNIST, two cheaters, a spot interruption and a worker killed mid-round.
 */
class DemoFaultInjectionTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void everyCheaterIsSlashedNoHonestOneIsAndClaimsMatchTheLedger(@TempDir Path dir) throws Exception {
        DemoRunner.Options opts = new DemoRunner.Options(4, 3, 2, 11, true, 40, dir, 0.55);
        DemoRun run = new DemoRunner(opts, System.out::println).run();

        assertThat(run.rounds()).hasSize(3);
        assertThat(run.finalAccuracy()).as("final test accuracy").isGreaterThanOrEqualTo(0.55);
        Set<String> cheaters = run.providers().stream().filter(p -> !p.behaviour().equals("honest"))
                .map(DemoRun.Provider::name).collect(Collectors.toSet());
        assertThat(cheaters).hasSize(2);
        // the first round starts once every worker is ready, so every cheater gets work and is caught
        assertThat(run.slashes()).extracting(DemoRun.Slash::provider).doesNotHaveDuplicates()
                .as("slashed = exactly the injected cheaters").containsExactlyInAnyOrderElementsOf(cheaters);
        for (DemoRun.Provider p : run.providers()) {
            assertThat(p.claimedOnChain()).as("%s received on chain what the ledger says", p.name()).isEqualTo(p.ledgerPaid());
            if (cheaters.contains(p.name())) {
                assertThat(p.ledgerPaid()).as("a cheater earns nothing").isEqualTo(BigInteger.ZERO);
            } else {
                assertThat(p.slashed()).isZero();
            }
        }
        assertThat(run.providers().stream().map(DemoRun.Provider::ledgerPaid).reduce(BigInteger.ZERO, BigInteger::add)).isPositive();
        assertThat(run.rounds()).allSatisfy(r -> {
            assertThat(r.chainTx()).startsWith("0x");
            assertThat(r.modelHash()).startsWith("0x");
        });
        assertThat(run.timeline()).extracting(DemoRun.Event::text).anyMatch(t -> t.contains("spot interruption"));
        // attrition: the workers training round 3's tasks are killed once they hold at least 30% of them; the round still
        // completes with every shard trained once (resumed from checkpoints), nothing dropped, nothing paid twice
        String kill = run.timeline().stream().map(DemoRun.Event::text).filter(t -> t.contains("killed without notice mid-task")).findFirst()
                .orElseThrow(() -> new AssertionError("no worker was killed mid-task in round 3"));
        java.util.regex.Matcher held = java.util.regex.Pattern.compile("holding (\\d+) of the (\\d+) tasks of round 3").matcher(kill);
        assertThat(held.find()).as(kill).isTrue();
        assertThat(Double.parseDouble(held.group(1)) / Double.parseDouble(held.group(2))).as(kill).isGreaterThanOrEqualTo(0.3);
        DemoRun.Round third = run.rounds().get(2);
        assertThat(third.dropped()).as("round 3 dropped tasks").isZero();
        assertThat(third.accepted()).as("round 3: every shard accepted once").isEqualTo(4);
        // every submission was decided; every cheater's update rejected, no honest one; each task paid at most once
        assertThat(run.tasks()).isNotEmpty().allSatisfy(t -> assertThat(t.verdict()).as("verdict of %s", t.taskId()).isNotNull());
        assertThat(run.tasks()).filteredOn(t -> cheaters.contains(t.worker())).isNotEmpty()
                .allSatisfy(t -> assertThat(t.verdict()).as("%s by %s", t.taskId(), t.worker()).isEqualTo("REJECTED"));
        assertThat(run.tasks()).filteredOn(t -> !cheaters.contains(t.worker()))
                .allSatisfy(t -> assertThat(t.verdict()).as("%s by %s: %s", t.taskId(), t.worker(), t.reason()).isEqualTo("ACCEPTED"));
        assertThat(run.tasks()).extracting(DemoRun.TaskOutcome::taskId).doesNotHaveDuplicates();
        // every update went through the cheap checks, with its loss on the builder's validation split (512 test images)
        assertThat(run.tasks()).allSatisfy(t -> assertThat(t.checks()).as("checks of %s", t.taskId()).contains("\"validation\":\"512 samples of fashion-mnist-test\"")
                .containsPattern("\"validationLoss\":[0-9]"));
        assertThat(run.tasks()).filteredOn(t -> t.behaviour().equals("free-ride")).isNotEmpty()
                .allSatisfy(t -> assertThat(t.checks()).as("a free-rider's update did not move").contains("NORM_OUT_OF_BOUNDS"));
        // each counted re-execution answer came from a worker drawn for it (the run fails otherwise), never the submitter; an accepted
        // update was re-executed by someone
        assertThat(run.tasks()).allSatisfy(t -> assertThat(t.reexecutors()).doesNotContain(t.worker()));
        assertThat(run.tasks()).filteredOn(t -> "ACCEPTED".equals(t.verdict())).allSatisfy(t -> assertThat(t.reexecutors()).isNotEmpty());
        // the functions' own transactions: every round posted, the slashes, the job finished
        assertThat(run.gasByOperation()).containsKeys("postRound", "slash", "finishJob");
        assertThat(run.verificationOverhead()).isLessThanOrEqualTo(0.10);
        // verification in time too: the re-executions' wall time over the submissions' training time, both recorded
        assertThat(run.verificationTimeShare()).as("verification time share").isNotNull().isPositive();
        // where each round's time went: rounds 1 and 2 (the last has no next publish), phases adding up to the wall time
        assertThat(run.phases()).as("round phases").isNotNull();
        assertThat(run.phases().rounds()).extracting(io.fedmarket.cli.report.RoundPhases.Round::round).containsExactly(1, 2);
        assertThat(run.phases().rounds()).allSatisfy(r -> {
            assertThat(java.util.Arrays.stream(r.phaseMillis()).sum()).as("round %d", r.round()).isEqualTo(r.wallMillis());
            assertThat(r.longestTrainMillis()).isPositive();
        });
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList())
                .as("no worker or anvil process left running").isEmpty();

        // the report of this run shows exactly its records
        Path html = HtmlReport.write(run, dir.resolve("report.html"));
        Process p = new ProcessBuilder("node", ROOT.resolve("cli/src/test/js/render-report.mjs").toString(), html.toString(),
                dir.resolve("report.png").toString()).directory(ROOT.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        JsonNode shown = new ObjectMapper().readTree(out);
        List<JsonNode> ours = new java.util.ArrayList<>();
        shown.get("points").forEach(pt -> {
            if (pt.get("series").asText().equals("marketplace")) {
                ours.add(pt);
            }
        });
        assertThat(ours).hasSize(run.rounds().size());
        for (int i = 0; i < ours.size(); i++) {
            assertThat(ours.get(i).get("value").asDouble()).isCloseTo(run.rounds().get(i).testAccuracy(), within(1e-12));
        }
        assertThat(shown.get("slashRows")).extracting(JsonNode::asText)
                .containsExactlyElementsOf(run.slashes().stream().map(DemoRun.Slash::provider).toList());
    }
}
