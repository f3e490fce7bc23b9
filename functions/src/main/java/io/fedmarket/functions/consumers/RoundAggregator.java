package io.fedmarket.functions.consumers;

import io.fedmarket.config.Queues;
import io.fedmarket.fl.aggregation.AggregationResult;
import io.fedmarket.fl.aggregation.AggregationRule;
import io.fedmarket.fl.aggregation.ClientUpdate;
import io.fedmarket.fl.aggregation.ServerState;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.functions.artifacts.Artifacts;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.outbox.Outbox;
import io.fedmarket.messages.SettleRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The model of a CLOSED round: the accepted updates (artifact keys from their submissions, weighted by their
 * sample counts) aggregated by the intent's rule and its parameters (the job's plan, {@code AggregationRegistry}) from the round's start model,
 * stored content-addressed ({@code models/<keccak>.fmck}); a stateful server optimiser (FedAdam, FedYogi) keeps its
 * moments at {@code models/state/<job>/<round>.fmss} for the next round. Then, in one transaction, the round records
 * {@code global_model_uri} and {@code global_model_hash} (what postRound puts on chain) and its settlement is queued.
 * Idempotent: a round that has its model is not aggregated again, only its settlement queued (once, by the outbox's
 * dedup key); a retry after a crash writes the same objects. Whoever closes a round (its verdicts or its deadline)
 * calls this and nothing else.
 * Fewer accepted updates than the rule needs: the start model is kept (and recorded), as the demo's coordinator does.
 */
@ApplicationScoped
public class RoundAggregator {
    private static final Logger LOG = Logger.getLogger(RoundAggregator.class);

    @Inject
    Artifacts artifacts;

    @Inject
    Outbox outbox;

    @Inject
    io.fedmarket.functions.rounds.RoundPublisher publisher;

    /** What happened: the model's hash, or why nothing was done; {@code closed}: the round is CLOSED (settlement may be queued). */
    public record Outcome(boolean closed, String modelHash, String modelUri, int updates, String note) {
    }

    public Outcome aggregate(UUID jobId, int round) {
        List<Object[]> rows = Db.session(s -> s.createNativeQuery("select r.status, r.global_model_hash, r.start_model_uri, j.plan, r.global_model_uri, i.rounds from rounds r "
                        + "join jobs j on j.id = r.job_id join intents i on i.id = j.intent_id where r.job_id = :j and r.round_no = :r", Object[].class)
                .setParameter("j", jobId).setParameter("r", round).getResultList());
        if (rows.isEmpty()) {
            throw new Records.PoisonRecord("job " + jobId + " has no round " + round);
        }
        Object[] r = rows.get(0);
        if (!"CLOSED".equals(r[0])) {
            return new Outcome(false, (String) r[1], null, 0, "round is " + r[0]);
        }
        int rounds = ((Number) r[5]).intValue();
        if (r[1] != null) {
            String note = Db.session(s -> queueSettlement(s, jobId, round).chain(() -> next(s, jobId, round, rounds, (String) r[4], (String) r[1])));
            return new Outcome(true, (String) r[1], null, 0, "model recorded; settlement queued; " + note);
        }
        String startUri = (String) r[2];
        if (startUri == null && Db.session(s -> s.createNativeQuery("select count(*) from verdicts where job_id = :j and round_no = :r and accepted", Long.class)
                .setParameter("j", jobId).setParameter("r", round).getSingleResult()) == 0) {
            return new Outcome(true, null, null, 0, "no start model and no accepted update: nothing to aggregate");
        }
        if (startUri == null) {
            throw new Records.PoisonRecord("round " + round + " of job " + jobId + " has no start model (rounds.start_model_uri): it is set when the "
                    + "round's tasks are published; without it the round cannot be aggregated");
        }
        AggregationRule rule;
        try {
            rule = io.fedmarket.functions.rounds.RoundPublisher.plan(r[3], jobId).aggregationRule(); // the intent's rule with its parameters
        } catch (IllegalArgumentException e) {
            throw new Records.PoisonRecord("job " + jobId + ": " + e.getMessage());
        }
        List<Object[]> accepted = Db.session(s -> s.createNativeQuery("select s.task_id, s.update_uri, s.sample_count from verdicts v "
                        + "join submissions s on s.task_id = v.task_id where v.job_id = :j and v.round_no = :r and v.accepted order by s.task_id", Object[].class)
                .setParameter("j", jobId).setParameter("r", round).getResultList());

        ModelState global = ModelState.decode(artifacts.get(startUri), startUri);
        float[] start = global.flat();
        List<io.fedmarket.fl.aggregation.LayoutAlignment.Candidate> candidates = new ArrayList<>();
        for (Object[] a : accepted) {
            String uri = (String) a[1];
            candidates.add(new io.fedmarket.fl.aggregation.LayoutAlignment.Candidate((String) a[0], uri, ModelState.decode(artifacts.get(uri), uri),
                    ((Number) a[2]).longValue()));
        }
        // by parameter name and shape: an update of another layout is left out with what differs, never averaged by position
        io.fedmarket.fl.aggregation.LayoutAlignment.Aligned aligned = io.fedmarket.fl.aggregation.LayoutAlignment.align(global, candidates);
        List<ClientUpdate> updates = new ArrayList<>(aligned.updates());
        List<String> refusedNotes = new ArrayList<>();
        for (io.fedmarket.fl.aggregation.LayoutAlignment.Refusal f : aligned.refused()) {
            String doc = Json.write(java.util.Map.of("reason", "LAYOUT_MISMATCH", "jobId", jobId.toString(), "round", round, "taskId", f.taskId(),
                    "updateUri", f.uri(), "globalModelUri", startUri, "globalModelHash", Hashes.hex(global.paramsHash()), "detail", f.detail()));
            String evidence = "evidence/" + f.taskId() + "/" + Hashes.hex(Hashes.keccak(doc.getBytes(java.nio.charset.StandardCharsets.UTF_8))) + ".json";
            artifacts.put(evidence, doc.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            LOG.warnf("round %d of %s: update %s of task %s left out of aggregation: %s (evidence %s)", round, jobId, f.uri(), f.taskId(), f.detail(), evidence);
            refusedNotes.add(f.taskId() + " (" + evidence + ")");
        }
        ServerState state = round > 1 ? artifacts.find(stateKey(jobId, round - 1)).map(RoundAggregator::decodeState).orElse(ServerState.NONE)
                : ServerState.NONE;
        ModelState next = global.withoutVelocity();
        String note;
        if (updates.size() >= rule.minUpdates()) {
            AggregationResult res = rule.aggregate(start, updates, state);
            next = global.withFlat(res.model());
            state = res.state();
            note = rule.name() + " over " + updates.size() + " accepted update(s)";
        } else {
            note = "only " + updates.size() + " accepted update(s), " + rule.name() + " needs " + rule.minUpdates() + ": the start model is kept";
        }
        if (!refusedNotes.isEmpty()) {
            note += "; left out for their layout: " + String.join(", ", refusedNotes);
        }
        String uri = artifacts.putContent("models", "fmck", next.encode());
        if (state != null && !state.isEmpty()) {
            artifacts.put(stateKey(jobId, round), encodeState(state));
        }
        String hash = Hashes.hex(next.paramsHash());
        String recorded = Db.session(s -> s.createNativeQuery("update rounds set global_model_hash = :h, global_model_uri = :u "
                        + "where job_id = :j and round_no = :r and global_model_hash is null")
                .setParameter("h", hash).setParameter("u", uri).setParameter("j", jobId).setParameter("r", round).executeUpdate()
                .chain(n -> n == 0 ? io.smallrye.mutiny.Uni.createFrom().item(" (recorded by another delivery)")
                        : queueSettlement(s, jobId, round).chain(() -> next(s, jobId, round, rounds, uri, hash)).map(x -> "; " + x)));
        LOG.infof("round %d of %s aggregated: %s; model %s at %s%s", round, jobId, note, hash, uri, recorded);
        return new Outcome(true, hash, uri, updates.size(), note);
    }

    /**
     * After round r's model: round r + 1 is published from it (tasks, messages, deadline clock), or, after the last round,
     * the job and its intent are COMPLETED. In the transaction that records the model, so neither happens without the other.
     */
    private io.smallrye.mutiny.Uni<String> next(org.hibernate.reactive.mutiny.Mutiny.Session s, UUID jobId, int round, int rounds, String uri, String hash) {
        if (round < rounds) {
            return publisher.publish(s, jobId, round + 1, uri, hash).map(p -> "round " + (round + 1) + ": " + p.note());
        }
        java.time.Instant now = java.time.Instant.now();
        return s.createNativeQuery("update jobs set status = 'COMPLETED', updated_at = :t where id = :j and status in ('OPEN', 'RUNNING')")
                .setParameter("t", now).setParameter("j", jobId).executeUpdate()
                .chain(() -> s.createNativeQuery("update intents set status = 'COMPLETED', status_reason = :why, updated_at = :t "
                                + "where id = (select intent_id from jobs where id = :j) and status in ('MATCHED', 'RUNNING')")
                        .setParameter("why", rounds + " rounds trained; final model " + hash).setParameter("t", now).setParameter("j", jobId).executeUpdate())
                .replaceWith("job COMPLETED after round " + round);
    }

    /** The round's settle request, once per (job, round) whoever asks (outbox dedup key). */
    private io.smallrye.mutiny.Uni<Integer> queueSettlement(org.hibernate.reactive.mutiny.Mutiny.Session s, UUID jobId, int round) {
        return outbox.add(s, Queues.SETTLE, "settle-round:" + jobId + ":" + round, Json.write(SettleRequest.round(jobId, round)));
    }

    static String stateKey(UUID jobId, int round) {
        return "models/state/" + jobId + "/" + round + ".fmss";
    }

    static byte[] encodeState(ServerState s) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream(16 * s.m().length + 32);
        try (DataOutputStream out = new DataOutputStream(bos)) {
            out.writeLong(s.round());
            out.writeInt(s.m().length);
            for (double d : s.m()) {
                out.writeDouble(d);
            }
            out.writeInt(s.v().length);
            for (double d : s.v()) {
                out.writeDouble(d);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bos.toByteArray();
    }

    static ServerState decodeState(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            long round = in.readLong();
            double[] m = new double[in.readInt()];
            for (int i = 0; i < m.length; i++) {
                m[i] = in.readDouble();
            }
            double[] v = new double[in.readInt()];
            for (int i = 0; i < v.length; i++) {
                v[i] = in.readDouble();
            }
            return new ServerState(m, v, round);
        } catch (IOException e) {
            throw new UncheckedIOException("server state is not a state file: " + e.getMessage(), e);
        }
    }
}
