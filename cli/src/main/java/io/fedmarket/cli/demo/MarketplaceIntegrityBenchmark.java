package io.fedmarket.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedmarket.cli.report.DemoRun;
import io.fedmarket.cli.report.HtmlReport;
import io.fedmarket.cli.report.RunRecords;
import io.fedmarket.config.ProjectPaths;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./mkt bench integrity --marketplace}: the integrity benchmark through the real marketplace instead of the
 * plain-Java simulation. For 0, 30, 60 and 90% cheating providers out of 10 (plus 2 bonded verifier nodes that only
 * re-execute, one of which signs made-up end hashes: no rejection may rest on one worker's word), each run is a whole job on the local stack: providers offer through the API, the match function opens the
 * job, worker JVMs train with DJL on non-IID Fashion-MNIST shards from the task queue, the verify and judge functions
 * draw and judge re-executions by other workers, aggregate removes cheaters and re-offers their shards, settle slashes
 * and pays. The cheaters use every strategy the worker can inject (partial training with interpolated checkpoints,
 * a scaled copy of another provider's previous update, training on another shard, a forged trail, noise, the global
 * model unchanged); the honest providers are deterministic, slow (a straggler) or run a different thread count than the
 * task asks (the CPU stand-in for non-deterministic GPU kernels), so the job compares with a calibrated tolerance. Per
 * strategy: submissions caught; honest providers slashed; final accuracy against the run without cheaters; steps
 * re-executed over steps trained.
 *
 * <pre>
 *   --rounds N (5)  --steps S (140: with f = 0.5 and p = 0.99, q = 7 segments of 140 is 5%)  --fractions 0,30,60,90
 *   --seed X (5)    --tolerance T (default: none in the intent, so the job uses the MLP's shipped calibration)  --json  --out DIR (.mkt/integrity/TIME)
 * </pre>
 */
public final class MarketplaceIntegrityBenchmark {
    static final List<String> STRATEGIES = List.of("partial:0.5", "scaled-copy", "wrong-shard", "forged-trail", "noise", "free-ride");
    static final List<String> HONEST = List.of("none", "slow:5", "nondeterministic");
    static final int PROVIDERS = 10;
    static final int VERIFIERS = 2;

    private MarketplaceIntegrityBenchmark() {
    }

    record Args(int rounds, int steps, List<Integer> fractions, long seed, Double tolerance, boolean json, Path out, Path from) {
        static Args parse(String[] argv) {
            int rounds = 5;
            int steps = 140;
            List<Integer> fractions = List.of(0, 30, 60, 90);
            long seed = 5;
            Double tolerance = null; // the MLP's shipped calibration (./mkt bench calibrate)
            boolean json = false;
            Path out = null;
            Path from = null;
            for (int i = 0; i < argv.length; i++) {
                switch (argv[i]) {
                    case "--marketplace" -> {
                    }
                    case "--from" -> from = Path.of(next(argv, ++i, "--from"));
                    case "--rounds" -> rounds = Integer.parseInt(next(argv, ++i, "--rounds"));
                    case "--steps" -> steps = Integer.parseInt(next(argv, ++i, "--steps"));
                    case "--seed" -> seed = Long.parseLong(next(argv, ++i, "--seed"));
                    case "--tolerance" -> tolerance = Double.parseDouble(next(argv, ++i, "--tolerance"));
                    case "--json" -> json = true;
                    case "--out" -> out = Path.of(next(argv, ++i, "--out"));
                    case "--fractions" -> {
                        List<Integer> f = new ArrayList<>();
                        for (String p : next(argv, ++i, "--fractions").split(",")) {
                            int v = Integer.parseInt(p.trim());
                            if (v < 0 || v > 90) {
                                throw new IllegalArgumentException("--fractions are percentages of cheating providers, 0 to 90 (one honest provider at least)");
                            }
                            f.add(v);
                        }
                        fractions = List.copyOf(f);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + argv[i]
                            + " (try --rounds, --steps, --fractions, --seed, --tolerance, --json, --out, --from DIR to summarise earlier runs again)");
                }
            }
            if (rounds < 1 || steps < 1) {
                throw new IllegalArgumentException("--rounds and --steps must be at least 1");
            }
            if (from != null) {
                out = from;
            } else if (out == null) {
                out = ProjectPaths.requireRoot().resolve(".mkt/integrity/" + java.time.LocalDateTime.now().toString().replace(':', '-').substring(0, 19));
            }
            return new Args(rounds, steps, fractions, seed, tolerance, json, out, from);
        }

        private static String next(String[] a, int i, String flag) {
            if (i >= a.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            return a[i];
        }
    }

    /** Who the providers are for a share of cheaters: honest kinds first, then the strategies in turn. */
    static List<String> behaviours(int cheaters) {
        List<String> b = new ArrayList<>();
        for (int i = 0; i < PROVIDERS - cheaters; i++) {
            b.add(HONEST.get(i % HONEST.size()));
        }
        for (int i = 0; i < cheaters; i++) {
            b.add(STRATEGIES.get(i % STRATEGIES.size()));
        }
        return b;
    }

    /**
     * Whether a submission of a worker injected with {@code behaviour} is a cheat: every one of a cheater's, except a
     * scaled-copy cheater's before there is anything to copy (its first round it trains honestly, and must be accepted).
     */
    static boolean cheated(DemoRun.TaskOutcome t) {
        return STRATEGIES.contains(t.behaviour()) && !(t.behaviour().equals("scaled-copy") && t.round() < 2);
    }

    public static void main(String[] argv) throws Exception {
        Args a;
        try {
            a = Args.parse(argv);
        } catch (IllegalArgumentException e) {
            System.err.println("bench integrity --marketplace: " + e.getMessage());
            System.exit(2);
            return;
        }
        PrintStream log = a.json() ? System.err : System.out;
        Files.createDirectories(a.out());
        log.println("integrity benchmark through the marketplace: " + PROVIDERS + " providers + " + VERIFIERS + " verifier nodes, " + a.rounds()
                + " rounds x " + a.steps() + " local steps (MLP, Fashion-MNIST Dirichlet 0.5), cheaters " + a.fractions() + "%, comparison tolerance "
                + (a.tolerance() == null ? "(the MLP's shipped calibration, " + io.fedmarket.fl.verify.Calibrations.forModel("mlp").map(c -> c.threshold()).orElse(null) + ")"
                : a.tolerance()) + "; into " + a.out());
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        root.put("benchmark", "integrity");
        root.put("variant", "marketplace: real functions, queues, bucket, chain and DJL worker JVMs on the local stack");
        ObjectNode setup = root.putObject("setup");
        setup.put("providers", PROVIDERS);
        setup.put("verifierNodes", VERIFIERS);
        setup.put("lyingVerifierNodes", 1);
        setup.put("rounds", a.rounds());
        setup.put("localSteps", a.steps());
        setup.put("fakedFraction", 0.5);
        setup.put("targetDetection", 0.99);
        setup.put("tolerance", a.tolerance() != null ? a.tolerance() : io.fedmarket.fl.verify.Calibrations.forModel("mlp").map(c -> c.threshold()).orElse(null));
        setup.put("toleranceSource", a.tolerance() != null ? "--tolerance" : io.fedmarket.fl.verify.Calibrations.forModel("mlp").map(c -> c.method()).orElse("none"));
        setup.put("strategies", String.join(", ", STRATEGIES));
        setup.put("honestKinds", String.join(", ", HONEST));
        ArrayNode rows = root.putArray("rows");
        Double honestAcc = null;
        List<String[]> table = new ArrayList<>();
        for (int pct : a.fractions()) {
            int cheaters = (int) Math.round(pct * PROVIDERS / 100.0);
            Path dir = a.out().resolve("cheaters-" + pct);
            DemoRun run;
            if (a.from() != null) {
                run = new ObjectMapper().configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                        .readValue(dir.resolve("run.json").toFile(), DemoRun.class);
            } else {
                DemoRunner.Options o = new DemoRunner.Options(PROVIDERS, a.rounds(), 0, a.seed(), false, a.steps(), dir, 0)
                        .withTraining("mlp", a.steps(), 0.5, false, false)
                        .withMix(new DemoRunner.Options.Mix(behaviours(cheaters), VERIFIERS, 1, "tolerance", a.tolerance()));
                run = new DemoRunner(o, line -> log.println("  [" + pct + "%] " + line)).run();
                HtmlReport.write(run, dir.resolve("report.html"));
                RunRecords.write(run, dir.resolve("run.json"));
            }
            double secs = (run.finishedAtEpochMs() - run.startedAtEpochMs()) / 1000.0;
            Map<String, int[]> byBehaviour = new LinkedHashMap<>(); // submitted, rejected, accepted
            for (DemoRun.TaskOutcome t : run.tasks()) {
                // a scaled-copy cheater's honest first round counts with the honest submissions of its kind
                String kind = STRATEGIES.contains(t.behaviour()) && !cheated(t) ? t.behaviour() + " (honest phase)" : t.behaviour();
                int[] c = byBehaviour.computeIfAbsent(kind, k -> new int[3]);
                c[0]++;
                if ("REJECTED".equals(t.verdict())) {
                    c[1]++;
                } else if ("ACCEPTED".equals(t.verdict())) {
                    c[2]++;
                }
            }
            long honestSlashed = run.slashes().stream().filter(x -> run.providers().stream().anyMatch(p -> p.name().equals(x.provider())
                    && !DemoRunner.cheats(p.behaviour()))).count();
            double acc = run.finalAccuracy();
            if (pct == 0) {
                honestAcc = acc;
            }
            ObjectNode row = rows.addObject();
            row.put("cheaterPercent", pct);
            ObjectNode det = row.putObject("detection");
            StringBuilder text = new StringBuilder();
            for (String s : STRATEGIES) {
                int[] c = byBehaviour.get(s);
                if (c != null) {
                    ObjectNode d = det.putObject(s);
                    d.put("submitted", c[0]);
                    d.put("caught", c[1]);
                    d.put("rate", c[0] == 0 ? 0 : (double) c[1] / c[0]);
                }
                text.append(c == null ? "-" : c[1] + "/" + c[0]).append(' ');
            }
            ObjectNode honest = row.putObject("honest");
            for (String h : List.of("honest", "slow:5", "nondeterministic", "scaled-copy (honest phase)")) {
                int[] c = byBehaviour.get(h);
                if (c != null) {
                    ObjectNode d = honest.putObject(h);
                    d.put("submitted", c[0]);
                    d.put("accepted", c[2]);
                    d.put("rejected", c[1]);
                }
            }
            row.put("honestSlashed", honestSlashed);
            row.put("finalAccuracy", acc);
            if (honestAcc != null) {
                row.put("accuracyDeltaVsNoCheaters", acc - honestAcc);
            }
            row.put("verificationStepsFraction", run.verificationOverhead());
            if (run.verificationTimeShare() != null) {
                row.put("verificationTimeFraction", run.verificationTimeShare());
            }
            row.put("slashes", run.slashes().size());
            row.put("wallSeconds", secs);
            table.add(new String[] {pct + "%", text.toString().trim(), Long.toString(honestSlashed), String.format(Locale.ROOT, "%.2f%%", 100 * acc),
                    honestAcc == null ? "-" : String.format(Locale.ROOT, "%+.2f", 100 * (acc - honestAcc)),
                    String.format(Locale.ROOT, "%.2f%%", 100 * run.verificationOverhead()) + " / " + (run.verificationTimeShare() == null ? "?"
                            : String.format(Locale.ROOT, "%.2f%%", 100 * run.verificationTimeShare())), String.format(Locale.ROOT, "%.0f", secs)});
            om.writeValue(a.out().resolve("integrity.json").toFile(), root);
        }
        log.println();
        log.println("detection columns (caught/submitted): " + String.join(" ", STRATEGIES));
        log.printf("%-8s | %-30s | %-13s | %-9s | %-9s | %-17s | %s%n", "cheaters", "detection per strategy", "honest slashed", "final acc", "vs 0%",
                "re-exec steps/time", "s");
        for (String[] r : table) {
            log.printf("%-8s | %-30s | %-14s | %-9s | %-9s | %-17s | %s%n", (Object[]) r);
        }
        log.println("a scaled-copy cheater trains honestly until there is another worker's update to copy (round 1): those submissions are "
                + "counted as honest, and accepted; detection counts its copies only");
        log.println("figures: " + a.out().resolve("integrity.json") + "; each run's report.html beside it");
        if (a.json()) {
            System.out.println(new ObjectMapper().writeValueAsString(root));
        }
    }
}
