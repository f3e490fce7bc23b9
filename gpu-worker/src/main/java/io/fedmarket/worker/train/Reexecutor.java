package io.fedmarket.worker.train;

import io.fedmarket.fl.model.ModelState;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.messages.ReexecTask;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.worker.model.ModelSpec;

/**
 * Re-executes one segment of somebody else's trail: loads the committed start checkpoint (its
 * parameters must hash to the committed start hash, and it must be the state after
 * {@code startStep} steps), runs the same batches with the same optimiser state and thread count,
 * and reports the end hash. Anything that prevents an honest replay is reported as an error
 * value, not thrown, because it is evidence for the verifier.
 */
public final class Reexecutor {
    private final TaskRunner runner;
    private final io.fedmarket.worker.store.ArtifactStore store;
    private final String worker;

    public Reexecutor(TaskRunner runner, io.fedmarket.worker.store.ArtifactStore store, String worker) {
        this.runner = runner;
        this.store = store;
        this.worker = worker;
    }

    public ReexecResult run(ReexecTask r) {
        long t0 = System.nanoTime();
        TrainTask task = r.task();
        try {
            task.validate();
            if (r.steps() <= 0 || r.startStep() < 0) {
                throw new IllegalArgumentException("segment " + r.segment() + " has steps=" + r.steps() + ", startStep=" + r.startStep());
            }
            Engines.useThreads(task.threads());
            ModelSpec spec = ModelSpec.parse(task.modelSpec());
            ShardResolver.Shard shard = ShardResolver.resolve(task);
            ModelState start = ModelState.decode(store.getVerified(r.startCheckpointUri()), r.startCheckpointUri());
            String startHash = Hashes.hex(start.paramsHash());
            if (r.startHash() != null && !startHash.equalsIgnoreCase(r.startHash())) {
                return result(r, startHash, null, t0, "start checkpoint " + r.startCheckpointUri() + " hashes to " + startHash
                        + ", the trail commits to " + r.startHash());
            }
            if (start.step() != r.startStep()) {
                return result(r, startHash, null, t0, "start checkpoint holds the state after " + start.step()
                        + " steps, the segment starts at step " + r.startStep());
            }
            ModelState anchor = task.proxMu() > 0 ? runner.globalModel(task, spec) : start;
            BatchPlan plan = new BatchPlan(shard.indices(), task.batchSize(), task.seed());
            String endHash;
            try (TrainingSession s = TrainingSession.open(spec, task.batchSize(), start, anchor, task.lr(), task.momentum(), task.proxMu())) {
                for (int st = r.startStep(); st < r.startStep() + r.steps(); st++) {
                    s.step(shard.data(), plan.batch(st));
                }
                endHash = Hashes.hex(s.snapshot(false).paramsHash());
            }
            return result(r, startHash, endHash, t0, null);
        } catch (RuntimeException e) {
            return result(r, null, null, t0, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private ReexecResult result(ReexecTask r, String startHash, String endHash, long t0, String error) {
        // no ternary here: mixing Boolean and boolean would unbox a null (the verifier may withhold the expected hash)
        Boolean matches;
        if (endHash == null || r.expectedEndHash() == null) {
            matches = error != null ? Boolean.FALSE : null;
        } else {
            matches = endHash.equalsIgnoreCase(r.expectedEndHash());
        }
        return new ReexecResult(r.reexecId(), r.task() == null ? null : r.task().taskId(), r.segment(), worker, startHash, endHash,
                matches, (System.nanoTime() - t0) / 1_000_000, Engines.threads(), error);
    }
}
