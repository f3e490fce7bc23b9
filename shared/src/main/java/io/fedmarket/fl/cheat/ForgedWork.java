package io.fedmarket.fl.cheat;

import io.fedmarket.fl.proof.ProofTrail;

import java.util.List;

/** What a worker submits: the update, the checkpoint artifacts it uploads, and its trail. */
public record ForgedWork(float[] update, List<float[]> checkpoints, ProofTrail trail) {
    public ForgedWork {
        checkpoints = List.copyOf(checkpoints);
    }
}
