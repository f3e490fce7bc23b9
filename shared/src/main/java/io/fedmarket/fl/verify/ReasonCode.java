package io.fedmarket.fl.verify;

/**
 * Why a verdict came out as it did. Codes marked rejecting are reproducible from the
 * committed artifacts alone and may lead to a slash; the others are cheap-check flags that
 * only make the verifier look harder (more segments), never reject on their own: a
 * statistical hunch is not evidence.
 */
public enum ReasonCode {
    ACCEPTED(false),
    BAD_SIGNATURE(true),
    NON_FINITE_UPDATE(true),
    HEADER_MISMATCH(true),
    TRAIL_LENGTH_MISMATCH(true),
    START_NOT_GLOBAL_MODEL(true),
    TRAIL_BROKEN(true),
    UPDATE_NOT_IN_TRAIL(true),
    CHECKPOINT_ARTIFACT_MISMATCH(true),
    SEGMENT_MISMATCH(true),
    NORM_OUT_OF_BOUNDS(false),
    LOW_SIMILARITY_TO_CENTRE(false),
    FAR_FROM_CENTRE(false),
    HIGH_VALIDATION_LOSS(false),
    /** The intent asks for the validation-loss check but no evaluator of the verifying process runs the model: q is escalated instead. */
    VALIDATION_NOT_EVALUATED(false);

    private final boolean rejecting;

    ReasonCode(boolean rejecting) {
        this.rejecting = rejecting;
    }

    public boolean rejecting() {
        return rejecting;
    }
}
