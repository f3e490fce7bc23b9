package io.fedmarket.functions.jobs;

import java.util.List;

/** What GET /jobs/{id} and GET /claims/{jobId} return. Money: decimal strings of base units. */
public final class JobViews {
    private JobViews() {
    }

    public record Participant(String providerId, String kind, String address, String reason) {
    }

    /**
     * @param missingShards      the private shards the round went without (their workers gone), as JSON, or null
     * @param privateReveals     segments of private shards sealed to a drawn re-executor (each reveals that segment's samples only)
     * @param revealedAtMost     the samples those reveals show at most (segment steps × batch each; fewer when batches repeat samples)
     */
    public record RoundView(int round, String status, String globalModelHash, String deadline, int minUpdates, long accepted, long rejected,
                            String missingShards, long privateReveals, long revealedAtMost) {
    }

    public record SlashView(String address, int round, String amount, String status, String evidenceHash, String txHash) {
    }

    public record JobView(String id, String intentId, String builder, String status, String clearingPricePerGpuSecond, int currentRound,
                          List<Participant> participants, List<RoundView> rounds, List<SlashView> slashes, String costSoFar, String explanation) {
    }

    public record ClaimView(String jobId, int round, String account, String cumulative, String payoutRoot, List<String> proof, String modelHash) {
    }
}
