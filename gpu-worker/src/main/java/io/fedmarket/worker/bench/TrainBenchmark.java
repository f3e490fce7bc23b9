package io.fedmarket.worker.bench;

import io.fedmarket.config.Queues;
import io.fedmarket.config.StackEndpoints;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.messages.ReexecTask;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.pol.TrailManifest;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.Partitions;
import io.fedmarket.worker.loop.TaskLoop;
import io.fedmarket.worker.loop.WorkerConfig;
import io.fedmarket.worker.model.ModelSpec;
import io.fedmarket.worker.store.ArtifactStore;
import io.fedmarket.worker.train.BatchPlan;
import io.fedmarket.worker.train.Engines;
import io.fedmarket.worker.train.Fault;
import io.fedmarket.worker.train.Reexecutor;
import io.fedmarket.worker.train.TaskRunner;
import io.fedmarket.worker.train.TrainingSession;
import io.fedmarket.pol.ReexecSigner;
import io.fedmarket.pol.SubmissionSigner;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./mkt bench train}: samples/s of the raw DJL loop (MLP, CNN, batch 64); the whole task
 * path (queue → shard → train → trail → upload → signed submission) against a running local stack
 * as a ratio to the raw loop; process start → first step; proof-trail overhead; re-execution of a
 * segment vs the original; the PyTorch (python3-torch) reference. Args: {@code [--json]
 * [--threads N] [--steps N (task path steps, default 5000)] [--quick (300)]}. Needs the stack's endpoints (MKT_ENDPOINTS or .mkt/endpoints.json)
 * for the task path; without a stack those rows are reported as skipped.
 */
public final class TrainBenchmark {
    private TrainBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        run(args);
        System.exit(0);
    }

    public static void run(String[] args) throws Exception {
        boolean json = false;
        int threads = 1;
        // a task of 5000 MLP steps (~5 s here) amortises the fixed per-task cost (~0.25 s: global model and shard
        // download, checkpoint and update upload, signing) the way a real task of minutes does; with 1000 steps
        // (~1 s) that fixed cost alone takes the ratio to ~0.77
        int steps = 5000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--json" -> json = true;
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--quick" -> steps = 300;
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + ": use [--json] [--threads N] [--steps N] [--quick]");
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        Engines.useThreads(threads);
        double firstStep = timeToFirstStep();
        String dataset = datasetName();
        ImageData data = Datasets.load(dataset);
        int[] shard = Partitions.shard(data, "iid", 10, 0, 1);
        out.put("processStartToFirstStepSeconds", round(firstStep, 2));
        out.put("dataset", dataset);
        out.put("threads", threads);
        out.put("engine", Engines.description());
        out.put("cores", Runtime.getRuntime().availableProcessors());

        double mlpRaw = raw("mlp", data, shard, steps);
        double cnnRaw = raw("cnn", data, shard, Math.max(100, steps / 4));
        out.put("rawMlpSamplesPerSecond", round(mlpRaw, 0));
        out.put("rawCnnSamplesPerSecond", round(cnnRaw, 0));
        out.put("rawMlpMsPerStep", round(64_000.0 / mlpRaw, 3));
        out.put("rawCnnMsPerStep", round(64_000.0 / cnnRaw, 3));

        taskPath(out, dataset, steps, threads, mlpRaw);
        // the raw loop again, now that the JIT and the allocator are as warm as for the task path; the
        // ratio is taken against the faster of the two raw figures (the conservative choice)
        double mlpRawAfter = raw("mlp", data, shard, steps);
        out.put("rawMlpSamplesPerSecondAfterTaskPath", round(mlpRawAfter, 0));
        if (out.get("taskPathSamplesPerSecond") instanceof Double pathSps) {
            out.put("taskPathRatioToRaw", round(pathSps / Math.max(mlpRaw, mlpRawAfter), 3));
        }
        mlpRaw = Math.max(mlpRaw, mlpRawAfter);
        out.put("rawMlpMsPerStep", round(64_000.0 / mlpRaw, 3));
        pytorch(out, threads, steps);
        resnet(out, data, shard, dataset, Math.max(20, steps / 50), threads);
        torchscriptResnet(out, data, shard, dataset, Math.max(20, steps / 50), threads);

        if (json) {
            System.out.println(ArtifactStore.JSON.writeValueAsString(out));
        } else {
            System.out.println("train benchmark (" + out.get("engine") + ", " + threads + " thread(s), " + out.get("cores") + " cores, " + dataset + ")");
            for (Map.Entry<String, Object> e : out.entrySet()) {
                System.out.printf("  %-40s %s%n", e.getKey(), e.getValue());
            }
        }
    }

    private static Double firstStepSeconds;

    /** JVM start → end of the first training step (JVM, data, DJL engine, model); measured once per process. */
    public static synchronized double timeToFirstStep() {
        if (firstStepSeconds == null) {
            long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
            ImageData data = Datasets.load(datasetName());
            int[] shard = Partitions.shard(data, "iid", 10, 0, 1);
            try (TrainingSession s = open("mlp", shard)) {
                s.step(data, new BatchPlan(shard, 64, 1).batch(0));
            }
            firstStepSeconds = (System.currentTimeMillis() - jvmStart) / 1000.0;
        }
        return firstStepSeconds;
    }

    private static String datasetName() {
        return Files.isRegularFile(Datasets.fashionDir().resolve("train-images-idx3-ubyte.gz")) ? "fashion-mnist" : "synthetic:6000";
    }

    private static TrainingSession open(String spec, int[] shard) {
        return open(spec, shard, 64);
    }

    private static TrainingSession open(String spec, int[] shard, int batch) {
        ModelSpec m = ModelSpec.parse(spec);
        var init = TrainingSession.initialState(m, 1);
        return TrainingSession.open(m, batch, init, init, 0.01, 0.9, 0);
    }

    /** samples/s of the bare loop, after 50 warm-up steps. */
    static double raw(String spec, ImageData data, int[] shard, int steps) {
        return raw(spec, 64, 50, data, shard, steps);
    }

    /** samples/s of the bare loop of {@code spec} at batch {@code batch}, after {@code warm} warm-up steps. */
    static double raw(String spec, int batch, int warm, ImageData data, int[] shard, int steps) {
        BatchPlan plan = new BatchPlan(shard, batch, 1);
        try (TrainingSession s = open(spec, shard, batch)) {
            for (int st = 0; st < warm; st++) {
                s.step(data, plan.batch(st));
            }
            long a = System.nanoTime();
            for (int st = warm; st < warm + steps; st++) {
                s.step(data, plan.batch(st));
            }
            return (double) steps * batch / ((System.nanoTime() - a) / 1e9);
        }
    }

    /**
     * The catalogue's ResNet-20 (DJL model zoo ResNetV1, 1×28×28, 10 classes, batch 16): raw ms/step and samples/s, then
     * the whole task path (trail every 20 steps, batch-norm running statistics in every checkpoint) and a re-executed
     * segment, as for the MLP; keys prefixed {@code resnet20}.
     */
    static void resnet(Map<String, Object> out, ImageData data, int[] shard, String dataset, int steps, int threads) {
        double sps = raw("resnet:20", 16, 5, data, shard, steps);
        out.put("resnet20Batch", 16);
        out.put("resnet20RawSamplesPerSecond", round(sps, 1));
        out.put("resnet20RawMsPerStep", round(16_000.0 / sps, 2));
        taskPath(out, "resnet20", "resnet:20", 16, dataset, Math.max(20, steps / 20 * 20), 20, threads, sps);
    }

    /**
     * The same ResNet-20 as the builder's own TorchScript file ({@code infra/models/make_torchscript.py resnet20}, python3-torch;
     * 3 stages of 3 basic blocks, 16/32/64 filters, 272,186 parameters and 19 batch norms' buffers) trained by DJL as a PtSymbolBlock:
     * raw ms/step beside the catalogue's, the whole task path and a re-executed segment; keys prefixed {@code torchscriptResnet20}.
     */
    static void torchscriptResnet(Map<String, Object> out, ImageData data, int[] shard, String dataset, int steps, int threads) {
        io.fedmarket.fl.model.TorchScriptArchive a;
        try {
            a = io.fedmarket.fl.model.TorchScriptModels.generated("resnet20", io.fedmarket.config.ProjectPaths.home().resolve("models"));
        } catch (RuntimeException e) {
            out.put("torchscriptResnet20", "skipped: " + e.getMessage());
            return;
        }
        String spec = "torchscript:" + a.sha256();
        double sps = raw(spec, 16, 5, data, shard, steps);
        out.put("torchscriptResnet20File", a.sha256() + " (" + a.size() + " bytes, " + a.parameterCount() + " parameters)");
        out.put("torchscriptResnet20Batch", 16);
        out.put("torchscriptResnet20RawSamplesPerSecond", round(sps, 1));
        out.put("torchscriptResnet20RawMsPerStep", round(16_000.0 / sps, 2));
        if (out.get("resnet20RawMsPerStep") instanceof Double catalogue) {
            out.put("torchscriptVsCatalogueResnet20StepTime", round(16_000.0 / sps / catalogue, 2));
        }
        taskPath(out, "torchscriptResnet20", spec, 16, dataset, Math.max(20, steps / 20 * 20), 20, threads, sps);
    }

    private static void taskPath(Map<String, Object> out, String dataset, int steps, int threads, double mlpRaw) {
        int k = 100;
        taskPath(out, "", "mlp", 64, dataset, Math.max(k, steps / k * k), k, threads, mlpRaw);
    }

    private static void taskPath(Map<String, Object> out0, String prefix, String spec, int batch, String dataset, int s, int k, int threads,
                                 double rawSps) {
        Map<String, Object> out = prefix.isEmpty() ? out0 : new java.util.LinkedHashMap<>();
        try {
            taskPathRows(out, spec, batch, dataset, s, k, threads, rawSps);
        } finally {
            if (!prefix.isEmpty()) {
                out.forEach((key, v) -> out0.put(prefix + Character.toUpperCase(key.charAt(0)) + key.substring(1), v));
            }
        }
    }

    private static void taskPathRows(Map<String, Object> out, String spec, int batch, String dataset, int s, int k, int threads, double mlpRaw) {
        if (StackEndpoints.findFile().filter(java.nio.file.Files::isRegularFile).isEmpty()) {
            // ./mkt bench train always has one (the running stack, or one of its own); a direct call may not
            out.put("taskPath", "skipped: no running stack (./mkt up, or MKT_ENDPOINTS)");
            return;
        }
        WorkerConfig cfg = WorkerConfig.from(name -> switch (name) {
            case "FEDMARKET_MAX_TASKS" -> "2";
            case "FEDMARKET_POLL_SECONDS" -> "1";
            case "FEDMARKET_WORKER_ID" -> "bench-worker";
            default -> System.getenv(name);
        });
        try (TaskLoop loop = new TaskLoop(cfg)) {
            String tasks = StackEndpoints.locate().sqs().queueUrl(Queues.TASKS);
            String subs = StackEndpoints.locate().sqs().queueUrl(Queues.SUBMISSIONS);
            TrainTask warm = task("bench-warm-" + UUID.randomUUID(), spec, batch, dataset, k, k, threads);
            TrainTask t = task("bench-" + UUID.randomUUID(), spec, batch, dataset, s, k, threads);
            send(loop, tasks, warm);
            long a = System.nanoTime();
            send(loop, tasks, t);
            loop.run();
            // the loop ran the warm-up first; the measured task's own time is its total from the runner's stats
            TaskRunner.Completed c = loop.lastCompleted();
            long waitedFor = System.nanoTime() - a;
            double pathSeconds = c.stats().totalNanos() / 1e9;
            double pathSps = (double) s * batch / pathSeconds;
            out.put("taskPathSteps", s);
            out.put("taskPathSeconds", round(pathSeconds, 2));
            out.put("taskPathSamplesPerSecond", round(pathSps, 0));
            out.put("taskPathRatioToRaw", round(pathSps / mlpRaw, 3));
            // the part of the path spent in SGD steps; the rest is set-up, uploads, trail, signing
            out.put("taskPathStepSeconds", round(c.stats().stepNanos() / 1e9, 2));
            out.put("proofTrailOverheadPercent", round(100.0 * c.stats().trailNanos() / c.stats().stepNanos(), 2));
            out.put("queueToQueueSecondsIncludingWarmupTask", round(waitedFor / 1e9, 2));
            // drain the submissions the bench produced so they do not reach a verifier
            loop.sqs().receiveMessage(b -> b.queueUrl(subs).maxNumberOfMessages(10).waitTimeSeconds(1)).messages()
                    .forEach(m -> loop.sqs().deleteMessage(b -> b.queueUrl(subs).receiptHandle(m.receiptHandle())));

            TrailManifest trail = c.trail();
            TaskRunner runner = new TaskRunner(loop.store(), cfg.key(), new SubmissionSigner(cfg.chainId(), cfg.marketplace()),
                    "bench", Fault.NONE);
            Reexecutor rx = new Reexecutor(runner, loop.store(), cfg.key(), new ReexecSigner(cfg.chainId(), cfg.marketplace()));
            // the first re-execution in this process pays one-time costs (the signer's and the re-execution path's class loading
            // and JIT, a session if none is warm); a worker pays them once, so the figure is a later one's (the median of up to
            // three segments from the middle of the trail), and the first one is reported beside it
            int n = trail.checkpointHashes().size() - 1; // segments 1..n (segment g runs from checkpoint g-1 to g)
            java.util.function.IntFunction<ReexecTask> segment = g -> new ReexecTask("bench-rx-" + g + "-" + UUID.randomUUID(), t, g, (g - 1) * k, k,
                    trail.checkpointUris().get(g - 1), trail.checkpointHashes().get(g - 1), trail.checkpointHashes().get(g), null, null);
            java.util.function.BiPredicate<ReexecResult, Integer> exact = (res, g) -> res.endHash() != null
                    && res.endHash().equals(trail.checkpointHashes().get(g));
            int firstSeg = Math.max(1, n / 2 - 1);
            long f0 = System.nanoTime();
            ReexecResult first = rx.run(segment.apply(firstSeg));
            double firstSeconds = (System.nanoTime() - f0) / 1e9;
            boolean allExact = exact.test(first, firstSeg);
            List<Double> times = new ArrayList<>();
            int seg = firstSeg;
            for (int g = Math.min(n, firstSeg + 1); g <= Math.min(n, firstSeg + 3); g++) {
                long b0 = System.nanoTime();
                ReexecResult ri = rx.run(segment.apply(g));
                times.add((System.nanoTime() - b0) / 1e9);
                allExact &= exact.test(ri, g);
                seg = g;
            }
            java.util.Collections.sort(times);
            double rxSeconds = times.get(times.size() / 2);
            double origSegment = c.stats().stepNanos() / 1e9 / (s / (double) k);
            out.put("reexecFirstInProcessSeconds", round(firstSeconds, 3));
            out.put("reexecFirstInProcessVsOriginal", round(firstSeconds / origSegment, 2));
            out.put("reexecSegmentsMeasured", times.size());
            out.put("reexecSegmentSteps", k);
            out.put("reexecSegmentSeconds", round(rxSeconds, 3));
            out.put("originalSegmentTrainSeconds", round(origSegment, 3));
            out.put("reexecVsOriginal", round(rxSeconds / origSegment, 2));
            out.put("reexecBitExact", allExact);
            // verification in time next to verification in steps: one segment of this task, and the default terms (5% of the steps
            // re-executed), each as a share of the original's training time
            out.put("reexecStepShareOneSegment", round((double) k / s, 4));
            out.put("reexecTimeShareOneSegment", round(rxSeconds / (c.stats().stepNanos() / 1e9), 4));
            out.put("verificationTimeShareAt5PercentOfSteps", round(0.05 * rxSeconds / origSegment, 4));
            out.put("reexecBreakdownMs", reexecBreakdown(loop.store(), t, trail.checkpointUris().get(seg - 1), (seg - 1) * k, k));
            out.put("warmSessions", !"off".equals(System.getProperty("fedmarket.warm.sessions", System.getenv().getOrDefault("FEDMARKET_WARM_SESSIONS", "on"))));
        }
    }

    /**
     * Where a re-execution's time goes, the same work as {@link Reexecutor#run} timed part by part: the start checkpoint from
     * the bucket (content hash checked), decoded and whole-state hashed, the session (warm or built), the steps, the end state
     * snapshot and hash, and its upload.
     */
    static Map<String, Object> reexecBreakdown(ArtifactStore store, TrainTask t, String startUri, int startStep, int steps) {
        Map<String, Object> ms = new java.util.LinkedHashMap<>();
        long a = System.nanoTime();
        byte[] bytes = store.getVerified(startUri);
        long b = System.nanoTime();
        io.fedmarket.fl.model.ModelState start = io.fedmarket.fl.model.ModelState.decode(bytes, startUri);
        start.stateHash();
        long c = System.nanoTime();
        io.fedmarket.worker.model.ModelSpec spec = io.fedmarket.worker.model.ModelSpec.parse(t.modelSpec());
        io.fedmarket.worker.train.ShardResolver.Shard shard = io.fedmarket.worker.train.ShardResolver.resolve(t);
        io.fedmarket.worker.train.TrainingSession s = io.fedmarket.worker.train.WarmSessions.open(spec, t.batchSize(), start, start, t.lr(),
                t.momentum(), t.proxMu());
        long d = System.nanoTime();
        io.fedmarket.worker.train.BatchPlan plan = new io.fedmarket.worker.train.BatchPlan(shard.indices(), t.batchSize(), t.seed());
        for (int st = startStep; st < startStep + steps; st++) {
            s.step(shard.data(), plan.batch(st));
        }
        long e = System.nanoTime();
        io.fedmarket.fl.model.ModelState end = s.snapshot(true);
        end.stateHash();
        long f = System.nanoTime();
        io.fedmarket.worker.train.WarmSessions.release(s);
        store.putContent("bench/reexec-states", "ckpt", end.encode());
        long g = System.nanoTime();
        ms.put("fetchCheckpoint", round((b - a) / 1e6, 1));
        ms.put("decodeAndHash", round((c - b) / 1e6, 1));
        ms.put("session", round((d - c) / 1e6, 1));
        ms.put("steps", round((e - d) / 1e6, 1));
        ms.put("snapshotAndHash", round((f - e) / 1e6, 1));
        ms.put("storeEndState", round((g - f) / 1e6, 1));
        return ms;
    }

    private static TrainTask task(String id, String spec, int batch, String dataset, int steps, int k, int threads) {
        return new TrainTask(id, UUID.randomUUID(), 0, spec, null, null, dataset, "iid", 10, 0, 1, null, 1, 0.01, 0.9, 0, batch, 0,
                steps, k, threads, null, null, 3600, 0);
    }

    private static void send(TaskLoop loop, String url, TrainTask t) {
        try {
            String body = ArtifactStore.JSON.writeValueAsString(t);
            loop.sqs().sendMessage(b -> b.queueUrl(url).messageBody(body));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same MLP (784-128-10, batch 64, SGD momentum) in PyTorch via python3, if python3-torch is installed. */
    private static void pytorch(Map<String, Object> out, int threads, int steps) {
        String script = """
                import time, torch
                torch.set_num_threads(%d); torch.manual_seed(0)
                m = torch.nn.Sequential(torch.nn.Linear(784,128), torch.nn.ReLU(), torch.nn.Linear(128,10))
                opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
                x = torch.rand(64, 784); y = torch.randint(0, 10, (64,))
                lf = torch.nn.CrossEntropyLoss()
                def step():
                    opt.zero_grad(); l = lf(m(x), y); l.backward(); opt.step()
                for _ in range(50): step()
                t = time.perf_counter()
                for _ in range(%d): step()
                print((time.perf_counter() - t) / %d * 1000.0, torch.__version__)
                """.formatted(threads, steps, steps);
        try {
            Path f = Files.createTempFile("torch-ref", ".py");
            Files.writeString(f, script);
            // Debian's interpreter, where python3-torch lives (a pyenv python3 on PATH would not see it)
            String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
            Process p = new ProcessBuilder(python, f.toString()).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes()).trim();
            boolean done = p.waitFor(300, TimeUnit.SECONDS);
            Files.deleteIfExists(f);
            if (!done || p.exitValue() != 0) {
                out.put("pytorchReference", "missing: python3-torch is not installed (apt-get install python3-torch) " + lastLine(text));
                return;
            }
            String[] parts = lastLine(text).split(" ");
            double ms = Double.parseDouble(parts[0]);
            out.put("pytorchMlpMsPerStep", round(ms, 3));
            out.put("pytorchMlpSamplesPerSecond", round(64_000.0 / ms, 0));
            out.put("pytorchVersion", parts.length > 1 ? parts[1] : "?");
            out.put("djlVsPytorchSpeedup", round(ms / (Double) out.get("rawMlpMsPerStep"), 2));
        } catch (Exception e) {
            out.put("pytorchReference", "missing: " + e.getMessage());
        }
    }

    private static String lastLine(String s) {
        String[] lines = s.split("\n");
        return lines[lines.length - 1];
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

}
