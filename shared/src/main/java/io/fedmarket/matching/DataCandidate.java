package io.fedmarket.matching;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A registered data provider as the solver sees it.
 *
 * @param id             provider id (e.g. its bonded address)
 * @param domain         data domain, compared case-insensitively with the intent's
 * @param region         where the data lives, e.g. {@code eu-west-1}
 * @param sampleCount    number of samples in the committed data set
 * @param labelHistogram samples per label
 * @param bond           bonded amount in base units
 * @param lastSlashedAt  last slash, or null if never slashed
 * @param reliability    track record
 */
public record DataCandidate(String id, String domain, String region, long sampleCount, Map<String, Long> labelHistogram,
                            BigInteger bond, Instant lastSlashedAt, ReliabilityStats reliability) {

    public DataCandidate {
        Objects.requireNonNull(id, "data provider id");
        Objects.requireNonNull(domain, () -> "domain of data provider " + id);
        Objects.requireNonNull(region, () -> "region of data provider " + id);
        Objects.requireNonNull(labelHistogram, () -> "label histogram of data provider " + id);
        Objects.requireNonNull(bond, () -> "bond of data provider " + id);
        Objects.requireNonNull(reliability, () -> "reliability of data provider " + id);
        if (sampleCount < 0) {
            throw new IllegalArgumentException("data provider " + id + " has sampleCount " + sampleCount + ": must be >= 0");
        }
        if (bond.signum() < 0) {
            throw new IllegalArgumentException("data provider " + id + " has a negative bond " + bond);
        }
        for (Map.Entry<String, Long> e : labelHistogram.entrySet()) {
            if (e.getValue() == null || e.getValue() < 0) {
                throw new IllegalArgumentException("data provider " + id + " has count " + e.getValue() + " for label '"
                        + e.getKey() + "': counts must be >= 0");
            }
        }
        labelHistogram = Map.copyOf(labelHistogram);
    }
}
