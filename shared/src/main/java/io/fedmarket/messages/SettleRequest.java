package io.fedmarket.messages;

import java.util.UUID;

/**
 * On the settle queue. ROUND: post round {@code round} of the job (payout root, model hash);
 * REFUND: return the job's unspent escrow to {@code builder} (a cancelled job); SLASH: slash the
 * worker of {@code taskId} on chain with its rejection's evidence hash once the dispute window has
 * passed (a message that arrives early re-queues itself with a delay); DEADLINE: close round
 * {@code round} at its deadline if it is still open (its tasks without a submission are DROPPED: stragglers
 * are values), re-queued with a delay until then; START: publish round 1 once the builder's escrow is on chain
 * (re-queued with a delay until then; a job never escrowed by the intent's deadline FAILS). Business key: {@code kind + jobId + round}
 * (+ {@code taskId} for SLASH).
 */
public record SettleRequest(Kind kind, UUID jobId, int round, String builder, String taskId) {
    public enum Kind { ROUND, REFUND, SLASH, DEADLINE, START }

    public static SettleRequest round(UUID jobId, int round) {
        return new SettleRequest(Kind.ROUND, jobId, round, null, null);
    }

    public static SettleRequest refund(UUID jobId, String builder) {
        return new SettleRequest(Kind.REFUND, jobId, 0, builder, null);
    }

    public static SettleRequest slash(UUID jobId, int round, String taskId) {
        return new SettleRequest(Kind.SLASH, jobId, round, null, taskId);
    }

    public static SettleRequest deadline(UUID jobId, int round) {
        return new SettleRequest(Kind.DEADLINE, jobId, round, null, null);
    }

    public static SettleRequest start(UUID jobId) {
        return new SettleRequest(Kind.START, jobId, 1, null, null);
    }

    public String businessKey() {
        return kind + ":" + jobId + ":" + round + (kind == Kind.SLASH ? ":" + taskId : "");
    }
}
