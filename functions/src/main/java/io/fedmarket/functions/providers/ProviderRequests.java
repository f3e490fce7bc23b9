package io.fedmarket.functions.providers;

import java.util.List;
import java.util.Map;

/** Bodies and views of the providers function. Money is a decimal string of base units. */
public final class ProviderRequests {
    private ProviderRequests() {
    }

    /**
     * A GPU offer. {@code samplesPerSecond} is optional: the speed one GPU trains at, as measured by
     * {@code ./mkt bench train} on the offered hardware (its samples/s line). The solver only assigns work to GPUs with a
     * measured speed; a claimed speed the provider's proof trails later contradict is a missed deadline
     * (the task is reassigned) and does not pay.
     */
    public record GpuProviderRequest(String name, String gpuModel, Integer gpuCount, Integer gpuMemoryGib, String askPerGpuSecond,
                                     String region, Double samplesPerSecond) {
    }

    /**
     * A data offer. {@code source} says where a worker finds the shard ({@link io.fedmarket.messages.DataSource}: data set,
     * split, part); an offer without one is never matched (no worker could train on it). The worker checks that the
     * shard it resolves hashes to {@code datasetRoot} before it trains.
     */
    public record DataProviderRequest(String name, String domain, String region, Long sampleCount, Map<String, Long> labelHistogram,
                                      String datasetRoot, io.fedmarket.messages.DataSource source) {
    }

    public record GpuProviderView(String id, String owner, String name, String gpuModel, int gpuCount, int gpuMemoryGib,
                                  String askPerGpuSecond, String region, double samplesPerSecond, long assignedTasks, long completedTasks,
                                  String updatedAt) {
    }

    public record DataProviderView(String id, String owner, String name, String domain, String region, long sampleCount,
                                   Map<String, Long> labelHistogram, String datasetRoot, io.fedmarket.messages.DataSource source, String updatedAt) {
    }

    public record BondView(String amount, String unbonding, String unbondingAt, String slashedTotal, String lastSlashedAt, long blockNumber) {
    }

    public record ProvidersView(String address, List<GpuProviderView> gpu, List<DataProviderView> data, BondView bond) {
    }
}
