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
        RoundPoster.Posted posted = poster.post(m.jobId(), m.round(), Hashes.fromHex(st.modelHash()), Hashes.fromHex(st.payoutRoot()), st.total());
        String tx = posted.txHash() != null ? posted.txHash() : "on-chain";
        // 3. the round is SETTLED with its transaction
        Db.session(s -> s.createNativeQuery("update payout_roots set tx_hash = :tx where job_id = :j and round_no = :r and tx_hash is null")
                .setParameter("tx", tx).setParameter("j", m.jobId()).setParameter("r", m.round()).executeUpdate()
                .chain(() -> s.createNativeQuery("update rounds set status = 'SETTLED' where job_id = :j and round_no = :r")
                        .setParameter("j", m.jobId()).setParameter("r", m.round()).executeUpdate())
                .chain(() -> markProcessed(s, m)));
        LOG.infof("ROUND %s round %d: %d payees, root %s, total %s, %s %s", m.jobId(), m.round(), st.payees(), st.payoutRoot(), st.total(),
                posted.sentNow() ? "posted in" : "found on chain in", tx);
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
        return s.createNativeQuery("select r.status, coalesce(r.global_model_hash, ''), j.clearing_price_per_gpu_second from rounds r join jobs j on j.id = r.job_id "
                        + "where r.job_id = :j and r.round_no = :r for update", Object[].class)
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
                    return s.createNativeQuery("select t.worker, sum(sub.gpu_seconds) from verdicts v join tasks t on t.id = v.task_id join submissions sub on sub.task_id = v.task_id "
                                    + "where v.job_id = :j and v.round_no <= :r and v.accepted group by t.worker order by t.worker", Object[].class)
                            .setParameter("j", m.jobId()).setParameter("r", m.round()).getResultList()
                            .chain(paid -> {
                                Map<String, BigInteger> cumulative = new LinkedHashMap<>();
                                for (Object[] p : paid) {
                                    cumulative.put((String) p[0], price.multiply(Sql.big(p[1])));
                                }
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
