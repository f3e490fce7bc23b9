package io.fedmarket.functions.consumers;

import com.fasterxml.jackson.core.type.TypeReference;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import io.fedmarket.matching.Assignment;
import io.fedmarket.matching.DataCandidate;
import io.fedmarket.matching.GpuCandidate;
import io.fedmarket.matching.Match;
import io.fedmarket.matching.MatchRequest;
import io.fedmarket.matching.MatchResult;
import io.fedmarket.matching.MatchingSolver;
import io.fedmarket.matching.NoMatch;
import io.fedmarket.matching.ReliabilityStats;
import io.fedmarket.matching.Weights;
import io.fedmarket.messages.IntentSubmitted;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.reactive.mutiny.Mutiny;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Loads the intent and the candidate providers with their mirrored bonds, runs the shared
 * {@link MatchingSolver}, and in one transaction either opens the job (participants, clearing
 * price, explanation, round 1) and marks the intent MATCHED, or marks it UNMATCHED with the
 * solver's reason. Idempotent on the intent: only a SUBMITTED intent is matched, and the
 * transition happens under a row lock, so a redelivered message opens no second job.
 */
@ApplicationScoped
public class MatchService {
    private static final Logger LOG = Logger.getLogger(MatchService.class);
    private static final MatchingSolver SOLVER = new MatchingSolver();

    @ConfigProperty(name = "fedmarket.match.required-bond", defaultValue = "1")
    BigInteger requiredBond;

    @ConfigProperty(name = "fedmarket.match.batch-size", defaultValue = "64")
    int batchSize;

    @Inject
    io.fedmarket.functions.outbox.Outbox outbox;

    public record Outcome(String status, UUID jobId, String reason) {
    }

    public Outcome match(IntentSubmitted m) {
        if (m.intentId() == null) {
            throw new Records.PoisonRecord("IntentSubmitted without intentId");
        }
        MDC.put("intentId", m.intentId().toString());
        Outcome out = Db.session(s -> s.createNativeQuery(
                        "select status, data_domain, required_labels, rounds, local_epochs, min_participants, max_participants, budget, "
                                + "max_price_per_gpu_second, deadline, builder, model_architecture, model_input_shape, model_num_classes, training, verification, "
                                + "aggregation, privacy_mode, dp_epsilon, dp_delta, aggregation_params from intents where id = :id for update", Object[].class)
                .setParameter("id", m.intentId()).getResultList()
                .chain(rows -> {
                    if (rows.isEmpty()) {
                        // stored-and-queued in one transaction: a message without its intent is poison
                        return Uni.createFrom().failure(new Records.PoisonRecord("intent " + m.intentId() + " does not exist"));
                    }
                    Object[] r = rows.get(0);
                    if (!"SUBMITTED".equals(r[0])) {
                        return Uni.createFrom().item(new Outcome((String) r[0], null, "already " + r[0] + ": nothing to do"));
                    }
                    return s.createNativeQuery("update intents set status = 'MATCHING', updated_at = :t where id = :id")
                            .setParameter("t", Instant.now()).setParameter("id", m.intentId()).executeUpdate()
                            .chain(() -> candidates(s, (String) r[1], Sql.big(r[8]), layoutOrNull(r)))
                            .chain(c -> decide(s, m.intentId(), r, c));
                }));
        LOG.infof("intent %s: %s %s", m.intentId(), out.status(), out.jobId() == null ? out.reason() : "job " + out.jobId());
        if (out.jobId() != null) {
            outbox.relay(10);
        }
        return out;
    }

    /**
     * @param trainers per private data offer (by id): the worker keys that hold it (only they may train it)
     */
    record Candidates(List<DataCandidate> data, List<GpuCandidate> gpus, Map<String, String> owners, long withoutSource, List<String> misfits,
                      Map<String, List<String>> trainers) {
    }

    /**
     * A private shard is trained by the workers that hold it: each private offer's assignment gets a GPU of one of its
     * workers (the one the solver chose if it is, else that worker's GPU offer, preferring one already in the match). Null
     * when an offer's workers have no GPU offer under the price cap (candidates leaves such offers out beforehand).
     */
    static Match routePrivate(Match m, Candidates c) {
        List<Assignment> out = new ArrayList<>();
        java.util.Set<String> chosen = new java.util.HashSet<>();
        m.assignments().forEach(a -> chosen.add(a.gpuProviderId()));
        for (Assignment a : m.assignments()) {
            List<String> holders = c.trainers().get(a.dataProviderId());
            if (holders == null || holders.contains(String.valueOf(c.owners().get(a.gpuProviderId())).toLowerCase())) {
                out.add(a);
                continue;
            }
            GpuCandidate g = c.gpus().stream().filter(x -> holders.contains(String.valueOf(c.owners().get(x.id())).toLowerCase()))
                    .sorted(java.util.Comparator.comparing((GpuCandidate x) -> !chosen.contains(x.id())).thenComparing(GpuCandidate::id)).findFirst().orElse(null);
            if (g == null) {
                return null;
            }
            out.add(new Assignment(a.dataProviderId(), g.id(), a.samplesPerRound(), a.gpuSecondsPerRound(), a.gpuSecondsTotal(), a.expectedPayment(),
                    a.expectedCompletion(), a.regionFit(), a.coverageGain(), a.explanation() + "; private data: trained on the GPU of a worker that holds it ("
                    + c.owners().get(g.id()) + ")"));
        }
        return new Match(m.intentId(), out, m.clearingPricePerGpuSecond(), m.priceSetterId(), m.totalGpuSeconds(), m.expectedCost(), m.objective(),
                m.priceExplanation());
    }

    /** The intent's model as the plan will build it, or null when it cannot be built (decide says why). */
    private static io.fedmarket.fl.model.ModelLayouts.Layout layoutOrNull(Object[] r) {
        try {
            return io.fedmarket.fl.model.ModelLayouts.layout(io.fedmarket.fl.job.JobPlan.modelSpecFor((String) r[11],
                    Json.parse((String) r[12], RequiredShape.class), ((Number) r[13]).intValue()));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Why an offer's data does not fit the model (its data set's sample shape and classes), or null when it fits or is unknown. */
    private static String misfit(io.fedmarket.fl.model.ModelLayouts.Layout layout, String source) {
        if (layout == null || source == null) {
            return null;
        }
        try {
            String ds = Json.parse(source, io.fedmarket.messages.DataSource.class).dataset();
            var shape = io.fedmarket.messages.DataSource.sampleShape(ds);
            if (shape.isEmpty()) {
                return null;
            }
            return io.fedmarket.fl.model.ModelLayouts.misfit(layout, shape.get(), io.fedmarket.messages.DataSource.classes(ds).orElseThrow())
                    .map(w -> ds + ": " + w).orElse(null);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private Uni<Candidates> candidates(Mutiny.Session s, String domain, BigInteger maxPrice, io.fedmarket.fl.model.ModelLayouts.Layout layout) {
        Map<String, String> owners = new HashMap<>();
        return s.createNativeQuery("select d.id, d.domain, d.region, d.sample_count, d.label_histogram, b.amount, b.last_slashed_at, "
                        + "d.assigned_tasks, d.completed_tasks, d.owner, d.source from data_providers d left join bonds b on b.address = d.owner where d.domain = :d "
                        + "and d.source is not null", Object[].class)
                .setParameter("d", domain).getResultList()
                .chain(dataRows -> s.createNativeQuery("select g.id, g.region, g.gpu_count, g.ask_per_gpu_second, g.samples_per_second, b.amount, "
                                + "b.last_slashed_at, g.assigned_tasks, g.completed_tasks, g.verifications_run, g.verifications_passed, g.owner "
                                + "from gpu_providers g left join bonds b on b.address = g.owner where g.ask_per_gpu_second <= :p", Object[].class)
                        .setParameter("p", new BigDecimal(maxPrice)).getResultList()
                        .map(gpuRows -> {
                            List<DataCandidate> data = new ArrayList<>();
                            List<String> misfits = new ArrayList<>();
                            Map<String, List<String>> trainers = new HashMap<>();
                            java.util.Set<String> gpuOwners = new java.util.HashSet<>();
                            for (Object[] g : gpuRows) {
                                gpuOwners.add(String.valueOf(g[11]).toLowerCase());
                            }
                            for (Object[] d : dataRows) {
                                String why = misfit(layout, (String) d[10]);
                                if (why != null) {
                                    misfits.add(why); // data the model cannot take is never matched
                                    continue;
                                }
                                List<String> holders = Json.parse((String) d[10], io.fedmarket.messages.DataSource.class).trainers();
                                if (holders != null) {
                                    if (holders.stream().noneMatch(gpuOwners::contains)) {
                                        // nobody else may train a private shard: without a GPU of its own workers it cannot be trained
                                        misfits.add("private data offer " + d[0] + ": none of its workers " + holders + " offers a GPU at or under the intent's price cap");
                                        continue;
                                    }
                                    trainers.put(d[0].toString(), holders);
                                }
                                Map<String, Long> hist = Json.parse((String) d[4], LabelHistogram.class);
                                data.add(new DataCandidate(d[0].toString(), (String) d[1], (String) d[2], Sql.lng(d[3]), hist, Sql.big(d[5]),
                                        Sql.instant(d[6]), new ReliabilityStats(Sql.lng(d[7]), Sql.lng(d[8]), 0, 0)));
                                owners.put(d[0].toString(), (String) d[9]);
                            }
                            List<GpuCandidate> gpus = new ArrayList<>();
                            for (Object[] g : gpuRows) {
                                gpus.add(new GpuCandidate(g[0].toString(), (String) g[1], ((Number) g[2]).intValue(), Sql.big(g[3]), Sql.dbl(g[4]),
                                        Sql.big(g[5]), Sql.instant(g[6]), new ReliabilityStats(Sql.lng(g[7]), Sql.lng(g[8]), Sql.lng(g[9]), Sql.lng(g[10]))));
                                owners.put(g[0].toString(), (String) g[11]);
                            }
                            return new Candidates(data, gpus, owners, 0, misfits, trainers);
                        }))
                .chain(c -> s.createNativeQuery("select count(*) from data_providers where domain = :d and source is null", Long.class)
                        .setParameter("d", domain).getSingleResult().map(n -> new Candidates(c.data(), c.gpus(), c.owners(), n, c.misfits(), c.trainers())));
    }

    /** Jackson target for the stored label histogram. */
    public static final class LabelHistogram extends LinkedHashMap<String, Long> {
    }

    private Uni<Outcome> decide(Mutiny.Session s, UUID intentId, Object[] r, Candidates c) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        List<String> labels = Json.parse((String) r[2], RequiredLabels.class);
        int rounds = ((Number) r[3]).intValue();
        Instant deadline = Sql.instant(r[9]);
        MatchResult result;
        try {
            MatchRequest req = new MatchRequest(intentId.toString(), (String) r[1], labels, Map.of(), rounds, ((Number) r[4]).intValue(), 0,
                    batchSize, ((Number) r[5]).intValue(), ((Number) r[6]).intValue(), Sql.big(r[7]), Sql.big(r[8]), deadline, now,
                    requiredBond, MatchRequest.DEFAULT_SLASH_COOLDOWN, MatchRequest.DEFAULT_ROUND_OVERHEAD_SECONDS, 0, Weights.DEFAULT);
            result = SOLVER.solve(req, c.data(), c.gpus());
        } catch (IllegalArgumentException e) {
            return unmatched(s, intentId, now, "the intent cannot be matched as stated: " + e.getMessage());
        }
        if (result instanceof NoMatch nm) {
            return unmatched(s, intentId, now, nm.reason() + ": " + nm.message() + (c.withoutSource() == 0 ? ""
                    : " (" + c.withoutSource() + " data offer(s) in the domain name no source, the data set a worker trains on, and were left out)")
                    + (c.misfits().isEmpty() ? "" : " (" + c.misfits().size() + " data offer(s) do not fit the model and were left out: "
                    + new java.util.TreeSet<>(c.misfits()) + ")"));
        }
        Match match = routePrivate((Match) result, c);
        if (match == null) {
            return unmatched(s, intentId, now, "a private data offer of the match has no GPU of its own workers to train on");
        }
        UUID jobId = UUID.nameUUIDFromBytes(("job:" + intentId).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        long roundSeconds = Math.max(60, Duration.between(now, deadline).dividedBy(rounds).toSeconds());
        io.fedmarket.fl.job.JobPlan plan;
        try {
            String spec = io.fedmarket.fl.job.JobPlan.modelSpecFor((String) r[11], Json.parse((String) r[12], RequiredShape.class), ((Number) r[13]).intValue());
            plan = io.fedmarket.fl.job.JobPlan.of(spec, r[14] == null ? null : Json.parse((String) r[14], io.fedmarket.fl.job.JobPlan.Training.class),
                    r[15] == null ? null : Json.parse((String) r[15], io.fedmarket.fl.job.JobPlan.Verification.class), ((Number) r[4]).intValue(),
                    (String) r[16], r[20] == null ? null : Json.parse((String) r[20], AggregationParams.class), "DP".equals(r[17]), (Double) r[18],
                    (Double) r[19], rounds, roundSeconds, jobId);
            plan.aggregationRule(); // the rule with its parameters, as aggregate will build it
        } catch (IllegalArgumentException e) {
            return unmatched(s, intentId, now, "the intent cannot be trained as stated: " + e.getMessage());
        }
        MDC.put("jobId", jobId.toString());
        Map<String, Object> explanation = new LinkedHashMap<>();
        explanation.put("price", match.priceExplanation());
        explanation.put("priceSetter", match.priceSetterId());
        explanation.put("expectedCost", match.expectedCost().toString());
        explanation.put("totalGpuSeconds", match.totalGpuSeconds());
        explanation.put("assignments", match.assignments().stream().map(a -> Map.of("dataProvider", a.dataProviderId(),
                "gpuProvider", a.gpuProviderId(), "why", a.explanation())).toList());
        explanation.put("plan", plan);
        explanation.put("verificationReveals", reveals(plan, match, c.data()));
        Uni<Integer> chain = s.createNativeQuery("insert into jobs (id, intent_id, builder, status, clearing_price_per_gpu_second, explanation, current_round, "
                        + "created_at, updated_at, plan) values (:id, :i, :b, 'OPEN', :p, :e, 1, :t, :t, :plan)")
                .setParameter("id", jobId).setParameter("i", intentId).setParameter("b", r[10])
                .setParameter("p", new BigDecimal(match.clearingPricePerGpuSecond())).setParameter("e", Json.write(explanation))
                .setParameter("t", now).setParameter("plan", Json.write(plan)).executeUpdate()
                // round 1 starts (tasks, deadline clock) once the builder's escrow is on chain: settle's START looks for it
                .chain(() -> outbox.add(s, io.fedmarket.config.Queues.SETTLE, "job-start:" + jobId,
                        Json.write(io.fedmarket.messages.SettleRequest.start(jobId))));
        for (Assignment a : match.assignments()) {
            chain = chain.chain(() -> participant(s, jobId, a.dataProviderId(), "DATA", c.owners(), a.explanation()))
                    .chain(() -> participant(s, jobId, a.gpuProviderId(), "GPU", c.owners(), a.explanation()));
        }
        return chain.chain(() -> s.createNativeQuery("update intents set status = 'MATCHED', status_reason = :r, updated_at = :t where id = :id")
                        .setParameter("r", match.assignments().size() + " participants at " + match.clearingPricePerGpuSecond() + " per GPU-second")
                        .setParameter("t", now).setParameter("id", intentId).executeUpdate())
                .replaceWith(new Outcome("MATCHED", jobId, match.priceExplanation()));
    }

    /**
     * The privacy cost of verification per data shard: how many of its samples verifying one update shows the drawn
     * re-executors (q segments; 2q after a cheap-check flag), and over the job's rounds at most; the intent's cap, if any.
     */
    static List<Map<String, Object>> reveals(io.fedmarket.fl.job.JobPlan plan, Match match, List<io.fedmarket.matching.DataCandidate> data) {
        Map<String, Long> samples = new java.util.HashMap<>();
        for (io.fedmarket.matching.DataCandidate d : data) {
            samples.put(d.id(), d.sampleCount());
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Assignment a : match.assignments()) {
            Long n = samples.get(a.dataProviderId());
            if (n == null) {
                continue;
            }
            io.fedmarket.fl.job.JobPlan.TaskShape shape = plan.shape(n);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("dataProvider", a.dataProviderId());
            m.put("samples", n);
            m.put("segmentSteps", shape.checkpointEvery());
            m.put("q", shape.q());
            m.put("perUpdate", plan.revealedPerUpdate(shape, n, false));
            m.put("perFlaggedUpdate", plan.revealedPerUpdate(shape, n, true));
            m.put("perJobAtMost", Math.min(n, plan.revealedPerUpdate(shape, n, true) * plan.rounds()));
            m.put("cap", plan.maxRevealedSamples());
            out.add(m);
        }
        return out;
    }

    /** Jackson target for the stored input shape. */
    public static final class RequiredShape extends ArrayList<Integer> {
    }

    /** Jackson target for the stored aggregation parameters. */
    public static final class AggregationParams extends java.util.LinkedHashMap<String, Object> {
    }

    /** Jackson target for the stored label list. */
    public static final class RequiredLabels extends ArrayList<String> {
    }

    private static Uni<Integer> participant(Mutiny.Session s, UUID jobId, String providerId, String kind, Map<String, String> owners, String why) {
        if (providerId == null) {
            return Uni.createFrom().item(0);
        }
        return s.createNativeQuery("insert into job_participants (job_id, provider_id, kind, address, reason) values (:j, :p, :k, :a, :r) on conflict do nothing")
                .setParameter("j", jobId).setParameter("p", UUID.fromString(providerId)).setParameter("k", kind)
                .setParameter("a", owners.get(providerId)).setParameter("r", why).executeUpdate();
    }

    private static Uni<Outcome> unmatched(Mutiny.Session s, UUID intentId, Instant now, String reason) {
        return s.createNativeQuery("update intents set status = 'UNMATCHED', status_reason = :r, updated_at = :t where id = :id")
                .setParameter("r", reason.length() > 2000 ? reason.substring(0, 2000) : reason).setParameter("t", now)
                .setParameter("id", intentId).executeUpdate()
                .replaceWith(new Outcome("UNMATCHED", null, reason));
    }
}
