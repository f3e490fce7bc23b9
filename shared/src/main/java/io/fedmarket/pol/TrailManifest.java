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
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrailManifest(String taskId, String globalModelHash, String shardCommitment, long seed, int steps,
                            int checkpointEvery, String engine, int threads, int interopThreads,
                            List<String> checkpointHashes, List<String> checkpointUris, String proofRoot,
                            String chainCommitment, String updateHash, String updateUri, Long dpNoiseSeed,
                            List<Double> segmentLosses) {
}
