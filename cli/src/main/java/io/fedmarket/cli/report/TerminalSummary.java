package io.fedmarket.cli.report;

import java.io.PrintStream;
import java.math.BigInteger;
import java.util.Locale;

/** The demo's terminal summary: the same records as the HTML report, as text. */
public final class TerminalSummary {
    private TerminalSummary() {
    }

    public static void print(DemoRun run, PrintStream out) {
        out.println();
        out.println("══ " + run.title() + " ══");
        out.printf(Locale.ROOT, "rounds completed: %d   final test accuracy: %s (target %s)   wall time: %.1f s%n",
                run.rounds().size(), HtmlReport.pct(run.finalAccuracy()), HtmlReport.pct(run.targetAccuracy()),
                (run.finishedAtEpochMs() - run.startedAtEpochMs()) / 1000.0);
        out.println();
        out.println("accuracy per round (marketplace vs all-honest baseline):");
        for (int i = 0; i < run.rounds().size(); i++) {
            DemoRun.Round r = run.rounds().get(i);
            String base = i < run.baselineAccuracy().size() ? HtmlReport.pct(run.baselineAccuracy().get(i)) : "-";
            int bar = (int) Math.round(r.testAccuracy() * 40);
            out.printf(Locale.ROOT, "  %3d  %6s  %6s  %s  (%d accepted, %d rejected, %d dropped)%n", r.round(),
                    HtmlReport.pct(r.testAccuracy()), base, "█".repeat(bar) + " ".repeat(40 - bar), r.accepted(), r.rejected(), r.dropped());
        }
        out.println();
        out.println("providers (ledger = what the marketplace owes; claimed = tokens received on chain):");
        out.printf(Locale.ROOT, "  %-10s %-14s %12s %12s %12s %10s%n", "name", "behaviour", "ledger", "claimed", "slashed", "GPU-s");
        for (DemoRun.Provider p : run.providers()) {
            out.printf(Locale.ROOT, "  %-10s %-14s %12s %12s %12s %10.1f%n", p.name(), p.behaviour(), HtmlReport.tokens(p.ledgerPaid()),
                    HtmlReport.tokens(p.claimedOnChain()), HtmlReport.tokens(p.slashed()), p.gpuSeconds());
        }
        out.println();
        if (run.slashes().isEmpty()) {
            out.println("slashes: none");
        } else {
            out.println("slashes:");
            for (DemoRun.Slash s : run.slashes()) {
                out.printf(Locale.ROOT, "  %-10s round %-3d %-40s %s tokens, evidence %s%n", s.provider(), s.round(), s.reason(),
                        HtmlReport.tokens(s.amount()), HtmlReport.shortHash(s.evidenceHash()));
            }
        }
        long gas = run.gasByOperation().values().stream().mapToLong(Long::longValue).sum();
        out.printf(Locale.ROOT, "%ngas spent: %,d (%s)   verification overhead: %s of training steps, %s of training time%n", gas,
                run.gasByOperation(), HtmlReport.pct(run.verificationOverhead()),
                run.verificationTimeShare() == null ? "?" : HtmlReport.pct(run.verificationTimeShare()));
        if (run.phases() != null) {
            out.println();
            out.print(run.phases().table());
        }
        BigInteger paid = run.providers().stream().map(DemoRun.Provider::ledgerPaid).reduce(BigInteger.ZERO, BigInteger::add);
        out.println("paid to providers: " + HtmlReport.tokens(paid) + " tokens");
        DemoRun.Privacy pv = run.privacy();
        if (pv != null) {
            out.println();
            out.printf(Locale.ROOT, "privacy cost of verification (private data; DP %s): %,d of %,d samples revealed (%.2f%%), %d reveals, "
                            + "per update at most %d, on average %.1f; each revealed sample sealed to the one drawn re-executor%n",
                    pv.dpEpsilon() == null ? "off" : "ε = " + pv.dpEpsilon(), pv.revealedSamples(), pv.sharedSamples(),
                    pv.sharedSamples() == 0 ? 0 : 100.0 * pv.revealedSamples() / pv.sharedSamples(), pv.reveals(), pv.maxRevealedPerUpdate(),
                    pv.meanRevealedPerUpdate());
            out.printf(Locale.ROOT, "  %-10s %10s %10s %8s  %s%n", "provider", "samples", "revealed", "reveals", "to");
            for (DemoRun.ProviderPrivacy p : pv.providers()) {
                out.printf(Locale.ROOT, "  %-10s %10d %10d %8d  %s%n", p.name(), p.samples(), p.revealed(), p.reveals(), String.join(", ", p.recipients()));
            }
            out.println("  audit: " + pv.audit());
            out.println(pv.missingShards().isEmpty() ? "  every round trained every private shard"
                    : "  rounds without a shard (its workers gone, nobody else may train it): " + String.join("; ", pv.missingShards()));
        }
    }
}
