package io.fedmarket.cli.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Writes a self-contained HTML report (inline SVG and CSS, no script or font from the network) so it
 * renders offline. The run's records are embedded as JSON ({@code #run-data}) and every plotted mark
 * carries its value in a data attribute, so a test can check the plots against the records.
 */
public final class HtmlReport {
    private static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT);
    private static final String[] PALETTE = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d"};

    private HtmlReport() {
    }

    public static Path write(DemoRun run, Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, render(run), StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report to " + file, e);
        }
    }

    public static String render(DemoRun run) {
        StringBuilder h = new StringBuilder(32_768);
        h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(esc(run.title())).append("</title><style>")
                .append("body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#111827;padding:0 16px}")
                .append("h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}")
                .append(".kpis{display:flex;gap:12px;flex-wrap:wrap}.kpi{background:#f3f4f6;border-radius:8px;padding:8px 14px}.kpi b{display:block;font-size:20px}")
                .append("table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:left}")
                .append("td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:12px}.muted{color:#6b7280}")
                .append("svg text{font:11px system-ui,sans-serif;fill:#374151}</style></head><body>");
        h.append("<h1>").append(esc(run.title())).append("</h1><div class=\"muted\">")
                .append(esc(Instant.ofEpochMilli(run.startedAtEpochMs()).toString())).append(" · ")
                .append(String.format(Locale.ROOT, "%.1f", (run.finishedAtEpochMs() - run.startedAtEpochMs()) / 1000.0))
                .append(" s · ").append(esc(run.config().toString())).append("</div>");

        long slashedCount = run.slashes().size();
        long gas = run.gasByOperation().values().stream().mapToLong(Long::longValue).sum();
        h.append("<div class=\"kpis\" style=\"margin-top:12px\">")
                .append(kpi("final test accuracy", pct(run.finalAccuracy()), "kpi-accuracy"))
                .append(kpi("target", pct(run.targetAccuracy()), "kpi-target"))
                .append(kpi("rounds completed", Integer.toString(run.rounds().size()), "kpi-rounds"))
                .append(kpi("slashes", Long.toString(slashedCount), "kpi-slashes"))
                .append(kpi("gas spent", String.format(Locale.ROOT, "%,d", gas), "kpi-gas"))
                .append(kpi("verification overhead", pct(run.verificationOverhead()), "kpi-overhead"))
                .append(run.verificationTimeShare() == null ? "" : kpi("verification time (share of training time)", pct(run.verificationTimeShare()),
                        "kpi-overhead-time"))
                .append("</div>");

        h.append("<h2>Test accuracy per round</h2>").append(accuracyChart(run));
        h.append("<h2>Payouts per provider (ledger vs claimed on chain)</h2>").append(payoutChart(run));
        h.append("<h2>Slashes</h2>").append(slashTable(run));
        h.append("<h2>Timeline of rounds</h2>").append(timelineChart(run));
        if (run.phases() != null) {
            h.append("<h2>Where a round's time goes</h2>").append(phaseTable(run.phases()));
        }
        h.append("<h2>Provenance chain of model hashes</h2>").append(provenanceTable(run));
        if (run.privacy() != null) {
            h.append("<h2>Privacy cost of verification</h2>").append(privacyTable(run.privacy()));
        }
        h.append("<h2>Gas per operation</h2><table id=\"gas\"><tr><th>operation</th><th class=\"num\">gas</th></tr>");
        run.gasByOperation().forEach((op, g) -> h.append("<tr><td>").append(esc(op)).append("</td><td class=\"num\">")
                .append(String.format(Locale.ROOT, "%,d", g)).append("</td></tr>"));
        h.append("</table>");
        try {
            h.append("<script type=\"application/json\" id=\"run-data\">")
                    .append(JSON.writeValueAsString(run).replace("<", "\\u003c")).append("</script>");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return h.append("</body></html>").toString();
    }

    /** The round-phase breakdown ({@link RoundPhases}): p50, p95 and share of the round's wall time per phase. */
    static String phaseTable(RoundPhases.Report p) {
        StringBuilder t = new StringBuilder();
        t.append("<div class=\"muted\">").append(esc(String.format(Locale.ROOT, "over %d %sround(s), along the update that closed each round",
                p.measured(), p.cleanOnly() ? "clean " : ""))).append("</div>");
        t.append("<table id=\"round-phases\"><tr><th>phase</th><th class=\"num\">p50 (s)</th><th class=\"num\">p95 (s)</th>")
                .append("<th class=\"num\">share of round wall time</th></tr>");
        for (RoundPhases.Phase ph : p.phases()) {
            t.append("<tr><td>").append(esc(ph.name())).append("</td>").append(String.format(Locale.ROOT,
                    "<td class=\"num\">%.3f</td><td class=\"num\">%.3f</td><td class=\"num\">%.1f%%</td></tr>",
                    ph.p50Millis() / 1000.0, ph.p95Millis() / 1000.0, 100 * ph.shareOfWall()));
        }
        t.append(String.format(Locale.ROOT, "<tr><th>round wall</th><th class=\"num\">%.3f</th><th class=\"num\">%.3f</th><th></th></tr>",
                p.wallP50Millis() / 1000.0, p.wallP95Millis() / 1000.0));
        t.append(String.format(Locale.ROOT, "<tr id=\"coordination\"><th>coordination (wall − longest training)</th><th class=\"num\">%.3f</th>"
                + "<th class=\"num\">%.3f</th><th></th></tr>", p.coordinationP50Millis() / 1000.0, p.coordinationP95Millis() / 1000.0));
        return t.append("</table>").toString();
    }

    private static String kpi(String label, String value, String id) {
        return "<div class=\"kpi\" id=\"" + id + "\"><b>" + esc(value) + "</b>" + esc(label) + "</div>";
    }

    private static String accuracyChart(DemoRun run) {
        int w = 1000, hgt = 300, left = 50, right = 20, top = 15, bottom = 35;
        int n = Math.max(run.rounds().size(), run.baselineAccuracy().size());
        StringBuilder s = new StringBuilder();
        s.append("<svg id=\"accuracy-chart\" viewBox=\"0 0 ").append(w).append(' ').append(hgt)
                .append("\" width=\"100%\" role=\"img\" aria-label=\"test accuracy per round\">");
        for (int pctTick = 0; pctTick <= 100; pctTick += 20) {
            double y = top + (hgt - top - bottom) * (1 - pctTick / 100.0);
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>", left, w - right, y, y))
                    .append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>", left - 6, y + 4, pctTick));
        }
        if (run.targetAccuracy() > 0) {
            double y = top + (hgt - top - bottom) * (1 - run.targetAccuracy());
            s.append(String.format(Locale.ROOT, "<line id=\"target-line\" data-value=\"%s\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#9ca3af\" stroke-dasharray=\"4 4\"/>",
                    run.targetAccuracy(), left, w - right, y, y));
        }
        List<Double> ours = run.rounds().stream().map(DemoRun.Round::testAccuracy).toList();
        s.append(series("marketplace", ours, n, w, hgt, left, right, top, bottom, "#2563eb"));
        s.append(series("all-honest baseline", run.baselineAccuracy(), n, w, hgt, left, right, top, bottom, "#9ca3af"));
        for (int r = 1; r <= n; r += Math.max(1, n / 10)) {
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>", x(r, n, w, left, right), hgt - 15, r));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">round</text>", w / 2, hgt - 2));
        s.append("<rect x=\"").append(w - 220).append("\" y=\"").append(hgt - bottom - 48).append("\" width=\"195\" height=\"40\" fill=\"white\" stroke=\"#e5e7eb\"/>")
                .append(legend(w - 210, hgt - bottom - 32, "#2563eb", "marketplace (with faults)"))
                .append(legend(w - 210, hgt - bottom - 15, "#9ca3af", "all-honest baseline"));
        return s.append("</svg>").toString();
    }

    private static String legend(int x, int y, String color, String label) {
        return "<line x1=\"" + x + "\" x2=\"" + (x + 18) + "\" y1=\"" + (y - 4) + "\" y2=\"" + (y - 4) + "\" stroke=\"" + color
                + "\" stroke-width=\"3\"/><text x=\"" + (x + 24) + "\" y=\"" + y + "\">" + esc(label) + "</text>";
    }

    private static double x(int round, int n, int w, int left, int right) {
        return n <= 1 ? left + (w - left - right) / 2.0 : left + (w - left - right) * (round - 1) / (double) (n - 1);
    }

    private static String series(String name, List<Double> values, int n, int w, int hgt, int left, int right, int top, int bottom, String color) {
        if (values.isEmpty()) {
            return "";
        }
        StringBuilder pts = new StringBuilder();
        StringBuilder marks = new StringBuilder();
        for (int i = 0; i < values.size(); i++) {
            double xx = x(i + 1, n, w, left, right);
            double yy = top + (hgt - top - bottom) * (1 - values.get(i));
            pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", xx, yy));
            marks.append(String.format(Locale.ROOT, "<circle class=\"point\" data-series=\"%s\" data-round=\"%d\" data-value=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s round %d: %s</title></circle>",
                    esc(name), i + 1, values.get(i), xx, yy, color, esc(name), i + 1, pct(values.get(i))));
        }
        return "<polyline data-series=\"" + esc(name) + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\" points=\"" + pts + "\"/>" + marks;
    }

    private static String payoutChart(DemoRun run) {
        List<DemoRun.Provider> ps = run.providers();
        if (ps.isEmpty()) {
            return "<p class=\"muted\">no providers</p>";
        }
        BigInteger max = ps.stream().map(p -> p.ledgerPaid().max(p.slashed())).reduce(BigInteger.ONE, BigInteger::max);
        int rowH = 26, w = 1000, labelW = 230, hgt = ps.size() * rowH + 10;
        StringBuilder s = new StringBuilder("<svg id=\"payout-chart\" viewBox=\"0 0 " + w + " " + hgt + "\" width=\"100%\" role=\"img\" aria-label=\"payouts per provider\">");
        for (int i = 0; i < ps.size(); i++) {
            DemoRun.Provider p = ps.get(i);
            int y = 5 + i * rowH;
            double len = (w - labelW - 290) * p.ledgerPaid().doubleValue() / max.doubleValue();
            double slashLen = (w - labelW - 290) * p.slashed().doubleValue() / max.doubleValue();
            s.append("<text x=\"0\" y=\"").append(y + 16).append("\">").append(esc(p.name() + " (" + p.behaviour() + ")")).append("</text>");
            s.append(String.format(Locale.ROOT, "<rect class=\"bar paid\" data-provider=\"%s\" data-value=\"%s\" data-claimed=\"%s\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"10\" fill=\"%s\"/>",
                    esc(p.name()), p.ledgerPaid(), p.claimedOnChain(), labelW, y + 3, len, "#16a34a"));
            s.append(String.format(Locale.ROOT, "<rect class=\"bar slashed\" data-provider=\"%s\" data-value=\"%s\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"10\" fill=\"#dc2626\"/>",
                    esc(p.name()), p.slashed(), labelW, y + 14, slashLen));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">paid %s · claimed %s%s</text>", labelW + Math.max(len, slashLen) + 6, y + 16,
                    tokens(p.ledgerPaid()), tokens(p.claimedOnChain()), p.slashed().signum() > 0 ? " · slashed " + tokens(p.slashed()) : ""));
        }
        return s.append("</svg>").toString();
    }

    private static String slashTable(DemoRun run) {
        if (run.slashes().isEmpty()) {
            return "<p id=\"slashes\" class=\"muted\">no slashes</p>";
        }
        StringBuilder s = new StringBuilder("<table id=\"slashes\"><tr><th>provider</th><th>round</th><th>reason</th><th class=\"num\">amount</th><th>evidence</th><th>tx</th></tr>");
        for (DemoRun.Slash x : run.slashes()) {
            s.append("<tr class=\"slash\" data-provider=\"").append(esc(x.provider())).append("\"><td>").append(esc(x.provider()))
                    .append("</td><td>").append(x.round()).append("</td><td>").append(esc(x.reason())).append("</td><td class=\"num\">")
                    .append(tokens(x.amount())).append("</td><td><code>").append(esc(shortHash(x.evidenceHash()))).append("</code></td><td><code>")
                    .append(esc(shortHash(x.chainTx()))).append("</code></td></tr>");
        }
        return s.append("</table>").toString();
    }

    private static String timelineChart(DemoRun run) {
        if (run.rounds().isEmpty()) {
            return "<p class=\"muted\">no rounds</p>";
        }
        long end = Math.max(1, run.rounds().stream().mapToLong(DemoRun.Round::closedMs).max().orElse(1));
        int w = 1000, rowH = 14, left = 60, hgt = run.rounds().size() * rowH + 30;
        StringBuilder s = new StringBuilder("<svg id=\"timeline-chart\" viewBox=\"0 0 " + w + " " + hgt + "\" width=\"100%\" role=\"img\" aria-label=\"timeline of rounds\">");
        for (int i = 0; i < run.rounds().size(); i++) {
            DemoRun.Round r = run.rounds().get(i);
            double x0 = left + (w - left - 20) * r.startedMs() / (double) end;
            double x1 = left + (w - left - 20) * r.closedMs() / (double) end;
            int y = 4 + i * rowH;
            s.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%d\">round %d</text>", y + 10, r.round()))
                    .append(String.format(Locale.ROOT, "<rect class=\"round-span\" data-round=\"%d\" data-start=\"%d\" data-end=\"%d\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"10\" fill=\"%s\"><title>round %d: %d accepted, %d rejected, %d dropped</title></rect>",
                            r.round(), r.startedMs(), r.closedMs(), x0, y, Math.max(1, x1 - x0), PALETTE[i % PALETTE.length], r.round(), r.accepted(), r.rejected(), r.dropped()));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">0 s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.1f s</text>",
                left, hgt - 4, w - 20, hgt - 4, end / 1000.0));
        return s.append("</svg>").toString();
    }

    private static String provenanceTable(DemoRun run) {
        String model = run.config() == null ? null : run.config().get("model");
        StringBuilder s = new StringBuilder(model == null ? "" : "<p id=\"provenance-model\">model <code>" + esc(model) + "</code>"
                + (run.config().get("model parameters") == null ? "" : ", " + esc(run.config().get("model parameters")) + " parameters")
                + (run.config().get("model file sha256") == null
                ? " (the builder's catalogue spec; every hash below is of its parameters, batch-norm running statistics included)</p>"
                : "</p><p id=\"provenance-model-file\">model file <code>sha256 " + esc(run.config().get("model file sha256")) + "</code> (the builder's "
                + "TorchScript upload; every hash below is of the round's parameters and buffers; on chain each round's hash is "
                + "keccak256(\"fedmarket.torchscript.v1\" ‖ this sha256 ‖ that hash))</p>"));
        s.append("<table id=\"provenance\"><tr><th>round</th><th>model hash</th><th>payout root</th><th>chain tx</th><th class=\"num\">accepted / rejected / dropped</th></tr>");
        for (DemoRun.Round r : run.rounds()) {
            s.append("<tr class=\"provenance\" data-round=\"").append(r.round()).append("\" data-model-hash=\"").append(esc(r.modelHash()))
                    .append("\"><td>").append(r.round()).append("</td><td><code>").append(esc(r.modelHash())).append("</code></td><td><code>")
                    .append(esc(shortHash(r.payoutRoot()))).append("</code></td><td><code>").append(esc(shortHash(r.chainTx())))
                    .append("</code></td><td class=\"num\">").append(r.accepted()).append(" / ").append(r.rejected()).append(" / ")
                    .append(r.dropped()).append("</td></tr>");
        }
        return s.append("</table>").toString();
    }

    static String pct(double v) {
        return String.format(Locale.ROOT, "%.1f%%", v * 100);
    }

    /** Token base units (18 decimals) as a short decimal. */
    static String tokens(BigInteger units) {
        return new java.math.BigDecimal(units).movePointLeft(18).stripTrailingZeros().toPlainString();
    }

    static String shortHash(String h) {
        return h == null ? "" : h.length() > 18 ? h.substring(0, 10) + "…" + h.substring(h.length() - 6) : h;
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }


    /** Per provider: its shard's size and how many of its samples verification revealed, to whom (each sealed to one drawn re-executor). */
    static String privacyTable(DemoRun.Privacy pv) {
        StringBuilder t = new StringBuilder();
        t.append(String.format(Locale.ROOT, "<p id=\"privacy-summary\">%,d of %,d samples revealed (%.2f%%) in %d reveals; per update at most %d, "
                        + "on average %.1f; DP %s. Every revealed sample was sealed to the one re-executor drawn for its segment.</p>",
                pv.revealedSamples(), pv.sharedSamples(), pv.sharedSamples() == 0 ? 0 : 100.0 * pv.revealedSamples() / pv.sharedSamples(), pv.reveals(),
                pv.maxRevealedPerUpdate(), pv.meanRevealedPerUpdate(), pv.dpEpsilon() == null ? "off" : "&epsilon; = " + pv.dpEpsilon()));
        t.append("<table id=\"privacy\"><tr><th>provider</th><th class=\"num\">samples</th><th class=\"num\">revealed</th>"
                + "<th class=\"num\">reveals</th><th>to</th></tr>");
        for (DemoRun.ProviderPrivacy p : pv.providers()) {
            t.append("<tr><td>").append(esc(p.name())).append("</td><td class=\"num\">").append(p.samples()).append("</td><td class=\"num\">")
                    .append(p.revealed()).append("</td><td class=\"num\">").append(p.reveals()).append("</td><td>")
                    .append(esc(String.join(", ", p.recipients()))).append("</td></tr>");
        }
        t.append("</table>");
        t.append("<p id=\"privacy-audit\">Audit: ").append(esc(pv.audit())).append("</p>");
        if (!pv.missingShards().isEmpty()) {
            t.append("<p id=\"missing-shards\">Rounds without a shard (its workers gone, nobody else may train it): ")
                    .append(esc(String.join("; ", pv.missingShards()))).append("</p>");
        }
        return t.toString();
    }
}
