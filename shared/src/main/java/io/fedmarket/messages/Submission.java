package io.fedmarket.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.UUID;

/**
 * On the submissions queue (and stored at {@code submissions/<taskId>.json} in the bucket before it
 * is sent, which is what makes a task "done" for every worker): a trained update with its proof
 * trail, signed EIP-712 by the worker's bonded key over {@code {task, updateHash, proofRoot, steps,
 * gpuSeconds}} (see {@code io.fedmarket.pol.SubmissionSigner}). Business key: {@code taskId}.
 *
 * @param updateUri   S3 key of the trained parameters (content-addressed checkpoint file)
 * @param updateHash  keccak of the submitted parameters (0x hex), after DP noise when DP is on
 * @param proofRoot   Merkle root (OpenZeppelin sorted pairs) over the checkpoint hashes
 * @param trailUri    S3 key of the trail manifest ({@code io.fedmarket.pol.TrailManifest} JSON)
 * @param signature   65-byte r‖s‖v (0x hex) over the EIP-712 digest
 * @param trailHash   keccak of the trail manifest file's bytes as stored at {@code trailUri} (0x hex); null from a worker
 *                    that predates it: its manifest is then not the worker's word (an artifact problem leaves it out, never
 *                    slashes it)
 * @param trailSignature 65-byte r‖s‖v (0x hex) by the worker over the EIP-712 {@code Trail(bytes32 task,bytes32 manifestHash)}
 *                    ({@code io.fedmarket.pol.SubmissionSigner#signTrail}); with it, {@code trailUri} must lie under the
 *                    worker's own prefix {@code workers/<address>/}
 * @param timings     when the worker took the task, finished training and sent this message (epoch ms, the worker's clock):
 *                    observations for the round's phase breakdown, not signed and never used to decide or pay anything;
 *                    null from a worker that does not report them
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Submission(String taskId, UUID jobId, int round, String worker, String updateUri, String updateHash,
                         String proofRoot, String trailUri, int steps, int checkpointEvery, long gpuSeconds,
                         long trainMillis, int sampleCount, double trainLoss, int threads, String signature,
                         long submittedAtEpochSeconds, String trailHash, String trailSignature, Timings timings) {

    /**
     * The worker's instants for one task (epoch milliseconds): the task message received, training done (before the update,
     * manifest and signatures go to the bucket), the submission sent. 0 where unknown.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Timings(long receivedAtMs, long trainedAtMs, long sentAtMs) {
    }

    /** A submission as signed, without the worker's timings. */
    public Submission(String taskId, UUID jobId, int round, String worker, String updateUri, String updateHash,
                      String proofRoot, String trailUri, int steps, int checkpointEvery, long gpuSeconds,
                      long trainMillis, int sampleCount, double trainLoss, int threads, String signature,
                      long submittedAtEpochSeconds, String trailHash, String trailSignature) {
        this(taskId, jobId, round, worker, updateUri, updateHash, proofRoot, trailUri, steps, checkpointEvery, gpuSeconds, trainMillis,
                sampleCount, trainLoss, threads, signature, submittedAtEpochSeconds, trailHash, trailSignature, null);
    }

    /** The same submission with the worker's timings (they are not signed: the signatures stay valid). */
    public Submission withTimings(Timings t) {
        return new Submission(taskId, jobId, round, worker, updateUri, updateHash, proofRoot, trailUri, steps, checkpointEvery, gpuSeconds,
                trainMillis, sampleCount, trainLoss, threads, signature, submittedAtEpochSeconds, trailHash, trailSignature, t);
    }

    /** A submission without a signed manifest (the wire format before trail signatures). */
    public Submission(String taskId, UUID jobId, int round, String worker, String updateUri, String updateHash,
                      String proofRoot, String trailUri, int steps, int checkpointEvery, long gpuSeconds,
                      long trainMillis, int sampleCount, double trainLoss, int threads, String signature,
                      long submittedAtEpochSeconds) {
        this(taskId, jobId, round, worker, updateUri, updateHash, proofRoot, trailUri, steps, checkpointEvery, gpuSeconds, trainMillis,
                sampleCount, trainLoss, threads, signature, submittedAtEpochSeconds, null, null, null);
    }
}
