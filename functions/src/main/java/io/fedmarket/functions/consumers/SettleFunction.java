package io.fedmarket.functions.consumers;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import io.fedmarket.crypto.PayoutTree;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.messages.SettleRequest;
import jakarta.inject.Inject;
import io.quarkus.funqy.Funq;
import io.smallrye.mutiny.Uni;
import org.hibernate.reactive.mutiny.Mutiny;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.math.BigInteger;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lambda {@code settle}: for a closed round, the cumulative payout of every worker (clearing price ×
 * GPU-seconds of its accepted submissions in rounds 1..r), the payout Merkle tree (the one implementation
 * in shared, the contract's convention) and each address's proof, stored once per (job, round); then
 * {@code postRound(job, round, modelHash, payoutRoot, total)} on chain through {@link RoundPoster}, once
 * (a retry finds the chain's transaction instead of sending another); then the round is SETTLED with its
 * transaction hash. The chain is off the training path: round r settles while round r+1 trains.
 * SLASH: once a rejection's dispute window has passed (the record re-queues itself with an SQS delay
 * until then), the worker's stake is slashed on chain with the rejection's evidence hash, once; a slash
 * cancelled by a dispute is never sent. REFUND requests are recorded once.
 */
public class SettleFunction {
    private static final Logger LOG = Logger.getLogger(SettleFunction.class);

    @Inject
    RoundPoster poster;

    @Inject
    io.fedmarket.functions.outbox.QueueSender sender;

    @Inject
    io.fedmarket.functions.outbox.Outbox outbox;

    @Inject
    RoundAggregator aggregator;

    @Inject
    io.fedmarket.functions.rounds.RoundPublisher publisher;

    /** Data providers' share of the GPU pay of each accepted task, in basis points (paid on top, from the escrow). */
    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "fedmarket.data-share-bps", defaultValue = "1000")
    int dataShareBps;

    /** How often START looks for the builder's escrow on chain. */
    @org.eclipse.microprofile.config.inject.ConfigProperty(name = "fedmarket.settle.escrow-poll", defaultValue = "PT5S")
    java.time.Duration escrowPoll;

    /** The longest SQS delay: a record due later re-queues itself several times. */
    static final long MAX_DELAY_SECONDS = 900;

    /** A round's stored tree: what goes on chain. */
    record Stored(String modelHash, String payoutRoot, BigInteger total, String txHash, int payees) {
    }

    @Funq("settle")
    public void settle(SQSEvent.SQSMessage record) {
        Records.handle("settle", record, SettleRequest.class, this::apply);
    }

    void apply(SettleRequest m) {
        if (m.kind() == null || m.jobId() == null) {
            throw new Records.PoisonRecord("settle request lacks kind or jobId");
        }
        MDC.put("jobId", m.jobId().toString());
        MDC.put("round", Integer.toString(m.round()));
        if (m.kind() == SettleRequest.Kind.SLASH) {
            slash(m);
            return;
        }
        if (m.kind() == SettleRequest.Kind.DEADLINE) {
            deadline(m);
            return;
        }
        if (m.kind() == SettleRequest.Kind.START) {
            start(m);
            return;
        }
        if (m.kind() == SettleRequest.Kind.REFUND) {
            String outcome = Db.session(s -> markProcessed(s, m).map(n -> n == 0 ? "already recorded" : "refund recorded"));
            LOG.infof("REFUND %s: %s", m.jobId(), outcome);
            return;
        }
        // 1. the tree, stored once (a retry reads it back: the root on chain is always the stored one)
        Stored st = Db.session(s -> stored(s, m).chain(found -> found != null ? Uni.createFrom().item(found) : build(s, m)));
        if (st.txHash() != null) {
            LOG.infof("ROUND %s round %d: already settled in %s", m.jobId(), m.round(), st.txHash());
            return;
        }
        // 2. on chain, once
        // the round's hash on chain: the parameters hash, bound to the model file for an uploaded TorchScript model (ModelProvenance)
        String spec = Db.session(s -> s.createNativeQuery("select plan from jobs where id = :j").setParameter("j", m.jobId()).getSingleResult()
                .map(p -> io.fedmarket.functions.rounds.RoundPublisher.plan(p, m.jobId()).modelSpec()));
        byte[] roundHash = io.fedmarket.fl.model.ModelProvenance.roundHash(Hashes.fromHex(st.modelHash()), spec);
        RoundPoster.Posted posted = poster.post(m.jobId(), m.round(), roundHash, Hashes.fromHex(st.payoutRoot()), st.total());
        String tx = posted.txHash() != null ? posted.txHash() : "on-chain";
        // 3. the round is SETTLED with its transaction
        Db.session(s -> s.createNativeQuery("update payout_roots set tx_hash = :tx where job_id = :j and round_no = :r and tx_hash is null")
                .setParameter("tx", tx).setParameter("j", m.jobId()).setParameter("r", m.round()).executeUpdate()
                .chain(() -> s.createNativeQuery("update rounds set status = 'SETTLED' where job_id = :j and round_no = :r")
                        .setParameter("j", m.jobId()).setParameter("r", m.round()).executeUpdate())
                .chain(() -> markProcessed(s, m)));
        LOG.infof("ROUND %s round %d: %d payees, root %s, total %s, %s %s", m.jobId(), m.round(), st.payees(), st.payoutRoot(), st.total(),
                posted.sentNow() ? "posted in" : "found on chain in", tx);
        finishAfterLastRound(m);
    }

    /** After the job's last round is on chain, the job is finished there too (its uncommitted budget becomes refundable). */
    private void finishAfterLastRound(SettleRequest m) {
        List<Object[]> job = Db.session(s -> s.createNativeQuery("select i.rounds, j.status, j.finished_tx from jobs j join intents i on i.id = j.intent_id "
                + "where j.id = :j", Object[].class).setParameter("j", m.jobId()).getResultList());
        if (job.isEmpty() || ((Number) job.get(0)[0]).intValue() != m.round() || job.get(0)[2] != null || !"COMPLETED".equals(job.get(0)[1])) {
            return;
        }
        String tx = poster.finish(m.jobId());
        Db.session(s -> s.createNativeQuery("update jobs set finished_tx = :tx where id = :j and finished_tx is null")
                .setParameter("tx", tx == null ? "on-chain" : tx).setParameter("j", m.jobId()).executeUpdate());
        LOG.infof("job %s finished on chain after round %d%s", m.jobId(), m.round(), tx == null ? " (already)" : " in " + tx);
    }

    /**
     * Round 1 starts when the builder's escrow is on chain, so nobody trains for a job that cannot pay: the round's start
     * model (the plan's seeded initialisation) is stored and round 1 published (tasks, messages, deadline clock) in one
     * transaction. Until the escrow is there the request re-queues itself; a job still unfunded at the intent's deadline FAILS.
     */
    void start(SettleRequest m) {
        List<Object[]> rows = Db.session(s -> s.createNativeQuery("select j.status, j.plan, i.deadline, i.budget, (select count(*) from tasks t where t.job_id = j.id "
                + "and t.round_no = 1) from jobs j join intents i on i.id = j.intent_id where j.id = :j", Object[].class).setParameter("j", m.jobId()).getResultList());
        if (rows.isEmpty()) {
            throw new Records.PoisonRecord("START for job " + m.jobId() + ", which does not exist");
        }
        Object[] r = rows.get(0);
        if (!"OPEN".equals(r[0]) || ((Number) r[4]).longValue() > 0) {
            LOG.infof("START %s: job is %s with %s round-1 task(s): nothing to do", m.jobId(), r[0], r[4]);
            return;
        }
        io.fedmarket.chain.MarketplaceChain.JobState escrow = poster.escrow(m.jobId());
        Instant now = Instant.now();
        if (!escrow.exists() || escrow.deposited().signum() == 0) {
            Instant deadline = Sql.instant(r[2]);
            if (now.isAfter(deadline)) {
                Db.session(s -> s.createNativeQuery("update jobs set status = 'FAILED', status_reason = :w, updated_at = :t where id = :j and status = 'OPEN'")
                        .setParameter("w", "the builder never escrowed the budget on chain (openJob) before the intent's deadline " + deadline)
                        .setParameter("t", now).setParameter("j", m.jobId()).executeUpdate());
                LOG.warnf("START %s: never escrowed by %s: job FAILED", m.jobId(), deadline);
                return;
            }
            sender.send(io.fedmarket.config.Queues.SETTLE, Json.write(m), (int) Math.max(1, Math.min(MAX_DELAY_SECONDS, escrowPoll.toSeconds())));
            LOG.infof("START %s: no escrow on chain yet; looked at again in %d s", m.jobId(), escrowPoll.toSeconds());
            return;
        }
        io.fedmarket.fl.job.JobPlan plan = io.fedmarket.functions.rounds.RoundPublisher.plan(r[1], m.jobId());
        String uri = publisher.initialModel(plan);
        String hash = Hashes.hex(io.fedmarket.fl.model.ModelLayouts.initialState(plan.modelSpec(), plan.seed()).paramsHash());
        String note = Db.session(s -> s.createNativeQuery("update jobs set escrowed_at = :t, escrow_id = :e where id = :j")
                .setParameter("t", now).setParameter("e", escrow.deposited().toString()).setParameter("j", m.jobId()).executeUpdate()
                .chain(() -> publisher.publish(s, m.jobId(), 1, uri, hash)).map(p -> p.note()));
        outbox.relay(100);
        LOG.infof("START %s: escrow of %s on chain; round 1 from model %s: %s", m.jobId(), escrow.deposited(), hash, note);
    }

    /**
     * The round's clock: an OPEN round past its deadline is CLOSED with what was verified by then; its tasks without a
     * submission are DROPPED (stragglers are values: not paid, not aggregated). Then it is aggregated like a round closed
     * by its verdicts. Early: re-queued with a delay.
     */
    void deadline(SettleRequest m) {
        List<Object[]> rows = Db.session(s -> s.createNativeQuery("select status, deadline from rounds where job_id = :j and round_no = :r", Object[].class)
                .setParameter("j", m.jobId()).setParameter("r", m.round()).getResultList());
        if (rows.isEmpty()) {
            throw new Records.PoisonRecord("job " + m.jobId() + " has no round " + m.round());
        }
        String status = (String) rows.get(0)[0];
        Instant due = Sql.instant(rows.get(0)[1]);
        Instant now = Instant.now();
        if ("OPEN".equals(status) && now.isBefore(due)) {
            requeueUntil(m, due, now, "round " + m.round() + " open");
            return;
        }
        if ("OPEN".equals(status)) {
            String closed = Db.session(s -> s.createNativeQuery("update tasks set status = 'DROPPED' where job_id = :j and round_no = :r "
                            + "and status in ('OFFERED', 'RUNNING')").setParameter("j", m.jobId()).setParameter("r", m.round()).executeUpdate()
                    .chain(dropped -> s.createNativeQuery("update rounds set status = 'CLOSED', closed_at = :now where job_id = :j and round_no = :r "
                                    + "and status = 'OPEN'").setParameter("now", now).setParameter("j", m.jobId()).setParameter("r", m.round()).executeUpdate()
                            .map(n -> n == 0 ? "closed by its verdicts meanwhile" : "closed at its deadline, " + dropped + " task(s) DROPPED")));
            LOG.infof("DEADLINE %s round %d: %s", m.jobId(), m.round(), closed);
        } else {
            LOG.infof("DEADLINE %s round %d: already %s", m.jobId(), m.round(), status);
        }
        RoundAggregator.Outcome agg = aggregator.aggregate(m.jobId(), m.round());
        LOG.infof("DEADLINE %s round %d: %s", m.jobId(), m.round(), agg.note());
        Db.session(s -> markProcessed(s, m));
        outbox.relay(10);
    }

    void slash(SettleRequest m) {
        if (m.taskId() == null) {
            throw new Records.PoisonRecord("SLASH request lacks taskId");
        }
        MDC.put("taskId", m.taskId());
        List<Object[]> rows = Db.session(s -> s.createNativeQuery("select id, status, dispute_until, address, evidence_hash from slashes "
                        + "where task_id = :t and job_id = :j", Object[].class)
                .setParameter("t", m.taskId()).setParameter("j", m.jobId()).getResultList());
        if (rows.isEmpty()) {
            throw new Records.PoisonRecord("no slash recorded for task " + m.taskId() + " of job " + m.jobId());
        }
        Object[] row = rows.get(0);
        String status = (String) row[1];
        if (!"PENDING".equals(status)) {
            LOG.infof("SLASH %s: already %s", m.taskId(), status);
            return;
        }
        Instant due = Sql.instant(row[2]);
        Instant now = Instant.now();
        if (now.isBefore(due)) {
            requeueUntil(m, due, now, "dispute window of " + m.taskId() + " open");
            return;
        }
        String worker = (String) row[3];
        RoundPoster.Slashed done = poster.slash(m.jobId(), worker, Hashes.fromHex((String) row[4]));
        String outcome = done.amount().signum() > 0 ? "POSTED" : "NOTHING_TO_SLASH";
        Db.session(s -> s.createNativeQuery("update slashes set status = :st, amount = :a, tx_hash = :tx where id = :id and status = 'PENDING'")
                .setParameter("st", outcome).setParameter("a", new java.math.BigDecimal(done.amount())).setParameter("tx", done.txHash())
                .setParameter("id", row[0]).executeUpdate()
                .chain(() -> markProcessed(s, m)));
        LOG.infof("SLASH %s: %s %s of %s%s", m.taskId(), outcome, done.amount(), worker,
                done.txHash() == null ? "" : (done.sentNow() ? " in " : ", found on chain in ") + done.txHash());
    }

    /** A timer on the queue: the request comes back after min(due − now, 15 min) and looks again (nothing goes to the DLQ). */
    private void requeueUntil(SettleRequest m, Instant due, Instant now, String what) {
        long wait = Math.min(MAX_DELAY_SECONDS, Math.max(1, java.time.Duration.between(now, due).toSeconds() + 1));
        sender.send(io.fedmarket.config.Queues.SETTLE, Json.write(m), (int) wait);
        LOG.infof("%s %s: %s until %s; looked at again in %d s", m.kind(), m.jobId(), what, due, wait);
    }

    private static Uni<Integer> markProcessed(Mutiny.Session s, SettleRequest m) {
        return s.createNativeQuery("insert into processed_messages (consumer, business_key, processed_at) values ('settle', :k, :t) on conflict do nothing")
                .setParameter("k", m.businessKey()).setParameter("t", Instant.now()).executeUpdate();
    }

    private static Uni<Stored> stored(Mutiny.Session s, SettleRequest m) {
        return s.createNativeQuery("select pr.model_hash, pr.payout_root, pr.tx_hash, (select coalesce(sum(p.cumulative), 0) from payouts p "
                        + "where p.job_id = pr.job_id and p.round_no = pr.round_no), (select count(*) from payouts p where p.job_id = pr.job_id "
                        + "and p.round_no = pr.round_no) from payout_roots pr where pr.job_id = :j and pr.round_no = :r", Object[].class)
                .setParameter("j", m.jobId()).setParameter("r", m.round()).getResultList()
                .map(rows -> rows.isEmpty() ? null : new Stored((String) rows.get(0)[0], (String) rows.get(0)[1], Sql.big(rows.get(0)[3]),
                        (String) rows.get(0)[2], ((Number) rows.get(0)[4]).intValue()));
    }

    private Uni<Stored> build(Mutiny.Session s, SettleRequest m) {
        return s.createNativeQuery("select r.status, coalesce(r.global_model_hash, ''), j.clearing_price_per_gpu_second, i.budget from rounds r join jobs j on j.id = r.job_id "
                        + "join intents i on i.id = j.intent_id where r.job_id = :j and r.round_no = :r for update of r", Object[].class)
                .setParameter("j", m.jobId()).setParameter("r", m.round()).getResultList()
                .chain(rows -> {
                    if (rows.isEmpty()) {
                        return Uni.createFrom().failure(new Records.PoisonRecord("job " + m.jobId() + " has no round " + m.round()));
                    }
                    if (!"CLOSED".equals(rows.get(0)[0])) {
                        return Uni.createFrom().failure(new IllegalStateException("round " + m.round() + " is " + rows.get(0)[0] + ", not CLOSED: retried later"));
                    }
                    String modelHash = (String) rows.get(0)[1];
                    if (!modelHash.matches("0x[0-9a-fA-F]{64}")) {
                        return Uni.createFrom().failure(new Records.PoisonRecord("round " + m.round() + " of job " + m.jobId()
                                + " is CLOSED without a 32-byte global model hash (got '" + modelHash + "'): the aggregate step must record it"));
                    }
                    BigInteger price = Sql.big(rows.get(0)[2]);
                    BigInteger budget = Sql.big(rows.get(0)[3]);
                    // every accepted task of rounds 1..r: who trained it (GPU pay), whose shard it was (data share, unless that
                    // owner had been removed from the job by the time the round closed)
                    return s.createNativeQuery("select t.id, t.round_no, t.worker, t.data_owner, sub.gpu_seconds, "
                                    + "exists (select 1 from job_participants p where p.job_id = t.job_id and p.address = t.data_owner and p.removed_at is not null "
                                    + "and p.removed_at <= coalesce(r.closed_at, now())) from verdicts v join tasks t on t.id = v.task_id "
                                    + "join submissions sub on sub.task_id = v.task_id join rounds r on r.job_id = t.job_id and r.round_no = t.round_no "
                                    // a verdict reached after its round closed (at the deadline) was not aggregated and is not paid:
                                    // the cumulative amounts of a round then never change once posted
                                    + "where v.job_id = :j and v.round_no <= :r and v.accepted and (r.closed_at is null or v.decided_at <= r.closed_at) "
                                    + "order by t.round_no, t.id", Object[].class)
                            .setParameter("j", m.jobId()).setParameter("r", m.round()).getResultList()
                            .chain(paid -> {
                                io.fedmarket.fl.payout.PayoutLedger ledger = io.fedmarket.fl.payout.PayoutLedger.open(budget);
                                for (int round = 1; round <= m.round(); round++) {
                                    List<io.fedmarket.fl.payout.TaskSettlement> tasks = new java.util.ArrayList<>();
                                    for (Object[] p : paid) {
                                        if (((Number) p[1]).intValue() == round) {
                                            String dataOwner = p[3] == null || Boolean.TRUE.equals(p[5]) ? null : (String) p[3];
                                            tasks.add(new io.fedmarket.fl.payout.TaskSettlement((String) p[0], (String) p[2], dataOwner, true, Sql.lng(p[4])));
                                        }
                                    }
                                    ledger = ledger.settleRound(round, price, dataShareBps, tasks).ledger();
                                }
                                Map<String, BigInteger> cumulative = new LinkedHashMap<>(ledger.cumulative());
                                BigInteger total = cumulative.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
                                // nothing earned yet (every update rejected): the round still records its model hash, with an empty root
                                PayoutTree tree = cumulative.isEmpty() ? null : PayoutTree.of(cumulative);
                                String root = tree == null ? Hashes.hex(new byte[32]) : tree.rootHex();
                                Uni<Integer> chain = s.createNativeQuery("insert into payout_roots (job_id, round_no, model_hash, payout_root, created_at) values (:j, :r, :h, :root, :t)")
                                        .setParameter("j", m.jobId()).setParameter("r", m.round()).setParameter("h", modelHash)
                                        .setParameter("root", root).setParameter("t", Instant.now()).executeUpdate();
                                for (Map.Entry<String, BigInteger> e : cumulative.entrySet()) {
                                    List<String> proof = tree.proof(e.getKey()).stream().map(Hashes::hex).toList();
                                    chain = chain.chain(() -> s.createNativeQuery("insert into payouts (job_id, round_no, address, cumulative, proof) values (:j, :r, :a, :c, :p)")
                                            .setParameter("j", m.jobId()).setParameter("r", m.round()).setParameter("a", e.getKey())
                                            .setParameter("c", new java.math.BigDecimal(e.getValue())).setParameter("p", Json.write(proof)).executeUpdate());
                                }
                                return chain.replaceWith(new Stored(modelHash, root, total, null, cumulative.size()));
                            });
                });
    }
}
