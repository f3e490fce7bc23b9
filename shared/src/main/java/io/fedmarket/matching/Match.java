package io.fedmarket.matching;

import java.math.BigInteger;
import java.util.List;

/**
 * A feasible job: who takes part, at what price, and why.
 *
 * @param intentId                 the intent matched
 * @param assignments              participants, in the order chosen
 * @param clearingPricePerGpuSecond uniform price every chosen GPU provider is paid per proven GPU-second
 * @param priceSetterId            GPU provider whose rejected ask set the price, or null when the builder's max did
 * @param totalGpuSeconds          expected GPU-seconds of the whole job
 * @param expectedCost             clearing price × totalGpuSeconds (≤ budget)
 * @param objective                objective by component
 * @param priceExplanation         how the price came about, in words
 */
public record Match(String intentId, List<Assignment> assignments, BigInteger clearingPricePerGpuSecond, String priceSetterId,
                    long totalGpuSeconds, BigInteger expectedCost, ObjectiveBreakdown objective, String priceExplanation)
        implements MatchResult {

    public Match {
        assignments = List.copyOf(assignments);
    }

    /** The assignment of a data provider, or null. */
    public Assignment assignmentOf(String dataProviderId) {
        for (Assignment a : assignments) {
            if (a.dataProviderId().equals(dataProviderId)) {
                return a;
            }
        }
        return null;
    }
}
