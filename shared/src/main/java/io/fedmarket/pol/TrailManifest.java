package io.fedmarket.pol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.List;

/**
 * The proof trail as stored in the bucket (JSON) next to the update: what the verifier needs to
 * pick segments and ask for their re-execution. Checkpoint i is the parameters after
 * {@code i × checkpointEvery} steps (0 = the starting model); {@code checkpointUris.get(i)} holds
 * them together with the optimiser state at that step.
 *
 * @param engine          e.g. {@code PyTorch 2.7.1 cpu}: bit-exactness holds on the same engine build
 * @param threads         intra-op threads used (re-execution must use the same)
 * @param interopThreads  inter-op threads used
 * @param dpNoiseSeed     seed of the Gaussian DP noise added after the last checkpoint (null: no DP)
 * @param adoptedSteps    the first steps of the trail that the signer did not train itself: it resumed another worker's
 *                        progress from there (its checkpoints checked against their hashes and steps and copied under the
 *                        signer's own prefix, but not re-executed). A re-executed mismatch in a segment starting before
 *                        it is no evidence against the signer (the update is left out, unslashed). Null: none
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrailManifest(String taskId, String globalModelHash, String shardCommitment, long seed, int steps,
                            int checkpointEvery, String engine, int threads, int interopThreads,
                            List<String> checkpointHashes, List<String> checkpointUris, String proofRoot,
                            String chainCommitment, String updateHash, String updateUri, Long dpNoiseSeed,
                            List<Double> segmentLosses, Integer adoptedSteps) {

    /** A trail its signer trained all of. */
    public TrailManifest(String taskId, String globalModelHash, String shardCommitment, long seed, int steps, int checkpointEvery, String engine,
                         int threads, int interopThreads, List<String> checkpointHashes, List<String> checkpointUris, String proofRoot,
                         String chainCommitment, String updateHash, String updateUri, Long dpNoiseSeed, List<Double> segmentLosses) {
        this(taskId, globalModelHash, shardCommitment, seed, steps, checkpointEvery, engine, threads, interopThreads, checkpointHashes,
                checkpointUris, proofRoot, chainCommitment, updateHash, updateUri, dpNoiseSeed, segmentLosses, null);
    }

    /** Whether segment {@code i} starts before {@link #adoptedSteps}: trained (at least in part) by another worker. */
    public boolean adopted(int segment) {
        return adoptedSteps != null && (long) segment * checkpointEvery < adoptedSteps;
    }
}
