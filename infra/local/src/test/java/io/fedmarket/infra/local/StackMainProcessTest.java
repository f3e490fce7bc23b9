package io.fedmarket.infra.local;

import io.fedmarket.config.StackEndpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The process behind ./mkt up: reports each component, writes the endpoints file, and stops everything on SIGTERM. */
class StackMainProcessTest {

    @Test
    void upReportsEachComponentAndDownLeavesNoOrphanAndKeepsData(@TempDir Path dir) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                StackMain.class.getName(), "--data-dir", dir.toString(),
                "--sqs-port", "0", "--s3-port", "0", "--evm-port", "0", "--pg-port", "0", "--no-functions")
                .redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
                if (line.startsWith("READY")) {
                    break;
                }
            }
            assertThat(lines).as("output: %s", lines).anyMatch(l -> l.startsWith("READY"));
            assertThat(lines).filteredOn(l -> l.contains("✔")).hasSize(5);
            Path endpoints = dir.resolve(StackEndpoints.FILE_NAME);
            StackEndpoints ep = StackEndpoints.read(endpoints);
            assertThat(StackStatus.check(ep).values()).allMatch(v -> v.startsWith("healthy"));
            assertThat(ep.evm().contracts()).containsKeys("marketplace", "token");
            List<String> pids = Files.readAllLines(dir.resolve("stack.pid"));
            long anvilPid = Long.parseLong(pids.get(1).trim());
            assertThat(ProcessHandle.of(anvilPid)).isPresent();

            p.destroy(); // SIGTERM, as ./mkt down sends
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("stack stops within 30 s").isTrue();
            assertThat(ProcessHandle.of(anvilPid).map(ProcessHandle::isAlive).orElse(false)).as("no orphan anvil").isFalse();
            assertThat(endpoints).doesNotExist();
            assertThat(dir.resolve("s3")).isDirectory();
        } finally {
            p.destroyForcibly();
        }
    }
}
