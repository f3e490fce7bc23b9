package io.fedmarket.worker.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.List;

/**
 * What a worker has durably done on a task so far (at {@code tasks/<taskId>/progress.json}):
 * the trail's checkpoint hashes and keys up to now, and the latest resumable checkpoint (after
 * {@code latestStep} steps; a multiple of k, or any step when it was written on a spot
 * interruption). A worker that receives the task again resumes from there.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TaskProgress(String taskId, String worker, int latestStep, String latestUri, String latestHash,
                           List<String> checkpointHashes, List<String> checkpointUris, List<Double> segmentLosses,
                           long trainMillis, long updatedAtEpochSeconds) {
}
