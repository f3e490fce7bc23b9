package io.fedmarket.fl.proof;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * What a task fixes before training starts; the first link of the trail commits to it, so a
 * trail produced for another task, model or shard cannot be passed off for this one.
 * {@code checkpointEvery} = k: parameters are hashed after every k steps, so a trail has
 * steps/k segments and steps/k + 1 checkpoints (checkpoint 0 is the global model).
 */
public record TrailHeader(String taskId, byte[] globalModelHash, byte[] shardCommitment, long seed, int steps,
                          int checkpointEvery) {
    public TrailHeader {
        Objects.requireNonNull(taskId, "taskId");
        if (globalModelHash == null || globalModelHash.length != 32) {
            throw new IllegalArgumentException("globalModelHash must be 32 bytes (keccak-256)");
        }
        if (shardCommitment == null || shardCommitment.length != 32) {
            throw new IllegalArgumentException("shardCommitment must be 32 bytes (the shard's Merkle root)");
        }
        if (steps <= 0 || checkpointEvery <= 0 || steps % checkpointEvery != 0) {
            throw new IllegalArgumentException("task " + taskId + ": steps (" + steps + ") must be a positive multiple of "
                    + "checkpointEvery (" + checkpointEvery + ") so that every segment has the same length");
        }
    }

    public int segments() {
        return steps / checkpointEvery;
    }

    /** keccak(keccak(taskId) ‖ modelHash ‖ shardCommitment ‖ seed:u64 ‖ steps:u32 ‖ k:u32). */
    public byte[] hash() {
        return Hashes.keccak(Hashes.keccak(taskId.getBytes(StandardCharsets.UTF_8)), globalModelHash, shardCommitment,
                Hashes.u64(seed), Hashes.u32(steps), Hashes.u32(checkpointEvery));
    }

    public boolean sameAs(TrailHeader o) {
        return o != null && taskId.equals(o.taskId) && Arrays.equals(globalModelHash, o.globalModelHash)
                && Arrays.equals(shardCommitment, o.shardCommitment) && seed == o.seed && steps == o.steps
                && checkpointEvery == o.checkpointEvery;
    }
}
