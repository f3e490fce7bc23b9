package io.fedmarket.cli.report;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * Everything a demo run recorded (with {@code phases}, where each round's wall time went: {@link RoundPhases}; {@code
 * verificationOverhead} is the share of training steps re-executed, {@code verificationTimeShare} the re-executions' wall time
 * over the submissions' training time, null where not recorded), the single input of the terminal summary and of the HTML report,
 * so that what the report plots is exactly what the run measured.
 */
public record DemoRun(
        String title,
        long startedAtEpochMs,
        long finishedAtEpochMs,
        Map<String, String> config,
        List<Round> rounds,
        List<Double> baselineAccuracy,
        List<Provider> providers,
        List<Slash> slashes,
        List<Event> timeline,
        Map<String, Long> gasByOperation,
        double verificationOverhead,
        double targetAccuracy,
        List<TaskOutcome> tasks,
        RoundPhases.Report phases,
        Double verificationTimeShare,
        Privacy privacy) {

    /** A run without the round-phase breakdown and without private data (null: a run whose rounds' instants were not recorded). */
    public DemoRun(String title, long startedAtEpochMs, long finishedAtEpochMs, Map<String, String> config, List<Round> rounds,
                   List<Double> baselineAccuracy, List<Provider> providers, List<Slash> slashes, List<Event> timeline,
                   Map<String, Long> gasByOperation, double verificationOverhead, double targetAccuracy, List<TaskOutcome> tasks) {
        this(title, startedAtEpochMs, finishedAtEpochMs, config, rounds, baselineAccuracy, providers, slashes, timeline, gasByOperation,
                verificationOverhead, targetAccuracy, tasks, null, null, null);
    }

    /** A run of open data (no privacy record). */
    public DemoRun(String title, long startedAtEpochMs, long finishedAtEpochMs, Map<String, String> config, List<Round> rounds,
                   List<Double> baselineAccuracy, List<Provider> providers, List<Slash> slashes, List<Event> timeline,
                   Map<String, Long> gasByOperation, double verificationOverhead, double targetAccuracy, List<TaskOutcome> tasks,
                   RoundPhases.Report phases, Double verificationTimeShare) {
        this(title, startedAtEpochMs, finishedAtEpochMs, config, rounds, baselineAccuracy, providers, slashes, timeline, gasByOperation,
                verificationOverhead, targetAccuracy, tasks, phases, verificationTimeShare, null);
    }

    /**
     * What verification showed of private data, counted from the owners' own reveal records: samples revealed (each sealed to
     * one drawn re-executor), per update and in total, per provider and to whom; the rounds that went without a shard whose
     * workers were gone; the differential-privacy ε where DP is on (null: off); and what the run's audit scanned for samples
     * outside their owners' folders (bucket, database, logs) and found ({@code auditFindings}, empty when none).
     */
    public record Privacy(String mode, long revealedSamples, long reveals, long updatesRevealed, long maxRevealedPerUpdate, double meanRevealedPerUpdate,
                          long sharedSamples, List<ProviderPrivacy> providers, List<String> missingShards, Double dpEpsilon, String audit,
                          List<String> auditFindings) {
    }

    /** One provider's shard: its size, how many of its samples were revealed (to whom), in how many reveals. */
    public record ProviderPrivacy(String name, String address, long samples, long revealed, long reveals, List<String> recipients) {
    }

    /** One task's outcome: who trained it (name and injected behaviour), its verdict, and the steps trained and re-executed. */
    /**
     * @param checks      the verify function's cheap checks of the update (JSON: norm, cosine to the round's centre, validation loss,
     *                    their bounds and the flags raised), null when it never got that far
     * @param reexecutors the workers whose re-execution answers counted (each the one drawn for its request)
     */
    public record TaskOutcome(int round, String taskId, String worker, String behaviour, String verdict, String reason, int steps, long reexecutedSteps,
                              String checks, List<String> reexecutors) {
    }

    /** One federated round as closed by the coordinator. */
    public record Round(int round, double testAccuracy, String modelHash, String payoutRoot, String chainTx,
                        int accepted, int rejected, int dropped, long startedMs, long closedMs) {
    }

    /** A GPU/data provider or verifier; {@code behaviour} is what the demo injected (honest, noise, …). */
    public record Provider(String name, String address, String behaviour, BigInteger ledgerPaid, BigInteger claimedOnChain,
                           BigInteger slashed, double gpuSeconds) {
    }

    public record Slash(String provider, String address, int round, String reason, String evidenceHash,
                        BigInteger amount, String chainTx) {
    }

    /** Something that happened, in ms since the run started. */
    public record Event(long atMs, String kind, String text) {
    }

    public double finalAccuracy() {
        return rounds.isEmpty() ? 0 : rounds.get(rounds.size() - 1).testAccuracy();
    }
}
