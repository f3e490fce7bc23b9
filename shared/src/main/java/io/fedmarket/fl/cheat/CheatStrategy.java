package io.fedmarket.fl.cheat;

/** The cheating strategies the verification policy must catch (issue 8). */
public enum CheatStrategy {
    /** Submit global + Gaussian noise with a made-up trail interpolating to it. */
    RANDOM_NOISE,
    /** Submit the global model unchanged (trail of identical checkpoints). */
    GLOBAL_UNCHANGED,
    /** Submit global + s × another participant's previous-round delta. */
    SCALED_COPY,
    /** Train only the first part of the steps, extrapolate the remaining checkpoints. */
    PARTIAL_TRAINING,
    /** Real checkpoints, but the chain links were never computed (hashes that do not chain). */
    FORGED_TRAIL,
    /** Honest training on a different shard, trail claiming the task's shard. */
    WRONG_SHARD
}
