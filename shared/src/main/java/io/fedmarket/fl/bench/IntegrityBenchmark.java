package io.fedmarket.fl.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedmarket.fl.cheat.CheatStrategy;
import io.fedmarket.fl.sim.FederatedSimulation;
import io.fedmarket.fl.sim.FederatedSimulation.Counts;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Integrity benchmark, SIMULATED variant: the verification policy, cheating strategies,
 * aggregation and payouts of {@code io.fedmarket.fl} driven by a plain-Java softmax-regression
 * job (no DJL, no queues, no chain). For cheater fractions 0/30/60/90% it reports detection
 * per strategy, false slashes, final accuracy vs the all-honest run and verification compute
 * as a fraction of training compute; with {@code --ablation} also what robust aggregation
 * alone (no verification) achieves. Thousands of cheating submissions per run give the detection rates their statistics;
 * {@code ./mkt bench integrity --marketplace} runs every strategy through the real functions, queues, chain and DJL
 * worker JVMs (io.fedmarket.cli.demo.MarketplaceIntegrityBenchmark), {@code --anchor} the NIID-Bench setup.
 *
 * <pre>
 *   IntegrityBenchmark [--json] [--quick] [--ablation] [--rounds N] [--steps S] [--seed X] [--partial-trained F]
 *
 *   --quick            10 shards, 400 steps, 10 rounds, q for f = 0.25 (about 15 s)
 *   --ablation         also run without verification under fedavg, median and trimmed mean
 *   --partial-trained  share of steps the partial-training cheater really trains (default 0.5)
 * </pre>
 */
public final class IntegrityBenchmark {
    static final String VARIANT = "simulated: plain-Java softmax regression on generated non-IID data "
            + "(Dirichlet 0.5), in-process workers and verifier, many cheating submissions per strategy; --marketplace runs the same "
            + "strategies through the real functions, queues, chain and DJL workers";

    private IntegrityBenchmark() {
    }

    public static void main(String[] args) {
        boolean json = false;
        boolean quick = false;
        boolean ablation = false;
        Integer rounds = null;
        Integer steps = null;
        Long seed = null;
        Double partialTrained = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--json" -> json = true;
                case "--quick" -> quick = true;
                case "--ablation" -> ablation = true;
                case "--rounds" -> rounds = Integer.parseInt(value(args, ++i, "--rounds"));
                case "--steps" -> steps = Integer.parseInt(value(args, ++i, "--steps"));
                case "--seed" -> seed = Long.parseLong(value(args, ++i, "--seed"));
                case "--partial-trained" -> partialTrained = Double.parseDouble(value(args, ++i, "--partial-trained"));
                case "-h", "--help" -> {
                    System.out.println("usage: IntegrityBenchmark [--json] [--quick] [--ablation] [--rounds N] "
                            + "[--steps S] [--seed X] [--partial-trained F]");
                    return;
                }
                default -> {
                    System.err.println("unknown argument '" + args[i] + "'; try --help");
                    System.exit(2);
                }
            }
        }
        FederatedSimulation.Config base = FederatedSimulation.Config.defaults();
        if (quick) {
            base = new FederatedSimulation.Config(10, 30, 10, 20, 10, 3000, 1000, 0.5, 0.5, 400, 1, 32, 0.01f, 0,
                    "fedavg", Map.of(), 0.25, 0.99, 0.5, 10, true, 42);
        }
        if (rounds != null || steps != null) {
            base = base.withScale(rounds != null ? rounds : base.rounds(), steps != null ? steps : base.localSteps());
        }
        if (seed != null) {
            base = base.withSeed(seed);
        }
        if (partialTrained != null) {
            base = base.withPartialTrained(partialTrained);
        }
        ObjectNode out = run(base, ablation, json ? null : System.out);
        if (json) {
            System.out.println(out.toString());
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            System.err.println(flag + " needs a value");
            System.exit(2);
        }
        return args[i];
    }

    static ObjectNode run(FederatedSimulation.Config base, boolean ablation, java.io.PrintStream table) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("benchmark", "integrity");
        root.put("variant", VARIANT);
        ObjectNode setup = root.putObject("setup");
        setup.put("clients", base.clients());
        setup.put("workerPool", base.workers());
        setup.put("rounds", base.rounds());
        setup.put("localSteps", base.localSteps());
        setup.put("checkpointEvery", base.checkpointEvery());
        setup.put("dirichletAlpha", base.dirichletAlpha());
        setup.put("aggregation", base.aggregation());
        setup.put("targetFakedFraction", base.targetFakedFraction());
        setup.put("targetDetection", base.targetDetection());
        setup.put("partialTrainingTrainedFraction", base.partialTrainedFraction());
        setup.put("maxOffersPerShardAndRound", base.maxAttempts());
        setup.put("cheaterModel", "slashed cheaters re-bond under new identities (never removed from the pool)");
        setup.put("accuracyMetric", "test accuracy of the global model, mean of the last 5 rounds");
        if (table != null) {
            table.println("integrity benchmark (" + VARIANT + ")");
            table.printf(Locale.ROOT, "setup: %d shards, pool of %d workers, %d rounds x %d local steps, checkpoint every "
                            + "%d step(s), %s, q for f=%.2f at p=%.2f, partial trainer trains %.0f%%%n",
                    base.clients(), base.workers(), base.rounds(), base.localSteps(), base.checkpointEvery(),
                    base.aggregation(), base.targetFakedFraction(), base.targetDetection(),
                    100 * base.partialTrainedFraction());
        }
        ArrayNode rows = root.putArray("rows");
        double honestAcc = Double.NaN;
        List<String[]> lines = new ArrayList<>();
        for (double c : new double[] {0, 0.3, 0.6, 0.9}) {
            long t0 = System.nanoTime();
            FederatedSimulation.Result r = new FederatedSimulation(base.withCheaterFraction(c)).run();
            double secs = (System.nanoTime() - t0) / 1e9;
            double acc = lastRounds(r, 5);
            if (c == 0) {
                honestAcc = acc;
            }
            ObjectNode row = rows.addObject();
            row.put("cheaterFraction", c);
            ObjectNode det = row.putObject("detection");
            StringBuilder detText = new StringBuilder();
            for (Map.Entry<String, Counts> e : FederatedSimulation.byName(r.cheaters()).entrySet()) {
                ObjectNode d = det.putObject(e.getKey());
                d.put("submitted", e.getValue().submitted());
                d.put("caught", e.getValue().rejected());
                if (e.getValue().submitted() > 0) {
                    d.put("rate", e.getValue().rate());
                }
                detText.append(e.getValue().submitted() == 0 ? "-" : e.getValue().rejected() + "/" + e.getValue().submitted())
                        .append(' ');
            }
            int honestSubs = r.honest().values().stream().mapToInt(Counts::submitted).sum();
            row.put("honestSubmissions", honestSubs);
            row.put("falseSlashes", r.falseSlashes());
            row.put("finalAccuracy", r.finalAccuracy());
            row.put("accuracyLast5", acc);
            row.put("accuracyDeltaVsAllHonest", acc - honestAcc);
            row.put("finalLoss", r.finalLoss());
            row.put("reexecutedSteps", r.reexecutedSteps());
            row.put("claimedSteps", r.claimedSteps());
            row.put("verificationFraction", r.verificationFraction());
            row.put("honestVerificationFraction", (double) r.honestReexecutedSteps() / Math.max(1, r.honestClaimedSteps()));
            row.put("segmentsPerTask", r.segments());
            row.put("q", r.q());
            row.put("toleranceThreshold", r.calibration().threshold());
            row.put("toleranceMaxHonestObserved", r.calibration().maxObserved());
            row.put("cheaterUpdatesAggregated", r.cheaterUpdatesAggregated());
            row.put("paidToCheaters", r.paidToCheaters().toString());
            row.put("paidTotal", r.paidTotal().toString());
            row.put("wallSeconds", secs);
            lines.add(new String[] {pct(c), detText.toString().trim(), Integer.toString(r.falseSlashes()) + "/" + honestSubs,
                    String.format(Locale.ROOT, "%.4f", acc), String.format(Locale.ROOT, "%+.4f", acc - honestAcc),
                    String.format(Locale.ROOT, "%.2f%%", 100 * r.verificationFraction()),
                    String.format(Locale.ROOT, "%.2f%%", 100 * (double) r.honestReexecutedSteps()
                            / Math.max(1, r.honestClaimedSteps())),
                    r.q() + "/" + r.segments(), r.paidToCheaters().toString(), String.format(Locale.ROOT, "%.1f", secs)});
        }
        if (table != null) {
            StringBuilder order = new StringBuilder();
            for (CheatStrategy s : CheatStrategy.values()) {
                order.append(s.name().toLowerCase(Locale.ROOT)).append(' ');
            }
            table.println("detection columns (caught/submitted): " + order.toString().trim());
            table.printf("%-8s | %-52s | %-9s | %-8s | %-8s | %-8s | %-9s | %-8s | %-9s | %s%n", "cheaters",
                    "detection per strategy", "falseSlash", "acc(l5)", "vsHonest", "verif", "verifHon", "q/n",
                    "paidCheat", "sec");
            for (String[] l : lines) {
                table.printf("%-8s | %-52s | %-10s | %-8s | %-8s | %-8s | %-9s | %-8s | %-9s | %s%n", (Object[]) l);
            }
        }
        if (ablation) {
            ArrayNode abl = root.putArray("ablationNoVerification");
            if (table != null) {
                table.println("ablation: no verification, aggregation rule alone (accuracy, mean of last 5 rounds)");
            }
            for (double c : new double[] {0.3, 0.9}) {
                for (String rule : new String[] {"fedavg", "median", "trimmed-mean"}) {
                    Map<String, ?> p = rule.equals("trimmed-mean") ? Map.of("beta", 0.3) : Map.of();
                    FederatedSimulation.Result r = new FederatedSimulation(
                            base.withCheaterFraction(c).withVerification(false, rule, p)).run();
                    ObjectNode a = abl.addObject();
                    a.put("cheaterFraction", c);
                    a.put("rule", rule);
                    a.put("accuracyLast5", lastRounds(r, 5));
                    a.put("cheaterUpdatesAggregated", r.cheaterUpdatesAggregated());
                    a.put("paidToCheaters", r.paidToCheaters().toString());
                    a.put("paidTotal", r.paidTotal().toString());
                    if (table != null) {
                        table.printf(Locale.ROOT, "  %s cheaters, %-12s acc %.4f (%+.4f vs all-honest with verification), "
                                        + "%d cheater updates aggregated, %s of %s paid to cheaters%n", pct(c), rule, lastRounds(r, 5),
                                lastRounds(r, 5) - honestAcc, r.cheaterUpdatesAggregated(), r.paidToCheaters(),
                                r.paidTotal());
                    }
                }
            }
        }
        return root;
    }

    private static String pct(double c) {
        return String.format(Locale.ROOT, "%.0f%%", 100 * c);
    }

    static double lastRounds(FederatedSimulation.Result r, int k) {
        List<Double> a = r.accuracyPerRound();
        int from = Math.max(0, a.size() - k);
        return a.subList(from, a.size()).stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
