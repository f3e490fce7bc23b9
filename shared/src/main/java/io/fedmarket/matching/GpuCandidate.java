package io.fedmarket.matching;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Objects;

/**
 * A registered GPU provider as the solver sees it.
 *
 * @param id               provider id (e.g. its bonded address)
 * @param region           where the GPUs run, e.g. {@code eu-west-1}
 * @param capacityGpus     GPUs it offers at once; one participant of a job occupies one GPU during each round
 * @param askPerGpuSecond  the provider's ask in base units per GPU-second
 * @param samplesPerSecond measured training speed of one GPU (a measurement in steps/s times the batch size)
 * @param bond             bonded amount in base units
 * @param lastSlashedAt    last slash, or null if never slashed
 * @param reliability      track record
 */
public record GpuCandidate(String id, String region, int capacityGpus, BigInteger askPerGpuSecond, double samplesPerSecond,
                           BigInteger bond, Instant lastSlashedAt, ReliabilityStats reliability) {

    public GpuCandidate {
        Objects.requireNonNull(id, "GPU provider id");
        Objects.requireNonNull(region, () -> "region of GPU provider " + id);
        Objects.requireNonNull(askPerGpuSecond, () -> "ask of GPU provider " + id);
        Objects.requireNonNull(bond, () -> "bond of GPU provider " + id);
        Objects.requireNonNull(reliability, () -> "reliability of GPU provider " + id);
        if (capacityGpus < 0) {
            throw new IllegalArgumentException("GPU provider " + id + " has capacity " + capacityGpus + ": must be >= 0");
        }
        if (askPerGpuSecond.signum() < 0) {
            throw new IllegalArgumentException("GPU provider " + id + " asks " + askPerGpuSecond + " per GPU-second: must be >= 0");
        }
        if (!Double.isFinite(samplesPerSecond) || samplesPerSecond < 0) {
            throw new IllegalArgumentException("GPU provider " + id + " has measured speed " + samplesPerSecond
                    + " samples/s: must be a finite number >= 0 (measure it with a benchmark task first)");
        }
        if (bond.signum() < 0) {
            throw new IllegalArgumentException("GPU provider " + id + " has a negative bond " + bond);
        }
    }
}
