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

import io.fedmarket.fl.verify.ReasonCode;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.reactive.mutiny.Mutiny;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * Lambda {@code aggregate}: records each verdict once (business key: task id) and closes the round
 * when it has min-updates accepted verdicts. A rejection with evidence (a rejecting {@link ReasonCode} and an evidence hash)
 * also records a PENDING slash of the worker, slashable when the dispute window
 * ({@code fedmarket.dispute-window}) ends, and queues its SLASH request to settle in the same
 * transaction. Once the round is CLOSED, {@link RoundAggregator} aggregates its accepted updates by the intent's rule
 * and records the round's model; its settlement and the next round's tasks are queued with that record. The worker of a
 * rejection with evidence is removed from the job. A round closes when min-updates verdicts accepted it or when none of
 * its tasks is undecided any more (the rest: its deadline, in settle).
 */
public class AggregateFunction {
    private static final Logger LOG = Logger.getLogger(AggregateFunction.class);

    @Inject
    Outbox outbox;

    @Inject
    RoundAggregator aggregator;

    @Inject
    io.fedmarket.functions.rounds.RoundPublisher publisher;

    @Inject
    io.fedmarket.functions.rounds.Verification verification;

    @ConfigProperty(name = "fedmarket.dispute-window", defaultValue = "PT1H")
    Duration disputeWindow;

    /** A rejection the worker can be slashed for: a rejecting reason code (optionally ": detail") and a 32-byte evidence hash. */
    public static boolean slashable(VerdictReached v) {
        if (v.accepted() || v.evidenceHash() == null || !v.evidenceHash().matches("^0x[0-9a-fA-F]{64}$") || v.reason() == null) {
            return false;
        }
        String code = v.reason().split("[:\\s]", 2)[0];
        return java.util.Arrays.stream(ReasonCode.values()).anyMatch(r -> r.rejecting() && r.name().equals(code));
    }

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
        // verdicts of one round are recorded one at a time (the round's row locked first): the last of two concurrent ones then
        // sees the other's row and closes the round, instead of both missing each other and the round waiting for its deadline
        String outcome = Db.session(s -> s.createNativeQuery("select status from rounds where job_id = :j and round_no = :r for update", String.class)
                .setParameter("j", v.jobId()).setParameter("r", v.round()).getResultList()
                .chain(locked -> s.createNativeQuery("insert into verdicts (task_id, job_id, round_no, accepted, reason, evidence, decided_at) "
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
                            .chain(() -> slashable(v) ? pendingSlash(s, v, now) : Uni.createFrom().item(0))
                            .chain(() -> slashable(v) ? remove(s, v, now) : Uni.createFrom().item(0))
                            // its word counts for nothing here any more: what it was drawn to re-execute is drawn anew now, not
                            // after the re-execution timeout
                            .chain(() -> slashable(v) ? verification.redrawAssignedTo(s, v.jobId(), v.worker()) : Uni.createFrom().item(0))
                            // a rejected (or inconclusive) update leaves its shard untrained this round: offered again to the others
                            .chain(() -> v.accepted() ? Uni.createFrom().item(0) : publisher.reoffer(s, v.taskId()).invoke(x -> LOG.infof("%s: %s", v.taskId(), x)).replaceWith(0))
                            // closed once enough updates are accepted, or once no task of the round is still undecided
                            .chain(() -> s.createNativeQuery("update rounds set status = 'CLOSED', closed_at = :now where job_id = :j and round_no = :r and status = 'OPEN' "
                                            + "and (min_updates <= (select count(*) from verdicts where job_id = :j and round_no = :r and accepted) "
                                            + "or not exists (select 1 from tasks where job_id = :j and round_no = :r and status in ('OFFERED', 'RUNNING', 'SUBMITTED')))")
                                    .setParameter("now", now).setParameter("j", v.jobId()).setParameter("r", v.round()).executeUpdate())
                            // closed at its quorum (the intent's minUpdates) before every task was done: the tasks nobody submitted are
                            // stragglers, DROPPED as at the deadline (not paid, not aggregated; a later submission is refused as late)
                            .chain(closed -> closed == 0 ? Uni.createFrom().item(0) : s.createNativeQuery("update tasks set status = 'DROPPED' "
                                            + "where job_id = :j and round_no = :r and status in ('OFFERED', 'RUNNING')")
                                    .setParameter("j", v.jobId()).setParameter("r", v.round()).executeUpdate().map(d -> 1 + d))
                            .map(closed -> closed == 0 ? "verdict recorded" : "verdict recorded, round closed"
                                    + (closed > 1 ? ", " + (closed - 1) + " unsubmitted task(s) DROPPED" : ""));
                })));
        LOG.infof("%s: %s", v.taskId(), outcome);
        // every delivery (a duplicate too) finishes a CLOSED round that has no model yet: a crash after the close heals
        RoundAggregator.Outcome agg = aggregator.aggregate(v.jobId(), v.round());
        if (!v.accepted() || agg.closed()) {
            outbox.relay(10);
        }
    }

    /**
     * A worker caught with evidence is out of the job in every role from now on: its later submissions are refused, its
     * shard is still trained by the others (a task belongs to a shard) but earns it no data share.
     */
    private static Uni<Integer> remove(Mutiny.Session s, VerdictReached v, Instant now) {
        return s.createNativeQuery("update job_participants set removed_at = :now, removed_reason = :why where job_id = :j "
                        + "and address = (select worker from tasks where id = :t) and removed_at is null")
                .setParameter("now", now).setParameter("why", "round " + v.round() + ": " + (v.reason().length() > 500 ? v.reason().substring(0, 500) : v.reason()))
                .setParameter("j", v.jobId()).setParameter("t", v.taskId()).executeUpdate();
    }

    /** The slash row (amount: the mirrored stake now; settle takes what the chain has then) and its SLASH request, once per task. */
    private Uni<Integer> pendingSlash(Mutiny.Session s, VerdictReached v, Instant now) {
        return s.createNativeQuery("insert into slashes (id, job_id, round_no, task_id, address, amount, evidence_hash, status, dispute_until, created_at) "
                        + "select :id, :j, :r, t.id, t.worker, coalesce((select b.amount + b.unbonding from bonds b where b.address = t.worker), 0), :ev, 'PENDING', :until, :now "
                        + "from tasks t where t.id = :t on conflict (id) do nothing")
                .setParameter("id", UUID.nameUUIDFromBytes(("slash:" + v.taskId()).getBytes(StandardCharsets.UTF_8)))
                .setParameter("j", v.jobId()).setParameter("r", v.round()).setParameter("t", v.taskId())
                .setParameter("ev", v.evidenceHash().toLowerCase()).setParameter("until", now.plus(disputeWindow)).setParameter("now", now)
                .executeUpdate()
                .chain(n -> n == 0 ? Uni.createFrom().item(0)
                        : outbox.add(s, Queues.SETTLE, "slash:" + v.taskId(), Json.write(SettleRequest.slash(v.jobId(), v.round(), v.taskId()))));
    }
}
