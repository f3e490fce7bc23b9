package io.fedmarket.worker.train;

import io.fedmarket.fl.model.ModelState;
import io.fedmarket.worker.model.ModelSpec;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The worker's idle training sessions, kept warm between tasks and re-executions: building a DJL model and trainer (and the
 * first steps of a fresh one) costs more than a 100-step MLP segment itself, so a re-execution that opened its own session
 * cost ~4× the original's training time. {@link #open} hands out an idle session that fits (same model, batch and
 * optimiser settings) {@link TrainingSession#reset reset} to the given state, else a new one; {@link #release} keeps it for
 * the next one (at most {@link #MAX_IDLE}, the oldest closed). A session is only ever used by one caller at a time.
 */
public final class WarmSessions {
    /** Idle sessions kept (a worker serves one job's model at a time, sometimes two). */
    static final int MAX_IDLE = 2;

    private static final Deque<TrainingSession> IDLE = new ArrayDeque<>();

    /**
     * {@code FEDMARKET_WARM_SESSIONS=off} (or {@code -Dfedmarket.warm.sessions=off}): every task and re-execution builds its own
     * session and closes it (less idle native memory; the timings of before, for a benchmark's comparison).
     */
    static final boolean ENABLED = !"off".equals(System.getProperty("fedmarket.warm.sessions", System.getenv().getOrDefault("FEDMARKET_WARM_SESSIONS", "on")));

    private WarmSessions() {
    }

    /** A session at {@code start}: an idle one reset to it, or a new one. */
    public static TrainingSession open(ModelSpec spec, int batch, ModelState start, ModelState anchor, double lr, double momentum, double mu) {
        TrainingSession warm = null;
        synchronized (IDLE) {
            if (!ENABLED) {
                return TrainingSession.open(spec, batch, start, anchor, lr, momentum, mu);
            }
            for (var it = IDLE.iterator(); it.hasNext(); ) {
                TrainingSession s = it.next();
                if (s.fits(spec, batch, lr, momentum, mu)) {
                    it.remove();
                    warm = s;
                    break;
                }
            }
        }
        if (warm != null) {
            try {
                return warm.reset(start, anchor);
            } catch (RuntimeException e) {
                warm.close(); // a state that does not fit the model: the caller's error, reported as a fresh session would
                throw e;
            }
        }
        return TrainingSession.open(spec, batch, start, anchor, lr, momentum, mu);
    }

    /** Keeps a session that finished normally for the next caller (a session that failed mid-step is closed instead). */
    public static void release(TrainingSession s) {
        if (!ENABLED || !s.reusable()) {
            s.close();
            return;
        }
        TrainingSession evicted = null;
        synchronized (IDLE) {
            IDLE.addFirst(s);
            if (IDLE.size() > MAX_IDLE) {
                evicted = IDLE.removeLast();
            }
        }
        if (evicted != null) {
            evicted.close();
        }
    }

    /** Closes every idle session (tests; a worker's sessions go with its process). */
    public static void clear() {
        synchronized (IDLE) {
            IDLE.forEach(TrainingSession::close);
            IDLE.clear();
        }
    }
}
