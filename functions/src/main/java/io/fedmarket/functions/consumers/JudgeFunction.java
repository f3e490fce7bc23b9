package io.fedmarket.functions.consumers;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.fl.verify.ComparisonPolicy;
import io.fedmarket.fl.verify.Evidence;
import io.fedmarket.fl.verify.ReasonCode;
import io.fedmarket.functions.artifacts.Artifacts;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.outbox.Outbox;
import io.fedmarket.functions.rounds.Verification;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.messages.RevealRequest;
import io.fedmarket.pol.ReexecSigner;
import io.fedmarket.pol.TrailManifest;
import io.quarkus.funqy.Funq;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.reactive.mutiny.Mutiny;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Lambda {@code judge}: the signed answer of a re-execution, compared with what the submitter committed.
 * <ul>
 *   <li>An answer counts only when its EIP-712 signature recovers to the worker it names, that worker is bonded, it is
 *   neither the submitter nor excluded from the request, and it is the worker verify drew for the request (at random,
 *   from the job's eligible re-executors: a submitter cannot steer its segments to an accomplice by polling faster);
 *   anything else is logged and ignored, and the request goes back on the queue for the drawn worker.</li>
 *   <li>The re-executed end state must be the committed checkpoint: bit-exact, or within the job's calibrated relative
 *   L2 distance when its kernels are not deterministic (the distance is recorded either way).</li>
 *   <li>No rejection rests on one worker's word: a mismatch is re-executed by yet another worker (CONFIRM) and only a
 *   confirmed mismatch rejects, with evidence naming the segment, both re-executors' end hashes and the artifacts; a
 *   confirmation that matches overrules the first answer (recorded as DISREGARDED).</li>
 *   <li>A re-executor's own failure (its error) is not evidence against the submitter: the segment goes to another
 *   worker, and after {@link Verification#MAX_ATTEMPTS} attempts the update is left out as INCONCLUSIVE, unpaid and
 *   unslashed.</li>
 *   <li>When every drawn segment has a matching answer the update is ACCEPTED.</li>
 * </ul>
 * Idempotent on the re-execution id: an answer is recorded once, a decided submission is never decided again.
 */
public class JudgeFunction {
    private static final Logger LOG = Logger.getLogger(JudgeFunction.class);

    @Inject
    Verification verification;

    @Inject
    Artifacts artifacts;

    @Inject
    Outbox outbox;

    @ConfigProperty(name = "fedmarket.chain-id")
    long chainId;

    @ConfigProperty(name = "fedmarket.marketplace-address")
    Optional<String> marketplace;

    @ConfigProperty(name = "fedmarket.dispute-window", defaultValue = "PT1H")
    java.time.Duration disputeWindow;

    private volatile ReexecSigner signer;

    ReexecSigner signer() {
        if (signer == null) {
            String address = marketplace.filter(a -> !a.isBlank()).orElseThrow(() -> new Records.PoisonRecord(
                    "judge cannot check re-execution signatures: FEDMARKET_MARKETPLACE_ADDRESS (the EIP-712 verifying contract) is not set"));
            signer = new ReexecSigner(chainId, address);
        }
        return signer;
    }

    @Funq("judge")
    public void judge(SQSEvent.SQSMessage record) {
        Records.handle("judge", record, ReexecResult.class, this::apply);
    }

    record Request(String id, String taskId, int segment, String purpose, int attempt, List<String> exclude, String status, String assignee) {
    }

    private static String reqId(Request r, Verification.Ctx c) {
        return r.id();
    }

    /** How an answer compares with the commitment. */
    record Comparison(String status, Double distance, String detail) {
    }

    static byte[] bytes32(String hex) {
        return hex == null ? new byte[32] : Hashes.fromHex(hex);
    }

    void apply(ReexecResult r) {
        if (r.reexecId() == null || r.taskId() == null) {
            throw new Records.PoisonRecord("re-execution result lacks reexecId or taskId");
        }
        MDC.put("taskId", r.taskId());
        MDC.put("reexecId", r.reexecId());
        List<Object[]> rows = Db.session(s -> s.createNativeQuery("select task_id, segment, purpose, attempt, exclude, status, assignee from reexec_requests where id = :id",
                Object[].class).setParameter("id", r.reexecId()).getResultList());
        if (rows.isEmpty()) {
            LOG.warnf("answer %s names no re-execution this marketplace requested: ignored", r.reexecId());
            return;
        }
        Object[] q = rows.get(0);
        Request req = new Request(r.reexecId(), (String) q[0], ((Number) q[1]).intValue(), (String) q[2], ((Number) q[3]).intValue(),
                Arrays.asList(Json.parse((String) q[4], String[].class)), (String) q[5], (String) q[6]);
        if (!req.taskId().equals(r.taskId()) || req.segment() != r.segment()) {
            LOG.warnf("answer %s is for task %s segment %d, the request was for %s segment %d: ignored", r.reexecId(), r.taskId(), r.segment(),
                    req.taskId(), req.segment());
            return;
        }
        if (!req.status().equals("SENT") && !req.status().equals("TIMED_OUT")) {
            LOG.infof("answer %s recorded before (%s)", r.reexecId(), req.status());
            return;
        }
        Verification.Ctx c = Db.session(s -> verification.load(s, req.taskId(), false));
        if (c == null || !c.stage().equals("DRAWN")) {
            LOG.infof("answer %s: the submission is %s: nothing left to decide", r.reexecId(), c == null ? "gone" : c.stage());
            return;
        }
        String worker = r.worker() == null ? null : r.worker().toLowerCase();
        Optional<TrailManifest> kept = verification.manifest(c);
        if (kept.isEmpty()) {
            // only a submission drawn before manifests were kept with it can lack one: left out, never slashed
            boolean decided = Db.session(s -> verification.decide(s, c, false, "INCONCLUSIVE: the trail manifest " + c.trailUri()
                    + " is no longer in the bucket", null));
            if (decided) {
                outbox.relay(10);
            }
            return;
        }
        TrailManifest tm = kept.get();
        String forged = signatureProblem(r, worker);
        if (forged != null) {
            // whoever sent it is unknown: the worker it names is not to blame (excluding it would let anyone unseat the drawn
            // worker for free, again and again, until an accomplice is drawn). The request goes back on the queue, unchanged,
            // for the drawn worker; once per distinct forged answer
            Db.session(s -> verification.resend(s, c, tm, r.reexecId(), req.segment(), Verification.exclude(c.submitter(), req.exclude()),
                    "forged-" + Hashes.hex(Hashes.keccak(String.valueOf(r.signature()).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                            String.valueOf(r.worker()).getBytes(java.nio.charset.StandardCharsets.UTF_8))).substring(2, 18)));
            outbox.relay(10);
            LOG.warnf("answer %s ignored: %s; the request is back on the queue for the drawn worker", r.reexecId(), forged);
            return;
        }
        String why = standingProblem(worker, c, req);
        if (why != null) {
            // a proven sender that may not answer it (not drawn, the submitter, excluded, unbonded, removed): it is excluded from
            // now on and the request goes back on the queue, for the drawn worker or, if that was the sender, a new draw
            Db.session(s -> verification.resend(s, c, tm, r.reexecId(), req.segment(), Verification.exclude(c.submitter(), concat(req.exclude(), worker)), null));
            outbox.relay(10);
            LOG.warnf("answer %s ignored: %s; the request is back on the queue for another worker", r.reexecId(), why);
            return;
        }
        Comparison cmp = compare(r, c, tm, req.segment());
        List<String[]> proven = new ArrayList<>(); // evidence documents of re-executors proven false in this transaction: {key, doc}
        String outcome = Db.session(s -> verification.load(s, c.taskId(), true).chain(locked -> !"DRAWN".equals(locked.stage())
                ? Uni.createFrom().item("already decided")
                : s.createNativeQuery("update reexec_requests set status = :st, verifier = :w, end_hash = :h, distance = :d, error = :e, signature = :sig, "
                                + "wall_millis = :ms, answered_at = :now, end_uri = :eu where id = :id and status in ('SENT', 'TIMED_OUT') "
                                // still drawn for this worker: a redraw that committed meanwhile (its drawn worker removed from the job) wins
                                + "and (assignee is null or assignee = :w)")
                        .setParameter("eu", r.endUri())
                        .setParameter("st", cmp.status().equals("UNVERIFIABLE") || cmp.status().equals("REVEAL_NOT_SERVED") ? "ERROR" : cmp.status())
                        .setParameter("w", worker).setParameter("h", r.endHash()).setParameter("d", cmp.distance())
                        .setParameter("e", cmp.status().equals("ERROR") || cmp.status().equals("UNVERIFIABLE") || cmp.status().equals("REVEAL_NOT_SERVED")
                                ? cmp.detail() : null).setParameter("sig", r.signature())
                        .setParameter("ms", r.wallMillis()).setParameter("now", Instant.now()).setParameter("id", r.reexecId()).executeUpdate()
                        .chain(n -> n == 0 ? Uni.createFrom().item("not recorded: answered by another delivery, or redrawn meanwhile")
                                : next(s, locked, tm, req, worker, cmp, proven))));
        LOG.infof("answer %s from %s on segment %d of %s: %s -> %s", r.reexecId(), worker, req.segment(), c.taskId(), cmp.status(), outcome);
        outbox.relay(10);
        if (outcome.startsWith("rejected")) {
            verification.publishEvidence(c.taskId());
        }
        for (String[] doc : proven) {
            try {
                artifacts.putJson(doc[0], doc[1]);
            } catch (RuntimeException e) {
                LOG.warnf("evidence %s not copied to the bucket (it stays in the database): %s", doc[0], e.getMessage());
            }
        }
    }

    /** Why the answer is not provably from the worker it names (null when its signature recovers to that worker). */
    private String signatureProblem(ReexecResult r, String worker) {
        if (worker == null || !worker.matches("^0x[0-9a-f]{40}$")) {
            return "it names no worker";
        }
        if (r.signature() == null || !r.signature().matches("^0x[0-9a-fA-F]{130}$")) {
            return "it is not signed";
        }
        String signedBy;
        try {
            signedBy = signer().recover(Hashes.fromHex(r.signature()), r.reexecId(), r.segment(), bytes32(r.startHash()), bytes32(r.endHash())).toLowerCase();
        } catch (RuntimeException e) {
            return "its signature cannot be recovered: " + e.getMessage();
        }
        if (!signedBy.equals(worker)) {
            return "its signature recovers to " + signedBy + ", not to " + worker;
        }
        return null;
    }

    /** Why the (proven) sender may not answer this request, or null when it may. */
    private String standingProblem(String worker, Verification.Ctx c, Request req) {
        if (worker.equals(c.submitter()) || req.exclude().contains(worker)) {
            return worker + " may not re-execute this segment (the submitter, or a re-executor of it before)";
        }
        if (req.assignee() != null && !req.assignee().equalsIgnoreCase(worker)) {
            return worker + " was not drawn for this re-execution (" + req.assignee() + " was): only the drawn worker's answer counts";
        }
        Object[] standing = Db.session(s -> s.createNativeQuery("select coalesce((select amount from bonds where address = :w), 0), "
                        + "(select count(*) from job_participants where job_id = :j and address = :w and removed_at is not null) "
                        + "+ (select count(*) from slashes where address = :w and status in ('PENDING', 'POSTED'))", Object[].class)
                .setParameter("w", worker).setParameter("j", c.jobId()).getSingleResult());
        if (Sql.big(standing[0]).signum() <= 0) {
            return worker + " has no bond";
        }
        if (((Number) standing[1]).longValue() > 0) {
            return worker + " was removed from this job for cheating, or is being slashed: its word counts for nothing here";
        }
        return null;
    }

    /**
     * MATCH, MISMATCH (with the distance in tolerance mode) or ERROR (the re-executor could not run it, or its answer is not
     * about a state it shows). Every end hash is judged by the end state the re-executor uploaded ({@code endUri}): an answer
     * counts only when that state is in the bucket and hashes (parameters, momentum, step: {@link ModelState#stateHash}) to the
     * end hash it signed, so a MATCH is a claim about a concrete state, not the committed hash read off the trail.
     */
    private Comparison compare(ReexecResult r, Verification.Ctx c, TrailManifest tm, int segment) {
        String committedStart = tm.checkpointHashes().get(segment);
        String committedEnd = tm.checkpointHashes().get(segment + 1);
        // only the hashes are signed: an answer with a signed end hash is judged by it, whatever unsigned error text rides along
        // (anyone could copy an honest answer and add one); an answer without an end hash is the re-executor's own failure
        if (r.endHash() == null) {
            if (r.error() != null && r.error().startsWith("REVEAL_NOT_SERVED") && c.task().isPrivate()) {
                // the drawn re-executor says the data owner did not reveal the segment's samples to it: the bucket says whether
                // that is so (only the owner's workers write their seals), so the claim alone never leaves an honest owner out
                String me = r.worker() == null ? "" : r.worker().toLowerCase();
                boolean sealed = c.task().trainers().stream().anyMatch(o -> artifacts.exists(RevealRequest.sealedKey(o, r.reexecId(), me)));
                return sealed ? new Comparison("ERROR", null, "the re-executor says the reveal was not served, but the owner's workers sealed it: "
                        + "another re-executor is drawn")
                        : new Comparison("REVEAL_NOT_SERVED", null, r.error());
            }
            return new Comparison("ERROR", null, r.error() == null ? "no end hash" : r.error());
        }
        if (r.startHash() != null && !r.startHash().equalsIgnoreCase(committedStart)) {
            return new Comparison("ERROR", null, "started from " + r.startHash() + ", not from the committed checkpoint " + committedStart);
        }
        if (r.endUri() == null) {
            return new Comparison("ERROR", null, "the answer names no end state (endUri): an end hash alone proves nothing");
        }
        ModelState g;
        try {
            Optional<byte[]> got = artifacts.find(r.endUri());
            if (got.isEmpty()) {
                return new Comparison("ERROR", null, "the re-executed end state " + r.endUri() + " does not exist");
            }
            g = ModelState.decode(got.get(), r.endUri());
        } catch (RuntimeException e) {
            if (!VerifyFunction.unreadable(e)) {
                throw e;
            }
            return new Comparison("ERROR", null, "the re-executed end state " + r.endUri() + " cannot be read: " + e.getMessage());
        }
        if (!Hashes.hex(g.stateHash()).equalsIgnoreCase(r.endHash())) {
            return new Comparison("ERROR", null, "the re-executed end state " + r.endUri() + " does not hash to the end hash the re-executor signed");
        }
        if (r.endHash().equalsIgnoreCase(committedEnd)) {
            return new Comparison("MATCH", c.plan().bitExact() ? null : 0.0, null);
        }
        if (c.plan().bitExact()) {
            return new Comparison("MISMATCH", null, null);
        }
        Optional<byte[]> end = artifacts.find(tm.checkpointUris().get(segment + 1));
        Optional<byte[]> start = artifacts.find(tm.checkpointUris().get(segment));
        // the committed checkpoints, as committed: a copy that is gone or no longer hashes to the trail proves nothing against
        // the submitter (nor for it): the update is left out
        ModelState s0 = start.map(b -> ModelState.decode(b, "start")).orElse(null);
        ModelState e0 = end.map(b -> ModelState.decode(b, "end")).orElse(null);
        if (s0 == null || e0 == null || !Hashes.hex(s0.stateHash()).equalsIgnoreCase(committedStart)
                || !Hashes.hex(e0.stateHash()).equalsIgnoreCase(committedEnd)) {
            return new Comparison("UNVERIFIABLE", null, "the committed checkpoints " + segment + " and " + (segment + 1)
                    + " are no longer in the bucket as committed: nothing to compare with");
        }
        // the whole state is compared (parameters and momentum), not only the parameters
        double d = ComparisonPolicy.relativeDistance(s0.flatState(), e0.flatState(), g.flatState());
        return new Comparison(d <= c.plan().tolerance() ? "MATCH" : "MISMATCH", d, null);
    }

    /** What an answer leads to, in the submission's transaction. */
    private Uni<String> next(Mutiny.Session s, Verification.Ctx c, TrailManifest tm, Request req, String worker, Comparison cmp, List<String[]> proven) {
        List<String> exclude = Verification.exclude(c.submitter(), concat(req.exclude(), worker));
        switch (cmp.status()) {
            case "UNVERIFIABLE" -> {
                return verification.decide(s, c, false, "INCONCLUSIVE: " + cmp.detail(), null).replaceWith("inconclusive");
            }
            case "REVEAL_NOT_SERVED" -> {
                // a private shard's owner that does not show the drawn samples cannot have its update verified: left out and
                // unpaid, not slashed (a refusal is indistinguishable from an owner's machine being down, and costs it the
                // round's pay every time; the bond answers for provably false work only)
                return verification.decide(s, c, false, "REVEAL_NOT_SERVED: segment " + req.segment() + " of the private shard was not revealed to the drawn "
                        + "re-executor " + worker + " in time (" + cmp.detail() + "): the update cannot be verified and is left out unpaid", null)
                        .replaceWith("left out: the owner did not reveal the drawn samples");
            }
            case "ERROR" -> {
                if (req.attempt() + 1 >= Verification.MAX_ATTEMPTS) {
                    return verification.decide(s, c, false, "INCONCLUSIVE: segment " + req.segment() + " could not be re-executed by "
                            + Verification.MAX_ATTEMPTS + " workers (last: " + cmp.detail() + ")", null).replaceWith("inconclusive");
                }
                return verification.dispatch(s, c, tm, req.segment(), req.purpose().equals("CONFIRM") ? "CONFIRM" : "RETRY", req.attempt() + 1, exclude)
                        .replaceWith("offered to another worker (" + cmp.detail() + ")");
            }
            default -> {
                return resolve(s, c, tm, req, exclude, cmp, proven);
            }
        }
    }

    /**
     * After a MATCH or MISMATCH on a segment, what all the answers on it so far decide. No rejection rests on one worker's
     * word, and no match overrules a mismatch on one worker's word either (a MATCH is the committed hash, which anyone can
     * read off the trail): answers that disagree get another drawn opinion until one side has two re-executors that agree
     * with each other and outnumber the other. Then, in a bit-exact job, where the answer is a fact anyone can recompute, the
     * re-executors of the losing side signed a provably false answer and are slashed (and removed from the job).
     * <ul>
     *   <li>only matches: the segment matched;</li>
     *   <li>only mismatches: two different workers reject (SEGMENT_MISMATCH), else another confirmation;</li>
     *   <li>both: at least two matches outnumbering the mismatches overrule them (DISREGARDED; the mismatchers slashed when
     *   bit-exact); at least two mismatches that agree with each other on the end state (bit-exact: the same end hash)
     *   outnumbering the matches reject the update (the matchers slashed when bit-exact); otherwise another opinion, and after
     *   the last attempt INCONCLUSIVE.</li>
     * </ul>
     */
    private Uni<String> resolve(Mutiny.Session s, Verification.Ctx c, TrailManifest tm, Request req, List<String> exclude, Comparison cmp, List<String[]> proven) {
        int seg = req.segment();
        return s.createNativeQuery("select id, verifier, status, end_hash, distance, signature, end_uri from reexec_requests where task_id = :t and segment = :seg "
                        + "and status in ('MATCH', 'MISMATCH') order by answered_at, id", Object[].class)
                .setParameter("t", c.taskId()).setParameter("seg", seg).getResultList()
                .chain(rows -> {
                    List<Object[]> matches = rows.stream().filter(r -> "MATCH".equals(r[2])).toList();
                    List<Object[]> mismatches = rows.stream().filter(r -> "MISMATCH".equals(r[2])).toList();
                    long m = matches.stream().map(r -> r[1]).distinct().count();
                    long x = mismatches.stream().map(r -> r[1]).distinct().count();
                    boolean bitExact = c.plan().bitExact();
                    if (x == 0) {
                        return segmentMatched(s, c);
                    }
                    if (m == 0) {
                        if (x >= 2) {
                            return reject(s, c, tm, req, shape(mismatches), cmp);
                        }
                        return another(s, c, tm, req, exclude, "mismatch: confirmation asked of another worker", "re-executors of segment " + seg
                                + " disagree (" + x + " mismatch, " + m + " match)");
                    }
                    if (m >= 2 && m > x) {
                        String why = "contradicted by " + m + " re-executions that reproduce the committed checkpoint " + (seg + 1);
                        Uni<Integer> chain = s.createNativeQuery("update reexec_requests set status = 'DISREGARDED', error = :why where task_id = :t and segment = :seg "
                                        + "and status = 'MISMATCH'").setParameter("why", why).setParameter("t", c.taskId()).setParameter("seg", seg).executeUpdate();
                        if (bitExact) {
                            for (Object[] liar : mismatches) {
                                chain = chain.chain(() -> proveFalse(s, c, tm, seg, liar, matches, why, proven));
                            }
                        }
                        return chain.chain(() -> segmentMatched(s, c)).map(o -> "mismatch overruled by " + m + " matches" + (bitExact ? " (its signer slashed)" : "")
                                + "; " + o);
                    }
                    List<Object[]> agreeing = bitExact ? largestGroup(mismatches) : mismatches;
                    long a = agreeing.stream().map(r -> r[1]).distinct().count();
                    if (a >= 2 && a > m) {
                        String why = "contradicted by " + a + " re-executions that agree with each other on the end state "
                                + (bitExact ? String.valueOf(agreeing.get(0)[3]) : "") + ", not the committed checkpoint " + (seg + 1);
                        Uni<String> rejected = reject(s, c, tm, req, shape(agreeing), cmp);
                        if (!bitExact) {
                            return rejected;
                        }
                        Uni<Integer> chain = Uni.createFrom().item(0);
                        for (Object[] liar : matches) {
                            chain = chain.chain(() -> proveFalse(s, c, tm, seg, liar, agreeing, why, proven));
                        }
                        return chain.chain(() -> rejected).map(o -> o + "; " + m + " false match(es) slashed");
                    }
                    return another(s, c, tm, req, exclude, "re-executors of segment " + seg + " disagree (" + m + " match, " + x
                            + " mismatch): another opinion asked for", "re-executors of segment " + seg + " disagree (" + x + " mismatch, " + m + " match)");
                });
    }

    /** Another drawn opinion on the segment (a CONFIRM request), or INCONCLUSIVE after the last attempt. */
    private Uni<String> another(Mutiny.Session s, Verification.Ctx c, TrailManifest tm, Request req, List<String> exclude, String asked, String disagree) {
        if (req.attempt() + 1 >= Verification.MAX_ATTEMPTS + 2) {
            return verification.decide(s, c, false, "INCONCLUSIVE: " + disagree, null).replaceWith("inconclusive");
        }
        return verification.dispatch(s, c, tm, req.segment(), "CONFIRM", req.attempt() + 1, exclude).replaceWith(asked);
    }

    /** Rows as {@link #reject} takes them: id, verifier, end hash, distance. */
    private static List<Object[]> shape(List<Object[]> rows) {
        return rows.stream().map(r -> new Object[]{r[0], r[1], r[3], r[4]}).toList();
    }

    /** The mismatches that name the most common end hash (bit-exact: agreeing answers name the same state), one per worker. */
    private static List<Object[]> largestGroup(List<Object[]> mismatches) {
        java.util.Map<String, List<Object[]>> by = new java.util.LinkedHashMap<>();
        for (Object[] r : mismatches) {
            List<Object[]> g = by.computeIfAbsent(String.valueOf(r[3]).toLowerCase(), h -> new ArrayList<>());
            if (g.stream().noneMatch(o -> o[1].equals(r[1]))) {
                g.add(r);
            }
        }
        return by.values().stream().max(java.util.Comparator.comparingInt(List::size)).orElse(List.of());
    }

    /** Every drawn segment matched (a MATCH and no standing MISMATCH): ACCEPTED; otherwise the count so far. */
    private Uni<String> segmentMatched(Mutiny.Session s, Verification.Ctx c) {
        return s.createNativeQuery("select distinct r.segment from reexec_requests r where r.task_id = :t and r.status = 'MATCH' and not exists "
                        + "(select 1 from reexec_requests x where x.task_id = r.task_id and x.segment = r.segment and x.status = 'MISMATCH')", Integer.class)
                .setParameter("t", c.taskId()).getResultList()
                .chain(matched -> {
                    Set<Integer> ok = new HashSet<>(matched);
                    if (!ok.containsAll(c.segments())) {
                        return Uni.createFrom().item("segment matches; " + ok.size() + " of " + c.segments().size() + " segments matched");
                    }
                    return verification.decide(s, c, true, "ACCEPTED: " + c.segments().size() + " segment(s) " + c.segments()
                                    + " re-executed by other workers, " + (c.plan().bitExact() ? "bit-exact" : "within " + c.plan().tolerance())
                                    + (c.flags().isEmpty() ? "" : "; flags " + c.flags()), null)
                            .replaceWith("accepted");
                });
    }

    /**
     * A re-executor's signed answer proven false (bit-exact: {@code others}, at least two other drawn re-executors, agree with
     * each other on another end state, each shown by its own upload): its answer is DISREGARDED with the evidence document
     * (the answer, its signature and end state, and the agreeing answers), a PENDING slash of its whole stake is recorded with
     * that document's keccak as evidence hash and its SLASH request queued (settle sends it after the dispute window, as for
     * a submitter's), and it is removed from the job, its open requests drawn anew. Once per answer.
     */
    private Uni<Integer> proveFalse(Mutiny.Session s, Verification.Ctx c, TrailManifest tm, int seg, Object[] liar, List<Object[]> others, String why,
                                    List<String[]> proven) {
        String id = (String) liar[0];
        String address = ((String) liar[1]).toLowerCase();
        java.util.Map<String, Object> doc = new java.util.LinkedHashMap<>();
        doc.put("kind", "FALSE_REEXECUTION_ANSWER");
        doc.put("taskId", c.taskId());
        doc.put("submissionHash", c.submissionHash());
        doc.put("segment", seg);
        doc.put("committedStartHash", tm.checkpointHashes().get(seg));
        doc.put("committedEndHash", tm.checkpointHashes().get(seg + 1));
        doc.put("comparison", "bit-exact");
        doc.put("answer", answerDoc(liar));
        doc.put("contradictedBy", others.stream().map(JudgeFunction::answerDoc).toList());
        doc.put("detail", "re-executor " + address + " signed that segment " + seg + " ends at " + liar[3] + "; " + why);
        String text = Json.write(doc);
        String hash = Hashes.hex(Hashes.keccak(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Instant now = Instant.now();
        return s.createNativeQuery("update reexec_requests set status = 'DISREGARDED', error = :why, evidence_doc = :doc where id = :id")
                .setParameter("why", "proven false: " + why + " (slashed)").setParameter("doc", text).setParameter("id", id).executeUpdate()
                .chain(() -> s.createNativeQuery("insert into slashes (id, job_id, round_no, task_id, address, amount, evidence_hash, status, dispute_until, created_at) "
                                + "values (:id, :j, :r, :k, :a, coalesce((select b.amount + b.unbonding from bonds b where b.address = :a), 0), :ev, 'PENDING', :until, :now) "
                                + "on conflict (id) do nothing")
                        .setParameter("id", java.util.UUID.nameUUIDFromBytes(("slash:" + id).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                        .setParameter("j", c.jobId()).setParameter("r", c.round()).setParameter("k", id).setParameter("a", address).setParameter("ev", hash)
                        .setParameter("until", now.plus(disputeWindow)).setParameter("now", now).executeUpdate())
                .chain(n -> n == 0 ? Uni.createFrom().item(0)
                        : outbox.add(s, io.fedmarket.config.Queues.SETTLE, "slash:" + id, Json.write(io.fedmarket.messages.SettleRequest.slash(c.jobId(), c.round(), id)))
                        .chain(() -> s.createNativeQuery("update job_participants set removed_at = :now, removed_reason = :why where job_id = :j and address = :a "
                                        + "and removed_at is null").setParameter("now", now).setParameter("why", "round " + c.round() + ": signed a false answer for " + id)
                                .setParameter("j", c.jobId()).setParameter("a", address).executeUpdate())
                        .chain(() -> verification.redrawAssignedTo(s, c.jobId(), address))
                        .invoke(() -> {
                            proven.add(new String[]{Verification.evidenceKey(c.taskId(), hash), text});
                            LOG.warnf("%s: re-executor %s signed a provably false answer (%s): slashed after the dispute window, evidence %s", c.taskId(), address, id, hash);
                        }));
    }

    private static java.util.Map<String, Object> answerDoc(Object[] r) {
        java.util.Map<String, Object> a = new java.util.LinkedHashMap<>();
        a.put("reexecId", r[0]);
        a.put("reexecutor", r[1]);
        a.put("endHash", r[3]);
        a.put("endUri", r[6]);
        a.put("signature", r[5]);
        a.put("answer", "reexec/" + r[0] + ".json");
        return a;
    }

    private Uni<String> reject(Mutiny.Session s, Verification.Ctx c, TrailManifest tm, Request req, List<Object[]> mismatches, Comparison cmp) {
        int seg = req.segment();
        if (tm.adopted(seg)) {
            // the submitter resumed another worker's progress and says this segment was (in part) that worker's training: the
            // mismatch is real, but not provably the submitter's doing (whoever writes a progress file could frame a resumer)
            return verification.decide(s, c, false, "INCONCLUSIVE: segment " + seg + " does not re-execute, but it lies within the first "
                    + tm.adoptedSteps() + " steps, which the submitter resumed from another worker's progress (not provably the submitter's: not slashed)",
                    null).replaceWith("inconclusive (adopted segment)");
        }
        List<String> uris = new ArrayList<>();
        uris.add(tm.checkpointUris().get(seg));
        uris.add(tm.checkpointUris().get(seg + 1));
        StringBuilder who = new StringBuilder();
        String got = null;
        for (Object[] m : mismatches) {
            uris.add("reexec/" + m[0] + ".json");
            who.append(who.length() == 0 ? "" : " and ").append(m[1]).append(" (ends at ").append(String.valueOf(m[2]).substring(0, Math.min(14, String.valueOf(m[2]).length())))
                    .append("…").append(m[3] == null ? "" : ", distance " + m[3]).append(")");
            got = (String) m[2];
        }
        Evidence e = new Evidence(seg, got, tm.checkpointHashes().get(seg + 1), uris, cmp.distance() == null ? null : Double.toString(cmp.distance()),
                c.plan().bitExact() ? null : Double.toString(c.plan().tolerance()),
                "segment " + seg + " re-executed from the committed checkpoint " + seg + " by " + who + " does not reproduce committed checkpoint "
                        + (seg + 1) + " (" + tm.checkpointHashes().get(seg + 1).substring(0, 14) + "…)");
        Verification.Document doc = verification.reject(c, ReasonCode.SEGMENT_MISMATCH, e,
                c.flags().stream().map(ReasonCode::valueOf).toList(), c.segments(), mismatches.size());
        return verification.decide(s, c, false, ReasonCode.SEGMENT_MISMATCH + ": " + e.detail(), doc.evidenceHash(), doc)
                .replaceWith("rejected (confirmed mismatch)");
    }

    private static List<String> concat(List<String> a, String b) {
        List<String> out = new ArrayList<>(a);
        out.add(b);
        return out;
    }
}
