package io.fedmarket.cli.demo;

import io.fedmarket.cli.report.DemoRun;
import io.fedmarket.cli.report.HtmlReport;
import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.fl.model.ModelProvenance;
import io.fedmarket.fl.model.TorchScriptArchive;
import io.fedmarket.fl.model.TorchScriptModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bring your own model, end to end: the builder's TorchScript file (the small Conv2d + BatchNorm2d + Linear net, written by the
 * test with {@code infra/models/make_torchscript.py} and python3-torch, weights equal to {@code infra/models/fixtures/small.pt}'s)
 * uploaded through {@code POST /models},
 * named by its SHA-256 in the intent, trained by worker JVMs with DJL (PtSymbolBlock), verified, aggregated and settled by the
 * functions: both cheaters caught, no honest provider slashed, accuracy above 55%, the file's hash in the provenance.
 */
class DemoTorchScriptTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void aTorchScriptModelTrainsThroughTheMarketplaceWithCheatersCaught(@TempDir Path dir) throws Exception {
        // the builder's model made here, by the project's script with Debian's python3-torch (./mkt test's preflight installs it):
        // its weights are the committed fixture's (a fixed seed), so the run is the same whichever torch wrote the bytes
        TorchScriptArchive file = TorchScriptModels.generated("small", dir.resolve("models"));
        TorchScriptArchive fixture = TorchScriptModels.register(Files.readAllBytes(ROOT.resolve("infra/models/fixtures/small.pt")));
        assertThat(file.state().paramsHash()).as("generated weights = the fixture's").isEqualTo(fixture.state().paramsHash());
        ModelLayouts.Layout layout = ModelLayouts.layout("torchscript:" + file.sha256());
        DemoRunner.Options opts = io.fedmarket.cli.DemoCommandAccess.torchScriptOptions(layout, 4, 3, 2, 11, true, 40, dir);
        assertThat(opts.targetAccuracy()).isEqualTo(0.55);
        DemoRun run = new DemoRunner(opts, System.out::println).run();

        assertThat(run.timeline()).extracting(DemoRun.Event::text).anyMatch(t -> t.contains("uploaded its TorchScript model through POST /models: sha256 "
                + file.sha256()));
        assertThat(run.rounds()).hasSize(3);
        assertThat(run.finalAccuracy()).as("final test accuracy").isGreaterThanOrEqualTo(0.55);
        Set<String> cheaters = run.providers().stream().filter(p -> !p.behaviour().equals("honest")).map(DemoRun.Provider::name)
                .collect(Collectors.toSet());
        assertThat(cheaters).hasSize(2);
        assertThat(run.slashes()).extracting(DemoRun.Slash::provider).doesNotHaveDuplicates()
                .as("slashed = exactly the injected cheaters").containsExactlyInAnyOrderElementsOf(cheaters);
        for (DemoRun.Provider p : run.providers()) {
            assertThat(p.claimedOnChain()).as("%s received on chain what the ledger says", p.name()).isEqualTo(p.ledgerPaid());
            if (!cheaters.contains(p.name())) {
                assertThat(p.slashed()).as("honest %s slashed", p.name()).isZero();
                assertThat(p.ledgerPaid()).isPositive();
            } else {
                assertThat(p.ledgerPaid()).isEqualTo(BigInteger.ZERO);
            }
        }
        assertThat(run.tasks()).filteredOn(t -> !cheaters.contains(t.worker()))
                .allSatisfy(t -> assertThat(t.verdict()).as("%s by %s: %s", t.taskId(), t.worker(), t.reason()).isEqualTo("ACCEPTED"));
        // no plain-Java forward pass for an uploaded graph in the functions: the checks say so (and q is raised), never silently
        assertThat(run.tasks()).allSatisfy(t -> assertThat(t.checks()).as("checks of %s", t.taskId()).contains("VALIDATION_NOT_EVALUATED"));
        // provenance: the file's hash is in the run's record and the report; every round is on chain
        assertThat(run.config()).containsEntry("model file sha256", file.sha256());
        assertThat(run.rounds()).allSatisfy(r -> assertThat(r.chainTx()).startsWith("0x"));
        String html = Files.readString(HtmlReport.write(run, dir.resolve("report.html")));
        assertThat(html).contains("provenance-model-file").contains(file.sha256());
        assertThat(ModelProvenance.describe(opts.model())).contains(file.sha256());
        assertThat(ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList())
                .as("no worker or anvil process left running").isEmpty();
    }
}
