package io.fedmarket.matching;

/**
 * A provider's track record as counted by the marketplace.
 *
 * @param tasksAssigned       tasks ever assigned to the provider
 * @param tasksCompleted      of those, completed before their round's deadline
 * @param verificationsRun    submissions of the provider that verifiers re-executed
 * @param verificationsPassed of those, accepted
 */
public record ReliabilityStats(long tasksAssigned, long tasksCompleted, long verificationsRun, long verificationsPassed) {

    /** A provider with no history. */
    public static final ReliabilityStats NONE = new ReliabilityStats(0, 0, 0, 0);

    public ReliabilityStats {
        if (tasksAssigned < 0 || tasksCompleted < 0 || verificationsRun < 0 || verificationsPassed < 0) {
            throw new IllegalArgumentException("reliability counts must be >= 0, got assigned=" + tasksAssigned + " completed="
                    + tasksCompleted + " verified=" + verificationsRun + " passed=" + verificationsPassed);
        }
        if (tasksCompleted > tasksAssigned || verificationsPassed > verificationsRun) {
            throw new IllegalArgumentException("reliability counts are inconsistent: completed " + tasksCompleted + " of "
                    + tasksAssigned + " assigned, passed " + verificationsPassed + " of " + verificationsRun
                    + " verified; a part cannot exceed its whole");
        }
    }

    /**
     * Probability that a task given to this provider is completed and passes verification: the product of the
     * posterior means under uniform Beta(1, 1) priors, so a newcomer starts at 0.25 and earns its way up
     * instead of being treated as perfect.
     */
    public double expectedCompletion() {
        return completionRate() * passRate();
    }

    public double completionRate() {
        return (tasksCompleted + 1.0) / (tasksAssigned + 2.0);
    }

    public double passRate() {
        return (verificationsPassed + 1.0) / (verificationsRun + 2.0);
    }
}
