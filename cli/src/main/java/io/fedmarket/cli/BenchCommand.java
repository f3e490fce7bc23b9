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
        description = "Run a benchmark and print its table: match, chain, train, integrity; 'all' runs each (quick sizes) and prints one table, also written as JSON.")
final class BenchCommand implements Runnable {
    static final Map<String, String> BENCHMARKS = new LinkedHashMap<>();

    static {
        BENCHMARKS.put("match", "io.fedmarket.matching.bench.MatchBenchmark");
        BENCHMARKS.put("chain", "io.fedmarket.chain.bench.ChainBenchmark");
        BENCHMARKS.put("train", "io.fedmarket.worker.bench.TrainBenchmark");
        BENCHMARKS.put("integrity", "io.fedmarket.fl.bench.IntegrityBenchmark");
    }

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
            realOut.println("== bench " + b.getKey() + " …");
            java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
            try {
                System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
                Class.forName(b.getValue()).getMethod("main", String[].class)
                        .invoke(null, (Object) new String[] {"--json", "--quick"});
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
        realOut.printf("%-10s %s%n", "benchmark", "figures");
        all.fields().forEachRemaining(e -> realOut.printf("%-10s %s%n", e.getKey(), e.getValue().toString().length() > 400
                ? e.getValue().toString().substring(0, 400) + "…" : e.getValue()));
        java.nio.file.Path file = io.fedmarket.config.ProjectPaths.home().resolve("bench.json");
        try {
            java.nio.file.Files.createDirectories(file.getParent());
            json.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), all);
            realOut.println("written to " + file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void run() {
        if (name.equals("all")) {
            runAll();
            return;
        }
        String main = BENCHMARKS.get(name);
        if (main == null) {
            throw new IllegalArgumentException("unknown benchmark '" + name + "': choose one of " + BENCHMARKS.keySet());
        }
        List<String> pass = new ArrayList<>(args);
        if (json) {
            pass.add(0, "--json");
        }
        try {
            Method m = Class.forName(main).getMethod("main", String[].class);
            m.invoke(null, (Object) pass.toArray(String[]::new));
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("benchmark '" + name + "' (" + main + ") is not part of this build yet");
        } catch (ReflectiveOperationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("benchmark '" + name + "' failed: " + cause.getMessage(), cause);
        }
    }
}
