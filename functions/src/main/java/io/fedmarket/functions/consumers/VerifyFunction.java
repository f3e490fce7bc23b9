package io.fedmarket.functions.consumers;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.fedmarket.config.Queues;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.fl.proof.ProofTrail;
import io.fedmarket.fl.proof.TrailHeader;
import io.fedmarket.fl.verify.ComparisonPolicy;
import io.fedmarket.fl.verify.Evidence;
import io.fedmarket.fl.verify.ReasonCode;
import io.fedmarket.fl.verify.UpdateVerifier;
import io.fedmarket.functions.artifacts.Artifacts;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.outbox.Outbox;
import io.fedmarket.functions.outbox.QueueSender;
import io.fedmarket.functions.rounds.ChainClock;
import io.fedmarket.functions.rounds.Verification;
import io.fedmarket.messages.Submission;
import io.fedmarket.messages.VerdictReached;
import io.fedmarket.pol.ProofTrails;
import io.fedmarket.pol.SubmissionSigner;
import io.fedmarket.pol.TrailManifest;
import io.quarkus.funqy.Funq;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Lambda {@code verify}: a worker's submission, from intake to the re-execution draw.
 * <ol>
 *   <li><b>Intake</b> (one transaction): the task exists and belongs to this job and round; the submitter is a GPU
 *   participant of the job that has not been removed for cheating (any of them may take any task: a task belongs to a
 *   shard); the round is still open. The submission is recorded once (the first one wins; a late or foreign one is
 *   logged and left out, never paid), the task SUBMITTED by the submitter, and the block number after the current one
 *   noted for the draw. The EIP-712 signature must recover to the submitter and the submitter must be bonded, else a
 *   BAD_SIGNATURE rejection without evidence hash goes to the verdicts queue (a signature that is not the worker's is
 *   no evidence against the worker: never slashed).</li>
 *   <li><b>Checks</b>: the trail manifest must be what was signed (its Merkle root is the signed proof root, its last
 *   checkpoint the submitted update), start at the round's model, and be as long as the task; cheap statistical checks
 *   (update norm, cosine to the robust centre of the round's updates so far) raise q to the escalated q. A failed
 *   structural check rejects with evidence (slashed after the dispute window).</li>
 *   <li><b>Draw</b>: once the noted block is mined, q segments are drawn from keccak(submission hash ‖ block hash),
 *   randomness the worker could not know when it signed; the committed checkpoints of the drawn segments must hash to
 *   the trail; each segment goes to the re-execution queue for a bonded worker drawn at random (not the submitter; see
 *   {@link Verification#dispatch}), and the judge function decides from the signed answers. The function waits for that block
 *   itself (up to {@code fedmarket.verify.block-wait}, polling every {@link #BLOCK_LOOK_MILLIS} ms: one block time at most,
 *   since the block is the next one); on a chain slower than that the message re-queues itself with a short delay.</li>
 *   <li><b>Timeouts</b>: the same message comes back after the re-execution timeout; an unanswered segment is offered
 *   again (up to {@link Verification#MAX_ATTEMPTS} re-executors), then the update is left out as INCONCLUSIVE: not
 *   paid, not slashed.</li>
 * </ol>
 */
public class VerifyFunction {
    private static final Logger LOG = Logger.getLogger(VerifyFunction.class);

    @Inject
    Outbox outbox;

    @Inject
    QueueSender sender;

    @Inject
    Artifacts artifacts;

    @Inject
    ChainClock clock;

    @Inject
    Verification verification;

    @Inject
    io.fedmarket.functions.rounds.CheapChecks cheapChecks;

    @ConfigProperty(name = "fedmarket.chain-id")
    long chainId;

    @ConfigProperty(name = "fedmarket.marketplace-address")
    Optional<String> marketplace;

    @ConfigProperty(name = "fedmarket.verify.block-poll", defaultValue = "PT2S")
    Duration blockPoll;

    /**
     * How long verify waits in the function for the draw's block (the one after the block the submission was recorded in)
     * before it re-queues the message with {@link #blockPoll}'s delay instead. A chain's block time bounds the wait: anvil
     * mines every second, an L2 every ~2 s, Ethereum every 12 s; the default covers all three (see functions/README.md,
     * "Round rhythm"). PT0S: never wait in the function (the re-queue only).
     */
    @ConfigProperty(name = "fedmarket.verify.block-wait", defaultValue = "PT15S")
    Duration blockWait;

    /** How often the in-function wait asks the node whether the draw's block is there. */
    static final long BLOCK_LOOK_MILLIS = 100;

    /**
     * The hash of block {@code n}, waiting for it in the function up to {@link #blockWait}: the draw then starts within
     * {@link #BLOCK_LOOK_MILLIS} of the block, not a re-queue delay and a poll later. Empty when it is not mined by then.
     */
    Optional<String> awaitBlock(long n) {
        long until = System.nanoTime() + blockWait.toNanos();
        while (true) {
            Optional<String> h = clock.blockHash(n);
            if (h.isPresent() || System.nanoTime() >= until) {
                return h;
            }
            try {
                Thread.sleep(BLOCK_LOOK_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
    }

    private volatile SubmissionSigner signer;

    SubmissionSigner signer() {
        if (signer == null) {
            String address = marketplace.filter(a -> !a.isBlank()).orElseThrow(() -> new Records.PoisonRecord(
                    "verify cannot check submission signatures: FEDMARKET_MARKETPLACE_ADDRESS (fedmarket.marketplace-address, the EIP-712 "
                            + "verifying contract) is not set"));
            signer = new SubmissionSigner(chainId, address);
        }
        return signer;
    }

    /** Who signed the submission (lower case), or why nobody can have. */
    String signerOf(Submission m) {
        try {
            return signer().recover(Hashes.fromHex(m.signature()), ProofTrails.taskKey(m.taskId()), Hashes.fromHex(m.updateHash()),
                    Hashes.fromHex(m.proofRoot()), m.steps(), m.gpuSeconds()).toLowerCase();
        } catch (RuntimeException e) { // not a recoverable signature (bad v, r or s)
            return "(none: " + e.getMessage() + ")";
        }
    }

    @Funq("verify")
    public void verify(SQSEvent.SQSMessage record) {
        Records.handle("verify", record, Submission.class, this::handle);
    }

    void handle(Submission m) {
        String intake = intake(m);
        if (intake.startsWith("recorded and rejected") || intake.startsWith("ignored")) {
            return;
        }
        advance(m, intake.startsWith("recorded;"));
    }

    String intake(Submission m) {
        if (m.taskId() == null || m.jobId() == null || m.worker() == null || !m.worker().matches("^0x[0-9a-fA-F]{40}$")
                || m.updateHash() == null || !m.updateHash().matches("^0x[0-9a-fA-F]{64}$")
                || m.proofRoot() == null || !m.proofRoot().matches("^0x[0-9a-fA-F]{64}$")
                || m.signature() == null || !m.signature().matches("^0x[0-9a-fA-F]{130}$") || m.gpuSeconds() < 0 || m.steps() < 1) {
            throw new Records.PoisonRecord("submission lacks task/job/worker or has malformed hashes, signature, steps or gpuSeconds");
        }
        MDC.put("jobId", m.jobId().toString());
        MDC.put("round", Integer.toString(m.round()));
        MDC.put("taskId", m.taskId());
        String worker = m.worker().toLowerCase();
        String signedBy = signerOf(m);
        if (!signedBy.equals(worker)) {
            // not the named worker's submission: recording it would let anyone take a task in an honest worker's name and
            // lock the real submission out (the first one wins); it is dropped, and the named worker is not judged by it
            LOG.warnf("submission of task %s names %s but its signature recovers to %s: dropped, not recorded", m.taskId(), worker, signedBy);
            return "ignored: signature recovers to " + signedBy + ", not to the named worker " + worker;
        }
        // the signed manifest (EIP-712 Trail(task, manifestHash) by the same key): it must be the worker's and lie under its own
        // prefix, or the message is not the worker's submission as it sent it (someone replayed its signatures with another
        // trail): dropped like a forged signature, so that it cannot lock the worker's own submission out
        String trailHash = null;
        String trailDoc = null;
        if (m.trailHash() != null || m.trailSignature() != null) {
            String why = trailProblem(m, worker);
            if (why != null) {
                LOG.warnf("submission of task %s by %s: %s: dropped, not recorded", m.taskId(), worker, why);
                return "ignored: " + why;
            }
            trailHash = m.trailHash().toLowerCase();
            trailDoc = snapshot(m.trailUri(), trailHash);
        }
        final String signedTrail = trailHash;
        final String snapshot = trailDoc;
        long drawBlock = clock.latestBlock() + 1;
        String subHash = Hashes.hex(ProofTrails.submissionHash(m.taskId(), Hashes.fromHex(m.updateHash()), Hashes.fromHex(m.proofRoot()),
                Hashes.fromHex(m.signature())));
        String result = Db.session(s -> s.createNativeQuery("select t.job_id, t.round_no, t.status, r.status, (select count(*) from job_participants p "
                                + "where p.job_id = t.job_id and p.kind = 'GPU' and p.address = :w and p.removed_at is null), "
                                + "(select worker from submissions where task_id = t.id), "
                                + "coalesce((select d.sample_count from data_providers d where d.id = t.data_provider), 1), "
                                + "greatest(1, extract(epoch from (now() - t.created_at))::bigint + 60), t.hyper_params from tasks t "
                                + "join rounds r on r.job_id = t.job_id and r.round_no = t.round_no where t.id = :t for update of t", Object[].class)
                .setParameter("t", m.taskId()).setParameter("w", worker).getResultList()
                .chain(rows -> {
                    if (rows.isEmpty()) {
                        return Uni.createFrom().failure(new Records.PoisonRecord("task " + m.taskId() + " does not exist"));
                    }
                    Object[] t = rows.get(0);
                    if (!m.jobId().equals(t[0]) || m.round() != ((Number) t[1]).intValue()) {
                        return Uni.createFrom().failure(new Records.PoisonRecord("task " + m.taskId() + " belongs to job " + t[0] + " round " + t[1]
                                + ", not to this submission's job " + m.jobId() + " round " + m.round()));
                    }
                    if (t[5] != null) {
                        return Uni.createFrom().item(worker.equals(t[5]) ? "already recorded" : "ignored: task already submitted by " + t[5]);
                    }
                    if (((Number) t[4]).longValue() == 0) {
                        // the worker took the task off the queue for nothing: it goes back on the queue for the job's own workers
                        boolean reoffer = "OPEN".equals(t[3]) && ("OFFERED".equals(t[2]) || "RUNNING".equals(t[2]));
                        return (reoffer ? s.createNativeQuery("select hyper_params from tasks where id = :t", String.class).setParameter("t", m.taskId())
                                .getSingleResult().chain(body -> outbox.add(s, Queues.TASKS, "task-reoffer:" + m.taskId() + ":" + worker, body))
                                .replaceWith(" (task re-offered)")
                                : Uni.createFrom().item("")).map(x -> "ignored: " + worker + " is not a GPU participant of job " + m.jobId()
                                + " (or was removed from it)" + x);
                    }
                    io.fedmarket.messages.TrainTask offered = Json.parse((String) t[8], io.fedmarket.messages.TrainTask.class);
                    if (!offered.trainableBy(worker)) {
                        // a private shard is trained by the workers that hold it: anybody else's update is not of that data
                        boolean reoffer = "OPEN".equals(t[3]) && ("OFFERED".equals(t[2]) || "RUNNING".equals(t[2]));
                        return (reoffer ? outbox.add(s, Queues.TASKS, "task-reoffer:" + m.taskId() + ":" + worker, (String) t[8]).replaceWith(" (task re-offered)")
                                : Uni.createFrom().item("")).map(x -> "ignored: " + worker + " does not hold the private shard of task " + m.taskId()
                                + " (only " + offered.trainers() + " train it)" + x);
                    }
                    if (!"OPEN".equals(t[3]) || "DROPPED".equals(t[2])) {
                        return Uni.createFrom().item("ignored: round " + m.round() + " is " + t[3] + " and the task " + t[2]
                                + " (a late update is not verified, aggregated or paid)");
                    }
                    // the weight FedAvg gives the update is the shard's as offered, not what the worker says; the GPU-seconds billed
                    // are at most the task's budget and the time since the task was published (plus a minute of clock skew)
                    long samples = Math.max(1, ((Number) t[6]).longValue());
                    long budget = offered.budgetSeconds();
                    long billed = Math.min(m.gpuSeconds(), Math.min(((Number) t[7]).longValue(), budget > 0 ? budget : Long.MAX_VALUE));
                    if (billed < m.gpuSeconds()) {
                        LOG.warnf("task %s: %d GPU-seconds claimed, %d billed (the task's budget and the time since it was published)", m.taskId(),
                                m.gpuSeconds(), billed);
                    }
                    return s.createNativeQuery("insert into submissions (task_id, worker, update_uri, update_hash, proof_root, steps, gpu_seconds, signature, "
                                    + "submitted_at, sample_count, trail_uri, draw_block, submission_hash, trail_hash, trail_signature, trail_doc, "
                                    + "worker_received_at, worker_trained_at, worker_sent_at, recorded_at, train_millis) "
                                    + "values (:t, :w, :u, :h, :p, :st, :g, :sig, :at, :n, :tr, :db, :sh, :th, :ts, :td, :wr, :wt, :ws, :rec, :tm) on conflict do nothing")
                            .setParameter("tm", Math.max(0L, m.trainMillis()))
                            .setParameter("wr", workerInstant(m, Submission.Timings::receivedAtMs))
                            .setParameter("wt", workerInstant(m, Submission.Timings::trainedAtMs))
                            .setParameter("ws", workerInstant(m, Submission.Timings::sentAtMs))
                            .setParameter("rec", Instant.now())
                            .setParameter("th", signedTrail).setParameter("ts", signedTrail == null ? null : m.trailSignature().toLowerCase())
                            .setParameter("td", snapshot)
                            .setParameter("n", (int) Math.min(Integer.MAX_VALUE, samples))
                            .setParameter("t", m.taskId()).setParameter("w", worker).setParameter("u", String.valueOf(m.updateUri()))
                            .setParameter("h", m.updateHash().toLowerCase()).setParameter("p", m.proofRoot().toLowerCase()).setParameter("st", m.steps())
                            .setParameter("g", billed).setParameter("sig", m.signature().toLowerCase())
                            .setParameter("at", m.submittedAtEpochSeconds() > 0 ? Instant.ofEpochSecond(m.submittedAtEpochSeconds()) : Instant.now())
                            .setParameter("tr", m.trailUri()).setParameter("db", drawBlock).setParameter("sh", subHash)
                            .executeUpdate()
                            .chain(n -> n == 0 ? Uni.createFrom().item("already recorded")
                                    : s.createNativeQuery("update tasks set status = 'SUBMITTED', worker = :w where id = :t and status in ('OFFERED', 'RUNNING')")
                                    .setParameter("w", worker).setParameter("t", m.taskId()).executeUpdate()
                                    .chain(() -> s.createNativeQuery("select coalesce((select amount from bonds where address = :w), 0)", Object.class)
                                            .setParameter("w", worker).getSingleResult())
                                    .chain(bond -> {
                                        String why = !signedBy.equals(worker) ? "signature recovers to " + signedBy + ", not to the submitter " + worker
                                                : Sql.big(bond).signum() <= 0 ? "the worker " + worker + " has no bond" : null;
                                        if (why == null) {
                                            return Uni.createFrom().item("recorded; signature and bond checked");
                                        }
                                        VerdictReached v = new VerdictReached(m.taskId(), m.jobId(), m.round(), worker, false,
                                                ReasonCode.BAD_SIGNATURE + ": " + why, null);
                                        return s.createNativeQuery("update submissions set stage = 'DECIDED' where task_id = :t").setParameter("t", m.taskId())
                                                .executeUpdate()
                                                .chain(() -> outbox.add(s, Queues.VERDICTS, "verdict:" + m.taskId(), Json.write(v)))
                                                .replaceWith("recorded and rejected (BAD_SIGNATURE: " + why + ")");
                                    }));
                }));
        LOG.infof("submission of task %s by %s: %s", m.taskId(), worker, result);
        if (result.contains("rejected") || result.contains("re-offered")) {
            outbox.relay(10);
        }
        return result;
    }

    /**
     * One of the worker's reported instants (observed, not signed: only the round's phase breakdown reads them), or null when
     * the worker reported none or one more than a day away from now (a clock that far off measures nothing).
     */
    static Instant workerInstant(Submission m, java.util.function.ToLongFunction<Submission.Timings> which) {
        if (m.timings() == null) {
            return null;
        }
        long ms = which.applyAsLong(m.timings());
        if (ms <= 0 || Math.abs(ms - System.currentTimeMillis()) > 86_400_000L) {
            return null;
        }
        return Instant.ofEpochMilli(ms);
    }

    /** Why the submission's trail signature does not make its manifest the worker's word (null when it does). */
    String trailProblem(Submission m, String worker) {
        if (m.trailHash() == null || !m.trailHash().matches("^0x[0-9a-fA-F]{64}$") || m.trailSignature() == null
                || !m.trailSignature().matches("^0x[0-9a-fA-F]{130}$")) {
            return "its trail hash or trail signature is missing or malformed";
        }
        String by;
        try {
            by = signer().recoverTrail(Hashes.fromHex(m.trailSignature()), ProofTrails.taskKey(m.taskId()), Hashes.fromHex(m.trailHash())).toLowerCase();
        } catch (RuntimeException e) {
            return "its trail signature cannot be recovered: " + e.getMessage();
        }
        if (!by.equals(worker)) {
            return "its trail signature recovers to " + by + ", not to the named worker " + worker;
        }
        if (m.trailUri() == null || !m.trailUri().startsWith(SubmissionSigner.workerPrefix(worker)) || m.trailUri().contains("..")) {
            return "its signed trail " + m.trailUri() + " is not under the worker's own prefix " + SubmissionSigner.workerPrefix(worker);
        }
        return null;
    }

    /**
     * The manifest file at {@code uri} as text when its bytes hash to the signed {@code trailHash}: the snapshot taken at intake
     * that every later step reads (a copy replaced or deleted afterwards changes nothing). Null when it is not there (yet), not
     * the signed one, or the bucket does not answer: the checks read it again and leave the update out if it never is.
     */
    String snapshot(String uri, String trailHash) {
        try {
            return artifacts.find(uri).filter(b -> Hashes.hex(SubmissionSigner.manifestHash(b)).equalsIgnoreCase(trailHash))
                    .map(b -> new String(b, java.nio.charset.StandardCharsets.UTF_8)).orElse(null);
        } catch (RuntimeException e) {
            LOG.infof("trail manifest %s not read at intake (%s): read again by the checks", uri, e.getMessage());
            return null;
        }
    }

    void advance(Submission m) {
        advance(m, false);
    }

    /**
     * Checks, draw and dispatch of a RECORDED submission; the timeout pass of a DRAWN one; nothing for a DECIDED one. A delivery
     * that has just recorded the submission ({@code fresh}) does not wait for the draw's block: it goes back on the queue at once,
     * so that the other submissions of the batch are recorded now too (noting the same block) instead of each waiting a block
     * behind the one before; the delivery that finds it recorded waits for the block in the function.
     */
    void advance(Submission m, boolean fresh) {
        Verification.Ctx c = Db.session(s -> verification.load(s, m.taskId(), false));
        if (c == null || c.stage().equals("DECIDED")) {
            return;
        }
        if (c.stage().equals("DRAWN")) {
            timeouts(m, c);
            return;
        }
        // what is evidence against the worker: only what provably comes from its signed commitments. The checkpoint hashes
        // (through the signed proof root) and the update hash are always its word; the manifest's file names are its word
        // only when it signed the manifest (trail hash) and they lie under its own prefix. A file that is missing or
        // unreadable is never evidence (anyone able to delete it could frame the worker): the update is left out, unslashed
        TrailManifest tm;
        String manifestText = null;
        if (c.trailDoc() != null) {
            tm = Json.parse(c.trailDoc(), TrailManifest.class);
        } else {
            Optional<byte[]> file;
            try {
                file = c.trailUri() == null ? Optional.empty() : artifacts.find(c.trailUri());
            } catch (RuntimeException e) {
                if (!unreadable(e)) {
                    throw e; // the bucket is not answering: the record is retried
                }
                leaveOut(c, ReasonCode.TRAIL_BROKEN, "the trail manifest " + c.trailUri() + " cannot be read: " + e.getMessage());
                return;
            }
            if (file.isEmpty()) {
                leaveOut(c, ReasonCode.TRAIL_LENGTH_MISMATCH, "the trail manifest " + c.trailUri() + " named by the submission does not exist");
                return;
            }
            if (c.trailHash() != null && !Hashes.hex(SubmissionSigner.manifestHash(file.get())).equalsIgnoreCase(c.trailHash())) {
                leaveOut(c, ReasonCode.TRAIL_BROKEN, "the trail manifest " + c.trailUri() + " is not the one the worker signed");
                return;
            }
            manifestText = new String(file.get(), java.nio.charset.StandardCharsets.UTF_8);
            try {
                tm = Json.parse(manifestText, TrailManifest.class);
            } catch (RuntimeException e) {
                leaveOut(c, ReasonCode.TRAIL_BROKEN, "the trail manifest " + c.trailUri() + " cannot be read: " + e.getMessage());
                return;
            }
        }
        List<byte[]> hashes;
        try {
            hashes = tm.checkpointHashes().stream().map(Hashes::fromHex).toList();
        } catch (RuntimeException e) {
            leaveOut(c, ReasonCode.TRAIL_BROKEN, "the trail manifest's checkpoint hashes are not 32-byte hex: " + e.getMessage());
            return;
        }
        if (hashes.isEmpty() || !Hashes.hex(ProofTrails.proofRoot(hashes)).equalsIgnoreCase(c.proofRoot())) {
            leaveOut(c, ReasonCode.TRAIL_BROKEN, "the Merkle root of the trail " + c.trailUri() + " is not the proof root the worker signed");
            return;
        }
        if (tm.checkpointUris() == null || tm.checkpointUris().size() != hashes.size()) {
            leaveOut(c, ReasonCode.TRAIL_LENGTH_MISMATCH, "the trail lists " + hashes.size() + " checkpoint hashes but "
                    + (tm.checkpointUris() == null ? 0 : tm.checkpointUris().size()) + " checkpoint artifacts");
            return;
        }
        float[] update;
        try {
            Optional<byte[]> updateBytes = artifacts.find(c.updateUri());
            if (updateBytes.isEmpty()) {
                leaveOut(c, ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH, "the submitted update " + c.updateUri() + " does not exist");
                return;
            }
            update = ModelState.decode(updateBytes.get(), c.updateUri()).flat();
        } catch (RuntimeException e) {
            if (!unreadable(e)) {
                throw e;
            }
            leaveOut(c, ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH, "the submitted update " + c.updateUri() + " cannot be read: " + e.getMessage());
            return;
        }
        if (!Hashes.hex(Hashes.paramsHash(update)).equalsIgnoreCase(c.updateHash())) {
            leaveOut(c, ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH, "the stored update " + c.updateUri() + " does not hash to the update hash the worker signed");
            return;
        }
        ModelState globalState = ModelState.decode(artifacts.get(c.startUri()), c.startUri());
        float[] global = globalState.flat();
        if (update.length != global.length) {
            // the signed update itself is for another model: that is the worker's doing
            rejectNow(c, ReasonCode.HEADER_MISMATCH, new Evidence(-1, Integer.toString(global.length), Integer.toString(update.length),
                    List.of(c.updateUri(), c.startUri()), null, null, "the signed update has " + update.length + " parameters, the round's model "
                    + global.length), List.of());
            return;
        }
        // the trail's last checkpoint (the whole state: parameters, momentum, step) must be there and be the committed one: the
        // update is checked against its parameters. Its outcome, when it is not, waits for the cheap checks: every update's
        // figures are kept with it
        int last = hashes.size() - 1;
        Checked lastState = committed(c, tm, last);
        float[] submitted = update; // what would be aggregated (under DP: after clipping and noise)
        if (lastState.outcome() == null && c.task().dpClip() != null) {
            // client-side DP: the update is the trail's last checkpoint clipped and noised with the task's seed, replayed here
            String expected = Hashes.hex(io.fedmarket.fl.privacy.ClientDp.privatize(globalState, lastState.state(), c.task().dpClip(),
                    c.task().dpNoiseMultiplier(), io.fedmarket.fl.privacy.ClientDp.noiseSeed(c.task().seed())).paramsHash());
            if (!expected.equalsIgnoreCase(c.updateHash())) {
                rejectNow(c, ReasonCode.UPDATE_NOT_IN_TRAIL, new Evidence(last, expected, c.updateHash(), List.of(c.updateUri(), tm.checkpointUris().get(last)),
                        null, null, "the update is not the trail's last checkpoint clipped to " + c.task().dpClip() + " and noised (σ "
                        + c.task().dpNoiseMultiplier() + ") with the task's DP seed"), List.of());
                return;
            }
            update = lastState.state().flat(); // the trail is checked against the state before noise
        }
        TrailHeader header = new TrailHeader(c.taskId(), Hashes.fromHex(c.task().globalModelHash()), Hashes.fromHex(c.task().shardCommitment()),
                c.task().seed(), c.task().steps(), c.task().checkpointEvery());
        ProofTrail trail = ProofTrail.fromHashes(header, hashes);
        UpdateVerifier.CheckpointStore store = lastState.state() == null ? null : checkpoints(tm, globalState, lastState.state());
        UpdateVerifier.Submission vs = new UpdateVerifier.Submission(header, Hashes.fromHex(c.submissionHash()), update, c.updateUri(), trail, store);
        int segments = c.task().steps() / c.task().checkpointEvery();
        int q = c.plan().fakedFraction() >= 1 ? 1 : io.fedmarket.fl.verify.DetectionPlanner.segmentsFor(c.plan().fakedFraction(), c.plan().targetDetection(), segments);
        Optional<String> blockHash = fresh ? clock.blockHash(c.drawBlock()) : awaitBlock(c.drawBlock());
        if (blockHash.isEmpty()) {
            // just recorded: back on the queue at once, the next delivery waits for the block; else the block after the one the
            // submission was recorded in is not mined within the in-function wait (a slow chain): the message comes back shortly
            // instead of holding the function
            sender.send(Queues.SUBMISSIONS, Json.write(m), fresh ? 0 : (int) Math.max(1, blockPoll.toSeconds()));
            LOG.infof("%s: waiting for block %d to draw its segments", c.taskId(), c.drawBlock());
            return;
        }
        // cheap checks against the round so far: a flag only raises q (see CheapChecks)
        io.fedmarket.functions.rounds.CheapChecks.Measured checks = cheapChecks.measure(c, submitted, global, c.task().globalModelHash());
        if (lastState.outcome() != null) {
            lastState.outcome().accept(checks.flags());
            return;
        }
        UpdateVerifier verifier = new UpdateVerifier(new UpdateVerifier.Config(checks.policy(), q, Math.min(segments, 2 * q),
                c.plan().bitExact() ? new ComparisonPolicy.BitExact() : new ComparisonPolicy.Tolerance(Verification.calibration(c.plan()))));
        // the trail is checked against the trained state (under DP, before noise); the flags are the cheap checks' own, measured
        // once on the submitted update, so the submission's flags and its recorded checks always agree
        UpdateVerifier.Plan plan = verifier.plan(vs, global, checks.flags(), Hashes.fromHex(blockHash.get()), Instant.now());
        if (plan instanceof UpdateVerifier.Rejected r) {
            rejectNow(c, r.verdict().reason(), r.verdict().evidence(), r.verdict().flags());
            return;
        }
        UpdateVerifier.Draw draw = (UpdateVerifier.Draw) plan;
        for (int i : draw.segments()) {
            // the committed start of each drawn segment (and, compared with a tolerance, its committed end) must be there and
            // be the committed state after i·k steps: a re-execution starts from it
            for (int idx : c.plan().bitExact() ? new int[]{i} : new int[]{i, i + 1}) {
                Checked ck = committed(c, tm, idx);
                if (ck.outcome() != null) {
                    ck.outcome().accept(draw.flags());
                    return;
                }
            }
        }
        List<Integer> drawn = Arrays.stream(draw.segments()).boxed().toList();
        List<String> exclude = Verification.exclude(c.submitter(), List.of());
        // the manifest kept with the submission (the intake snapshot of a signed one is kept as it is)
        String keep = manifestText != null ? manifestText : Json.write(tm);
        boolean sent = Db.session(s -> s.createNativeQuery("update submissions set stage = 'DRAWN', segments = :seg, flags = :f, draw_block_hash = :bh, "
                        + "trail_doc = coalesce(trail_doc, :doc), drawn_at = :now where task_id = :t and stage = 'RECORDED'")
                .setParameter("now", Instant.now())
                .setParameter("seg", Json.write(drawn)).setParameter("f", Json.write(draw.flags().stream().map(Enum::name).toList()))
                .setParameter("bh", blockHash.get()).setParameter("doc", keep).setParameter("t", c.taskId()).executeUpdate()
                .chain(n -> {
                    if (n == 0) {
                        return Uni.createFrom().item(false); // another delivery drew first
                    }
                    Uni<Integer> chain = Uni.createFrom().item(0);
                    for (int i : drawn) {
                        chain = chain.chain(() -> verification.dispatch(s, c, tm, i, "DRAW", 0, exclude));
                    }
                    return chain.replaceWith(true);
                }));
        if (sent) {
            outbox.relay(Math.max(10, drawn.size() + 1));
            // the timeout pass: this message comes back when the re-executions are due
            sender.send(Queues.SUBMISSIONS, Json.write(m), (int) Math.min(900, Math.max(1, verification.reexecTimeout().toSeconds())));
            LOG.infof("%s: %d of %d segments drawn from block %d (%s) for re-execution by another worker: %s%s", c.taskId(), drawn.size(), segments,
                    c.drawBlock(), blockHash.get().substring(0, 12), drawn, draw.flags().isEmpty() ? "" : " (flags " + draw.flags() + ")");
        }
    }

    /** A DRAWN submission whose re-executions are overdue: offered to another worker, or inconclusive after the last attempt. */
    void timeouts(Submission m, Verification.Ctx c) {
        Instant due = Instant.now().minus(verification.reexecTimeout());
        Optional<TrailManifest> kept = verification.manifest(c);
        if (kept.isEmpty()) {
            // drawn before manifests were kept with the submission, and the bucket's copy is gone: left out, not slashed
            leaveOut(c, ReasonCode.TRAIL_LENGTH_MISMATCH, "INCONCLUSIVE: the trail manifest " + c.trailUri() + " is no longer in the bucket");
            return;
        }
        TrailManifest tm = kept.get();
        String outcome = Db.session(s -> verification.load(s, c.taskId(), true).chain(locked -> !"DRAWN".equals(locked.stage()) ? Uni.createFrom().item("decided")
                : s.createNativeQuery("select id, segment, attempt, exclude, requested_at, purpose, assignee from reexec_requests where task_id = :t and status = 'SENT'", Object[].class)
                .setParameter("t", c.taskId()).getResultList()
                .chain(open -> {
                    Uni<String> chain = Uni.createFrom().item(open.isEmpty() ? "nothing open" : "waiting");
                    for (Object[] r : open) {
                        if (Sql.instant(r[4]).isAfter(due)) {
                            continue;
                        }
                        int segment = ((Number) r[1]).intValue();
                        int attempt = ((Number) r[2]).intValue();
                        List<String> exclude = new ArrayList<>(Arrays.asList(Json.parse((String) r[3], String[].class)));
                        if (r[6] != null && !exclude.contains(((String) r[6]).toLowerCase())) {
                            exclude.add(((String) r[6]).toLowerCase()); // the drawn worker did not answer in time: another one is drawn
                        }
                        String purpose = "CONFIRM".equals(r[5]) ? "CONFIRM" : "RETRY";
                        chain = chain.chain(prev -> prev.equals("inconclusive") ? Uni.createFrom().item(prev)
                                : s.createNativeQuery("update reexec_requests set status = 'TIMED_OUT', answered_at = :now where id = :id and status = 'SENT'")
                                .setParameter("now", Instant.now()).setParameter("id", r[0]).executeUpdate()
                                .chain(() -> attempt + 1 >= Verification.MAX_ATTEMPTS
                                        ? verification.decide(s, locked, false, "INCONCLUSIVE: segment " + segment + " was not re-executed by "
                                        + Verification.MAX_ATTEMPTS + " workers within " + verification.reexecTimeout().toSeconds() + " s each", null).replaceWith("inconclusive")
                                        : verification.dispatch(s, locked, tm, segment, purpose, attempt + 1, exclude).replaceWith("re-offered segment " + segment)));
                    }
                    return chain;
                })));
        LOG.infof("%s: re-execution timeouts: %s", c.taskId(), outcome);
        outbox.relay(10);
        if (!outcome.equals("decided") && !outcome.equals("inconclusive")) {
            sender.send(Queues.SUBMISSIONS, Json.write(m), (int) Math.min(900, Math.max(1, verification.reexecTimeout().toSeconds())));
        }
    }

    /**
     * An artifact that is there but can never be read (not a checkpoint or manifest, or a key outside what this function may
     * read): a decision, not a retry. Anything else (the bucket down, a timeout) is retried.
     */
    static boolean unreadable(RuntimeException e) {
        if (e instanceof IllegalArgumentException) {
            return true;
        }
        return e instanceof software.amazon.awssdk.services.s3.model.S3Exception s3 && (s3.statusCode() == 400 || s3.statusCode() == 403);
    }

    /** Leaves the update out (not aggregated, not paid) without holding it against the worker: no evidence hash, no slash. */
    private void leaveOut(Verification.Ctx c, ReasonCode code, String why) {
        boolean decided = Db.session(s -> verification.decide(s, c, false, code + ": " + why + " (not provably the worker's: not slashed)", null));
        if (decided) {
            outbox.relay(10);
        }
    }

    private void rejectNow(Verification.Ctx c, ReasonCode code, Evidence e, List<ReasonCode> flags) {
        Verification.Document doc = verification.reject(c, code, e, flags, List.of(), 0);
        boolean decided = Db.session(s -> verification.decide(s, c, false, code + ": " + e.detail(), doc.evidenceHash(), doc));
        if (decided) {
            outbox.relay(10);
            verification.publishEvidence(c.taskId());
        }
    }

    /** A committed checkpoint as found: its state, or what to do instead (leave the update out, or reject it with evidence). */
    record Checked(ModelState state, java.util.function.Consumer<List<ReasonCode>> outcome) {
    }

    /**
     * Checkpoint {@code i} of the trail from the bucket, checked against the trail: missing or unreadable leaves the update out
     * (never evidence: whoever can delete a file could frame the worker); there but not hashing to the committed state rejects
     * with evidence only when the file is provably the worker's own (a signed manifest naming a key under its own prefix),
     * else leaves it out; the committed state itself (it hashes to the signed hash) not being the state after i·k steps is
     * the worker's doing wherever it lies.
     */
    private Checked committed(Verification.Ctx c, TrailManifest tm, int i) {
        String uri = tm.checkpointUris().get(i);
        String hash = tm.checkpointHashes().get(i);
        int k = c.task().checkpointEvery();
        ModelState st = null;
        String why = null;
        try {
            Optional<byte[]> b = uri == null ? Optional.empty() : artifacts.find(uri);
            if (b.isEmpty()) {
                why = "committed checkpoint " + i + " (" + uri + ") is missing";
            } else {
                st = ModelState.decode(b.get(), "checkpoint " + i);
            }
        } catch (RuntimeException e) {
            if (!unreadable(e)) {
                throw e;
            }
            why = "committed checkpoint " + i + " (" + uri + ") cannot be read: " + e.getMessage();
        }
        if (why != null) {
            String w = why;
            return new Checked(null, flags -> leaveOut(c, ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH, w));
        }
        String got = Hashes.hex(st.stateHash());
        if (!got.equalsIgnoreCase(hash)) {
            if (!c.provablyOwn(uri)) {
                return new Checked(null, flags -> leaveOut(c, ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH, "stored checkpoint " + i + " (" + uri
                        + ") does not hash to the committed value, and nothing shows the worker wrote it"));
            }
            Evidence e = new Evidence(i, hash, got, List.of(uri), null, null, "stored checkpoint " + i + " does not hash to the committed value");
            return new Checked(null, flags -> rejectNow(c, ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH, e, flags));
        }
        if (st.step() != i * k) {
            ModelState s0 = st;
            Evidence e = new Evidence(i, Integer.toString(i * k), Integer.toString(s0.step()), List.of(uri), null, null,
                    "committed checkpoint " + i + " holds the state after " + s0.step() + " steps, not after " + (i * k) + " (segment " + i + " starts there)");
            return new Checked(null, flags -> rejectNow(c, ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH, e, flags));
        }
        return new Checked(st, null);
    }

    /**
     * The trail as the shared verifier checks it: it commits whole states ({@link ModelState#stateHash}), checkpoint 0 being the
     * round's model with no momentum at step 0, and the update is the parameters of the last state ({@code last}, already
     * checked to be the committed one).
     */
    private static UpdateVerifier.CheckpointStore checkpoints(TrailManifest tm, ModelState global, ModelState last) {
        byte[] start = new ModelState(global.names(), global.shapes(), global.params(), null, 0).stateHash();
        return new UpdateVerifier.CheckpointStore() {
            @Override
            public float[] load(int i) {
                throw new UnsupportedOperationException("verify checks the committed checkpoints itself (VerifyFunction.committed)");
            }

            @Override
            public String uri(int i) {
                return i < tm.checkpointUris().size() ? tm.checkpointUris().get(i) : null;
            }

            @Override
            public byte[] startHash(float[] g) {
                return start;
            }

            @Override
            public boolean isLast(float[] update, byte[] committedLast) {
                return Arrays.equals(last.stateHash(), committedLast) && Arrays.equals(last.flat(), update);
            }
        };
    }
}
