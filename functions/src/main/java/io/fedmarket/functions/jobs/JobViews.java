package io.fedmarket.functions.jobs;

import java.util.List;

/** What GET /jobs/{id} and GET /claims/{jobId} return. Money: decimal strings of base units. */
public final class JobViews {
    private JobViews() {
    }

    public record Participant(String providerId, String kind, String address, String reason) {
    }

    public record RoundView(int round, String status, String globalModelHash, String deadline, int minUpdates, long accepted, long rejected) {
    }

    public record SlashView(String address, int round, String amount, String status, String evidenceHash, String txHash) {
    }

    public record JobView(String id, String intentId, String builder, String status, String clearingPricePerGpuSecond, int currentRound,
                          List<Participant> participants, List<RoundView> rounds, List<SlashView> slashes, String costSoFar, String explanation) {
    }

    public record ClaimView(String jobId, int round, String account, String cumulative, String payoutRoot, List<String> proof, String modelHash) {
    }
}
