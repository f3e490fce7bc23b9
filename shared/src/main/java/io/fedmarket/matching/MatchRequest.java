package io.fedmarket.matching;

import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What an intent asks of the market, in the solver's terms. Build with {@link #builder()}; the compact
 * constructor rejects inconsistent requests with a message that says what to change.
 *
 * @param intentId              for explanations and logs only
 * @param domain                data domain every data provider must serve
 * @param requiredLabels        labels the union of the chosen data must hold (at least one sample each)
 * @param targetLabelDistribution wanted share per label (normalised here); empty = uniform over the required labels
 * @param rounds                federated rounds
 * @param localEpochs           epochs over its own data each participant trains per round (used when localSteps is 0)
 * @param localSteps            fixed local steps per round (0 = use localEpochs)
 * @param batchSize             samples per step when localSteps is set
 * @param minParticipants       fewest data providers the job may run with
 * @param maxParticipants       most data providers
 * @param budget                most the job may cost, base units
 * @param maxPricePerGpuSecond  the builder's cap on the clearing price, base units per GPU-second
 * @param deadline              when the last round must be done
 * @param now                   the matching time (passed in so that the solver stays pure)
 * @param requiredBond          least bond of every chosen provider, base units
 * @param slashCooldown         a provider slashed within this time before {@code now} is not chosen
 * @param roundOverheadSeconds  per-round time not spent training (aggregation, verification, transfers)
 * @param targetSamples         samples the job would like in total, for the coverage demand (0 = max participants × mean eligible provider size)
 * @param weights               objective weights
 */
public record MatchRequest(String intentId, String domain, List<String> requiredLabels, Map<String, Double> targetLabelDistribution,
                           int rounds, int localEpochs, long localSteps, int batchSize, int minParticipants, int maxParticipants,
                           BigInteger budget, BigInteger maxPricePerGpuSecond, Instant deadline, Instant now,
                           BigInteger requiredBond, Duration slashCooldown, long roundOverheadSeconds, long targetSamples,
                           Weights weights) {

    public static final Duration DEFAULT_SLASH_COOLDOWN = Duration.ofDays(30);
    public static final long DEFAULT_ROUND_OVERHEAD_SECONDS = 60;

    public MatchRequest {
        String who = "intent " + intentId;
        Objects.requireNonNull(domain, () -> who + ": domain is missing");
        requiredLabels = List.copyOf(Objects.requireNonNull(requiredLabels, () -> who + ": requiredLabels is missing (give an empty list)"));
        targetLabelDistribution = Map.copyOf(Objects.requireNonNull(targetLabelDistribution,
                () -> who + ": targetLabelDistribution is missing (give an empty map for uniform over the required labels)"));
        Objects.requireNonNull(budget, () -> who + ": budget is missing");
        Objects.requireNonNull(maxPricePerGpuSecond, () -> who + ": maxPricePerGpuSecond is missing");
        Objects.requireNonNull(deadline, () -> who + ": deadline is missing");
        Objects.requireNonNull(now, () -> who + ": now is missing");
        Objects.requireNonNull(requiredBond, () -> who + ": requiredBond is missing (0 for none)");
        Objects.requireNonNull(slashCooldown, () -> who + ": slashCooldown is missing");
        Objects.requireNonNull(weights, () -> who + ": weights are missing (use Weights.DEFAULT)");
        if (requiredLabels.isEmpty() && targetLabelDistribution.isEmpty()) {
            throw new IllegalArgumentException(who + ": neither required labels nor a target label distribution given: "
                    + "name the labels the model must learn");
        }
        for (Map.Entry<String, Double> e : targetLabelDistribution.entrySet()) {
            if (e.getValue() == null || !Double.isFinite(e.getValue()) || e.getValue() < 0) {
                throw new IllegalArgumentException(who + ": target share of label '" + e.getKey() + "' is " + e.getValue()
                        + ": shares must be finite and >= 0");
            }
        }
        if (!targetLabelDistribution.isEmpty() && targetLabelDistribution.values().stream().mapToDouble(Double::doubleValue).sum() <= 0) {
            throw new IllegalArgumentException(who + ": target label distribution sums to 0: give positive shares");
        }
        if (rounds < 1) {
            throw new IllegalArgumentException(who + ": rounds is " + rounds + ": must be >= 1");
        }
        if (localSteps < 0 || (localSteps == 0 && localEpochs < 1)) {
            throw new IllegalArgumentException(who + ": give localEpochs >= 1 or localSteps >= 1 (got epochs " + localEpochs
                    + ", steps " + localSteps + ")");
        }
        if (localSteps > 0 && batchSize < 1) {
            throw new IllegalArgumentException(who + ": localSteps " + localSteps + " needs batchSize >= 1, got " + batchSize);
        }
        if (minParticipants < 1 || maxParticipants < minParticipants) {
            throw new IllegalArgumentException(who + ": participants must satisfy 1 <= min <= max, got min " + minParticipants
                    + ", max " + maxParticipants);
        }
        if (budget.signum() <= 0) {
            throw new IllegalArgumentException(who + ": budget is " + budget + ": must be > 0 base units");
        }
        if (maxPricePerGpuSecond.signum() <= 0) {
            throw new IllegalArgumentException(who + ": maxPricePerGpuSecond is " + maxPricePerGpuSecond + ": must be > 0 base units");
        }
        if (!deadline.isAfter(now)) {
            throw new IllegalArgumentException(who + ": deadline " + deadline + " is not after now " + now + ": give a future deadline");
        }
        if (requiredBond.signum() < 0) {
            throw new IllegalArgumentException(who + ": requiredBond is negative: " + requiredBond);
        }
        if (slashCooldown.isNegative()) {
            throw new IllegalArgumentException(who + ": slashCooldown is negative: " + slashCooldown);
        }
        if (roundOverheadSeconds < 0) {
            throw new IllegalArgumentException(who + ": roundOverheadSeconds is " + roundOverheadSeconds + ": must be >= 0");
        }
        if (targetSamples < 0) {
            throw new IllegalArgumentException(who + ": targetSamples is " + targetSamples + ": must be >= 0 (0 = default)");
        }
        long perRound = Duration.between(now, deadline).getSeconds() / rounds - roundOverheadSeconds;
        if (perRound < 1) {
            throw new IllegalArgumentException(who + ": " + rounds + " rounds with " + roundOverheadSeconds
                    + " s overhead each do not fit before the deadline " + deadline + ": move the deadline or cut rounds");
        }
    }

    /** Seconds of training each round may take: the time to the deadline split evenly, less the overhead. */
    public long trainingSecondsPerRound() {
        return Duration.between(now, deadline).getSeconds() / rounds - roundOverheadSeconds;
    }

    /** Samples a data provider with {@code sampleCount} samples trains on per round. */
    public long samplesPerRound(long sampleCount) {
        return localSteps > 0 ? Math.multiplyExact(localSteps, (long) batchSize) : Math.multiplyExact(sampleCount, (long) localEpochs);
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.intentId = intentId;
        b.domain = domain;
        b.requiredLabels = requiredLabels;
        b.target = new LinkedHashMap<>(targetLabelDistribution);
        b.rounds = rounds;
        b.localEpochs = localEpochs;
        b.localSteps = localSteps;
        b.batchSize = batchSize;
        b.minParticipants = minParticipants;
        b.maxParticipants = maxParticipants;
        b.budget = budget;
        b.maxPrice = maxPricePerGpuSecond;
        b.deadline = deadline;
        b.now = now;
        b.requiredBond = requiredBond;
        b.slashCooldown = slashCooldown;
        b.roundOverheadSeconds = roundOverheadSeconds;
        b.targetSamples = targetSamples;
        b.weights = weights;
        return b;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with the marketplace defaults for everything an intent may leave out. */
    public static final class Builder {
        private String intentId = "intent";
        private String domain;
        private List<String> requiredLabels = List.of();
        private Map<String, Double> target = new LinkedHashMap<>();
        private int rounds = 1;
        private int localEpochs = 1;
        private long localSteps;
        private int batchSize = 32;
        private int minParticipants = 1;
        private int maxParticipants = 10;
        private BigInteger budget;
        private BigInteger maxPrice;
        private Instant deadline;
        private Instant now;
        private BigInteger requiredBond = BigInteger.ZERO;
        private Duration slashCooldown = DEFAULT_SLASH_COOLDOWN;
        private long roundOverheadSeconds = DEFAULT_ROUND_OVERHEAD_SECONDS;
        private long targetSamples;
        private Weights weights = Weights.DEFAULT;

        public Builder intentId(String v) { intentId = v; return this; }
        public Builder domain(String v) { domain = v; return this; }
        public Builder requiredLabels(List<String> v) { requiredLabels = v; return this; }
        public Builder targetLabelDistribution(Map<String, Double> v) { target = new LinkedHashMap<>(v); return this; }
        public Builder rounds(int v) { rounds = v; return this; }
        public Builder localEpochs(int v) { localEpochs = v; return this; }
        public Builder localSteps(long steps, int batch) { localSteps = steps; batchSize = batch; return this; }
        public Builder participants(int min, int max) { minParticipants = min; maxParticipants = max; return this; }
        public Builder budget(BigInteger v) { budget = v; return this; }
        public Builder maxPricePerGpuSecond(BigInteger v) { maxPrice = v; return this; }
        public Builder deadline(Instant v) { deadline = v; return this; }
        public Builder now(Instant v) { now = v; return this; }
        public Builder requiredBond(BigInteger v) { requiredBond = v; return this; }
        public Builder slashCooldown(Duration v) { slashCooldown = v; return this; }
        public Builder roundOverheadSeconds(long v) { roundOverheadSeconds = v; return this; }
        public Builder targetSamples(long v) { targetSamples = v; return this; }
        public Builder weights(Weights v) { weights = v; return this; }

        public MatchRequest build() {
            return new MatchRequest(intentId, domain, requiredLabels, target, rounds, localEpochs, localSteps, batchSize,
                    minParticipants, maxParticipants, budget, maxPrice, deadline, now, requiredBond, slashCooldown,
                    roundOverheadSeconds, targetSamples, weights);
        }
    }
}
