package io.fedmarket.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The answer to a {@link ReexecTask}: always stored at {@code reexec/<reexecId>.json} in the bucket,
 * and also sent to the queue whose key is the task's {@code replyQueueKey} when that is set (the
 * verify function chooses where it listens). {@code endHash} is what the re-executor
 * computed; {@code matches} is null when no expected hash was given. {@code error} is set (and
 * the hashes may be null) when the segment could not be run, e.g. the start checkpoint does not
 * hash to {@code startHash}: that is evidence too.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ReexecResult(String reexecId, String taskId, int segment, String worker, String startHash,
                           String endHash, Boolean matches, long wallMillis, int threads, String error) {
}
