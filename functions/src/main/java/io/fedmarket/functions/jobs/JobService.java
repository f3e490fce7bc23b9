package io.fedmarket.functions.jobs;

import io.fedmarket.functions.http.ApiError;
import io.fedmarket.functions.http.Caller;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.jobs.JobViews.ClaimView;
import io.fedmarket.functions.jobs.JobViews.JobView;
import io.fedmarket.functions.jobs.JobViews.Participant;
import io.fedmarket.functions.jobs.JobViews.RoundView;
import io.fedmarket.functions.jobs.JobViews.SlashView;
import io.fedmarket.model.Addresses;
import io.fedmarket.model.Role;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.math.BigDecimal;
import java.util.List;
import java.util.UUID;

/**
 * Job status and claims. A job is visible to its builder, its participants, and verifiers/operators;
 * to anyone else it does not exist (404, so ids cannot be probed). A claim is only ever the caller's own.
 */
@ApplicationScoped
public class JobService {

    static UUID id(String raw, String what) {
        try {
            return UUID.fromString(raw);
        } catch (IllegalArgumentException e) {
            throw ApiError.notFound(what + " " + raw);
        }
    }

    public JobView job(Caller caller, String rawId) {
        UUID id = id(rawId, "job");
        boolean staff = caller.has(Role.OPERATOR) || caller.has(Role.VERIFIER);
        return Db.session(s -> s.createNativeQuery("select intent_id, builder, status, clearing_price_per_gpu_second, current_round, explanation, "
                        + "(select count(*) from job_participants p where p.job_id = j.id and p.address = :me) from jobs j where id = :id", Object[].class)
                .setParameter("id", id).setParameter("me", caller.address()).getResultList()
                .chain(rows -> {
                    if (rows.isEmpty() || !(staff || caller.address().equals(rows.get(0)[1]) || ((Number) rows.get(0)[6]).longValue() > 0)) {
                        return Uni.createFrom().failure(ApiError.notFound("job " + rawId));
                    }
                    Object[] j = rows.get(0);
                    return s.createNativeQuery("select provider_id, kind, address, reason from job_participants where job_id = :id order by kind, provider_id", Object[].class)
                            .setParameter("id", id).getResultList()
                            .chain(ps -> s.createNativeQuery("select r.round_no, r.status, r.global_model_hash, r.deadline, r.min_updates, "
                                            + "(select count(*) from verdicts v where v.job_id = r.job_id and v.round_no = r.round_no and v.accepted), "
                                            + "(select count(*) from verdicts v where v.job_id = r.job_id and v.round_no = r.round_no and not v.accepted), "
                                            + "r.missing_shards, count(q.id), coalesce(sum(q.steps * coalesce((t.hyper_params::jsonb ->> 'batchSize')::int, 1)), 0) "
                                            + "from rounds r left join tasks t on t.job_id = r.job_id and t.round_no = r.round_no "
                                            + "and (t.hyper_params::jsonb ->> 'dataset') like 'private:%' "
                                            + "left join reexec_requests q on q.task_id = t.id and q.assignee is not null "
                                            + "where r.job_id = :id group by r.job_id, r.round_no order by r.round_no", Object[].class)
                                    .setParameter("id", id).getResultList()
                                    .chain(rs -> s.createNativeQuery("select address, round_no, amount, status, evidence_hash, tx_hash from slashes where job_id = :id order by created_at", Object[].class)
                                            .setParameter("id", id).getResultList()
                                            .chain(sl -> s.createNativeQuery("select coalesce(sum(cumulative), 0) from payouts p where job_id = :id "
                                                            + "and round_no = (select max(round_no) from payouts q where q.job_id = :id)", Object.class)
                                                    .setParameter("id", id).getSingleResult()
                                                    .map(cost -> new JobView(rawId, j[0].toString(), Addresses.checksummed((String) j[1]), (String) j[2], big(j[3]),
                                                            ((Number) j[4]).intValue(),
                                                            ps.stream().map(p -> new Participant(p[0].toString(), (String) p[1], Addresses.checksummed((String) p[2]), (String) p[3])).toList(),
                                                            rs.stream().map(r -> new RoundView(((Number) r[0]).intValue(), (String) r[1], (String) r[2], String.valueOf(r[3]),
                                                                    ((Number) r[4]).intValue(), ((Number) r[5]).longValue(), ((Number) r[6]).longValue(),
                                                                    (String) r[7], ((Number) r[8]).longValue(), ((Number) r[9]).longValue())).toList(),
                                                            sl.stream().map(x -> new SlashView(Addresses.checksummed((String) x[0]), ((Number) x[1]).intValue(), big(x[2]),
                                                                    (String) x[3], (String) x[4], (String) x[5])).toList(),
                                                            big(cost), (String) j[5])))));
                }));
    }

    @SuppressWarnings("unchecked")
    public ClaimView claim(Caller caller, String rawJobId) {
        UUID id = id(rawJobId, "claim for job");
        List<Object[]> rows = Db.session(s -> s.createNativeQuery("select p.round_no, p.cumulative, p.proof, r.payout_root, r.model_hash from payouts p "
                        + "join payout_roots r on r.job_id = p.job_id and r.round_no = p.round_no where p.job_id = :id and p.address = :me "
                        + "order by p.round_no desc limit 1", Object[].class)
                .setParameter("id", id).setParameter("me", caller.address()).getResultList());
        if (rows.isEmpty()) {
            throw ApiError.notFound("claim for job " + rawJobId + " (nothing has been settled to " + Addresses.checksummed(caller.address()) + " yet)");
        }
        Object[] r = rows.get(0);
        return new ClaimView(rawJobId, ((Number) r[0]).intValue(), Addresses.checksummed(caller.address()), big(r[1]), (String) r[3],
                Json.parse((String) r[2], List.class), (String) r[4]);
    }

    private static String big(Object v) {
        return v == null ? null : (v instanceof BigDecimal d ? d.toBigInteger().toString() : v.toString());
    }
}
