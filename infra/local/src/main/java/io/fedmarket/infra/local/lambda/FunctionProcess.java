package io.fedmarket.infra.local.lambda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One Lambda "instance": a JVM running the packaged function.zip with one function exported,
 * started on its first invocation (a cold start, as on AWS) and kept warm until the stack stops.
 */
final class FunctionProcess implements AutoCloseable {
    private final FunctionsSpec.Fn fn;
    private final Path appDir;
    private final Map<String, String> env;
    private final Path log;
    private Process process;
    private long startedAtMillis;

    private final String handler;

    /** Where LambdaJavaRuntime's class comes from (infra-local's jar or classes folder), appended after the function's own class path. */
    static String runtimeJar() {
        try {
            return Path.of(LambdaJavaRuntime.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (Exception e) {
            throw new IllegalStateException("cannot locate infra-local's classes for the local Lambda runtime", e);
        }
    }

    FunctionProcess(FunctionsSpec.Fn fn, String handler, Path appDir, Map<String, String> env, Path log) {
        this.handler = handler;
        this.fn = fn;
        this.appDir = appDir;
        this.env = env;
        this.log = log;
    }

    /** Starts the process if it is not running; true when this call started it (a cold start). */
    synchronized boolean ensureStarted() {
        if (process != null && process.isAlive()) {
            return false;
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java,
                "-Xmx" + Math.max(128, fn.memoryMb() * 3 / 4) + "m",
                // the Lambda Java runtime's defaults: C1 only, for fast start
                "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-cp", appDir + ":" + appDir + "/lib/*:" + runtimeJar(), LambdaJavaRuntime.class.getName(), handler));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(appDir.toFile()).redirectErrorStream(true);
        try {
            Files.createDirectories(log.getParent());
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the function log " + log, e);
        }
        pb.environment().putAll(env);
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start function " + fn.name() + " with " + java + ": " + e.getMessage(), e);
        }
        startedAtMillis = System.currentTimeMillis();
        return true;
    }

    synchronized boolean alive() {
        return process != null && process.isAlive();
    }

    long startedAtMillis() {
        return startedAtMillis;
    }

    Path log() {
        return log;
    }

    @Override
    public synchronized void close() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
