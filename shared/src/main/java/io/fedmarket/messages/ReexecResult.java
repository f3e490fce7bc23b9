package io.fedmarket.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The answer to a {@link ReexecTask}: always stored at {@code reexec/<reexecId>.json} in the bucket,
 * and also sent to the queue whose key is the task's {@code replyQueueKey} when that is set (the
 * verify function chooses where it listens). {@code endHash} is what the re-executor
 * computed; {@code matches} is null when no expected hash was given. {@code error} is set (and
 * the hashes may be null) when the segment could not be run, e.g. the start checkpoint does not
 * hash to {@code startHash}: that is evidence too.
 *
 * @param worker    the re-executor's address (0x); the signer of {@code signature}
 * @param endUri    bucket key of the re-executor's end state (parameters + momentum, the FMCK checkpoint
 *                  format), content-addressed as {@code reexec-states/<keccak of the file>.ckpt}, so a verifier
 *                  working with a tolerance can compare parameters, not only hashes; null when the segment
 *                  could not be run
 * @param signature 65-byte r‖s‖v (0x hex) by {@code worker} over the EIP-712 struct
 *                  {@code Reexecution(bytes32 reexec,uint32 segment,bytes32 startHash,bytes32 endHash)}
 *                  (reexec = keccak256 of the UTF-8 {@code reexecId}, a null hash signed as 32 zero bytes), see
 *                  {@code io.fedmarket.pol.ReexecSigner}: an error result is signed too, so a re-executor
 *                  answers for its "could not run" as much as for its hash. {@code matches}, {@code error},
 *                  timings and {@code endUri} are not signed ({@code endUri} is bound to its content by its key,
 *                  and its parameters hash to the signed {@code endHash}).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ReexecResult(String reexecId, String taskId, int segment, String worker, String startHash,
                           String endHash, Boolean matches, long wallMillis, int threads, String error,
                           String endUri, String signature) {
}
