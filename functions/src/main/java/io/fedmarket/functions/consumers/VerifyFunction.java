package io.fedmarket.functions.consumers;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.fedmarket.functions.http.Db;
import io.fedmarket.messages.Submission;
import io.quarkus.funqy.Funq;
import io.smallrye.mutiny.Uni;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.time.Instant;

/**
 * Lambda {@code verify}: intake of a worker's submission. Here it checks that the task exists, was
 * given to this worker in this job and round, and that the commitment fields are well formed, then
 * records the submission (idempotent on the task id) and marks the task SUBMITTED. The statistical
 * checks and the re-execution draw of issue 8 build on this record.
 */
public class VerifyFunction {
    private static final Logger LOG = Logger.getLogger(VerifyFunction.class);

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
                    return s.createNativeQuery("insert into submissions (task_id, worker, update_uri, update_hash, proof_root, steps, gpu_seconds, signature, submitted_at) "
                                    + "values (:t, :w, :u, :h, :p, :st, :g, :sig, :at) on conflict do nothing")
                            .setParameter("t", m.taskId()).setParameter("w", worker).setParameter("u", String.valueOf(m.updateUri()))
                            .setParameter("h", m.updateHash().toLowerCase()).setParameter("p", m.proofRoot().toLowerCase()).setParameter("st", m.steps())
                            .setParameter("g", m.gpuSeconds()).setParameter("sig", m.signature().toLowerCase())
                            .setParameter("at", m.submittedAtEpochSeconds() > 0 ? Instant.ofEpochSecond(m.submittedAtEpochSeconds()) : Instant.now())
                            .executeUpdate()
                            .chain(n -> n == 0 ? Uni.createFrom().item("already recorded")
                                    : s.createNativeQuery("update tasks set status = 'SUBMITTED' where id = :t and status in ('OFFERED', 'RUNNING')")
                                    .setParameter("t", m.taskId()).executeUpdate().replaceWith("recorded"));
                }));
        LOG.infof("submission of task %s %s", m.taskId(), result);
    }
}
