package io.fedmarket.messages;

import java.util.UUID;

/**
 * On the settle queue. ROUND: post round {@code round} of the job (payout root, model hash);
 * REFUND: return the job's unspent escrow to {@code builder} (a cancelled job). Business key:
 * {@code kind + jobId + round}.
 */
public record SettleRequest(Kind kind, UUID jobId, int round, String builder) {
    public enum Kind { ROUND, REFUND }

    public static SettleRequest round(UUID jobId, int round) {
        return new SettleRequest(Kind.ROUND, jobId, round, null);
    }

    public static SettleRequest refund(UUID jobId, String builder) {
        return new SettleRequest(Kind.REFUND, jobId, 0, builder);
    }

    public String businessKey() {
        return kind + ":" + jobId + ":" + round;
    }
}
