package io.fedmarket.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.List;

/**
 * On the reexec queue: re-execute one segment of a submitted trail. The re-executing worker loads
 * {@code startCheckpointUri}, checks its parameters hash to {@code startHash}, runs steps
 * {@code [startStep, startStep + steps)} of {@code task} (same batches, same optimiser state, same
 * thread count) and answers with the end hash. {@code expectedEndHash} may be withheld (null) so the
 * re-executor cannot just echo it. Business key: {@code reexecId}.
 *
 * @param excludeWorkers lower-case 0x addresses that must not re-execute this segment (e.g. workers that
 *                       already answered it, so that a retry or a second opinion goes to somebody else, or
 *                       workers suspected of colluding with the submitter); a listed worker leaves the message
 *                       for the others exactly as it does a segment of its own update. Null or empty: nobody
 *                       is excluded besides the submitter, who never re-executes its own work.
 * @param assignee       the lower-case 0x address of the bonded worker drawn to re-execute this segment (the verify
 *                       function draws it at random from the job's eligible re-executors, with randomness the submitter
 *                       could not know); every other worker leaves the message alone and the judge counts only the
 *                       assignee's answer. Null: nobody was eligible, any worker not excluded may take it.
 * @param expiresAtEpochSeconds after this the request has been drawn anew (the verify function's timeout pass) or decided:
 *                       whoever receives it then deletes it instead of handing it on. Null: never expires.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ReexecTask(String reexecId, TrainTask task, int segment, int startStep, int steps,
                         String startCheckpointUri, String startHash, String expectedEndHash, String replyQueueKey,
                         List<String> excludeWorkers, String assignee, Long expiresAtEpochSeconds) {

    /** A request without a drawn assignee (any worker not excluded may take it) that never expires. */
    public ReexecTask(String reexecId, TrainTask task, int segment, int startStep, int steps, String startCheckpointUri, String startHash,
                      String expectedEndHash, String replyQueueKey, List<String> excludeWorkers) {
        this(reexecId, task, segment, startStep, steps, startCheckpointUri, startHash, expectedEndHash, replyQueueKey, excludeWorkers, null, null);
    }

    /** A request drawn for {@code assignee} that never expires. */
    public ReexecTask(String reexecId, TrainTask task, int segment, int startStep, int steps, String startCheckpointUri, String startHash,
                      String expectedEndHash, String replyQueueKey, List<String> excludeWorkers, String assignee) {
        this(reexecId, task, segment, startStep, steps, startCheckpointUri, startHash, expectedEndHash, replyQueueKey, excludeWorkers, assignee, null);
    }

    /** Whether the request is past its expiry at {@code nowEpochSeconds}: drawn anew or decided since, so nobody should take it. */
    public boolean expired(long nowEpochSeconds) {
        return expiresAtEpochSeconds != null && nowEpochSeconds > expiresAtEpochSeconds;
    }

    /** Whether {@code address} may take this request: not excluded, and the assignee when one was drawn. */
    public boolean isFor(String address) {
        if (address == null || excludes(address)) {
            return false;
        }
        return assignee == null || assignee.equalsIgnoreCase(address);
    }

    /** Whether {@code address} (0x hex, any case) is in {@link #excludeWorkers}. */
    public boolean excludes(String address) {
        if (excludeWorkers == null || address == null) {
            return false;
        }
        for (String w : excludeWorkers) {
            if (w != null && w.equalsIgnoreCase(address)) {
                return true;
            }
        }
        return false;
    }
}
