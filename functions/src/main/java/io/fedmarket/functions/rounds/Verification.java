package io.fedmarket.functions.rounds;

import io.fedmarket.config.Queues;
import io.fedmarket.fl.job.JobPlan;
import io.fedmarket.fl.verify.Evidence;
import io.fedmarket.fl.verify.ReasonCode;
import io.fedmarket.fl.verify.ToleranceCalibration;
import io.fedmarket.fl.verify.Verdict;
import io.fedmarket.functions.artifacts.Artifacts;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.outbox.Outbox;
import io.fedmarket.messages.ReexecTask;
import io.fedmarket.messages.RevealRequest;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.messages.VerdictReached;
import io.fedmarket.pol.TrailManifest;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.reactive.mutiny.Mutiny;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * What the verify and judge functions share: loading one submission with its task and the job's plan, sending a
 * segment out for re-execution (a row in {@code reexec_requests} and its message through the outbox, in the caller's
 * transaction), and deciding (the submission DECIDED once, its verdict through the outbox; a rejection's verdict
 * document stored at {@code evidence/<taskId>.json}, whose keccak is the evidence hash a slash carries).
 */
@ApplicationScoped
public class Verification {
    private static final Logger LOG = Logger.getLogger(Verification.class);

    /** A segment is offered to at most this many re-executors before the update is left out as inconclusive. */
    public static final int MAX_ATTEMPTS = 4;

    @Inject
    Artifacts artifacts;

    @Inject
    Outbox outbox;

    /** How long a re-execution request may stay unanswered before another worker gets it. */
    @ConfigProperty(name = "fedmarket.verify.reexec-timeout", defaultValue = "PT2M")
    Duration reexecTimeout;

    public Duration reexecTimeout() {
        return reexecTimeout;
    }

    /**
     * When a request sent now expires: once its re-execution timeout has passed (and the timeout pass has had a minute to
     * draw it anew), a worker that still receives this copy deletes it instead of handing it on to a drawn worker that may be
     * gone. Workers filter the shared queue by receiving, so a copy nobody deletes would be received until it dead-letters.
     */
    long expiry() {
        return Instant.now().plus(reexecTimeout).plusSeconds(60).getEpochSecond();
    }

    /** One recorded submission with what deciding on it needs. */
    public record Ctx(String taskId, UUID jobId, int round, String submitter, String stage, long drawBlock, String updateUri,
                      String trailUri, String submissionHash, String updateHash, String proofRoot, TrainTask task, JobPlan plan,
                      String startUri, List<Integer> segments, List<String> flags, String trailDoc, String trailHash) {
        /**
         * Whether an artifact at {@code uri} that the manifest names is provably the submitter's doing: the manifest is the one
         * it signed (trail hash) and the key lies under its own prefix, which nobody else may write. Anything else (a legacy
         * unsigned manifest, a key another party may write) proves nothing against it.
         */
        public boolean provablyOwn(String uri) {
            return trailHash != null && uri != null && uri.startsWith(io.fedmarket.pol.SubmissionSigner.workerPrefix(submitter));
        }
    }

    /** The submission of {@code taskId} (locked for the transaction when {@code lock}), or null when there is none. */
    public Uni<Ctx> load(Mutiny.Session s, String taskId, boolean lock) {
        return s.createNativeQuery("select s.stage, coalesce(s.draw_block, 0), s.worker, s.update_uri, s.trail_uri, s.submission_hash, t.hyper_params, "
                        + "r.start_model_uri, j.plan, t.job_id, t.round_no, s.segments, s.flags, s.update_hash, s.proof_root, s.trail_doc, s.trail_hash from submissions s "
                        + "join tasks t on t.id = s.task_id join rounds r on r.job_id = t.job_id and r.round_no = t.round_no "
                        + "join jobs j on j.id = t.job_id where s.task_id = :t" + (lock ? " for update of s" : ""), Object[].class)
                .setParameter("t", taskId).getResultList()
                .map(rows -> {
                    if (rows.isEmpty()) {
                        return null;
                    }
                    Object[] r = rows.get(0);
                    UUID jobId = (UUID) r[9];
                    return new Ctx(taskId, jobId, ((Number) r[10]).intValue(), (String) r[2], (String) r[0], ((Number) r[1]).longValue(), (String) r[3],
                            (String) r[4], (String) r[5], (String) r[13], (String) r[14], Json.parse((String) r[6], TrainTask.class),
                            RoundPublisher.plan(r[8], jobId), (String) r[7], r[11] == null ? List.of() : Arrays.asList(Json.parse((String) r[11], Integer[].class)),
                            r[12] == null ? List.of() : Arrays.asList(Json.parse((String) r[12], String[].class)), (String) r[15], (String) r[16]);
                });
    }

    /**
     * The submission's trail manifest: the copy kept with the submission (a signed one from intake on, whose bytes hash to the
     * signed trail hash; an unsigned one from the draw on, checked against the signed proof root), so a bucket copy replaced
     * or deleted afterwards changes nothing; before that, the bucket's.
     */
    public Optional<TrailManifest> manifest(Ctx c) {
        if (c.trailDoc() != null) {
            return Optional.of(Json.parse(c.trailDoc(), TrailManifest.class));
        }
        return c.trailUri() == null ? Optional.empty() : artifacts.findJson(c.trailUri(), TrailManifest.class);
    }

    public static String reexecId(String taskId, int segment, String purpose, int attempt) {
        return taskId + "-seg" + segment + (purpose.equals("DRAW") ? "" : "-" + purpose.toLowerCase() + attempt);
    }

    /**
     * Sends segment {@code segment} of the submission out for re-execution by a bonded worker drawn at random from the
     * job's eligible re-executors ({@link #eligible}) minus {@code exclude}: the draw is keyed by the block hash the
     * segments were drawn with, the submission hash and the request id, so the submitter could not know it when it signed
     * and anyone can recompute it. Only the drawn worker's answer counts.
     */
    public Uni<Integer> dispatch(Mutiny.Session s, Ctx c, TrailManifest m, int segment, String purpose, int attempt, List<String> exclude) {
        String id = reexecId(c.taskId(), segment, purpose, attempt);
        int k = c.task().checkpointEvery();
        return draw(s, c, id, exclude).chain(assignee -> {
            ReexecTask r = new ReexecTask(id, c.task(), segment, segment * k, k, m.checkpointUris().get(segment), m.checkpointHashes().get(segment),
                    null, Queues.REEXEC_RESULTS, List.copyOf(exclude), assignee, expiry());
            String body = Json.write(r);
            return s.createNativeQuery("insert into reexec_requests (id, task_id, segment, purpose, attempt, steps, exclude, status, requested_at, assignee) "
                            + "values (:id, :t, :seg, :p, :a, :k, :x, 'SENT', :now, :as) on conflict do nothing")
                    .setParameter("id", id).setParameter("t", c.taskId()).setParameter("seg", segment).setParameter("p", purpose).setParameter("a", attempt)
                    .setParameter("k", k).setParameter("x", Json.write(exclude)).setParameter("now", Instant.now()).setParameter("as", assignee).executeUpdate()
                    .chain(n -> n == 0 ? Uni.createFrom().item(0) : revealRequest(s, c, r).chain(() -> outbox.add(s, Queues.REEXEC, "reexec:" + id, body)));
        });
    }

    /**
     * For a segment of a private shard drawn for a re-executor: the marketplace's word to the data owner's workers that this
     * segment's samples are to be sealed to that re-executor ({@link RevealRequest}, under {@code reveal-requests/<root>/},
     * which only the functions write). Nothing for open data, or when nobody was drawn (there is nobody to seal to: the
     * request waits for a draw). Written before the request's message is queued, so the re-executor finds it.
     */
    Uni<Void> revealRequest(Mutiny.Session s, Ctx c, ReexecTask r) {
        if (!c.task().isPrivate() || r.assignee() == null) {
            return Uni.createFrom().voidItem();
        }
        return s.createNativeQuery("select coalesce((select d.sample_count from tasks t join data_providers d on d.id = t.data_provider where t.id = :t), 0)", Long.class)
                .setParameter("t", c.taskId()).getSingleResult()
                .map(n -> {
                    artifacts.putJson(RevealRequest.key(c.task().shardCommitment(), r.reexecId()), Json.write(new RevealRequest(r, (int) Math.min(Integer.MAX_VALUE, n))));
                    return null;
                });
    }

    /**
     * The bonded workers that may be drawn to re-execute a segment of this job: its GPU participants not removed for
     * cheating (they run workers for the job) and the bonded verifier nodes (accounts an operator granted the
     * {@code verifier} role), lower case, sorted.
     */
    static Uni<List<String>> eligible(Mutiny.Session s, UUID jobId) {
        return s.createNativeQuery("select p.address from job_participants p join bonds b on b.address = p.address "
                        + "where p.job_id = :j and p.kind = 'GPU' and p.removed_at is null and b.amount > 0 "
                        + "union select r.address from account_roles r join bonds b on b.address = r.address where r.role = 'verifier' and b.amount > 0 "
                        + "and r.address not in (select address from job_participants where job_id = :j and removed_at is not null)", String.class)
                .setParameter("j", jobId).getResultList()
                .map(rows -> rows.stream().map(String::toLowerCase).distinct().sorted().toList());
    }

    /** The drawn re-executor of request {@code id}, or null when no eligible worker is left besides the excluded ones. */
    private Uni<String> draw(Mutiny.Session s, Ctx c, String id, List<String> exclude) {
        return s.createNativeQuery("select coalesce(draw_block_hash, '') from submissions where task_id = :t", String.class)
                .setParameter("t", c.taskId()).getResultList()
                .chain(bh -> eligible(s, c.jobId()).map(pool -> {
                    String assignee = assign(pool, exclude, c.submitter(), drawSeed(bh.isEmpty() ? "" : bh.get(0), c.submissionHash(), id));
                    if (assignee == null) {
                        LOG.warnf("%s: no eligible bonded re-executor besides %s: any bonded worker not excluded may take it", id, exclude);
                    }
                    return assignee;
                }));
    }

    /** keccak(block hash ‖ submission hash ‖ request id): the randomness of a re-executor draw. */
    public static byte[] drawSeed(String blockHash, String submissionHash, String reexecId) {
        byte[] b = blockHash == null || blockHash.isEmpty() ? new byte[0] : io.fedmarket.fl.proof.Hashes.fromHex(blockHash);
        byte[] h = submissionHash == null ? new byte[0] : io.fedmarket.fl.proof.Hashes.fromHex(submissionHash);
        return io.fedmarket.fl.proof.Hashes.keccak(b, h, reexecId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * The draw itself (pure): the candidates that are neither the submitter nor excluded, sorted, and the one at
     * {@code seed mod n}; null when none is left.
     */
    public static String assign(List<String> pool, List<String> exclude, String submitter, byte[] seed) {
        List<String> left = new ArrayList<>();
        for (String a : pool) {
            String x = a.toLowerCase();
            if (!x.equalsIgnoreCase(submitter) && exclude.stream().noneMatch(x::equalsIgnoreCase) && !left.contains(x)) {
                left.add(x);
            }
        }
        if (left.isEmpty()) {
            return null;
        }
        left.sort(null);
        return left.get(new java.math.BigInteger(1, seed).mod(java.math.BigInteger.valueOf(left.size())).intValueExact());
    }

    /**
     * Puts an open request back on the re-execution queue, excluding {@code exclude} (whose answer did not count: a removed,
     * unbonded or excluded worker, a worker that was not drawn, or a signature that is not its own). The same request id
     * and the same drawn worker unless it is now excluded (then another is drawn): whoever answers it next is judged as if
     * it had been first; it costs the segment no attempt, so nobody can exhaust a submission's attempts by answering what
     * it may not answer.
     */
    public Uni<Integer> resend(Mutiny.Session s, Ctx c, TrailManifest m, String id, int segment, List<String> exclude, String occasion) {
        int k = c.task().checkpointEvery();
        return s.createNativeQuery("select assignee from reexec_requests where id = :id", String.class).setParameter("id", id).getResultList()
                .chain(current -> {
                    String was = current.isEmpty() ? null : current.get(0);
                    Uni<String> assignee = was != null && exclude.stream().noneMatch(was::equalsIgnoreCase) ? Uni.createFrom().item(was)
                            : draw(s, c, id + "/" + String.join(",", exclude), exclude);
                    return assignee.chain(a -> {
                        ReexecTask r = new ReexecTask(id, c.task(), segment, segment * k, k, m.checkpointUris().get(segment), m.checkpointHashes().get(segment),
                                null, Queues.REEXEC_RESULTS, List.copyOf(exclude), a, expiry());
                        // once per exclusion set (and occasion): a replayed bogus answer puts nothing on the queue again
                        return s.createNativeQuery("update reexec_requests set exclude = :x, assignee = :as where id = :id and status = 'SENT'")
                                .setParameter("x", Json.write(exclude)).setParameter("as", a).setParameter("id", id).executeUpdate()
                                .chain(n -> n == 0 ? Uni.createFrom().item(0) : revealRequest(s, c, r).chain(() -> outbox.add(s, Queues.REEXEC, "reexec-again:" + id + ":"
                                        + String.join(",", exclude) + (occasion == null ? "" : ":" + occasion), Json.write(r))));
                    });
                });
    }

    /**
     * The open re-execution requests of job {@code jobId} drawn for {@code worker} (just removed from the job), drawn anew
     * without it, in the caller's transaction; returns how many.
     */
    public Uni<Integer> redrawAssignedTo(Mutiny.Session s, UUID jobId, String worker) {
        if (worker == null) {
            return Uni.createFrom().item(0);
        }
        String w = worker.toLowerCase();
        return s.createNativeQuery("select r.id, r.task_id, r.segment, r.exclude from reexec_requests r join tasks t on t.id = r.task_id "
                        + "where t.job_id = :j and r.assignee = :w and r.status = 'SENT'", Object[].class)
                .setParameter("j", jobId).setParameter("w", w).getResultList()
                .chain(rows -> {
                    Uni<Integer> chain = Uni.createFrom().item(0);
                    for (Object[] r : rows) {
                        String id = (String) r[0];
                        int segment = ((Number) r[2]).intValue();
                        List<String> exclude = new ArrayList<>(Arrays.asList(Json.parse((String) r[3], String[].class)));
                        chain = chain.chain(n -> load(s, (String) r[1], false).chain(c -> {
                            Optional<TrailManifest> m = c == null || !"DRAWN".equals(c.stage()) ? Optional.empty() : manifest(c);
                            if (m.isEmpty()) {
                                return Uni.createFrom().item(n);
                            }
                            return resend(s, c, m.get(), id, segment, exclude(c.submitter(), concatOne(exclude, w)), "removed").map(x -> n + 1);
                        }));
                    }
                    return chain;
                });
    }

    private static List<String> concatOne(List<String> xs, String x) {
        List<String> out = new ArrayList<>(xs);
        out.add(x);
        return out;
    }

    /** A verdict document and its evidence hash (keccak of its canonical JSON), stored before the decision commits. */
    public record Document(Verdict verdict, String evidenceHash) {
    }

    /** The verdict document of a rejection (pure: nothing is stored; {@link #decide} keeps it with the decision). */
    public Document reject(Ctx c, ReasonCode code, Evidence e, List<ReasonCode> flags, List<Integer> sampled, int reexecuted) {
        Verdict v = new Verdict(c.taskId(), c.submissionHash(), false, code, flags, sampled, reexecuted, c.plan().bitExact() ? "bit-exact" : "relative-l2",
                calibration(c.plan()), e, Instant.now().getEpochSecond());
        return new Document(v, v.evidenceHash());
    }

    /**
     * After the decision committed: the bucket's copy of the task's evidence document, at {@code evidence/<taskId>/<hash>.json}
     * (the database holds it already; a failure here loses nothing and is logged).
     */
    public void publishEvidence(String taskId) {
        try {
            List<Object[]> rows = io.fedmarket.functions.http.Db.session(s -> s.createNativeQuery(
                    "select s.evidence_doc, v.evidence from submissions s left join verdicts v on v.task_id = s.task_id where s.task_id = :t", Object[].class)
                    .setParameter("t", taskId).getResultList());
            if (rows.isEmpty() || rows.get(0)[0] == null) {
                return;
            }
            String doc = (String) rows.get(0)[0];
            String hash = io.fedmarket.fl.proof.Hashes.hex(io.fedmarket.fl.proof.Hashes.keccak(doc.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            artifacts.putJson(evidenceKey(taskId, hash), doc);
        } catch (RuntimeException e) {
            LOG.warnf("evidence of %s not copied to the bucket (it stays in the database): %s", taskId, e.getMessage());
        }
    }

    /** The plan's tolerance and where it came from (the model's shipped calibration, or the builder's number); null when bit-exact. */
    public static ToleranceCalibration calibration(JobPlan plan) {
        return plan.toleranceCalibration();
    }

    public static String evidenceKey(String taskId, String evidenceHash) {
        return "evidence/" + taskId + "/" + evidenceHash + ".json";
    }

    /**
     * Decides once, in the caller's transaction: the submission becomes DECIDED and its verdict goes to the verdicts
     * queue through the outbox. A submission decided before is left alone (returns false).
     */
    public Uni<Boolean> decide(Mutiny.Session s, Ctx c, boolean accepted, String reason, String evidenceHash) {
        return decide(s, c, accepted, reason, evidenceHash, null);
    }

    /** As {@link #decide(Mutiny.Session, Ctx, boolean, String, String)}, keeping the rejection's verdict document with the decision. */
    public Uni<Boolean> decide(Mutiny.Session s, Ctx c, boolean accepted, String reason, String evidenceHash, Document doc) {
        VerdictReached v = new VerdictReached(c.taskId(), c.jobId(), c.round(), c.submitter(), accepted, reason, evidenceHash);
        return s.createNativeQuery("update submissions set stage = 'DECIDED', evidence_doc = :doc where task_id = :t and stage <> 'DECIDED'")
                .setParameter("doc", doc == null ? null : doc.verdict().canonicalJson())
                .setParameter("t", c.taskId()).executeUpdate()
                .chain(n -> n == 0 ? Uni.createFrom().item(false)
                        : outbox.add(s, Queues.VERDICTS, "verdict:" + c.taskId(), Json.write(v)).map(x -> {
                            LOG.infof("%s: %s %s", c.taskId(), accepted ? "ACCEPTED" : "REJECTED", reason);
                            return true;
                        }));
    }

    /** Lower-case addresses, the submitter first, without repeats. */
    public static List<String> exclude(String submitter, List<String> more) {
        List<String> out = new ArrayList<>();
        out.add(submitter.toLowerCase());
        for (String m : more) {
            if (m != null && !out.contains(m.toLowerCase())) {
                out.add(m.toLowerCase());
            }
        }
        return out;
    }
}
