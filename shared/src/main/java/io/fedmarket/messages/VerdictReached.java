package io.fedmarket.messages;

import java.util.UUID;

/**
 * On the verdicts queue: the verify step's decision on one submission. Business key: {@code taskId}.
 * {@code reason} starts with the {@link io.fedmarket.fl.verify.ReasonCode} name (optionally {@code "CODE: detail"});
 * {@code evidenceHash} (0x keccak of the evidence document) is set for rejections. A rejection with a rejecting
 * code and an evidence hash leads to a slash once the dispute window has passed.
 */
public record VerdictReached(String taskId, UUID jobId, int round, String worker, boolean accepted, String reason,
                             String evidenceHash) {
}
