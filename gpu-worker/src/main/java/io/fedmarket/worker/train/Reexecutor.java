package io.fedmarket.worker.train;

import io.fedmarket.fl.model.ModelState;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.messages.ReexecTask;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.pol.ReexecSigner;
import io.fedmarket.worker.model.ModelSpec;
import io.fedmarket.worker.store.ArtifactStore;
import org.web3j.crypto.Credentials;

/**
 * Re-executes one segment of somebody else's trail: loads the committed start checkpoint (its
 * parameters must hash to the committed start hash, and it must be the state after
 * {@code startStep} steps), runs the same batches with the same optimiser state and thread count,
 * uploads the end state (parameters + momentum, content-addressed under {@code reexec-states/})
 * and reports its hash and key. Anything that prevents an honest replay is reported as an error
 * value, not thrown, because it is evidence for the verifier. Every result, an error too, is
 * signed with the worker's key ({@link ReexecSigner}), so the verifier can tell who vouches for it.
 */
public final class Reexecutor {
    /** Bucket prefix of re-executed end states: {@code reexec-states/<keccak>.ckpt}. */
    public static final String STATES_PREFIX = "reexec-states";

    private final TaskRunner runner;
    private final ArtifactStore store;
    private final Credentials key;
    private final ReexecSigner signer;

    public Reexecutor(TaskRunner runner, ArtifactStore store, Credentials key, ReexecSigner signer) {
        this.runner = runner;
        this.store = store;
        this.key = key;
        this.signer = signer;
    }

    public String workerAddress() {
        return key.getAddress();
    }

    public ReexecResult run(ReexecTask r) {
        long t0 = System.nanoTime();
        TrainTask task = r.task();
        try {
            if (task == null) {
                throw new IllegalArgumentException("re-execution " + r.reexecId() + " carries no task");
            }
            task.validate();
            if (r.steps() <= 0 || r.startStep() < 0 || r.segment() < 0) {
                throw new IllegalArgumentException("segment " + r.segment() + " has steps=" + r.steps() + ", startStep=" + r.startStep()
                        + ": need segment >= 0, steps > 0, startStep >= 0");
            }
            Engines.useThreads(task.threads());
            ModelSpec spec = ModelSpec.parse(task.modelSpec());
            ShardResolver.Shard shard = ShardResolver.resolve(task);
            ModelState start = ModelState.decode(store.getVerified(r.startCheckpointUri()), r.startCheckpointUri());
            String startHash = Hashes.hex(start.stateHash()); // parameters, momentum and step, as the trail commits them
            if (r.startHash() != null && !startHash.equalsIgnoreCase(r.startHash())) {
                return result(r, startHash, null, null, t0, "start checkpoint " + r.startCheckpointUri() + " hashes to " + startHash
                        + ", the trail commits to " + r.startHash());
            }
            if (start.step() != r.startStep()) {
                return result(r, startHash, null, null, t0, "start checkpoint holds the state after " + start.step()
                        + " steps, the segment starts at step " + r.startStep());
            }
            ModelState anchor = task.proxMu() > 0 ? runner.globalModel(task, spec) : start;
            BatchPlan plan = new BatchPlan(shard.indices(), task.batchSize(), task.seed());
            ModelState end;
            // the worker's warm session (model, trainer and buffers built once), reset to the committed start state
            TrainingSession s = WarmSessions.open(spec, task.batchSize(), start, anchor, task.lr(), task.momentum(), task.proxMu());
            boolean reusable = false;
            try {
                for (int st = r.startStep(); st < r.startStep() + r.steps(); st++) {
                    s.step(shard.data(), plan.batch(st));
                }
                end = s.snapshot(true);
                reusable = true;
            } finally {
                if (reusable) {
                    WarmSessions.release(s);
                } else {
                    s.close();
                }
            }
            String endHash = Hashes.hex(end.stateHash());
            if (runner.fault().liesAsVerifier()) {
                // FAULT INJECTION lying-verifier: the signed answer names a state nobody reached
                endHash = Hashes.hex(Hashes.keccak256((endHash + "lie").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                System.err.println("FAULT INJECTION lying-verifier: answering " + r.reexecId() + " with a made-up end hash");
            }
            // the end state under this worker's own prefix: the judge checks it hashes to the signed end hash
            String endUri = store.putContent(io.fedmarket.pol.SubmissionSigner.workerPrefix(key.getAddress()) + STATES_PREFIX, "ckpt", end.encode());
            return result(r, startHash, endHash, endUri, t0, null);
        } catch (RuntimeException e) {
            return result(r, null, null, null, t0, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private ReexecResult result(ReexecTask r, String startHash, String endHash, String endUri, long t0, String error) {
        // no ternary here: mixing Boolean and boolean would unbox a null (the verifier may withhold the expected hash)
        Boolean matches;
        if (endHash == null || r.expectedEndHash() == null) {
            matches = error != null ? Boolean.FALSE : null;
        } else {
            matches = endHash.equalsIgnoreCase(r.expectedEndHash());
        }
        String signature = null;
        if (r.reexecId() != null && r.segment() >= 0) {
            // the hashes were computed here (32 bytes each) or are null; a request without reexecId or with a negative
            // segment has nothing a signature could name (and no result key in the bucket either)
            signature = Hashes.hex(signer.sign(key, r.reexecId(), r.segment(),
                    startHash == null ? null : Hashes.fromHex32(startHash), endHash == null ? null : Hashes.fromHex32(endHash)));
        }
        return new ReexecResult(r.reexecId(), r.task() == null ? null : r.task().taskId(), r.segment(), key.getAddress(), startHash,
                endHash, matches, (System.nanoTime() - t0) / 1_000_000, Engines.threads(), error, endUri, signature);
    }
}
