package io.fedmarket.cli.demo;

import io.fedmarket.config.StackEndpoints;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Watches a job that the marketplace's functions run (verify, judge, aggregate, settle behind their queues), the way an
 * operator's dashboard would: read-only queries of the marketplace database, each change reported once as a progress
 * line. The demo drives nothing through it; it only observes, injects faults at the right moment and, at the end, reads
 * the records the report is made of.
 */
final class JobWatcher implements AutoCloseable {
    record RoundRow(int round, String status, String modelUri, String modelHash, Instant startedAt, Instant closedAt, int tasks, int accepted,
                    int rejected, int dropped, String payoutRoot, String txHash) {
    }

    record SlashRow(String taskId, String address, int round, String status, BigInteger amount, String evidenceHash, String txHash, String reason) {
    }

    private final Connection db;
    private final UUID jobId;
    private final Function<String, String> nameOf;
    private final BiConsumer<String, String> step;
    private final Set<String> seen = new HashSet<>();
    private final Map<Integer, RoundRow> rounds = new LinkedHashMap<>();

    JobWatcher(StackEndpoints.Database database, UUID jobId, Function<String, String> nameOf, BiConsumer<String, String> step) throws SQLException {
        this.db = DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
        this.jobId = jobId;
        this.nameOf = nameOf;
        this.step = step;
    }

    private boolean once(String key) {
        return seen.add(key);
    }

    /** One look at the job; every new submission, verdict, re-execution answer, round and slash is reported once. */
    void poll() throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("select s.task_id, t.round_no, s.worker, (select count(*) from submissions s2 join tasks t2 on t2.id = s2.task_id "
                + "where t2.job_id = t.job_id and t2.round_no = t.round_no), (select count(*) from tasks t3 where t3.job_id = t.job_id and t3.round_no = t.round_no) "
                + "from submissions s join tasks t on t.id = s.task_id where t.job_id = ? order by s.submitted_at")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (once("sub:" + rs.getString(1))) {
                        step.accept("round", String.format("round %d: %s submitted by %s", rs.getInt(2), shortTask(rs.getString(1)), nameOf.apply(rs.getString(3))));
                    }
                }
            }
        }
        try (PreparedStatement ps = db.prepareStatement("select r.task_id, r.segment, r.purpose, r.status, r.verifier, s.worker from reexec_requests r "
                + "join submissions s on s.task_id = r.task_id join tasks t on t.id = r.task_id where t.job_id = ? and r.status <> 'SENT' order by r.answered_at")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String key = "rx:" + rs.getString(1) + ":" + rs.getInt(2) + ":" + rs.getString(3) + ":" + rs.getString(4) + ":" + rs.getString(5);
                    if (once(key) && !rs.getString(4).equals("MATCH")) {
                        step.accept("verify", String.format("%s segment %d (%s): %s by %s", shortTask(rs.getString(1)), rs.getInt(2), rs.getString(3).toLowerCase(),
                                rs.getString(4), rs.getString(5) == null ? "nobody in time" : nameOf.apply(rs.getString(5))));
                    }
                }
            }
        }
        try (PreparedStatement ps = db.prepareStatement("select v.task_id, v.round_no, v.accepted, v.reason, t.worker from verdicts v join tasks t on t.id = v.task_id "
                + "where v.job_id = ? order by v.decided_at")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (once("verdict:" + rs.getString(1))) {
                        step.accept(rs.getBoolean(3) ? "verify" : "reject", String.format("round %d: %s of %s %s", rs.getInt(2), shortTask(rs.getString(1)),
                                nameOf.apply(rs.getString(5)), rs.getBoolean(3) ? rs.getString(4) : "REJECTED " + rs.getString(4)));
                    }
                }
            }
        }
        refreshRounds();
        for (SlashRow s : slashes()) {
            if (once("slash:" + s.taskId() + ":" + s.status())) {
                step.accept("slash", String.format("%s: slash of %s %s%s", shortTask(s.taskId()), nameOf.apply(s.address()), s.status(),
                        s.status().equals("POSTED") ? " on chain, " + DemoRunner.tokens(s.amount()) + " tokens (" + s.txHash().substring(0, 12) + "…)"
                                : s.status().equals("PENDING") ? " (after the dispute window)" : ""));
            }
        }
    }

    private void refreshRounds() throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("select r.round_no, r.status, r.global_model_uri, r.global_model_hash, "
                + "(select min(created_at) from tasks t where t.job_id = r.job_id and t.round_no = r.round_no), r.closed_at, "
                + "(select count(*) from tasks t where t.job_id = r.job_id and t.round_no = r.round_no), "
                + "(select count(*) from verdicts v where v.job_id = r.job_id and v.round_no = r.round_no and v.accepted), "
                + "(select count(*) from verdicts v where v.job_id = r.job_id and v.round_no = r.round_no and not v.accepted), "
                + "(select count(*) from tasks t where t.job_id = r.job_id and t.round_no = r.round_no and t.status = 'DROPPED'), "
                + "p.payout_root, p.tx_hash from rounds r left join payout_roots p on p.job_id = r.job_id and p.round_no = r.round_no "
                + "where r.job_id = ? order by r.round_no")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    RoundRow row = new RoundRow(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4), instant(rs, 5), instant(rs, 6), rs.getInt(7),
                            rs.getInt(8), rs.getInt(9), rs.getInt(10), rs.getString(11), rs.getString(12));
                    rounds.put(row.round(), row);
                    if (row.tasks() > 0 && once("published:" + row.round())) {
                        step.accept("round", String.format("round %d published: %d tasks on the queue, start model %s…", row.round(), row.tasks(),
                                hashOfStart(row.round())));
                    }
                    if (row.txHash() != null && once("settled:" + row.round())) {
                        step.accept("chain", String.format("round %d settled on chain: model %s…, payout root %s… (%s…)", row.round(),
                                row.modelHash().substring(0, 12), row.payoutRoot().substring(0, 12), row.txHash().substring(0, 12)));
                    }
                }
            }
        }
    }

    private String hashOfStart(int round) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("select hyper_params from tasks where job_id = ? and round_no = ? limit 1")) {
            ps.setObject(1, jobId);
            ps.setInt(2, round);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return "?";
                }
                String hp = rs.getString(1);
                int i = hp.indexOf("\"globalModelHash\":\"");
                return i < 0 ? "?" : hp.substring(i + 19, i + 31);
            }
        }
    }

    /** The rounds that went without a private shard whose workers were gone: "round N: OWNER (why)". */
    List<String> missingShards(Function<String, String> name) throws SQLException {
        List<String> out = new java.util.ArrayList<>();
        try (PreparedStatement ps = db.prepareStatement("select round_no, missing_shards from rounds where job_id = ? and missing_shards is not null order by round_no")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    for (com.fasterxml.jackson.databind.JsonNode m : new com.fasterxml.jackson.databind.ObjectMapper().readTree(rs.getString(2))) {
                        out.add("round " + rs.getInt(1) + ": " + name.apply(m.path("owner").asText()) + "'s shard (" + m.path("reason").asText() + ")");
                    }
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new SQLException("rounds.missing_shards is not JSON: " + e.getMessage(), e);
            }
        }
        return out;
    }

    Map<Integer, RoundRow> rounds() {
        return rounds;
    }

    /** The round whose tasks are out now (0 before round 1). */
    int currentRound() throws SQLException {
        return (int) one("select coalesce(max(round_no), 0) from tasks where job_id = ?");
    }

    String jobStatus() throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("select status || coalesce(': ' || status_reason, '') from jobs where id = ?")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : "MISSING";
            }
        }
    }

    /** Addresses removed from the job for cheating. */
    Set<String> removed() throws SQLException {
        Set<String> out = new HashSet<>();
        try (PreparedStatement ps = db.prepareStatement("select distinct address from job_participants where job_id = ? and removed_at is not null")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    List<SlashRow> slashes() throws SQLException {
        List<SlashRow> out = new ArrayList<>();
        try (PreparedStatement ps = db.prepareStatement("select s.task_id, s.address, s.round_no, s.status, s.amount, s.evidence_hash, s.tx_hash, v.reason "
                + "from slashes s left join verdicts v on v.task_id = s.task_id where s.job_id = ? order by s.created_at")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new SlashRow(rs.getString(1), rs.getString(2), rs.getInt(3), rs.getString(4), rs.getBigDecimal(5).toBigInteger(), rs.getString(6),
                            rs.getString(7), rs.getString(8)));
                }
            }
        }
        return out;
    }

    /** GPU-seconds of accepted work per worker address. */
    Map<String, Double> acceptedTrainSeconds() throws SQLException {
        Map<String, Double> out = new HashMap<>();
        try (PreparedStatement ps = db.prepareStatement("select s.worker, sum(s.gpu_seconds) from verdicts v join submissions s on s.task_id = v.task_id "
                + "where v.job_id = ? and v.accepted group by s.worker")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getDouble(2));
                }
            }
        }
        return out;
    }

    /**
     * Every round's instants along the update whose verdict closed it (see {@link io.fedmarket.cli.report.RoundPhases}): its tasks
     * relayed to the queue (the first of the round's own tasks, not re-offers), the closing update's worker instants, intake, draw,
     * last counted re-execution answer, verdict, the round's model recorded (its settle request written in the same
     * transaction) and the next round's tasks relayed.
     */
    List<io.fedmarket.cli.report.RoundPhases.Instants> phaseInstants() throws SQLException {
        List<io.fedmarket.cli.report.RoundPhases.Instants> out = new ArrayList<>();
        String published = "(select min(o.sent_at) from outbox o join tasks t on o.dedup_key = 'task:' || t.id where t.job_id = r.job_id "
                + "and t.round_no = %s and t.id !~ '-a[0-9]+$')";
        try (PreparedStatement ps = db.prepareStatement("select r.round_no, " + String.format(published, "r.round_no") + ", c.worker_received_at, "
                + "c.worker_trained_at, c.worker_sent_at, c.recorded_at, c.drawn_at, (select max(x.answered_at) from reexec_requests x "
                + "where x.task_id = c.task_id and x.status in ('MATCH', 'MISMATCH', 'DISREGARDED')), c.decided_at, "
                + "(select o.created_at from outbox o where o.dedup_key = 'settle-round:' || r.job_id || ':' || r.round_no), "
                + String.format(published, "r.round_no + 1") + ", "
                + "(select coalesce(max(s.train_millis), 0) from submissions s join verdicts v on v.task_id = s.task_id where v.job_id = r.job_id "
                + "and v.round_no = r.round_no and v.accepted), "
                + "(select count(*) from verdicts v where v.job_id = r.job_id and v.round_no = r.round_no and not v.accepted) "
                + "+ (select count(*) from tasks t where t.job_id = r.job_id and t.round_no = r.round_no and (t.status = 'DROPPED' or t.id ~ '-a[0-9]+$')) "
                + "from rounds r left join lateral (select s.*, v.decided_at from verdicts v join submissions s on s.task_id = v.task_id "
                + "where v.job_id = r.job_id and v.round_no = r.round_no and v.accepted and r.closed_at is not null and v.decided_at <= r.closed_at "
                + "order by v.decided_at desc limit 1) c on true where r.job_id = ? order by r.round_no")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new io.fedmarket.cli.report.RoundPhases.Instants(rs.getInt(1), instant(rs, 2), instant(rs, 3), instant(rs, 4), instant(rs, 5),
                            instant(rs, 6), instant(rs, 7), instant(rs, 8), instant(rs, 9), instant(rs, 10), instant(rs, 11), rs.getLong(12),
                            rs.getLong(13) == 0));
                }
            }
        }
        return out;
    }

    /**
     * Verification in time: the counted re-executions' wall time (each re-executor's whole answer: fetching the checkpoint,
     * the steps, storing the end state) over the submissions' training time (their SGD steps, as the workers report them);
     * null when no submission reported its training time.
     */
    Double verificationTimeShare() throws SQLException {
        long reexec = one("select coalesce(sum(r.wall_millis), 0) from reexec_requests r join tasks t on t.id = r.task_id where t.job_id = ? "
                + "and r.status in ('MATCH', 'MISMATCH', 'DISREGARDED')");
        long trained = one("select coalesce(sum(s.train_millis), 0) from submissions s join tasks t on t.id = s.task_id where t.job_id = ?");
        return trained == 0 ? null : reexec / (double) trained;
    }

    /** Steps re-executed by verifiers over steps trained, for the job's submissions. */
    double verificationOverhead() throws SQLException {
        long reexec = one("select coalesce(sum(r.steps), 0) from reexec_requests r join tasks t on t.id = r.task_id where t.job_id = ? "
                + "and r.status in ('MATCH', 'MISMATCH', 'DISREGARDED')");
        long trained = one("select coalesce(sum(s.steps), 0) from submissions s join tasks t on t.id = s.task_id where t.job_id = ?");
        return trained == 0 ? 0 : reexec / (double) trained;
    }

    /** Every accepted or rejected re-execution answer came from a worker other than the submitter. */
    /** Answers that counted although their worker was not the one drawn for the request (must be none). */
    long answersByOthersThanTheDrawn() throws SQLException {
        return one("select count(*) from reexec_requests r join tasks t on t.id = r.task_id where t.job_id = ? and r.assignee is not null "
                + "and r.verifier is not null and r.verifier <> r.assignee and r.status in ('MATCH', 'MISMATCH', 'DISREGARDED')");
    }

    /** The answers {@link #answersByOthersThanTheDrawn} counts, one line each, for the failure message. */
    List<String> answersByOthersThanTheDrawnRows() throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = db.prepareStatement("select r.id, r.purpose, r.attempt, r.status, r.assignee, r.verifier, r.exclude, r.error "
                + "from reexec_requests r join tasks t on t.id = r.task_id where t.job_id = ? and r.assignee is not null "
                + "and r.verifier is not null and r.verifier <> r.assignee and r.status in ('MATCH', 'MISMATCH', 'DISREGARDED')")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getInt(3) + " " + rs.getString(4) + " drawn " + nameOf.apply(rs.getString(5))
                            + " answered by " + nameOf.apply(rs.getString(6)) + " exclude " + rs.getString(7) + " error " + rs.getString(8));
                }
            }
        }
        return out;
    }

    long answersBySubmitter() throws SQLException {
        return one("select count(*) from reexec_requests r join submissions s on s.task_id = r.task_id join tasks t on t.id = r.task_id "
                + "where t.job_id = ? and r.verifier = s.worker");
    }

    /** Every task with a submission: its round, worker, verdict (null: none yet) and the steps trained and re-executed. */
    List<io.fedmarket.cli.report.DemoRun.TaskOutcome> tasks(Function<String, String> name, Function<String, String> behaviourOf) throws SQLException {
        List<io.fedmarket.cli.report.DemoRun.TaskOutcome> out = new ArrayList<>();
        try (PreparedStatement ps = db.prepareStatement("select t.round_no, t.id, s.worker, case when v.task_id is null then null when v.accepted then 'ACCEPTED' "
                + "else 'REJECTED' end, v.reason, s.steps, (select coalesce(sum(r.steps), 0) from reexec_requests r where r.task_id = t.id "
                + "and r.status in ('MATCH', 'MISMATCH', 'DISREGARDED')), s.checks, (select string_agg(distinct r.verifier, ',') from reexec_requests r "
                + "where r.task_id = t.id and r.status in ('MATCH', 'MISMATCH', 'DISREGARDED')) from tasks t join submissions s on s.task_id = t.id "
                + "left join verdicts v on v.task_id = t.id where t.job_id = ? order by t.round_no, t.id")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String who = name.apply(rs.getString(3));
                    out.add(new io.fedmarket.cli.report.DemoRun.TaskOutcome(rs.getInt(1), rs.getString(2), who, behaviourOf.apply(who), rs.getString(4),
                            rs.getString(5), rs.getInt(6), rs.getLong(7), rs.getString(8),
                            rs.getString(9) == null ? List.of() : java.util.Arrays.stream(rs.getString(9).split(",")).map(name).toList()));
                }
            }
        }
        return out;
    }

    String finishedTx() throws SQLException {
        try (PreparedStatement ps = db.prepareStatement("select finished_tx from jobs where id = ?")) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private long one(String sql) throws SQLException {
        try (PreparedStatement ps = db.prepareStatement(sql)) {
            ps.setObject(1, jobId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static Instant instant(ResultSet rs, int i) throws SQLException {
        java.sql.Timestamp t = rs.getTimestamp(i);
        return t == null ? null : t.toInstant();
    }

    static String shortTask(String taskId) {
        int r = taskId.lastIndexOf("-r");
        return r < 0 ? taskId : "task " + taskId.substring(r + 1);
    }

    @Override
    public void close() throws SQLException {
        db.close();
    }
}
