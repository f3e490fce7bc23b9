package io.fedmarket.fl.verify;

import java.time.Duration;
import java.time.Instant;

/**
 * When a rejection may be slashed. The window is [decidedAt, decidedAt + window): during it
 * the worker can dispute (e.g. ask for a second re-execution by another verifier); at or
 * after its end an undisputed rejection is slashable. Pure: the caller passes the clock.
 */
public final class DisputeWindow {
    public enum SlashStatus { NOT_REJECTED, IN_WINDOW, DISPUTED, SLASHABLE }

    private DisputeWindow() {
    }

    public static Instant windowEnd(Verdict v, Duration window) {
        requireWindow(window);
        return Instant.ofEpochSecond(v.decidedAtEpochSecond()).plus(window);
    }

    public static SlashStatus status(Verdict v, Duration window, Instant now, boolean disputeOpen) {
        if (v.accepted()) {
            return SlashStatus.NOT_REJECTED;
        }
        if (disputeOpen) {
            return SlashStatus.DISPUTED;
        }
        return now.isBefore(windowEnd(v, window)) ? SlashStatus.IN_WINDOW : SlashStatus.SLASHABLE;
    }

    private static void requireWindow(Duration window) {
        if (window == null || window.isNegative()) {
            throw new IllegalArgumentException("dispute window must be a non-negative duration but was " + window);
        }
    }
}
