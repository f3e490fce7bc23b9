package io.fedmarket.functions.consumers;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.fedmarket.functions.http.Db;
import io.fedmarket.messages.Submission;
import io.quarkus.funqy.Funq;
import io.smallrye.mutiny.Uni;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import io.fedmarket.config.Queues;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.fl.verify.ReasonCode;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.outbox.Outbox;
import io.fedmarket.messages.VerdictReached;
import io.fedmarket.pol.ProofTrails;
import io.fedmarket.pol.SubmissionSigner;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.time.Instant;
import java.util.Optional;

/**
 * Lambda {@code verify}: intake of a worker's submission and its first cheap check. It checks that the task
 * exists, was given to this worker in this job and round, and that the commitment fields are well formed, then
 * records the submission (idempotent on the task id) and marks the task SUBMITTED. In the same transaction it
 * checks that the EIP-712 signature over {@code (task, updateHash, proofRoot, steps, gpuSeconds)} recovers to
 * the task's worker and that the worker is bonded (the chain-synced {@code bonds} mirror); if not, a
 * BAD_SIGNATURE rejection goes to the verdicts queue through the outbox. Such a rejection carries no evidence
 * hash: a signature that is not the worker's is not evidence against the worker, so it is never slashed.
 * The statistical checks and the re-execution draw still run in the demo's coordinator.
 */
public class VerifyFunction {
    private static final Logger LOG = Logger.getLogger(VerifyFunction.class);

    @Inject
    Outbox outbox;

    @ConfigProperty(name = "fedmarket.chain-id")
    long chainId;

    @ConfigProperty(name = "fedmarket.marketplace-address")
    Optional<String> marketplace;

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
        Records.handle("verify", record, Submission.class, this::intake);
    }

    void intake(Submission m) {
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
        String result = Db.session(s -> s.createNativeQuery("select worker, job_id, round_no from tasks where id = :t for update", Object[].class)
                .setParameter("t", m.taskId()).getResultList()
                .chain(rows -> {
                    if (rows.isEmpty()) {
                        return Uni.createFrom().failure(new Records.PoisonRecord("task " + m.taskId() + " does not exist"));
                    }
                    Object[] t = rows.get(0);
                    if (!worker.equals(t[0]) || !m.jobId().equals(t[1]) || m.round() != ((Number) t[2]).intValue()) {
                        return Uni.createFrom().failure(new Records.PoisonRecord("task " + m.taskId() + " belongs to " + t[0] + " in job " + t[1]
                                + " round " + t[2] + ", not to this submission"));
                    }
                    return s.createNativeQuery("insert into submissions (task_id, worker, update_uri, update_hash, proof_root, steps, gpu_seconds, signature, submitted_at, sample_count) "
                                    + "values (:t, :w, :u, :h, :p, :st, :g, :sig, :at, :n) on conflict do nothing")
                            .setParameter("n", Math.max(1, m.sampleCount()))
                            .setParameter("t", m.taskId()).setParameter("w", worker).setParameter("u", String.valueOf(m.updateUri()))
                            .setParameter("h", m.updateHash().toLowerCase()).setParameter("p", m.proofRoot().toLowerCase()).setParameter("st", m.steps())
                            .setParameter("g", m.gpuSeconds()).setParameter("sig", m.signature().toLowerCase())
                            .setParameter("at", m.submittedAtEpochSeconds() > 0 ? Instant.ofEpochSecond(m.submittedAtEpochSeconds()) : Instant.now())
                            .executeUpdate()
                            .chain(n -> n == 0 ? Uni.createFrom().item("already recorded")
                                    : s.createNativeQuery("update tasks set status = 'SUBMITTED' where id = :t and status in ('OFFERED', 'RUNNING')")
                                    .setParameter("t", m.taskId()).executeUpdate()
                                    .chain(() -> s.createNativeQuery("select coalesce((select amount from bonds where address = :w), 0)", Object.class)
                                            .setParameter("w", worker).getSingleResult())
                                    .chain(bond -> {
                                        String why = !signedBy.equals(worker) ? "signature recovers to " + signedBy + ", not to the task's worker " + worker
                                                : Sql.big(bond).signum() <= 0 ? "the worker " + worker + " has no bond" : null;
                                        if (why == null) {
                                            return Uni.createFrom().item("recorded; signature and bond checked");
                                        }
                                        VerdictReached v = new VerdictReached(m.taskId(), m.jobId(), m.round(), worker, false,
                                                ReasonCode.BAD_SIGNATURE + ": " + why, null);
                                        return outbox.add(s, Queues.VERDICTS, "verdict:" + m.taskId(), Json.write(v))
                                                .replaceWith("recorded and rejected (BAD_SIGNATURE: " + why + ")");
                                    }));
                }));
        LOG.infof("submission of task %s %s", m.taskId(), result);
        if (result.contains("rejected")) {
            outbox.relay(10);
        }
    }
}
