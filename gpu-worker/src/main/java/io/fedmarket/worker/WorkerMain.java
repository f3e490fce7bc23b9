package io.fedmarket.worker;

import io.fedmarket.worker.loop.TaskLoop;
import io.fedmarket.worker.loop.WorkerConfig;

/**
 * The GPU worker process: configured only by environment / system properties (see
 * {@link WorkerConfig}). Exit codes: 0 = done (max tasks, idle, stopped), 3 = released its task on
 * a spot interruption notice, 2 = bad configuration.
 */
public final class WorkerMain {
    private WorkerMain() {
    }

    public static void main(String[] args) {
        WorkerConfig cfg;
        try {
            cfg = WorkerConfig.fromEnvironment();
        } catch (RuntimeException e) {
            System.err.println("gpu-worker: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.exit(run(cfg));
    }

    /** Runs the task loop until it ends; returns the process exit code (see the class comment). */
    public static int run(WorkerConfig cfg) {
        long t0 = System.nanoTime();
        System.err.printf("gpu-worker %s: address %s, tasks %s, spot notice %s%s%n", cfg.workerId(), cfg.key().getAddress(),
                cfg.endpoints().tasksQueueUrl(), cfg.spotNotice(),
                cfg.fault().kind().equals("none") ? "" : ", FAULT INJECTION " + cfg.fault().kind());
        TaskLoop.Exit exit;
        java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
        try (TaskLoop loop = new TaskLoop(cfg)) {
            // SIGTERM (spot reclaim, ASG scale-in): stop at the next step, checkpoint, release the task
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                loop.stop();
                try {
                    finished.await(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            // load the engine before the first task, so that a worker that says it is ready trains at once
            System.err.printf("gpu-worker %s: ready (%s, %d intra-op thread(s)), polling%n", cfg.workerId(),
                    io.fedmarket.worker.train.Engines.description(), io.fedmarket.worker.train.Engines.threads());
            exit = loop.run();
        } finally {
            finished.countDown();
        }
        System.err.printf("gpu-worker %s: exit %s after %.1f s%n", cfg.workerId(), exit, (System.nanoTime() - t0) / 1e9);
        return exit == TaskLoop.Exit.SPOT_INTERRUPTION ? 3 : 0;
    }
}
