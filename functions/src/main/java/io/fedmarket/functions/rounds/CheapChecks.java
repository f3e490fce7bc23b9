package io.fedmarket.functions.rounds;

import io.fedmarket.fl.Vectors;
import io.fedmarket.fl.aggregation.ClientUpdate;
import io.fedmarket.fl.aggregation.CoordinateMedian;
import io.fedmarket.fl.aggregation.ServerState;
import io.fedmarket.fl.model.Evaluator;
import io.fedmarket.fl.model.Evaluators;
import io.fedmarket.fl.model.Inference;
import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.fl.verify.CheapCheckPolicy;
import io.fedmarket.fl.verify.ReasonCode;
import io.fedmarket.functions.artifacts.Artifacts;
import io.fedmarket.functions.http.Db;
import io.fedmarket.functions.http.Json;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The verify function's cheap checks on every update, measured against the round's other updates so far (at most
 * {@link #PEERS}, the rejected ones left out): the norm of its change ‖Δ‖, its cosine to the change of the round's robust
 * centre (the coordinate median of the updates), and its loss on the builder's validation split. Bounds are relative to
 * the round, because what is plausible depends on the model, the data and the round:
 * <ul>
 *   <li>‖Δ‖ below 1e-6 (the global model returned) or above {@link #NORM_FACTOR} × the median ‖Δ‖ of the others (a
 *   blown-up or noise update);</li>
 *   <li>cosine to the centre's change below −0.5 (pointing away from everybody else);</li>
 *   <li>validation loss above the round model's own plus ln 10 (worse than adding a uniform guess's loss), or above
 *   {@link #LOSS_FACTOR} × the median of the others'.</li>
 * </ul>
 * A flag is a hunch, not evidence: it only raises how many segments are re-executed (q to the escalated q); a rejection
 * always rests on re-execution or on what the worker signed. Every figure is kept with the submission.
 *
 * <p>The validation loss is computed by the first evaluator of this process that runs the model
 * ({@link Evaluators#forLayout}: shared's plain-Java forward pass for MLP and CNN, then any on the classpath, e.g. the
 * gpu-worker's DJL evaluator for ResNet), and the recorded checks name it ({@code evaluator}). Where none runs it (a
 * ResNet in a verify function without the engine) the check does not silently disappear: the recorded checks say it was
 * not evaluated and why, and the update is flagged {@link ReasonCode#VALIDATION_NOT_EVALUATED}, which escalates q
 * like any other flag.
 */
@ApplicationScoped
public class CheapChecks {
    public static final int PEERS = 16;
    public static final double MIN_NORM = 1e-6;
    public static final double NORM_FACTOR = 4;
    public static final double MIN_COSINE = -0.5;
    public static final double LOSS_FACTOR = 3;
    public static final double LN10 = Math.log(10);

    @Inject
    Artifacts artifacts;

    @Inject
    ValidationSets validationSets;

    /** The evaluators this function tries, in order ({@link Evaluators#all()}: plain Java, then the classpath's). */
    volatile List<Evaluator> evaluators = Evaluators.all();

    /** The round model's validation loss, per (model hash, split): every update of a round compares with the same number. */
    private final Map<String, Double> globalLoss = new ConcurrentHashMap<>();

    /** What was measured and the flags it raised. Null figures were not measurable (no peers yet, no validation split). */
    public record Measured(double updateNorm, Double maxNorm, Double cosineToCentre, int peers, Double validationLoss,
                           Double validationAccuracy, Double globalValidationLoss, Double maxValidationLoss, String validationNote,
                           String evaluator, List<ReasonCode> flags, float[] centre) {
        /** The figures as the JSON kept with the submission (without the centre itself). */
        public String json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("updateNorm", updateNorm);
            m.put("maxNorm", maxNorm);
            m.put("cosineToCentre", cosineToCentre);
            m.put("peers", peers);
            m.put("validationLoss", validationLoss);
            m.put("validationAccuracy", validationAccuracy);
            m.put("globalValidationLoss", globalValidationLoss);
            m.put("maxValidationLoss", maxValidationLoss);
            m.put("validation", validationNote);
            m.put("evaluator", evaluator);
            m.put("flags", flags.stream().map(Enum::name).toList());
            return Json.write(m);
        }

        public CheapCheckPolicy policy() {
            return CheapChecks.policy(maxNorm, maxValidationLoss);
        }
    }

    record Peer(String updateUri, Double norm, Double validationLoss) {
    }

    /**
     * Measures {@code update} (the submitted parameters) against the round's model {@code global} (hash {@code globalHash})
     * and the round's other submissions, and records the figures on the submission.
     */
    public Measured measure(Verification.Ctx c, float[] update, float[] global, String globalHash) {
        List<Peer> peers = peers(c);
        double norm = Vectors.norm(Vectors.subtract(update, global));
        Double maxNorm = maxNorm(peers.stream().map(Peer::norm).toList());
        float[] centre = centre(c, update, peers);
        Double cosine = centre == null ? null : Vectors.cosine(Vectors.subtract(update, global), Vectors.subtract(centre, global));

        Double loss = null;
        Double accuracy = null;
        Double gLoss = null;
        Double maxLoss = null;
        String note;
        String evaluatorName = null;
        boolean notEvaluated = false;
        if (c.plan().validation() == null) {
            note = "no validation split in the intent";
        } else {
            Optional<ValidationSets.Split> split = validationSets.split(c.plan().validation());
            if (split.isEmpty()) {
                note = "validation data set " + c.plan().validation().dataset() + " is not in the bucket (" + ValidationSets.imagesKey(c.plan().validation().dataset()) + ")";
            } else {
                ValidationSets.Split v = split.get();
                ModelLayouts.Layout layout = ModelLayouts.layout(c.plan().modelSpec());
                Optional<Evaluator> ev = Evaluators.forLayout(layout, evaluators);
                if (ev.isEmpty()) {
                    notEvaluated = true;
                    note = "validation loss NOT evaluated: no evaluator of this verify function runs " + layout.spec() + " (it has "
                            + evaluators.stream().map(Evaluator::name).toList() + "; plain-java runs mlp and cnn, a ResNet needs the DJL "
                            + "evaluator of the gpu-worker jar): flagged " + ReasonCode.VALIDATION_NOT_EVALUATED + ", q escalated instead";
                } else if (v.inputSize() != layout.inputSize()) {
                    notEvaluated = true;
                    note = "validation loss NOT evaluated: " + v.name() + " has " + v.inputSize() + " values per sample, model " + layout.spec()
                            + " takes " + layout.inputSize() + ": flagged " + ReasonCode.VALIDATION_NOT_EVALUATED + ", q escalated instead";
                } else {
                    Evaluator evaluator = ev.get();
                    evaluatorName = evaluator.name();
                    Inference.Evaluation e = evaluator.evaluate(layout, update, v.images(), v.labels());
                    loss = e.meanLoss();
                    accuracy = e.accuracy();
                    gLoss = globalLoss.computeIfAbsent(globalHash + "|" + c.plan().validation(),
                            k -> evaluator.evaluate(layout, global, v.images(), v.labels()).meanLoss());
                    maxLoss = maxValidationLoss(gLoss, peers.stream().map(Peer::validationLoss).toList());
                    note = v.size() + " samples of " + v.name();
                }
            }
        }
        List<ReasonCode> flags = new ArrayList<>(policy(maxNorm, maxLoss).flags(update, global, centre, loss));
        if (notEvaluated) {
            flags.add(ReasonCode.VALIDATION_NOT_EVALUATED);
        }
        Measured m = new Measured(norm, maxNorm, cosine, peers.size(), loss, accuracy, gLoss, maxLoss, note, evaluatorName, List.copyOf(flags), centre);
        Double storedLoss = loss != null && Double.isFinite(loss) ? loss : null;
        Db.session(s -> s.createNativeQuery("update submissions set update_norm = :n, validation_loss = :l, checks = :c where task_id = :t")
                .setParameter("n", Double.isFinite(norm) ? norm : null).setParameter("l", storedLoss).setParameter("c", m.json())
                .setParameter("t", c.taskId()).executeUpdate());
        return m;
    }

    /** The round's other submissions, newest first, without the rejected ones (a cheater does not move the centre). */
    private static List<Peer> peers(Verification.Ctx c) {
        List<Object[]> rows = Db.session(s -> s.createNativeQuery("select s.update_uri, s.update_norm, s.validation_loss from submissions s "
                        + "join tasks t on t.id = s.task_id where t.job_id = :j and t.round_no = :r and s.task_id <> :t "
                        + "and (s.stage <> 'DECIDED' or exists (select 1 from verdicts v where v.task_id = s.task_id and v.accepted)) "
                        + "order by s.submitted_at desc limit :n", Object[].class)
                .setParameter("j", c.jobId()).setParameter("r", c.round()).setParameter("t", c.taskId()).setParameter("n", PEERS).getResultList());
        List<Peer> out = new ArrayList<>();
        for (Object[] r : rows) {
            out.add(new Peer((String) r[0], r[1] == null ? null : ((Number) r[1]).doubleValue(), r[2] == null ? null : ((Number) r[2]).doubleValue()));
        }
        return out;
    }

    /** The coordinate median of this update and the others' (once there are at least three), or null. */
    private float[] centre(Verification.Ctx c, float[] update, List<Peer> peers) {
        if (peers.size() < 2) {
            return null;
        }
        List<ClientUpdate> all = new ArrayList<>();
        all.add(new ClientUpdate(c.taskId(), update, 1));
        for (Peer p : peers) {
            try {
                artifacts.find(p.updateUri()).ifPresent(b -> {
                    float[] f = ModelState.decode(b, p.updateUri()).flat();
                    if (f.length == update.length) {
                        all.add(new ClientUpdate(p.updateUri(), f, 1));
                    }
                });
            } catch (RuntimeException e) {
                // a peer's unreadable update is that peer's problem (its own verification says so): left out of the centre
            }
        }
        return all.size() < 3 ? null : new CoordinateMedian().aggregate(update, all, ServerState.NONE).model();
    }

    /** The round's bounds as a policy (a null bound is not checked). */
    static CheapCheckPolicy policy(Double maxNorm, Double maxValidationLoss) {
        return new CheapCheckPolicy(MIN_NORM, maxNorm, MIN_COSINE, null, maxValidationLoss);
    }

    /** {@link #NORM_FACTOR} × the median of the others' ‖Δ‖ (free-riders' near-zero ones left out), once two are known; else no bound. */
    public static Double maxNorm(List<Double> peerNorms) {
        List<Double> norms = peerNorms.stream().filter(n -> n != null && Double.isFinite(n) && n > MIN_NORM).toList();
        return norms.size() >= 2 ? NORM_FACTOR * median(norms) : null;
    }

    /** The round model's loss plus ln 10, or {@link #LOSS_FACTOR} × the median of the others' (once two are known), whichever is higher. */
    public static double maxValidationLoss(double globalLoss, List<Double> peerLosses) {
        List<Double> losses = peerLosses.stream().filter(x -> x != null && Double.isFinite(x)).toList();
        double max = globalLoss + LN10;
        return losses.size() >= 2 ? Math.max(max, LOSS_FACTOR * median(losses)) : max;
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        int n = a.length;
        return n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
    }
}
