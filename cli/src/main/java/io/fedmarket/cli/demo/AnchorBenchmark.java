package io.fedmarket.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedmarket.cli.report.DemoRun;
import io.fedmarket.cli.report.HtmlReport;
import io.fedmarket.cli.report.RunRecords;
import io.fedmarket.config.ProjectPaths;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./mkt bench integrity --anchor}: the published NIID-Bench Fashion-MNIST setup (10 clients all sampled,
 * Dirichlet(0.5), the two-conv CNN, batch 64, SGD lr 0.01 momentum 0.9, 10 local epochs, 50 rounds, FedAvg) run
 * through the marketplace — providers signed in through the API, the match function, bonds and escrow on anvil, 10
 * worker JVMs training with DJL from the task queue, proof-of-learning trails re-executed by other workers, slashes,
 * per-round roots and claims — once with every provider honest and once with 30% cheating, beside the published
 * FedAvg figures. Each run writes its report.html (the cheating run's with the honest run as its comparison curve);
 * the figures go to anchor.json.
 */
public final class AnchorBenchmark {
    /** FedAvg, Fashion-MNIST, NIID-Bench (Li et al. 2022, Table 3; Flower baselines/niid_bench). */
    static final Map<String, Double> PUBLISHED = new LinkedHashMap<>();

    static {
        PUBLISHED.put("IID", 0.890);
        PUBLISHED.put("Dirichlet(0.5)", 0.884);
        PUBLISHED.put("#C=2", 0.810);
        PUBLISHED.put("#C=3", 0.832);
    }

    static final double DIRICHLET_PUBLISHED = 0.884;

    private AnchorBenchmark() {
    }

    record Args(List<Integer> cheaters, int rounds, int epochs, long seed, boolean json, Path out) {
        static Args parse(String[] argv) {
            List<Integer> cheaters = List.of(0, 3);
            int rounds = 50;
            int epochs = 10;
            long seed = 1;
            boolean json = false;
            Path out = null;
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                switch (a) {
                    case "--anchor", "--quick" -> {
                    }
                    case "--json" -> json = true;
                    case "--cheaters" -> cheaters = java.util.Arrays.stream(value(argv, ++i, a).split(",")).map(String::strip)
                            .map(v -> intValue(v, a)).toList();
                    case "--rounds" -> rounds = intValue(value(argv, ++i, a), a);
                    case "--epochs" -> epochs = intValue(value(argv, ++i, a), a);
                    case "--seed" -> seed = intValue(value(argv, ++i, a), a);
                    case "--out" -> out = Path.of(value(argv, ++i, a));
                    default -> throw new IllegalArgumentException("unknown option '" + a + "' for bench integrity --anchor: use --cheaters 0,3,"
                            + " --rounds N, --epochs N, --seed N, --out DIR, --json");
                }
            }
            for (int c : cheaters) {
                if (c < 0 || c > 8) {
                    throw new IllegalArgumentException("--cheaters takes counts of the 10 clients from 0 to 8 (two honest at least), got " + c);
                }
            }
            if (rounds < 1 || epochs < 1) {
                throw new IllegalArgumentException("--rounds and --epochs must be at least 1, got " + rounds + " and " + epochs);
            }
            if (out == null) {
                out = ProjectPaths.home().resolve("anchor").resolve(java.time.LocalDateTime.now().withNano(0).toString().replace(':', '-'));
            }
            return new Args(cheaters, rounds, epochs, seed, json, out.toAbsolutePath());
        }

        boolean isPublishedSetup() {
            return rounds == 50 && epochs == 10;
        }

        private static String value(String[] argv, int i, String opt) {
            if (i >= argv.length) {
                throw new IllegalArgumentException(opt + " needs a value");
            }
            return argv[i];
        }

        private static int intValue(String v, String opt) {
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(opt + " takes an integer, got '" + v + "'");
            }
        }
    }

    public static void main(String[] argv) {
        run(argv);
    }

    public static ObjectNode run(String[] argv) {
        Args a = Args.parse(argv);
        PrintStream out = System.out;
        PrintStream progress = a.json() ? System.err : System.out;
        progress.println("anchor: NIID-Bench Fashion-MNIST, 10 clients, Dirichlet(0.5), CNN, batch 64, lr 0.01, momentum 0.9, "
                + a.epochs() + " local epochs, " + a.rounds() + " rounds, FedAvg; cheaters " + a.cheaters() + " of 10; into " + a.out()
                + (a.isPublishedSetup() ? "" : "  (NOT the published setup: a shortened run)"));
        List<DemoRun> runs = new ArrayList<>();
        DemoRun honest = null;
        for (int cheaters : a.cheaters()) {
            Path dir = a.out().resolve("cheaters-" + cheaters);
            DemoRunner.Options o = DemoRunner.Options.anchor(cheaters, a.rounds(), a.epochs(), a.seed(), dir);
            DemoRun run;
            try {
                run = new DemoRunner(o, l -> progress.println("[" + cheaters + " cheaters] " + l)).run();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("the anchor run with " + cheaters + " cheaters failed: " + e.getMessage(), e);
            }
            if (cheaters == 0) {
                honest = run;
            }
            runs.add(run);
        }
        ObjectNode result = figures(a, runs, honest);
        for (DemoRun run : runs) {
            int cheaters = Integer.parseInt(run.config().get("cheaters"));
            Path dir = a.out().resolve("cheaters-" + cheaters);
            DemoRun shown = honest != null && run != honest ? withBaseline(run, honest) : run;
            HtmlReport.write(shown, dir.resolve("report.html"));
            RunRecords.write(shown, dir.resolve("run.json"));
        }
        try {
            Files.createDirectories(a.out());
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(a.out().resolve("anchor.json").toFile(), result);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (a.json()) {
            out.println(result.toString());
        } else {
            out.print(table(result));
            out.println("reports: " + a.out() + "/cheaters-*/report.html (offline); figures: " + a.out().resolve("anchor.json"));
        }
        return result;
    }

    /** The cheating run's report compares against the honest run instead of an in-process baseline. */
    static DemoRun withBaseline(DemoRun run, DemoRun honest) {
        List<Double> curve = honest.rounds().stream().map(DemoRun.Round::testAccuracy).toList();
        return new DemoRun(run.title(), run.startedAtEpochMs(), run.finishedAtEpochMs(), run.config(), run.rounds(), curve,
                run.providers(), run.slashes(), run.timeline(), run.gasByOperation(), run.verificationOverhead(), DIRICHLET_PUBLISHED - 0.02,
                run.tasks(), run.phases(), run.verificationTimeShare());
    }

    static ObjectNode figures(Args a, List<DemoRun> runs, DemoRun honest) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("setup", "NIID-Bench Fashion-MNIST: 10 clients all sampled, Dirichlet(0.5), CNN (conv5x5 6, conv5x5 16, fc 120/84/10), "
                + "batch 64, SGD lr 0.01 momentum 0.9, " + a.epochs() + " local epochs, " + a.rounds() + " rounds, FedAvg");
        r.put("publishedSetup", a.isPublishedSetup());
        r.put("seed", a.seed());
        ObjectNode pub = r.putObject("publishedFedAvg");
        PUBLISHED.forEach(pub::put);
        ArrayNode arr = r.putArray("runs");
        for (DemoRun run : runs) {
            int cheaters = Integer.parseInt(run.config().get("cheaters"));
            ObjectNode o = arr.addObject();
            o.put("cheaters", cheaters);
            o.put("cheaterFraction", cheaters / 10.0);
            o.put("finalAccuracy", round4(run.finalAccuracy()));
            o.put("bestAccuracy", round4(run.rounds().stream().mapToDouble(DemoRun.Round::testAccuracy).max().orElse(0)));
            o.put("vsPublishedPoints", round2((run.finalAccuracy() - DIRICHLET_PUBLISHED) * 100));
            if (honest != null) {
                o.put("vsHonestRunPoints", round2((run.finalAccuracy() - honest.finalAccuracy()) * 100));
            }
            long cheatersSlashed = run.providers().stream().filter(p -> !p.behaviour().equals("honest") && p.slashed().signum() > 0).count();
            long honestSlashed = run.providers().stream().filter(p -> p.behaviour().equals("honest") && p.slashed().signum() > 0).count();
            o.put("cheatersSlashed", cheatersSlashed);
            o.put("honestSlashed", honestSlashed);
            o.put("verificationStepsFraction", round4(run.verificationOverhead()));
            if (run.verificationTimeShare() != null) {
                o.put("verificationTimeFraction", round4(run.verificationTimeShare()));
            }
            o.put("wallSeconds", (run.finishedAtEpochMs() - run.startedAtEpochMs()) / 1000);
            ArrayNode curve = o.putArray("accuracyByRound");
            run.rounds().forEach(x -> curve.add(round4(x.testAccuracy())));
            o.put("localSteps", run.config().get("localSteps"));
        }
        return r;
    }

    static String table(ObjectNode r) {
        StringBuilder t = new StringBuilder();
        t.append('\n').append(r.path("setup").asText()).append(r.path("publishedSetup").asBoolean() ? "" : "  [shortened: not comparable]").append('\n');
        t.append(String.format(Locale.ROOT, "%-34s %9s %9s %11s %11s %9s %9s %9s%n", "run", "final", "best", "vs 88.4%", "vs honest",
                "cheaters", "honest", "verified"));
        t.append(String.format(Locale.ROOT, "%-34s %9s %9s %11s %11s %9s %9s %9s%n", "", "accuracy", "accuracy", "(points)", "(points)",
                "slashed", "slashed", "steps"));
        for (var o : r.path("runs")) {
            t.append(String.format(Locale.ROOT, "%-34s %8.2f%% %8.2f%% %+11.2f %11s %9s %9d %8.1f%%%n",
                    "marketplace, " + o.path("cheaters").asInt() + " of 10 cheating", o.path("finalAccuracy").asDouble() * 100,
                    o.path("bestAccuracy").asDouble() * 100, o.path("vsPublishedPoints").asDouble(),
                    o.has("vsHonestRunPoints") ? String.format(Locale.ROOT, "%+.2f", o.path("vsHonestRunPoints").asDouble()) : "-",
                    o.path("cheatersSlashed").asInt() + "/" + o.path("cheaters").asInt(), o.path("honestSlashed").asInt(),
                    o.path("verificationStepsFraction").asDouble() * 100));
        }
        r.path("publishedFedAvg").fields().forEachRemaining(e -> t.append(String.format(Locale.ROOT, "%-34s %8.2f%%%n",
                "published FedAvg, " + e.getKey(), e.getValue().asDouble() * 100)));
        return t.toString();
    }

    private static double round4(double v) {
        return Math.round(v * 10_000) / 10_000.0;
    }

    private static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
