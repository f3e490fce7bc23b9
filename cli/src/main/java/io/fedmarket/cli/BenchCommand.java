package io.fedmarket.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** ./mkt bench NAME: runs one benchmark's main class, which prints a table (or one JSON object with --json). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run a benchmark and print its table: match, chain, train, integrity, calibrate, rounds; 'all' runs each but rounds (quick sizes) and prints one table, also written as JSON.")
final class BenchCommand implements Runnable {
    static final Map<String, String> BENCHMARKS = new LinkedHashMap<>();

    static {
        BENCHMARKS.put("match", "io.fedmarket.matching.bench.MatchBenchmark");
        BENCHMARKS.put("chain", "io.fedmarket.chain.bench.ChainBenchmark");
        BENCHMARKS.put("train", "io.fedmarket.worker.bench.TrainBenchmark");
        BENCHMARKS.put("integrity", "io.fedmarket.fl.bench.IntegrityBenchmark");
        BENCHMARKS.put("calibrate", "io.fedmarket.worker.bench.ToleranceCalibrationRun");
        BENCHMARKS.put("rounds", "io.fedmarket.cli.demo.RoundsBenchmark");
    }

    /** Benchmarks 'all' leaves out: a whole job on a stack of its own (minutes), run on its own. */
    static final java.util.Set<String> NOT_IN_ALL = java.util.Set.of("rounds");

    /** Benchmarks that run against the local stack: they use the running one, or start (and stop) one of their own. */
    static final java.util.Set<String> NEEDS_STACK = java.util.Set.of("train");

    @Parameters(index = "0", arity = "1", paramLabel = "NAME", description = "one of: ${COMPLETION-CANDIDATES}",
            completionCandidates = Names.class)
    String name;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "passed to the benchmark (e.g. --json, --quick)")
    List<String> args = new ArrayList<>();

    @Option(names = "--json", description = "print the figures as one JSON object")
    boolean json;

    static final class Names extends ArrayList<String> {
        Names() {
            super(BENCHMARKS.keySet());
            add("all");
        }
    }

    /** Runs every benchmark with --json (and --quick where it has one), collects the objects, prints one table. */
    private void runAll() {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode all = json.createObjectNode();
        java.io.PrintStream realOut = System.out;
        for (Map.Entry<String, String> b : BENCHMARKS.entrySet()) {
            if (NOT_IN_ALL.contains(b.getKey())) {
                continue;
            }
            realOut.println("== bench " + b.getKey() + " …");
            java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
            try {
                System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
                // run(String[]) where a benchmark has one: its main may System.exit when done
                Class<?> c = Class.forName(b.getValue());
                Method m;
                try {
                    m = c.getMethod("run", String[].class);
                } catch (NoSuchMethodException e) {
                    m = c.getMethod("main", String[].class);
                }
                try (BenchStack stack = NEEDS_STACK.contains(b.getKey()) ? BenchStack.acquire(System.err::println) : null) {
                    m.invoke(null, (Object) new String[] {"--json", "--quick"});
                }
                String text = buf.toString(java.nio.charset.StandardCharsets.UTF_8);
                int start = text.indexOf('{');
                all.set(b.getKey(), json.readTree(text.substring(start)));
            } catch (Exception e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                all.put(b.getKey(), "failed: " + cause);
            } finally {
                System.setOut(realOut);
            }
        }
        realOut.println();
        realOut.print(summary(all));
        java.nio.file.Path file = io.fedmarket.config.ProjectPaths.home().resolve("bench.json");
        try {
            java.nio.file.Files.createDirectories(file.getParent());
            json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), all);
            realOut.println("written to " + file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The headline figures of every benchmark as one table (the full figures are in the JSON). */
    static String summary(com.fasterxml.jackson.databind.JsonNode all) {
        StringBuilder t = new StringBuilder();
        java.util.function.BiConsumer<String, String[]> row = (bench, kv) -> t.append(String.format("%-10s %-58s %s%n", bench, kv[0], kv[1]));
        t.append(String.format("%-10s %-58s %s%n", "benchmark", "figure", "value"));
        com.fasterxml.jackson.databind.JsonNode m = all.path("match");
        if (m.isObject()) {
            for (com.fasterxml.jackson.databind.JsonNode sc : m.path("scales")) {
                row.accept("match", new String[] {"solve p50 / p99 at " + sc.path("providers").asInt() + " providers (ms)",
                        sc.path("p50_ms").asText() + " / " + sc.path("p99_ms").asText()});
            }
            row.accept("match", new String[] {"optimality gap vs exact, mean / max (%) on " + m.at("/gap/instances").asInt() + " instances",
                    m.at("/gap/mean_gap_pct").asText() + " / " + m.at("/gap/max_gap_pct").asText()});
        } else {
            row.accept("match", new String[] {"result", m.asText()});
        }
        com.fasterxml.jackson.databind.JsonNode c = all.path("chain");
        if (c.isObject()) {
            c.path("gasPerOperation").fields().forEachRemaining(e -> row.accept("chain", new String[] {"gas: " + e.getKey(), e.getValue().asText()}));
            StringBuilder pr = new StringBuilder();
            c.path("postRoundByParticipants").fields().forEachRemaining(e -> pr.append(pr.isEmpty() ? "" : ", ").append(e.getKey()).append(": ")
                    .append(e.getValue().path("postRoundGasLaterRound").asText()));
            row.accept("chain", new String[] {"gas: postRound (later round) by participants", pr.toString()});
            StringBuilder cl = new StringBuilder();
            c.path("claimGasByRoundsCovered").fields().forEachRemaining(e -> cl.append(cl.isEmpty() ? "" : ", ").append(e.getKey())
                    .append(" round(s): ").append(e.getValue().asText()));
            row.accept("chain", new String[] {"gas: claim covering 1 vs 50 rounds", cl.toString()});
            row.accept("chain", new String[] {"facade throughput (tx/s with receipts)", c.at("/throughput/txPerSecondWithReceipts").asText()});
        } else {
            row.accept("chain", new String[] {"result", c.asText()});
        }
        com.fasterxml.jackson.databind.JsonNode tr = all.path("train");
        if (tr.isObject()) {
            row.accept("train", new String[] {"MLP / CNN step time, raw DJL loop (ms)", tr.path("rawMlpMsPerStep").asText() + " / "
                    + tr.path("rawCnnMsPerStep").asText()});
            row.accept("train", new String[] {"whole task path / raw loop samples/s", tr.path("taskPathRatioToRaw").asText()});
            row.accept("train", new String[] {"proof-trail overhead (% of training)", tr.path("proofTrailOverheadPercent").asText()});
            row.accept("train", new String[] {"task round trip, queue to queue (s)", tr.path("queueToQueueSecondsIncludingWarmupTask").asText()});
            row.accept("train", new String[] {"re-executed segment vs original (time ratio), bit-exact",
                    tr.path("reexecVsOriginal").asText() + ", " + tr.path("reexecBitExact").asText()});
            row.accept("train", new String[] {"verification at 5% of steps, share of training time",
                    tr.path("verificationTimeShareAt5PercentOfSteps").asText()});
            row.accept("train", new String[] {"PyTorch reference", tr.path("pytorchReference").toString()});
            if (tr.has("torchscriptResnet20RawMsPerStep")) {
                row.accept("train", new String[] {"ResNet-20 ms/step: catalogue / TorchScript (batch 16)", tr.path("resnet20RawMsPerStep").asText()
                        + " / " + tr.path("torchscriptResnet20RawMsPerStep").asText()});
                row.accept("train", new String[] {"ResNet-20 re-execution ratio: catalogue / TorchScript", tr.path("resnet20ReexecVsOriginal").asText()
                        + " / " + tr.path("torchscriptResnet20ReexecVsOriginal").asText()});
            }
        } else {
            row.accept("train", new String[] {"result", tr.asText()});
        }
        com.fasterxml.jackson.databind.JsonNode cal = all.path("calibrate");
        if (cal.isObject()) {
            for (com.fasterxml.jackson.databind.JsonNode e : cal.path("entries")) {
                row.accept("calibrate", new String[] {"honest distance " + e.path("modelSpec").asText() + ", " + e.path("segmentSteps").asInt()
                        + "-step segments: median / max -> threshold", String.format(java.util.Locale.ROOT, "%.2e / %.2e -> %.2e",
                        e.path("median").asDouble(), e.path("maxObserved").asDouble(), e.path("threshold").asDouble())});
            }
        } else if (!cal.isMissingNode()) {
            row.accept("calibrate", new String[] {"result", cal.asText()});
        }
        com.fasterxml.jackson.databind.JsonNode in = all.path("integrity");
        if (in.isObject()) {
            for (com.fasterxml.jackson.databind.JsonNode r : in.path("rows")) {
                long submitted = 0;
                long caught = 0;
                for (com.fasterxml.jackson.databind.JsonNode d : r.path("detection")) {
                    submitted += d.path("submitted").asLong();
                    caught += d.path("caught").asLong();
                }
                row.accept("integrity", new String[] {String.format(java.util.Locale.ROOT, "%.0f%% cheaters: caught, false slashes, Δacc, verified",
                        100 * r.path("cheaterFraction").asDouble()),
                        caught + "/" + submitted + ", " + r.path("falseSlashes").asText() + ", "
                                + String.format(java.util.Locale.ROOT, "%+.4f", r.path("accuracyDeltaVsAllHonest").asDouble()) + ", "
                                + String.format(java.util.Locale.ROOT, "%.1f%%", 100 * r.path("verificationFraction").asDouble())});
            }
        } else {
            row.accept("integrity", new String[] {"result", in.asText()});
        }
        return t.toString();
    }

    @Override
    public void run() {
        if (name.equals("all")) {
            runAll();
            return;
        }
        String main = name.equals("integrity") && args.contains("--anchor") ? "io.fedmarket.cli.demo.AnchorBenchmark"
                : name.equals("integrity") && args.contains("--marketplace") ? "io.fedmarket.cli.demo.MarketplaceIntegrityBenchmark" : BENCHMARKS.get(name);
        if (main == null) {
            throw new IllegalArgumentException("unknown benchmark '" + name + "': choose one of " + BENCHMARKS.keySet());
        }
        List<String> pass = new ArrayList<>(args);
        if (json) {
            pass.add(0, "--json");
        }
        boolean stack = NEEDS_STACK.contains(name) && main.equals(BENCHMARKS.get(name));
        try (BenchStack own = stack ? BenchStack.acquire(System.err::println) : null) {
            Class<?> c = Class.forName(main);
            Method m;
            try {
                // run(String[]) where the benchmark has one: its main exits the JVM, before the stack it ran on is stopped
                m = stack ? c.getMethod("run", String[].class) : c.getMethod("main", String[].class);
            } catch (NoSuchMethodException e) {
                m = c.getMethod("main", String[].class);
            }
            m.invoke(null, (Object) pass.toArray(String[]::new));
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("benchmark '" + name + "' (" + main + ") is not part of this build yet");
        } catch (ReflectiveOperationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("benchmark '" + name + "' failed: " + cause.getMessage(), cause);
        }
    }
}
