package io.fedmarket.fl.payout;

import java.util.Objects;

/**
 * One task's outcome as the settle consumer sees it: who trained (GPU provider), whose shard
 * it trained on (data provider), whether its verdict accepted it, and the GPU-seconds proven
 * (verified steps × the job's agreed seconds per step, computed upstream).
 */
public record TaskSettlement(String taskId, String gpuProvider, String dataProvider, boolean accepted,
                             long provenGpuSeconds) {
    public TaskSettlement {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(gpuProvider, "gpuProvider");
        if (provenGpuSeconds < 0) {
            throw new IllegalArgumentException("task " + taskId + ": proven GPU-seconds must be >= 0 but was "
                    + provenGpuSeconds);
        }
    }
}
