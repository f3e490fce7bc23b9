package io.fedmarket.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * On the reexec queue: re-execute one segment of a submitted trail. The re-executing worker loads
 * {@code startCheckpointUri}, checks its parameters hash to {@code startHash}, runs steps
 * {@code [startStep, startStep + steps)} of {@code task} (same batches, same optimiser state, same
 * thread count) and answers with the end hash. {@code expectedEndHash} may be withheld (null) so the
 * re-executor cannot just echo it. Business key: {@code reexecId}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ReexecTask(String reexecId, TrainTask task, int segment, int startStep, int steps,
                         String startCheckpointUri, String startHash, String expectedEndHash, String replyQueueKey) {
}
