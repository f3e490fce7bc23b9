package io.fedmarket.messages;

import java.util.UUID;

/**
 * On the verdicts queue: the verify step's decision on one submission. Business key: {@code taskId}.
 * {@code evidenceHash} (0x keccak of the evidence document) is set for rejections.
 */
public record VerdictReached(String taskId, UUID jobId, int round, String worker, boolean accepted, String reason,
                             String evidenceHash) {
}
