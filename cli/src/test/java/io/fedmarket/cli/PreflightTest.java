package io.fedmarket.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * infra/preflight.sh through ./mkt: what a command needs is checked before anything starts; what cannot be installed
 * stops the command at once with one line naming the command that fixes it; what can be is installed (apt-get, with
 * one apt-get update on a miss).
 */
class PreflightTest {
    static final Path ROOT = MktLauncherTest.ROOT;

    record Run(int code, String out, long millis) {
    }

    static boolean root() throws Exception {
        Process p = new ProcessBuilder("id", "-u").start();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().equals("0");
    }

    /** Runs ./mkt with the environment's settings overridden; as an unprivileged user when {@code asNobody} and root. */
    static Run mkt(Map<String, String> env, boolean asNobody, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (asNobody && root()) {
            cmd.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        cmd.add(ROOT.resolve("mkt").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        Process p = pb.start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("./mkt %s ended", String.join(" ", args)).isTrue();
            return new Run(p.exitValue(), out, (System.nanoTime() - t0) / 1_000_000);
        } finally {
            p.destroyForcibly();
        }
    }

    /** A machine without the data set and without Chromium; MKT_HOME in a folder of the test's. */
    static Map<String, String> bareMachine(Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("no-fashion-mnist"));
        Map<String, String> env = new HashMap<>();
        env.put("FEDMARKET_FASHION_MNIST_DIR", data.toString());
        env.put("CHROMIUM", dir.resolve("no-chromium").toString());
        env.put("MKT_HOME", dir.resolve("home").toString());
        return env;
    }

    static void assertStoppedBeforeAnythingStarted(Run r, Path dir) {
        assertThat(r.code()).as(r.out()).isEqualTo(2);
        assertThat(r.out().strip().lines()).as("one line: %s", r.out()).hasSize(1);
        assertThat(r.out()).doesNotContain("building").doesNotContain("npm ci").doesNotContain("starting");
        assertThat(dir.resolve("home")).as("nothing was started, so nothing wrote MKT_HOME").doesNotExist();
        assertThat(r.millis()).as("a check, not a run").isLessThan(20_000);
    }

    @Test
    void withoutAptGetTheDemoStopsAtOnceNamingThePackage(@TempDir Path dir) throws Exception {
        Map<String, String> env = bareMachine(dir);
        env.put("MKT_APT_GET", "none");
        Run r = mkt(env, false, "demo");
        assertStoppedBeforeAnythingStarted(r, dir);
        assertThat(r.out()).contains("Fashion-MNIST").contains("no apt-get").contains("apt-get install -y dataset-fashion-mnist");
    }

    @Test
    void withoutRootTheTestCommandStopsAtOnceWithTheOneSudoCommand(@TempDir Path dir) throws Exception {
        // the unprivileged user must be able to enter the test's folder
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = bareMachine(dir);
        Files.setPosixFilePermissions(dir.resolve("no-fashion-mnist"), PosixFilePermissions.fromString("rwxr-xr-x"));
        env.put("HOME", dir.toString());
        Run r = mkt(env, true, "test");
        assertStoppedBeforeAnythingStarted(r, dir);
        assertThat(r.out()).contains("Fashion-MNIST").contains("Chromium")
                .contains("Install with: sudo apt-get install -y dataset-fashion-mnist chromium");
    }

    @Test
    void asRootWithAptGetWhatIsMissingIsInstalledAfterOneUpdate(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(root(), "installing needs root");
        Map<String, String> env = bareMachine(dir);
        Path calls = dir.resolve("apt-calls.txt");
        Path fake = dir.resolve("apt-get");
        // a stand-in apt-get: its package lists are stale until 'update'; 'install' then brings the data set and a browser
        Files.writeString(fake, """
                #!/usr/bin/env bash
                echo "$*" >> "%s"
                case "$1" in
                  update) touch "%s/updated"; echo "Reading package lists... Done" ;;
                  install)
                    [ -f "%s/updated" ] || { echo "E: Unable to locate package dataset-fashion-mnist" >&2; exit 100; }
                    for f in train-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do : > "%s/$f"; done
                    printf '#!/bin/sh\\necho Chromium 1\\n' > "%s"; chmod +x "%s" ;;
                esac
                """.formatted(calls, dir, dir, env.get("FEDMARKET_FASHION_MNIST_DIR"), env.get("CHROMIUM"), env.get("CHROMIUM")));
        fake.toFile().setExecutable(true);
        env.put("MKT_APT_GET", fake.toString());
        Run r = mkt(env, false, "preflight", "data", "chromium");
        assertThat(r.code()).as(r.out()).isZero();
        assertThat(r.out()).contains("installing dataset-fashion-mnist chromium").contains("apt-get update")
                .contains("installed dataset-fashion-mnist chromium").contains("mkt preflight: data chromium ok");
        assertThat(Files.readAllLines(calls)).containsExactly("install -y dataset-fashion-mnist chromium", "update",
                "install -y dataset-fashion-mnist chromium");
        // a second run finds everything and installs nothing
        Run again = mkt(env, false, "preflight", "data", "chromium");
        assertThat(again.code()).isZero();
        assertThat(again.out()).doesNotContain("installing");
        assertThat(Files.readAllLines(calls)).hasSize(3);
    }

    @Test
    void anInstallThatFailsNamesTheCommandToRun(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(root(), "installing needs root");
        Map<String, String> env = bareMachine(dir);
        Path fake = dir.resolve("apt-get");
        Files.writeString(fake, "#!/bin/sh\necho 'E: Unable to locate package' >&2\nexit 100\n");
        fake.toFile().setExecutable(true);
        env.put("MKT_APT_GET", fake.toString());
        Run r = mkt(env, false, "demo");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out()).contains("could not install dataset-fashion-mnist").contains("run apt-get install -y dataset-fashion-mnist yourself");
        assertThat(dir.resolve("home")).doesNotExist();
    }

    @Test
    void engineWarningsGoToTheEngineLogAndTheProjectsLinesStayOnTheConsole(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("engine.log");
        // the lines a DJL/PyTorch JVM writes to stderr, as seen on this machine, between the project's own
        String stderr = String.join("\n",
                "[main] WARN ai.djl.util.cuda.CudaUtils - Failed to detect GPU count: CUDA driver version is insufficient for CUDA runtime version (35)",
                "mkt bench: benchmark 'train' failed: the project's own line",
                "[W1207 16:25:04.065371316 LegacyTypeDispatch.h:74] Warning: AutoNonVariableTypeMode is deprecated and will be removed in 1.10 release.",
                "  round 3: task r3-s1 submitted by gpu-2 [WARN-free text]",
                "[main] INFO ai.djl.pytorch.jni.LibUtils - Downloading libtorch",
                "WARNING: a project warning that names no engine stays");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", ". \"$1/infra/preflight.sh\"; engine_filter \"$2\"", "x",
                ROOT.toString(), log.toString());
        Process p = pb.start();
        p.getOutputStream().write(stderr.getBytes(StandardCharsets.UTF_8)); // no newline after the last line: kept too
        p.getOutputStream().close();
        String console = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(console.lines().toList()).containsExactly("mkt bench: benchmark 'train' failed: the project's own line",
                "  round 3: task r3-s1 submitted by gpu-2 [WARN-free text]", "WARNING: a project warning that names no engine stays");
        assertThat(Files.readAllLines(log)).hasSize(3).allSatisfy(l -> assertThat(l).containsAnyOf("ai.djl", "LegacyTypeDispatch"));
    }
}
