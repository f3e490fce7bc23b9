package io.fedmarket.worker.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.List;

/**
 * What a worker has durably done on a task so far (at {@code tasks/<taskId>/progress.json}):
 * the trail's checkpoint hashes and keys up to now, and the latest resumable checkpoint (after
 * {@code latestStep} steps; a multiple of k, or any step when it was written on a spot
 * interruption). A worker that receives the task again resumes from there. The file is shared (any worker may
 * write it): a resumer checks every checkpoint it names against its hash and step, and says in its trail how many steps
 * it adopted ({@code adoptedSteps}, carried on through later progress of its own; null: none).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TaskProgress(String taskId, String worker, int latestStep, String latestUri, String latestHash,
                           List<String> checkpointHashes, List<String> checkpointUris, List<Double> segmentLosses,
                           long trainMillis, long updatedAtEpochSeconds, Integer adoptedSteps) {

    public TaskProgress(String taskId, String worker, int latestStep, String latestUri, String latestHash, List<String> checkpointHashes,
                        List<String> checkpointUris, List<Double> segmentLosses, long trainMillis, long updatedAtEpochSeconds) {
        this(taskId, worker, latestStep, latestUri, latestHash, checkpointHashes, checkpointUris, segmentLosses, trainMillis, updatedAtEpochSeconds, null);
    }
}
