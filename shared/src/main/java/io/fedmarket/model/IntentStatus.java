package io.fedmarket.model;

/** Life of an intent: SUBMITTED → MATCHING → MATCHED/UNMATCHED → RUNNING → COMPLETED, or CANCELLED by its builder. */
public enum IntentStatus {
    SUBMITTED, MATCHING, MATCHED, UNMATCHED, RUNNING, COMPLETED, CANCELLED;

    /** A builder may cancel only before training has started; later the refund path is the job's. */
    public boolean cancellable() {
        return this == SUBMITTED || this == MATCHING || this == MATCHED || this == UNMATCHED;
    }
}
