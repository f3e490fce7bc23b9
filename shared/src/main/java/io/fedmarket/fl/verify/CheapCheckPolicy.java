package io.fedmarket.fl.verify;

import io.fedmarket.fl.Vectors;

import java.util.ArrayList;
import java.util.List;

/**
 * Cheap statistical checks on an update's delta (update − global). A {@code null} bound is
 * disabled. Failures are flags that escalate re-execution, see {@link ReasonCode}.
 *
 * @param minNorm          smallest plausible ‖Δ‖ (catches "returned the global model")
 * @param maxNorm          largest plausible ‖Δ‖ (catches blown-up or noise updates)
 * @param minCosine        least cosine similarity of Δ to the round's robust centre delta
 * @param maxCentreDistance largest ‖update − centre‖ allowed
 * @param maxValidationLoss largest loss on the builder's validation split (measured by the
 *                          caller, passed in as a value)
 */
public record CheapCheckPolicy(Double minNorm, Double maxNorm, Double minCosine, Double maxCentreDistance,
                               Double maxValidationLoss) {
    public static final CheapCheckPolicy NONE = new CheapCheckPolicy(null, null, null, null, null);

    public CheapCheckPolicy {
        if (minNorm != null && maxNorm != null && minNorm > maxNorm) {
            throw new IllegalArgumentException("cheap checks: minNorm " + minNorm + " exceeds maxNorm " + maxNorm);
        }
        if (minCosine != null && (minCosine < -1 || minCosine > 1)) {
            throw new IllegalArgumentException("cheap checks: minCosine must be in [-1, 1] but was " + minCosine);
        }
    }

    /**
     * @param centre the round's robust centre model (e.g. coordinate median of the round's
     *               updates), or null when not yet known
     * @param validationLoss the update's loss on the validation split, or null if not measured
     */
    public List<ReasonCode> flags(float[] update, float[] global, float[] centre, Double validationLoss) {
        List<ReasonCode> flags = new ArrayList<>();
        float[] delta = Vectors.subtract(update, global);
        double n = Vectors.norm(delta);
        if ((minNorm != null && n < minNorm) || (maxNorm != null && n > maxNorm)) {
            flags.add(ReasonCode.NORM_OUT_OF_BOUNDS);
        }
        if (centre != null) {
            if (minCosine != null && Vectors.cosine(delta, Vectors.subtract(centre, global)) < minCosine) {
                flags.add(ReasonCode.LOW_SIMILARITY_TO_CENTRE);
            }
            if (maxCentreDistance != null && Vectors.distance(update, centre) > maxCentreDistance) {
                flags.add(ReasonCode.FAR_FROM_CENTRE);
            }
        }
        if (maxValidationLoss != null && validationLoss != null
                && (validationLoss.isNaN() || validationLoss > maxValidationLoss)) {
            flags.add(ReasonCode.HIGH_VALIDATION_LOSS);
        }
        return flags;
    }
}
