package io.fedmarket.cli.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Renders the report in headless Chromium, takes a screenshot, and checks the plots against the records. */
class HtmlReportBrowserTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    static DemoRun sampleRun() {
        List<DemoRun.Round> rounds = new ArrayList<>();
        List<Double> baseline = new ArrayList<>();
        for (int r = 1; r <= 12; r++) {
            double acc = 0.55 + 0.3 * (1 - Math.exp(-r / 4.0));
            rounds.add(new DemoRun.Round(r, acc, "0x" + "ab".repeat(31) + String.format("%02x", r), "0x" + "cd".repeat(32),
                    "0x" + "ef".repeat(32), 5, r % 3 == 0 ? 1 : 0, r == 4 ? 1 : 0, (r - 1) * 9000L, r * 9000L - 500));
            baseline.add(acc + 0.004);
        }
        BigInteger unit = BigInteger.TEN.pow(18);
        List<DemoRun.Provider> providers = List.of(
                new DemoRun.Provider("gpu-1", "0x1111111111111111111111111111111111111111", "honest", unit.multiply(BigInteger.valueOf(12)), unit.multiply(BigInteger.valueOf(12)), BigInteger.ZERO, 310.5),
                new DemoRun.Provider("gpu-2", "0x2222222222222222222222222222222222222222", "honest", unit.multiply(BigInteger.valueOf(9)), unit.multiply(BigInteger.valueOf(9)), BigInteger.ZERO, 250.0),
                new DemoRun.Provider("gpu-3", "0x3333333333333333333333333333333333333333", "noise <script>", BigInteger.ZERO, BigInteger.ZERO, unit.multiply(BigInteger.valueOf(50)), 0));
        List<DemoRun.Slash> slashes = List.of(new DemoRun.Slash("gpu-3", "0x3333333333333333333333333333333333333333", 2,
                "segment 3 re-execution mismatch", "0x" + "12".repeat(32), unit.multiply(BigInteger.valueOf(50)), "0x" + "34".repeat(32)));
        Map<String, Long> gas = new LinkedHashMap<>();
        gas.put("postRound", 77_500L * 12);
        gas.put("claim", 73_300L * 2);
        gas.put("slash", 51_000L);
        return new DemoRun("fedmarket demo", 1_764_000_000_000L, 1_764_000_120_000L, Map.of("workers", "3", "rounds", "12"),
                rounds, baseline, providers, slashes, List.of(new DemoRun.Event(0, "start", "stack up")), gas, 0.031, 0.80, List.of());
    }

    @Test
    void rendersOfflineAndThePlotsShowTheRecords(@TempDir Path dir) throws Exception {
        Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
        assertThat(chromium).as("headless Chromium is needed for the report test: apt-get install -y chromium (or set CHROMIUM)").isExecutable();
        DemoRun run = sampleRun();
        Path html = HtmlReport.write(run, dir.resolve("report.html"));
        Path png = dir.resolve("report.png");
        Process p = new ProcessBuilder("node", ROOT.resolve("cli/src/test/js/render-report.mjs").toString(), html.toString(), png.toString())
                .directory(ROOT.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("renderer output: %s", out).isZero();
        JsonNode shown = new ObjectMapper().readTree(out);

        assertThat(shown.get("failedRequests")).as("no network request: renders offline").isEmpty();
        assertThat(Files.size(png)).as("screenshot taken").isGreaterThan(10_000);
        Files.copy(png, Path.of(System.getProperty("java.io.tmpdir"), "fedmarket-report-test.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(shown.at("/charts/accuracy/w").asDouble()).isGreaterThan(500);
        assertThat(shown.at("/charts/accuracy/h").asDouble()).isGreaterThan(100);

        List<JsonNode> ours = new ArrayList<>();
        List<JsonNode> base = new ArrayList<>();
        shown.get("points").forEach(pt -> (pt.get("series").asText().equals("marketplace") ? ours : base).add(pt));
        assertThat(ours).hasSize(run.rounds().size());
        assertThat(base).hasSize(run.baselineAccuracy().size());
        for (int i = 0; i < ours.size(); i++) {
            assertThat(ours.get(i).get("round").asInt()).isEqualTo(i + 1);
            assertThat(ours.get(i).get("value").asDouble()).isCloseTo(run.rounds().get(i).testAccuracy(), within(1e-12));
            assertThat(base.get(i).get("value").asDouble()).isCloseTo(run.baselineAccuracy().get(i), within(1e-12));
        }
        // higher accuracy is drawn higher (smaller y)
        assertThat(ours.get(ours.size() - 1).get("cy").asDouble()).isLessThan(ours.get(0).get("cy").asDouble());

        for (int i = 0; i < run.providers().size(); i++) {
            JsonNode bar = shown.get("paid").get(i);
            assertThat(bar.get("provider").asText()).isEqualTo(run.providers().get(i).name());
            assertThat(new BigInteger(bar.get("value").asText())).isEqualTo(run.providers().get(i).ledgerPaid());
            assertThat(new BigInteger(bar.get("claimed").asText())).isEqualTo(run.providers().get(i).claimedOnChain());
        }
        assertThat(shown.get("paid").get(0).get("width").asDouble()).isGreaterThan(shown.get("paid").get(1).get("width").asDouble());
        assertThat(shown.get("slashRows")).extracting(JsonNode::asText).containsExactly("gpu-3");
        assertThat(shown.get("provenance")).hasSize(run.rounds().size());
        assertThat(shown.get("provenance").get(4).get("hash").asText()).isEqualTo(run.rounds().get(4).modelHash());
        assertThat(shown.get("rounds")).hasSize(run.rounds().size());
        assertThat(shown.get("kpiAccuracy").asText()).isEqualTo(HtmlReport.pct(run.finalAccuracy()));
        assertThat(shown.at("/records/rounds")).hasSize(run.rounds().size());
    }

    @Test
    void textIsEscaped() {
        String html = HtmlReport.render(sampleRun());
        assertThat(html.contains("noise <script>")).as("raw markup from a provider name").isFalse();
        assertThat(html.contains("noise &lt;script&gt;")).isTrue();
    }
}
