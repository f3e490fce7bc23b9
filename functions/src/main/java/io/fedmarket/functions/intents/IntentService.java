package io.fedmarket.functions.intents;

import io.fedmarket.config.Queues;
import io.fedmarket.fl.aggregation.AggregationRegistry;
import io.fedmarket.functions.http.ApiError;
import io.fedmarket.functions.http.Caller;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.http.Violations;
import io.fedmarket.functions.outbox.Outbox;
import io.fedmarket.messages.IntentSubmitted;
import io.fedmarket.messages.SettleRequest;
import io.fedmarket.model.IntentStatus;
import io.fedmarket.model.PrivacyMode;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/** Intents: validated, stored with their match-queue message in one transaction, read and cancelled by their builder only. */
@ApplicationScoped
public class IntentService {
    private static final Logger LOG = Logger.getLogger(IntentService.class);
    private static final Pattern DOMAIN = Pattern.compile("^[a-z0-9][a-z0-9-]{0,62}$");
    static final Duration MIN_LEAD = Duration.ofMinutes(1);
    static final Duration MAX_LEAD = Duration.ofDays(365);

    @Inject
    Outbox outbox;

    @Inject
    io.fedmarket.functions.rounds.ValidationSets validationSets;

    public IntentView submit(Caller caller, SubmitIntentRequest r) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        IntentEntity e = validate(r, now);
        checkFitsTheOfferedData(r, e);
        e.id = UUID.randomUUID();
        e.builder = caller.address();
        e.status = IntentStatus.SUBMITTED;
        e.createdAt = now;
        e.updatedAt = now;
        String message = Json.write(new IntentSubmitted(e.id, e.builder, now));
        Db.tx(() -> e.<IntentEntity>persist()
                .chain(() -> Panache.getSession())
                .chain(s -> outbox.add(s, Queues.MATCH, "intent-submitted:" + e.id, message)));
        MDC.put("intentId", e.id.toString());
        LOG.infof("intent %s submitted by %s", e.id, e.builder);
        outbox.relay(10);
        return IntentView.of(e);
    }

    /**
     * The model against the data offered in its domain, before anything is stored: when the domain has data offers a worker
     * can train on (a source naming a data set it knows) and none of them fits the model's input shape and classes, the
     * intent is refused (422) with each data set's shape, classes and what does not fit. A domain without such offers is not
     * judged here (the match says so when it finds nobody).
     */
    void checkFitsTheOfferedData(SubmitIntentRequest r, IntentEntity e) {
        io.fedmarket.fl.model.ModelLayouts.Layout layout = io.fedmarket.fl.model.ModelLayouts.layout(
                io.fedmarket.fl.job.JobPlan.modelSpecFor(e.modelArchitecture, r.model().inputShape(), r.model().numClasses()));
        List<String> sources = Db.session(s -> s.createNativeQuery("select source from data_providers where domain = :d and source is not null",
                String.class).setParameter("d", r.dataDomain()).getResultList());
        Map<String, Integer> offersPerDataset = new java.util.TreeMap<>();
        for (String src : sources) {
            try {
                String ds = Json.parse(src, io.fedmarket.messages.DataSource.class).dataset();
                if (io.fedmarket.messages.DataSource.sampleShape(ds).isPresent()) {
                    offersPerDataset.merge(ds, 1, Integer::sum);
                }
            } catch (RuntimeException ex) {
                // an unreadable source is that offer's problem: the match leaves it out
            }
        }
        if (offersPerDataset.isEmpty()) {
            return;
        }
        List<Map<String, Object>> misfits = new java.util.ArrayList<>();
        for (Map.Entry<String, Integer> d : offersPerDataset.entrySet()) {
            List<Integer> shape = io.fedmarket.messages.DataSource.sampleShape(d.getKey()).orElseThrow();
            int classes = io.fedmarket.messages.DataSource.classes(d.getKey()).orElseThrow();
            java.util.Optional<String> why = io.fedmarket.fl.model.ModelLayouts.misfit(layout, shape, classes);
            if (why.isEmpty()) {
                return; // some offered data fits: the match picks among those
            }
            misfits.add(Map.of("dataset", d.getKey(), "offers", d.getValue(), "sampleShape", shape, "classes", classes, "problem", why.get()));
        }
        Violations v = new Violations();
        v.check(false, "model", "fits none of the data offered in domain " + r.dataDomain() + ": " + misfits.stream()
                .map(m -> m.get("dataset") + " (" + m.get("offers") + " offer(s)): " + m.get("problem")).toList()
                + "; set model.inputShape to the data's sample shape and model.numClasses to at least its classes, or use a domain whose data fits");
        v.throwIfAny("intent");
    }

    IntentEntity validate(SubmitIntentRequest r, Instant now) {
        Violations v = new Violations();
        IntentEntity e = new IntentEntity();
        if (v.present("model", r.model())) {
            SubmitIntentRequest.ModelSpec m = r.model();
            if (v.present("model.architecture", m.architecture())) {
                e.modelArchitecture = m.architecture().name();
                if (m.spec() != null) {
                    String family = m.spec().trim().toLowerCase(java.util.Locale.ROOT);
                    String arch = family.contains(":") ? family.substring(0, family.indexOf(':')) : family;
                    if (v.check(arch.equalsIgnoreCase(m.architecture().name()), "model.spec",
                            "'" + m.spec() + "' is not a spec of architecture " + m.architecture() + " (e.g. mlp:256,128 for MLP, resnet:20 for RESNET, "
                                    + "torchscript:SHA256 for TORCHSCRIPT)")) {
                        e.modelArchitecture = family; // the catalogue spec stands for the architecture (the match builds the plan from it)
                    }
                }
            }
            if (v.present("model.inputShape", m.inputShape())) {
                v.check(!m.inputShape().isEmpty() && m.inputShape().size() <= 4, "model.inputShape", "must have 1 to 4 dimensions");
                v.check(m.inputShape().stream().allMatch(d -> d != null && d >= 1 && d <= 4096), "model.inputShape",
                        "dimensions must be between 1 and 4096");
                e.modelInputShape = Json.write(m.inputShape());
            }
            v.range("model.numClasses", m.numClasses(), 2, 100_000);
            e.modelNumClasses = m.numClasses() == null ? 0 : m.numClasses();
        }
        if (v.present("dataDomain", r.dataDomain())) {
            v.check(DOMAIN.matcher(r.dataDomain()).matches(), "dataDomain", "must be lower-case letters, digits and '-', 1 to 63 characters (e.g. \"fashion-mnist\")");
            e.dataDomain = r.dataDomain();
        }
        if (v.present("requiredLabels", r.requiredLabels())) {
            List<String> labels = r.requiredLabels();
            v.check(!labels.isEmpty() && labels.size() <= 1000, "requiredLabels", "must list 1 to 1000 labels");
            v.check(labels.stream().allMatch(Violations::label), "requiredLabels", Violations.LABEL_RULE);
            v.check(new HashSet<>(labels).size() == labels.size(), "requiredLabels", "must not repeat a label");
            if (r.model() != null && r.model().numClasses() != null) {
                v.check(labels.size() <= r.model().numClasses(), "requiredLabels", "lists " + labels.size() + " labels, the model has "
                        + r.model().numClasses() + " classes (model.numClasses)");
            }
            e.requiredLabels = Json.write(labels);
        }
        v.range("rounds", r.rounds(), 1, 1000);
        v.range("localEpochs", r.localEpochs(), 1, 100);
        v.range("minParticipants", r.minParticipants(), 1, 10_000);
        v.range("maxParticipants", r.maxParticipants(), 1, 10_000);
        if (r.minParticipants() != null && r.maxParticipants() != null) {
            v.check(r.maxParticipants() >= r.minParticipants(), "maxParticipants", "must be at least minParticipants (" + r.minParticipants() + ")");
        }
        BigInteger budget = v.amount("budget", r.budget());
        BigInteger maxPrice = v.amount("maxPricePerGpuSecond", r.maxPricePerGpuSecond());
        if (budget != null && maxPrice != null) {
            v.check(maxPrice.compareTo(budget) <= 0, "maxPricePerGpuSecond", "must not exceed the whole budget");
        }
        if (v.present("deadline", r.deadline())) {
            v.check(r.deadline().isAfter(now.plus(MIN_LEAD)), "deadline", "must be at least 1 minute in the future (now " + now.truncatedTo(ChronoUnit.SECONDS) + ")");
            v.check(r.deadline().isBefore(now.plus(MAX_LEAD)), "deadline", "must be within 365 days");
        }
        if (v.present("privacy", r.privacy())) {
            SubmitIntentRequest.Privacy p = r.privacy();
            if (v.present("privacy.mode", p.mode())) {
                if (p.mode() == PrivacyMode.DP) {
                    if (v.present("privacy.epsilon", p.epsilon())) {
                        v.check(p.epsilon() > 0 && p.epsilon() <= 100 && Double.isFinite(p.epsilon()), "privacy.epsilon", "must be in (0, 100]");
                    }
                    if (v.present("privacy.delta", p.delta())) {
                        v.check(p.delta() > 0 && p.delta() <= 1e-2, "privacy.delta", "must be in (0, 0.01]");
                    }
                } else {
                    v.check(p.epsilon() == null && p.delta() == null, "privacy", "epsilon and delta apply only to mode DP: remove them or use DP");
                }
                e.privacyMode = p.mode().name();
                e.dpEpsilon = p.epsilon();
                e.dpDelta = p.delta();
            }
        }
        if (v.present("aggregation", r.aggregation())) {
            String key = r.aggregation().trim().toLowerCase(Locale.ROOT).replace('_', '-');
            v.check(AggregationRegistry.names().contains(key) || key.equals("coordinate-median"), "aggregation", "must be one of " + AggregationRegistry.names());
            e.aggregation = key.equals("coordinate-median") ? "median" : key;
        }
        if (r.aggregationParams() != null) {
            e.aggregationParams = Json.write(r.aggregationParams());
        }
        if (e.aggregation != null && AggregationRegistry.names().contains(e.aggregation)) {
            try {
                // the rule as it will aggregate: unknown or malformed parameters, or a required one missing (multi-krum's m), are the
                // builder's to fix now, not a round that cannot be aggregated later
                AggregationRegistry.create(e.aggregation, r.aggregationParams() == null ? java.util.Map.of() : r.aggregationParams());
            } catch (IllegalArgumentException ex) {
                v.check(false, "aggregationParams", ex.getMessage());
            }
        }
        if (r.training() != null) {
            for (String[] p : r.training().problems()) {
                v.check(false, p[0], p[1]);
            }
            e.training = Json.write(r.training());
        }
        if (r.verification() != null) {
            for (String[] p : r.verification().problems()) {
                v.check(false, p[0], p[1]);
            }
            e.verification = Json.write(r.verification());
        }
        String spec = null;
        if (r.model() != null && e.modelArchitecture != null && r.model().inputShape() != null && r.model().numClasses() != null
                && !v.hasAny("model.spec")) {
            try {
                spec = io.fedmarket.fl.job.JobPlan.modelSpecFor(e.modelArchitecture, r.model().inputShape(), r.model().numClasses());
            } catch (IllegalArgumentException ex) {
                v.check(false, "model", ex.getMessage().contains("torchscript") || ex.getMessage().contains("model file")
                        ? ex.getMessage() : ex.getMessage() + ": ask for one of those");
            }
        }
        v.throwIfAny("intent");
        // the plan match will fix for this intent, built now: terms no job could run under (DP noise beyond any use, a
        // tolerance without calibration) are the builder's to fix at intake, not an UNMATCHED intent later
        planProblem(r, spec).ifPresent(p -> v.check(false, p[0], p[1]));
        if (r.verification() != null && r.verification().validation() != null && !validationSets.exists(r.verification().validation().dataset())) {
            v.check(false, "verification.validation.dataset", "names no data set of the marketplace's bucket (datasets/"
                    + r.verification().validation().dataset() + "/ holds no IDX image/label pair): use one it holds, e.g. \"fashion-mnist-test\", or leave validation out");
        }
        v.throwIfAny("intent");
        e.rounds = r.rounds();
        e.localEpochs = r.localEpochs();
        e.minParticipants = r.minParticipants();
        e.maxParticipants = r.maxParticipants();
        e.budget = budget;
        e.maxPricePerGpuSecond = maxPrice;
        e.deadline = r.deadline();
        return e;
    }

    /** What keeps match from fixing a plan for this (otherwise valid) intent, as (field, problem); empty when it can. */
    static java.util.Optional<String[]> planProblem(SubmitIntentRequest r, String spec) {
        boolean dp = r.privacy() != null && r.privacy().mode() == PrivacyMode.DP;
        try {
            io.fedmarket.fl.job.JobPlan.of(spec, r.training(), r.verification(), r.localEpochs(), r.aggregation() == null ? null
                            : r.aggregation().trim().toLowerCase(Locale.ROOT).replace('_', '-'), r.aggregationParams(), dp,
                    dp ? r.privacy().epsilon() : null, dp ? r.privacy().delta() : null, r.rounds(), 3600, new UUID(0, 0));
        } catch (IllegalArgumentException ex) {
            String field = dp && ex.getMessage() != null && ex.getMessage().contains("noise") ? "privacy.epsilon" : "intent";
            return java.util.Optional.of(new String[] {field, "cannot be trained as stated: " + ex.getMessage()
                    + (field.equals("privacy.epsilon") ? "; raise epsilon or lower rounds" : "")});
        }
        return java.util.Optional.empty();
    }

    static UUID id(String raw) {
        try {
            return UUID.fromString(raw);
        } catch (IllegalArgumentException e) {
            throw ApiError.notFound("intent " + raw);
        }
    }

    public IntentView get(Caller caller, String rawId) {
        UUID id = id(rawId);
        IntentEntity e = Db.tx(() -> IntentEntity.<IntentEntity>find("id = ?1 and builder = ?2", id, caller.address()).firstResult());
        if (e == null) {
            throw ApiError.notFound("intent " + rawId);
        }
        return IntentView.of(e);
    }

    public IntentView.Page list(Caller caller, String status, String limitRaw) {
        int limit = 50;
        if (limitRaw != null) {
            try {
                limit = Integer.parseInt(limitRaw);
            } catch (NumberFormatException ex) {
                limit = -1;
            }
            if (limit < 1 || limit > 200) {
                throw ApiError.badRequest("bad_query", "limit must be an integer from 1 to 200", Map.of("field", "limit"));
            }
        }
        IntentStatus st = null;
        if (status != null) {
            try {
                st = IntentStatus.valueOf(status.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException ex) {
                throw ApiError.badRequest("unknown_value", "status '" + status + "' is unknown: use one of " + List.of(IntentStatus.values()),
                        Map.of("field", "status", "allowed", java.util.Arrays.stream(IntentStatus.values()).map(Enum::name).toList()));
            }
        }
        final IntentStatus fst = st;
        final int lim = limit;
        List<IntentEntity> rows = Db.tx(() -> (fst == null
                ? IntentEntity.<IntentEntity>find("builder = ?1 order by createdAt desc", caller.address())
                : IntentEntity.<IntentEntity>find("builder = ?1 and status = ?2 order by createdAt desc", caller.address(), fst))
                .page(0, lim).list());
        return new IntentView.Page(rows.stream().map(IntentView::of).toList());
    }

    /**
     * Cancels an intent that has not started training. If a job (with funded escrow) exists, it is
     * cancelled too and a refund request goes to the settle queue in the same transaction.
     */
    public IntentView cancel(Caller caller, String rawId) {
        UUID id = id(rawId);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        IntentEntity out = Db.tx(() -> IntentEntity.<IntentEntity>find("id = ?1 and builder = ?2", id, caller.address()).firstResult()
                .chain(e -> {
                    if (e == null) {
                        return Uni.createFrom().failure(ApiError.notFound("intent " + rawId));
                    }
                    if (e.status == IntentStatus.CANCELLED) {
                        return Uni.createFrom().item(e);
                    }
                    if (!e.status.cancellable()) {
                        return Uni.createFrom().failure(ApiError.conflict("not_cancellable", "intent " + rawId + " is " + e.status
                                + ": training has started, so it can no longer be cancelled"));
                    }
                    e.status = IntentStatus.CANCELLED;
                    e.statusReason = "cancelled by the builder";
                    e.updatedAt = now;
                    return Panache.getSession().chain(s -> s.createNativeQuery(
                                    "update jobs set status = 'CANCELLED', updated_at = :t where intent_id = :i and status in ('OPEN') returning id", UUID.class)
                            .setParameter("t", now).setParameter("i", id).getResultList()
                            .chain(jobs -> jobs.isEmpty() ? Uni.createFrom().item(0)
                                    : outbox.add(s, Queues.SETTLE, "refund:" + jobs.get(0),
                                    Json.write(SettleRequest.refund(jobs.get(0), caller.address())))))
                            .replaceWith(e);
                }));
        outbox.relay(10);
        return IntentView.of(out);
    }
}
