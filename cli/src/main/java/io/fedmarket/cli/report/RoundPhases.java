package io.fedmarket.cli.report;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a round's wall time goes. A round runs from its tasks reaching the queue to the next round's reaching it; its critical
 * path is the update whose verdict closed it. Along that update the wall time splits, with nothing left over, into:
 * <ol>
 *   <li><b>publish → pick-up</b>: the task message on the queue until its worker took it;</li>
 *   <li><b>train</b>: until the worker finished training (opening the model and data included);</li>
 *   <li><b>upload</b>: the last checkpoints, the update and the manifest to the bucket, signing, until the submission was sent;</li>
 *   <li><b>submit → intake</b>: the submissions queue and verify's intake, until the submission was recorded;</li>
 *   <li><b>draw wait</b>: the trail checks and the wait for the block the segments are drawn from, until they were sent;</li>
 *   <li><b>re-execution</b>: the request queue, another worker re-executing, its answer recorded by judge;</li>
 *   <li><b>judge</b>: from the last answer to the verdict recorded by aggregate (which closed the round);</li>
 *   <li><b>aggregate</b>: the round's updates averaged, its model, settlement and the next round's tasks recorded;</li>
 *   <li><b>next publish</b>: the next round's tasks relayed from the outbox to the queue.</li>
 * </ol>
 * Coordination is the round's wall time less the longest training of any of its updates (the steps themselves, as the
 * workers report them): what a round costs beyond the compute it needs. A round is <i>clean</i> when nothing in it was
 * rejected, dropped or offered again; the percentiles are over the clean rounds when there are any.
 */
public final class RoundPhases {
    public static final List<String> PHASES = List.of("publish → pick-up", "train", "upload", "submit → intake", "draw wait", "re-execution",
            "judge", "aggregate", "next publish");

    /**
     * The instants of one round along its closing update (any may be null where it is unknown: a worker that reports no
     * timings, a round that never closed, the last round has no next publish).
     *
     * @param longestTrainMillis the longest pure training time (ms) any accepted update of the round reports
     */
    public record Instants(int round, Instant published, Instant received, Instant trained, Instant sent, Instant recorded, Instant drawn,
                           Instant answered, Instant decided, Instant aggregated, Instant nextPublished, long longestTrainMillis, boolean clean) {
        List<Instant> chain() {
            return Arrays.asList(published, received, trained, sent, recorded, drawn, answered, decided, aggregated, nextPublished);
        }
    }

    /** One round's phases (ms, in {@link #PHASES} order) and wall time; complete when every instant was known. */
    public record Round(int round, long[] phaseMillis, long wallMillis, long longestTrainMillis, boolean clean) {
        public long coordinationMillis() {
            return wallMillis - longestTrainMillis;
        }

        public Map<String, Long> byPhase() {
            Map<String, Long> m = new LinkedHashMap<>();
            for (int i = 0; i < PHASES.size(); i++) {
                m.put(PHASES.get(i), phaseMillis[i]);
            }
            return m;
        }
    }

    /** A phase over the rounds measured: p50, p95 (ms, nearest rank) and its share of the rounds' summed wall time. */
    public record Phase(String name, long p50Millis, long p95Millis, double shareOfWall) {
    }

    /**
     * @param rounds    every round whose whole chain was known (in round order)
     * @param measured  how many of them the percentiles cover (the clean ones, or all when none is clean)
     * @param phases    per phase, over the measured rounds
     */
    public record Report(List<Round> rounds, int measured, boolean cleanOnly, List<Phase> phases, long wallP50Millis, long wallP95Millis,
                         long coordinationP50Millis, long coordinationP95Millis, long trainP50Millis) {

        /** The table as printed by the benchmark and the demo's summary. */
        public String table() {
            StringBuilder t = new StringBuilder();
            t.append(String.format(Locale.ROOT, "round phases over %d %sround(s) (critical path: the update that closed each round)%n", measured,
                    cleanOnly ? "clean " : ""));
            t.append(String.format(Locale.ROOT, "%-20s %10s %10s %8s%n", "phase", "p50 (s)", "p95 (s)", "share"));
            for (Phase p : phases) {
                t.append(String.format(Locale.ROOT, "%-20s %10.3f %10.3f %7.1f%%%n", p.name(), p.p50Millis() / 1000.0, p.p95Millis() / 1000.0,
                        100 * p.shareOfWall()));
            }
            t.append(String.format(Locale.ROOT, "%-20s %10.3f %10.3f%n", "round wall", wallP50Millis / 1000.0, wallP95Millis / 1000.0));
            t.append(String.format(Locale.ROOT, "%-20s %10.3f %10.3f   (wall − longest training of the round, p50 training %.3f s)%n",
                    "coordination", coordinationP50Millis / 1000.0, coordinationP95Millis / 1000.0, trainP50Millis / 1000.0));
            return t.toString();
        }
    }

    private RoundPhases() {
    }

    /** One round's phases, or null when an instant of its chain is missing. */
    public static Round of(Instants in) {
        List<Instant> c = in.chain();
        if (c.stream().anyMatch(java.util.Objects::isNull)) {
            return null;
        }
        // differences of epoch milliseconds, so that the phases add up to the wall time exactly (no truncation per phase)
        long[] ms = new long[PHASES.size()];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = Math.max(0, c.get(i + 1).toEpochMilli() - c.get(i).toEpochMilli());
        }
        long wall = in.nextPublished().toEpochMilli() - in.published().toEpochMilli();
        return new Round(in.round(), ms, wall, in.longestTrainMillis(), in.clean());
    }

    /** The report over the rounds whose chains are complete; null when there is none. */
    public static Report report(List<Instants> rounds) {
        List<Round> complete = new ArrayList<>();
        for (Instants i : rounds) {
            Round r = of(i);
            if (r != null) {
                complete.add(r);
            }
        }
        if (complete.isEmpty()) {
            return null;
        }
        List<Round> clean = complete.stream().filter(Round::clean).toList();
        List<Round> over = clean.isEmpty() ? complete : clean;
        long wallSum = over.stream().mapToLong(Round::wallMillis).sum();
        List<Phase> phases = new ArrayList<>();
        for (int p = 0; p < PHASES.size(); p++) {
            int pi = p;
            long[] v = over.stream().mapToLong(r -> r.phaseMillis()[pi]).toArray();
            long sum = Arrays.stream(v).sum();
            phases.add(new Phase(PHASES.get(p), percentile(v, 50), percentile(v, 95), wallSum == 0 ? 0 : sum / (double) wallSum));
        }
        long[] wall = over.stream().mapToLong(Round::wallMillis).toArray();
        long[] coord = over.stream().mapToLong(Round::coordinationMillis).toArray();
        long[] train = over.stream().mapToLong(Round::longestTrainMillis).toArray();
        return new Report(List.copyOf(complete), over.size(), !clean.isEmpty(), List.copyOf(phases), percentile(wall, 50), percentile(wall, 95),
                percentile(coord, 50), percentile(coord, 95), percentile(train, 50));
    }

    /** Nearest-rank percentile (the smallest value with at least p% of the values at or below it). */
    static long percentile(long[] values, int p) {
        long[] v = values.clone();
        Arrays.sort(v);
        int rank = (int) Math.ceil(p / 100.0 * v.length);
        return v[Math.max(0, Math.min(v.length - 1, rank - 1))];
    }

    /** The report as a JSON-friendly map (run.json, the benchmark's --json). */
    public static Map<String, Object> toMap(Report r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("roundsMeasured", r.measured());
        m.put("cleanRoundsOnly", r.cleanOnly());
        m.put("wallP50Seconds", r.wallP50Millis() / 1000.0);
        m.put("wallP95Seconds", r.wallP95Millis() / 1000.0);
        m.put("coordinationP50Seconds", r.coordinationP50Millis() / 1000.0);
        m.put("coordinationP95Seconds", r.coordinationP95Millis() / 1000.0);
        m.put("longestTrainingP50Seconds", r.trainP50Millis() / 1000.0);
        List<Map<String, Object>> ph = new ArrayList<>();
        for (Phase p : r.phases()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("phase", p.name());
            x.put("p50Seconds", p.p50Millis() / 1000.0);
            x.put("p95Seconds", p.p95Millis() / 1000.0);
            x.put("shareOfWall", Math.round(p.shareOfWall() * 10000) / 10000.0);
            ph.add(x);
        }
        m.put("phases", ph);
        List<Map<String, Object>> rs = new ArrayList<>();
        for (Round x : r.rounds()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("round", x.round());
            o.put("clean", x.clean());
            o.put("wallMillis", x.wallMillis());
            o.put("longestTrainMillis", x.longestTrainMillis());
            o.put("phaseMillis", x.byPhase());
            rs.add(o);
        }
        m.put("rounds", rs);
        return m;
    }
}
