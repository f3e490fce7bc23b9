package io.fedmarket.cli.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The GPU workers of a demo, each a separate JVM as on a spot instance, running
 * {@code io.fedmarket.worker.WorkerMain} from the same classpath. Spot interruptions are injected
 * through each worker's notice file; a worker that exits is restarted (a fresh spot instance) unless
 * it was retired (slashed).
 */
final class WorkerFleet implements AutoCloseable {
    record Spec(String name, String privateKeyHex, String address, String fault) {
    }

    private final Path runDir;
    private final Path endpointsFile;
    private final Map<String, Spec> specs = new LinkedHashMap<>();
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Map<String, Boolean> retired = new LinkedHashMap<>();
    private final List<String> restarts = new ArrayList<>();
    private final Map<String, Path> localData = new LinkedHashMap<>();

    WorkerFleet(Path runDir, Path endpointsFile) {
        this.runDir = runDir;
        this.endpointsFile = endpointsFile;
    }

    /** The private data set worker {@code name} holds (FEDMARKET_LOCAL_DATA), kept for its replacements too. */
    synchronized void localData(String name, Path dataSet) {
        localData.put(name, dataSet);
    }

    synchronized void start(Spec spec) {
        specs.put(spec.name(), spec);
        retired.put(spec.name(), false);
        launch(spec);
    }

    private void launch(Spec spec) {
        Path log = runDir.resolve("logs").resolve(spec.name() + ".log");
        try {
            Files.createDirectories(log.getParent());
            Files.deleteIfExists(noticeFile(spec.name()));
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx512m",
                    "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1",
                    "-cp", System.getProperty("java.class.path"), "io.fedmarket.worker.WorkerMain"));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            Map<String, String> env = pb.environment();
            env.put("MKT_ENDPOINTS", endpointsFile.toString());
            env.put("FEDMARKET_WORKER_ID", spec.name());
            env.put("FEDMARKET_WORKER_KEY", spec.privateKeyHex());
            env.put("FEDMARKET_SPOT_NOTICE", "file:" + noticeFile(spec.name()));
            env.put("FEDMARKET_POLL_SECONDS", "1");
            env.put("FEDMARKET_VISIBILITY_SECONDS", "20");
            env.put("FEDMARKET_FAULT_HOLD", "file:" + holdFile()); // no effect unless the demo writes a round number there
            if (localData.containsKey(spec.name())) {
                env.put("FEDMARKET_LOCAL_DATA", localData.get(spec.name()).toString());
            } else {
                env.remove("FEDMARKET_LOCAL_DATA");
            }
            if (spec.fault() != null && spec.fault().startsWith("verifier")) {
                env.put("FEDMARKET_WORKER_ROLE", "verifier"); // a bonded verifier node: re-executions only
                if (spec.fault().equals("verifier:lying")) {
                    env.put("FEDMARKET_FAULT", "lying-verifier");
                } else {
                    env.remove("FEDMARKET_FAULT");
                }
            } else if (spec.fault() != null && !spec.fault().equals("none")) {
                env.put("FEDMARKET_FAULT", spec.fault());
            } else {
                env.remove("FEDMARKET_FAULT");
            }
            processes.put(spec.name(), pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start worker " + spec.name(), e);
        }
    }

    /**
     * Waits until every started worker has said it is ready (engine loaded, polling), so that the first
     * round's tasks spread over the whole fleet instead of going to whichever JVM started first.
     *
     * @return the names that were not ready in time (empty when all were)
     */
    List<String> awaitReady(java.time.Duration max) throws InterruptedException {
        long end = System.nanoTime() + max.toNanos();
        List<String> waiting = new ArrayList<>(specs.keySet());
        while (!waiting.isEmpty() && System.nanoTime() < end) {
            waiting.removeIf(name -> {
                try {
                    Path log = runDir.resolve("logs").resolve(name + ".log");
                    return Files.isRegularFile(log) && Files.readString(log).contains("gpu-worker " + name + ": ready");
                } catch (IOException e) {
                    return false;
                }
            });
            Thread.sleep(200);
        }
        return waiting;
    }

    Path noticeFile(String name) {
        return runDir.resolve("spot").resolve(name + ".notice");
    }

    /** Where the demo names the round whose tasks pause at their first durable checkpoint (attrition fault). */
    Path holdFile() {
        return runDir.resolve("spot").resolve("hold-round");
    }

    /** Tasks of {@code round} pause at their first durable checkpoint until {@link #release()}: the workers holding them are then surely mid-task. */
    void holdAtFirstCheckpoint(int round) {
        try {
            Files.createDirectories(holdFile().getParent());
            Files.writeString(holdFile(), Integer.toString(round));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Ends the hold: paused tasks go on (replacement workers never see it). */
    void release() {
        try {
            Files.deleteIfExists(holdFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends the two-minute spot notice (the worker checkpoints, releases its task and exits). */
    void interrupt(String name) {
        try {
            Files.createDirectories(noticeFile(name).getParent());
            Files.writeString(noticeFile(name), "{\"action\":\"terminate\",\"time\":\"now\"}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Kills a worker outright (kill -9: a verifier or worker going offline) and waits until it is gone. */
    synchronized void kill(String name) {
        Process p = processes.get(name);
        if (p != null) {
            try {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Stops a slashed worker for good (no grace: its in-flight task returns to the queue for an honest worker). */
    synchronized void retire(String name) {
        retired.put(name, true);
        Process p = processes.get(name);
        if (p != null) {
            p.destroyForcibly();
        }
    }

    /** Restarts exited workers that are not retired, as the ASG would replace a reclaimed spot instance. */
    synchronized List<String> replaceExited() {
        List<String> replaced = new ArrayList<>();
        for (Map.Entry<String, Process> e : processes.entrySet()) {
            if (!e.getValue().isAlive() && !retired.getOrDefault(e.getKey(), false)) {
                launch(specs.get(e.getKey()));
                replaced.add(e.getKey());
                restarts.add(e.getKey());
            }
        }
        return replaced;
    }

    synchronized Map<String, Spec> specs() {
        return Map.copyOf(specs);
    }

    List<String> restarts() {
        return List.copyOf(restarts);
    }

    @Override
    public synchronized void close() {
        for (Process p : processes.values()) {
            p.destroy();
        }
        for (Process p : processes.values()) {
            try {
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }
}
