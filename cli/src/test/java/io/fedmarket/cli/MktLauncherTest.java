package io.fedmarket.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The ./mkt launcher's clear errors, and the CLI's argument errors. */
class MktLauncherTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    record Run(int code, String out) {
    }

    static Run mkt(java.util.Map<String, String> env, String... args) throws IOException, InterruptedException {
        var cmd = new java.util.ArrayList<String>();
        cmd.add(ROOT.resolve("mkt").toString());
        cmd.addAll(java.util.List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    @Test
    void withoutAJdk21TheLauncherSaysWhatToInstallInOneLine() throws Exception {
        Run r = mkt(java.util.Map.of("JAVA_HOME", "/nonexistent-jdk", "MKT_JDK_DIRS", "/nonexistent"), "--version");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out().strip().lines()).hasSize(1);
        assertThat(r.out()).contains("no JDK 21 or newer found").contains("install one").contains("JAVA_HOME");
    }

    @Test
    void aJdk17IsRefusedToo() throws Exception {
        Path jdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
        org.junit.jupiter.api.Assumptions.assumeTrue(jdk17.resolve("bin/javac").toFile().canExecute(), "no JDK 17 on this machine");
        Run r = mkt(java.util.Map.of("JAVA_HOME", jdk17.toString(), "MKT_JDK_DIRS", jdk17.toString()), "--version");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out()).contains("no JDK 21 or newer found");
    }

    @Test
    void unknownBenchmarkAndBadDemoOptionsAreClearErrors() {
        var err = new java.io.StringWriter();
        var cl = Mkt.commandLine();
        cl.setErr(new java.io.PrintWriter(err));
        assertThat(cl.execute("bench", "nope")).isEqualTo(1);
        assertThat(err.toString()).contains("unknown benchmark 'nope'").contains("match");
        err.getBuffer().setLength(0);
        assertThat(cl.execute("demo", "--workers", "3", "--cheaters", "2")).isEqualTo(1);
        assertThat(err.toString()).contains("--cheaters < --workers - 1");
        assertThat(cl.execute("demo", "--rounds", "many")).isEqualTo(2);
    }
}
