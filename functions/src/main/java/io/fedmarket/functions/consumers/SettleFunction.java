package io.fedmarket.functions.consumers;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import io.fedmarket.messages.SettleRequest;
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
 * GPU-seconds of its accepted submissions in rounds 1..r), the payout Merkle tree and each address's
 * proof, stored once per (job, round) with the round marked SETTLED. Posting the root on chain
 * through the chain facade is the next step (issue 8); REFUND requests are recorded once.
 */
public class SettleFunction {
    private static final Logger LOG = Logger.getLogger(SettleFunction.class);

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
        String outcome = Db.session(s -> s.createNativeQuery("insert into processed_messages (consumer, business_key, processed_at) values ('settle', :k, :t) on conflict do nothing")
                .setParameter("k", m.businessKey()).setParameter("t", Instant.now()).executeUpdate()
                .chain(n -> n == 0 ? Uni.createFrom().item("already settled")
                        : m.kind() == SettleRequest.Kind.REFUND ? Uni.createFrom().item("refund recorded") : round(s, m)));
        LOG.infof("%s %s round %d: %s", m.kind(), m.jobId(), m.round(), outcome);
    }

    private Uni<String> round(Mutiny.Session s, SettleRequest m) {
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
                    BigInteger price = Sql.big(rows.get(0)[2]);
                    String modelHash = (String) rows.get(0)[1];
                    return s.createNativeQuery("select t.worker, sum(sub.gpu_seconds) from verdicts v join tasks t on t.id = v.task_id join submissions sub on sub.task_id = v.task_id "
                                    + "where v.job_id = :j and v.round_no <= :r and v.accepted group by t.worker order by t.worker", Object[].class)
                            .setParameter("j", m.jobId()).setParameter("r", m.round()).getResultList()
                            .chain(paid -> {
                                Map<String, BigInteger> cumulative = new LinkedHashMap<>();
                                for (Object[] p : paid) {
                                    cumulative.put((String) p[0], price.multiply(Sql.big(p[1])));
                                }
                                PayoutTree tree = new PayoutTree(cumulative);
                                Uni<Integer> chain = s.createNativeQuery("insert into payout_roots (job_id, round_no, model_hash, payout_root, created_at) values (:j, :r, :h, :root, :t)")
                                        .setParameter("j", m.jobId()).setParameter("r", m.round()).setParameter("h", modelHash)
                                        .setParameter("root", tree.root()).setParameter("t", Instant.now()).executeUpdate();
                                for (Map.Entry<String, BigInteger> e : cumulative.entrySet()) {
                                    List<String> proof = tree.proof(e.getKey());
                                    chain = chain.chain(() -> s.createNativeQuery("insert into payouts (job_id, round_no, address, cumulative, proof) values (:j, :r, :a, :c, :p)")
                                            .setParameter("j", m.jobId()).setParameter("r", m.round()).setParameter("a", e.getKey())
                                            .setParameter("c", new java.math.BigDecimal(e.getValue())).setParameter("p", Json.write(proof)).executeUpdate());
                                }
                                return chain.chain(() -> s.createNativeQuery("update rounds set status = 'SETTLED' where job_id = :j and round_no = :r")
                                                .setParameter("j", m.jobId()).setParameter("r", m.round()).executeUpdate())
                                        .replaceWith(cumulative.size() + " payees, root " + tree.root());
                            });
                });
    }
}
