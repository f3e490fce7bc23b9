package io.fedmarket.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fedmarket.cli.report.DemoRun;
import io.fedmarket.cli.report.HtmlReport;
import io.fedmarket.cli.report.RoundPhases;
import io.fedmarket.cli.report.RunRecords;
import io.fedmarket.config.ProjectPaths;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./mkt bench rounds}: where a round's time goes. Runs one job of N rounds on the local stack exactly as the demo does
 * (the functions from function.zip behind their queues, anvil mining a block a second, one DJL worker JVM per provider), with
 * no faults and no cheaters, so that every round is clean, and prints per phase (publish → pick-up, train, upload, submit →
 * intake, draw wait, re-execution, judge, aggregate, next publish) the p50 and p95 latency along each round's critical path and
 * the phase's share of the rounds' wall time, then the round wall time and the coordination overhead (wall time less the
 * longest training of the round). See {@link RoundPhases}.
 *
 * <pre>
 *   --rounds N (10)  --workers N (5)  --steps S (60)  --seed X (7)  --json  --out DIR (.mkt/bench-rounds/TIME)
 * </pre>
 * The last round has no next publish, so N rounds measure N − 1 round wall times. The run's report.html and run.json (with the
 * same breakdown) go to the out folder.
 */
public final class RoundsBenchmark {
    private RoundsBenchmark() {
    }

    record Args(int rounds, int workers, int steps, long seed, boolean json, Path out) {
        static Args parse(String[] argv) {
            int rounds = 10;
            int workers = 5;
            int steps = 60;
            long seed = 7;
            boolean json = false;
            Path out = null;
            for (int i = 0; i < argv.length; i++) {
                switch (argv[i]) {
                    case "--rounds" -> rounds = Integer.parseInt(next(argv, ++i, "--rounds"));
                    case "--workers" -> workers = Integer.parseInt(next(argv, ++i, "--workers"));
                    case "--steps" -> steps = Integer.parseInt(next(argv, ++i, "--steps"));
                    case "--seed" -> seed = Long.parseLong(next(argv, ++i, "--seed"));
                    case "--json" -> json = true;
                    case "--quick" -> rounds = 4;
                    case "--out" -> out = Path.of(next(argv, ++i, "--out"));
                    default -> throw new IllegalArgumentException("unknown option " + argv[i] + " (try --rounds, --workers, --steps, --seed, --json, --out)");
                }
            }
            if (rounds < 2) {
                throw new IllegalArgumentException("--rounds must be at least 2 (a round's wall time ends at the next round's publish)");
            }
            if (workers < 2 || workers > DemoRunner.MAX_WORKERS) {
                throw new IllegalArgumentException("--workers must be 2.." + DemoRunner.MAX_WORKERS);
            }
            if (steps < 20 || steps % 20 != 0) {
                throw new IllegalArgumentException("--steps must be a multiple of 20 (the demo's checkpoint spacing)");
            }
            if (out == null) {
                out = ProjectPaths.home().resolve("bench-rounds").resolve(java.time.LocalDateTime.now().withNano(0).toString().replace(':', '-'));
            }
            return new Args(rounds, workers, steps, seed, json, out.toAbsolutePath());
        }

        private static String next(String[] a, int i, String flag) {
            if (i >= a.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            return a[i];
        }
    }

    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv);
        // the demo's job without faults or cheaters, and without the in-process baseline (it would compete for the CPUs)
        DemoRunner.Options o = new DemoRunner.Options(a.workers(), a.rounds(), 0, a.seed(), false, a.steps(), a.out(), 0.0)
                .withTraining("mlp", a.steps(), 1.0, false, false);
        java.io.PrintStream progress = a.json() ? System.err : System.out;
        DemoRun run = new DemoRunner(o, progress::println).run();
        HtmlReport.write(run, a.out().resolve("report.html"));
        RunRecords.write(run, a.out().resolve("run.json"));
        RoundPhases.Report p = run.phases();
        if (p == null) {
            throw new IllegalStateException("no round of the job has all its instants recorded (" + run.rounds().size() + " rounds): see "
                    + a.out().resolve("run.json"));
        }
        if (a.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rounds", a.rounds());
            m.put("workers", a.workers());
            m.put("steps", a.steps());
            m.put("finalAccuracy", run.finalAccuracy());
            m.putAll(RoundPhases.toMap(p));
            m.put("out", a.out().toString());
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
            return;
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%d rounds, %d workers, MLP, %d local steps, no faults: final accuracy %.2f%%%n", a.rounds(), a.workers(),
                a.steps(), 100 * run.finalAccuracy());
        System.out.print(p.table());
        System.out.println();
        System.out.printf(Locale.ROOT, "%-6s %8s %8s  %s%n", "round", "wall (s)", "coord (s)", "phases (s): " + String.join(", ", RoundPhases.PHASES));
        for (RoundPhases.Round r : p.rounds()) {
            StringBuilder ph = new StringBuilder();
            for (long ms : r.phaseMillis()) {
                ph.append(ph.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.2f", ms / 1000.0));
            }
            System.out.printf(Locale.ROOT, "%-6d %8.2f %8.2f  %s%s%n", r.round(), r.wallMillis() / 1000.0, r.coordinationMillis() / 1000.0, ph,
                    r.clean() ? "" : "  (not clean)");
        }
        System.out.println("report: " + a.out().resolve("report.html"));
    }
}
