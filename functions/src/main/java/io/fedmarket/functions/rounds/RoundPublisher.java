package io.fedmarket.functions.rounds;

import io.fedmarket.config.Queues;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.fl.job.JobPlan;
import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.functions.artifacts.Artifacts;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.outbox.Outbox;
import io.fedmarket.messages.DataSource;
import io.fedmarket.messages.SettleRequest;
import io.fedmarket.messages.TrainTask;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.hibernate.reactive.mutiny.Mutiny;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Publishes round r of a job, in the caller's transaction: the round's start model (content-addressed in the bucket,
 * its hash recorded), one task per data shard of the job (a task belongs to a shard, not to a GPU: any live GPU
 * participant of the job may take it from the queue, so a dropped or interrupted task is re-offered to the others
 * through the queue's visibility timeout and resumed from its last checkpoint), the tasks' messages and the round's
 * deadline clock through the outbox. Idempotent: a round published before is left as it is (tasks and messages are
 * keyed by the task id), so a redelivered trigger publishes nothing twice.
 */
@ApplicationScoped
public class RoundPublisher {
    private static final Logger LOG = Logger.getLogger(RoundPublisher.class);

    @Inject
    Artifacts artifacts;

    @Inject
    Outbox outbox;

    /** What publishing did: the number of tasks, or why there were none. */
    public record Published(int tasks, String note) {
    }

    /** Round 1's start model: the plan's seeded initialisation (the same numbers a DJL worker would make), stored content-addressed. */
    public String initialModel(JobPlan plan) {
        ModelState init = ModelLayouts.initialState(plan.modelSpec(), plan.seed());
        return artifacts.putContent("models", "fmck", init.encode());
    }

    public static String taskId(UUID jobId, int round, int shard) {
        return "t-" + jobId + "-r" + round + "-s" + shard;
    }

    /** The job's plan, or a clear error for a job opened before plans existed. */
    public static JobPlan plan(Object json, UUID jobId) {
        if (json == null) {
            throw new IllegalStateException("job " + jobId + " has no plan (jobs.plan): it was opened before round publishing existed; "
                    + "cancel it and submit the intent again");
        }
        return Json.parse((String) json, JobPlan.class);
    }

    record Shard(UUID provider, String owner, boolean removed, DataSource source, long samples, String root) {
    }

    /**
     * Publishes round {@code round} from the model at {@code startUri} (hash {@code startHash}) unless it has its tasks
     * already. Deadline: now + the plan's round time, never after the intent's deadline.
     */
    public Uni<Published> publish(Mutiny.Session s, UUID jobId, int round, String startUri, String startHash) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return s.createNativeQuery("select j.plan, j.status, i.deadline from jobs j join intents i on i.id = j.intent_id where j.id = :j for update", Object[].class)
                .setParameter("j", jobId).getResultList()
                .chain(jobs -> {
                    if (jobs.isEmpty()) {
                        return Uni.createFrom().failure(new IllegalStateException("job " + jobId + " does not exist"));
                    }
                    String status = (String) jobs.get(0)[1];
                    if (!status.equals("OPEN") && !status.equals("RUNNING")) {
                        return Uni.createFrom().item(new Published(0, "job is " + status + ": round " + round + " not published"));
                    }
                    JobPlan plan = plan(jobs.get(0)[0], jobId);
                    Instant intentDeadline = instant(jobs.get(0)[2]);
                    return s.createNativeQuery("select count(*) from tasks where job_id = :j and round_no = :r", Long.class)
                            .setParameter("j", jobId).setParameter("r", round).getSingleResult()
                            .chain(existing -> existing > 0 ? Uni.createFrom().item(new Published(0, "round " + round + " was published before"))
                                    : shards(s, jobId).chain(shards -> workers(s, jobId).chain(workers ->
                                    create(s, jobId, round, startUri, startHash, plan, shards, workers, now, intentDeadline))));
                });
    }

    private Uni<List<Shard>> shards(Mutiny.Session s, UUID jobId) {
        return s.createNativeQuery("select jp.provider_id, jp.address, jp.removed_at, d.source, d.sample_count, d.dataset_root from job_participants jp "
                        + "join data_providers d on d.id = jp.provider_id where jp.job_id = :j and jp.kind = 'DATA' order by jp.provider_id", Object[].class)
                .setParameter("j", jobId).getResultList()
                .map(rows -> {
                    List<Shard> out = new ArrayList<>();
                    for (Object[] r : rows) {
                        out.add(new Shard((UUID) r[0], (String) r[1], r[2] != null, r[3] == null ? null : Json.parse((String) r[3], DataSource.class),
                                ((Number) r[4]).longValue(), (String) r[5]));
                    }
                    return out;
                });
    }

    private Uni<List<String>> workers(Mutiny.Session s, UUID jobId) {
        return s.createNativeQuery("select address from job_participants where job_id = :j and kind = 'GPU' and removed_at is null order by provider_id", String.class)
                .setParameter("j", jobId).getResultList();
    }

    private Uni<Published> create(Mutiny.Session s, UUID jobId, int round, String startUri, String startHash, JobPlan plan, List<Shard> shards,
                                  List<String> workers, Instant now, Instant intentDeadline) {
        if (workers.isEmpty()) {
            return fail(s, jobId, now, "no GPU provider of the job is left (every one was removed for cheating): round " + round + " cannot be trained");
        }
        if (shards.isEmpty()) {
            return fail(s, jobId, now, "the job has no data shard to train on");
        }
        Instant deadline = now.plusSeconds(plan.roundSeconds());
        if (deadline.isAfter(intentDeadline)) {
            deadline = intentDeadline;
        }
        final Instant due = deadline;
        List<TrainTask> tasks = new ArrayList<>();
        List<Shard> trained = new ArrayList<>();
        List<Map<String, String>> missing = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            Shard sh = shards.get(i);
            if (sh.source() == null) {
                return fail(s, jobId, now, "data offer " + sh.provider() + " has no source (the data set a worker trains on): round " + round + " cannot be trained");
            }
            DataSource src = sh.source();
            if (src.trainers() != null && workers.stream().noneMatch(w -> src.trainers().contains(w.toLowerCase()))) {
                // a private shard is held by its own workers only: with none of them left in the job, nobody may train it
                missing.add(Map.of("dataProvider", sh.provider().toString(), "owner", sh.owner(), "reason", "private: none of its workers "
                        + src.trainers() + " is left in the job"));
                continue;
            }
            JobPlan.TaskShape shape = plan.shape(sh.samples());
            trained.add(sh);
            tasks.add(new TrainTask(taskId(jobId, round, i), jobId, round, plan.modelSpec(), startUri, startHash, src.dataset(), src.partition(),
                    src.clients(), src.client(), src.partitionSeed(), sh.root(), plan.taskSeed(round, i), plan.lr(), plan.momentum(), plan.proxMu(),
                    plan.batchSize(), 0, shape.steps(), shape.checkpointEvery(), plan.threads(), plan.dpClip(), plan.dpNoiseMultiplier(),
                    plan.roundSeconds(), due.getEpochSecond(), src.trainers()).validate());
        }
        if (tasks.isEmpty()) {
            return fail(s, jobId, now, "round " + round + " has no shard left to train: " + missing.size() + " private shard(s) lost every worker that holds them");
        }
        if (!missing.isEmpty()) {
            LOG.warnf("round %d of %s goes without %d private shard(s) whose workers are gone: %s", round, jobId, missing.size(), missing);
        }
        Uni<Integer> chain = s.createNativeQuery("insert into rounds (job_id, round_no, status, min_updates, deadline, start_model_uri, global_model_hash, missing_shards) "
                        + "values (:j, :r, 'OPEN', :m, :d, :u, null, :ms) on conflict (job_id, round_no) do update set start_model_uri = excluded.start_model_uri, "
                        + "deadline = excluded.deadline, min_updates = excluded.min_updates, missing_shards = excluded.missing_shards where rounds.start_model_uri is null")
                .setParameter("j", jobId).setParameter("r", round).setParameter("m", plan.minUpdatesFor(tasks.size())).setParameter("d", due).setParameter("u", startUri)
                .setParameter("ms", missing.isEmpty() ? null : Json.write(missing))
                .executeUpdate();
        for (int i = 0; i < tasks.size(); i++) {
            TrainTask t = tasks.get(i);
            Shard sh = trained.get(i);
            int index = shards.indexOf(sh);
            String worker = t.trainers() == null ? workers.get(i % workers.size())
                    : workers.stream().filter(t::trainableBy).findFirst().orElse(t.trainers().get(0));
            String body = Json.write(t);
            chain = chain.chain(() -> s.createNativeQuery("insert into tasks (id, job_id, round_no, worker, shard, seed, hyper_params, status, created_at, "
                                    + "data_provider, data_owner, shard_index) values (:id, :j, :r, :w, :sh, :seed, :hp, 'OFFERED', :t, :dp, :do, :i) on conflict do nothing")
                            .setParameter("id", t.taskId()).setParameter("j", jobId).setParameter("r", round).setParameter("w", worker)
                            .setParameter("sh", sh.provider().toString()).setParameter("seed", t.seed()).setParameter("hp", body).setParameter("t", now)
                            .setParameter("dp", sh.provider()).setParameter("do", sh.owner()).setParameter("i", index)
                            .executeUpdate())
                    .chain(() -> outbox.add(s, Queues.TASKS, "task:" + t.taskId(), body));
        }
        return chain.chain(() -> outbox.add(s, Queues.SETTLE, "round-deadline:" + jobId + ":" + round, Json.write(SettleRequest.deadline(jobId, round))))
                .chain(() -> s.createNativeQuery("update jobs set status = 'RUNNING', current_round = :r, updated_at = :t where id = :j")
                        .setParameter("r", round).setParameter("t", now).setParameter("j", jobId).executeUpdate())
                .chain(() -> s.createNativeQuery("update intents set status = 'RUNNING', updated_at = :t where id = (select intent_id from jobs where id = :j) "
                        + "and status = 'MATCHED'").setParameter("t", now).setParameter("j", jobId).executeUpdate())
                .map(n -> {
                    LOG.infof("round %d of %s published: %d tasks from model %s, deadline %s", round, jobId, tasks.size(), startHash, due);
                    return new Published(tasks.size(), tasks.size() + " tasks, deadline " + due);
                });
    }

    /** A shard is offered at most this many times in one round (its first task and re-offers after rejections). */
    public static final int MAX_OFFERS_PER_ROUND = 3;

    /**
     * In the caller's transaction: the shard of a rejected task goes back on the queue in the same round, as a new task
     * (a fresh id: nothing of the rejected attempt is resumed), unless the round is closed or the shard has had its
     * {@link #MAX_OFFERS_PER_ROUND} offers. The cheater is out of the job, so another worker trains it.
     */
    public Uni<String> reoffer(Mutiny.Session s, String rejectedTaskId) {
        return s.createNativeQuery("select t.job_id, t.round_no, t.hyper_params, t.data_provider, t.data_owner, t.shard_index, t.shard, r.status, "
                        + "(select count(*) from tasks o where o.job_id = t.job_id and o.round_no = t.round_no and o.data_provider = t.data_provider), "
                        + "(select address from job_participants p where p.job_id = t.job_id and p.kind = 'GPU' and p.removed_at is null order by provider_id limit 1) "
                        + "from tasks t join rounds r on r.job_id = t.job_id and r.round_no = t.round_no where t.id = :t", Object[].class)
                .setParameter("t", rejectedTaskId).getResultList()
                .chain(rows -> {
                    if (rows.isEmpty() || rows.get(0)[3] == null) {
                        return Uni.createFrom().item("no shard to re-offer");
                    }
                    Object[] r = rows.get(0);
                    long offers = ((Number) r[8]).longValue();
                    if (!"OPEN".equals(r[7]) || offers >= MAX_OFFERS_PER_ROUND || r[9] == null) {
                        return Uni.createFrom().item("shard not re-offered (round " + r[7] + ", " + offers + " offers, "
                                + (r[9] == null ? "no live worker" : "live workers left") + ")");
                    }
                    TrainTask old = Json.parse((String) r[2], TrainTask.class);
                    String base = old.taskId().replaceAll("-a[0-9]+$", "");
                    String id = base + "-a" + (offers + 1);
                    TrainTask t = old.reoffered(id, old.seed() + 1_000_000L * offers).validate();
                    String body = Json.write(t);
                    // a private shard is held by its trainers only: re-offered only while one of them is still in the job
                    Uni<String> liveTrainer = old.trainers() == null ? Uni.createFrom().item((String) r[9])
                            : s.createNativeQuery("select address from job_participants where job_id = :j and kind = 'GPU' and removed_at is null "
                                    + "and lower(address) in (:ws) order by provider_id limit 1", String.class)
                            .setParameter("j", r[0]).setParameter("ws", old.trainers()).getResultList().map(l -> l.isEmpty() ? null : l.get(0));
                    return liveTrainer.chain(w -> w == null ? Uni.createFrom().item("shard not re-offered: it is private and none of its workers "
                            + old.trainers() + " is left in the job") : s.createNativeQuery("insert into tasks (id, job_id, round_no, worker, shard, seed, hyper_params, status, created_at, "
                                    + "data_provider, data_owner, shard_index) values (:id, :j, :r, :w, :sh, :seed, :hp, 'OFFERED', :t, :dp, :do, :i) on conflict do nothing")
                            .setParameter("id", id).setParameter("j", r[0]).setParameter("r", r[1]).setParameter("w", w).setParameter("sh", r[6])
                            .setParameter("seed", t.seed()).setParameter("hp", body).setParameter("t", Instant.now()).setParameter("dp", r[3])
                            .setParameter("do", r[4]).setParameter("i", r[5]).executeUpdate()
                            .chain(n -> n == 0 ? Uni.createFrom().item("re-offered before")
                                    : outbox.add(s, Queues.TASKS, "task:" + id, body).replaceWith("shard re-offered as " + id)));
                });
    }

    private static Uni<Published> fail(Mutiny.Session s, UUID jobId, Instant now, String why) {
        LOG.warnf("job %s FAILED: %s", jobId, why);
        return s.createNativeQuery("update jobs set status = 'FAILED', status_reason = :w, updated_at = :t where id = :j")
                .setParameter("w", why).setParameter("t", now).setParameter("j", jobId).executeUpdate()
                .replaceWith(new Published(0, "job FAILED: " + why));
    }

    /** The model hash of a stored model: what its tasks and the chain record. */
    public String hashOf(String uri) {
        return Hashes.hex(ModelState.decode(artifacts.get(uri), uri).paramsHash());
    }

    static Instant instant(Object v) {
        if (v instanceof Instant i) {
            return i;
        }
        if (v instanceof OffsetDateTime o) {
            return o.toInstant();
        }
        if (v instanceof java.time.LocalDateTime l) {
            return l.toInstant(java.time.ZoneOffset.UTC);
        }
        throw new IllegalStateException("unexpected timestamp " + v);
    }
}
