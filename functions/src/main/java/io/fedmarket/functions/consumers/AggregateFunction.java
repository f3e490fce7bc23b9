package io.fedmarket.functions.consumers;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.fedmarket.config.Queues;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.outbox.Outbox;
import io.fedmarket.messages.SettleRequest;
import io.fedmarket.messages.VerdictReached;
import io.quarkus.funqy.Funq;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.time.Instant;

/**
 * Lambda {@code aggregate}: records each verdict once (business key: task id) and closes the round
 * when it has min-updates accepted verdicts, queueing the round's settlement through the outbox in
 * the same transaction. The model aggregation itself (shared fl rules) lands with issue 8.
 */
public class AggregateFunction {
    private static final Logger LOG = Logger.getLogger(AggregateFunction.class);

    @Inject
    Outbox outbox;

    @Funq("aggregate")
    public void aggregate(SQSEvent.SQSMessage record) {
        Records.handle("aggregate", record, VerdictReached.class, this::apply);
    }

    void apply(VerdictReached v) {
        if (v.taskId() == null || v.jobId() == null || v.round() < 1) {
            throw new Records.PoisonRecord("verdict lacks taskId, jobId or round");
        }
        MDC.put("jobId", v.jobId().toString());
        MDC.put("round", Integer.toString(v.round()));
        MDC.put("taskId", v.taskId());
        Instant now = Instant.now();
        String outcome = Db.session(s -> s.createNativeQuery("insert into verdicts (task_id, job_id, round_no, accepted, reason, evidence, decided_at) "
                        + "select :t, :j, :r, :a, :why, :ev, :now where exists (select 1 from tasks where id = :t and job_id = :j and round_no = :r) "
                        + "on conflict do nothing")
                .setParameter("t", v.taskId()).setParameter("j", v.jobId()).setParameter("r", v.round()).setParameter("a", v.accepted())
                .setParameter("why", v.reason()).setParameter("ev", v.evidenceHash()).setParameter("now", now).executeUpdate()
                .chain(n -> {
                    if (n == 0) {
                        return s.createNativeQuery("select count(*) from verdicts where task_id = :t", Long.class).setParameter("t", v.taskId())
                                .getSingleResult().chain(c -> c > 0 ? Uni.createFrom().item("duplicate verdict ignored")
                                        : Uni.createFrom().failure(new Records.PoisonRecord("task " + v.taskId() + " is not in job " + v.jobId() + " round " + v.round())));
                    }
                    return s.createNativeQuery("update tasks set status = :st where id = :t").setParameter("st", v.accepted() ? "ACCEPTED" : "REJECTED")
                            .setParameter("t", v.taskId()).executeUpdate()
                            .chain(() -> s.createNativeQuery("update rounds set status = 'CLOSED', closed_at = :now where job_id = :j and round_no = :r and status = 'OPEN' "
                                            + "and min_updates <= (select count(*) from verdicts where job_id = :j and round_no = :r and accepted)")
                                    .setParameter("now", now).setParameter("j", v.jobId()).setParameter("r", v.round()).executeUpdate())
                            .chain(closed -> closed == 0 ? Uni.createFrom().item("verdict recorded")
                                    : outbox.add(s, Queues.SETTLE, "settle-round:" + v.jobId() + ":" + v.round(),
                                    Json.write(SettleRequest.round(v.jobId(), v.round()))).replaceWith("verdict recorded, round closed"));
                }));
        LOG.infof("%s: %s", v.taskId(), outcome);
        if (outcome.endsWith("round closed")) {
            outbox.relay(10);
        }
    }
}
