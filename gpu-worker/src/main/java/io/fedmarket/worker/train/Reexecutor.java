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
            ShardResolver.Shard shard;
            io.fedmarket.worker.reveal.SegmentReveal.Opened opened = null;
            if (task.isPrivate() && !runner.localData().holds(task)) {
                // a private shard: only the drawn segment's samples, sealed to this worker by the data owner's worker
                Object got = revealed(r);
                if (got instanceof String error) {
                    return result(r, null, null, null, t0, error);
                }
                opened = (io.fedmarket.worker.reveal.SegmentReveal.Opened) got;
                shard = revealedShard(task, opened);
            } else {
                shard = ShardResolver.resolve(task, runner.localData());
            }
            try {
                return replay(r, task, shard, t0);
            } finally {
                if (opened != null) {
                    opened.wipe(); // the revealed samples are forgotten as soon as the segment is replayed
                    java.util.Arrays.fill(shard.data().pixels(), (byte) 0);
                }
            }
        } catch (RuntimeException e) {
            return result(r, null, null, null, t0, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** How long a re-executor waits for the data owner's reveal of a private segment before it answers REVEAL_NOT_SERVED (default). */
    public static final long REVEAL_WAIT_MILLIS = 60_000L;
    private long revealWaitMillis = REVEAL_WAIT_MILLIS;

    /** How long to wait for a private segment's reveal (FEDMARKET_REVEAL_WAIT_SECONDS in the worker). */
    public Reexecutor revealWait(long millis) {
        this.revealWaitMillis = millis;
        return this;
    }

    /**
     * The opened reveal of a private segment drawn for this worker, or the error to answer: the marketplace's request must
     * name this worker, the owner's workers ({@code task.trainers}) must have sealed the samples to it within the reveal wait,
     * and every sample must be the committed one at the position the batch plan uses.
     */
    private Object revealed(ReexecTask r) {
        TrainTask task = r.task();
        String me = key.getAddress().toLowerCase(java.util.Locale.ROOT);
        String reqKey = io.fedmarket.messages.RevealRequest.key(task.shardCommitment(), r.reexecId());
        long until = System.currentTimeMillis() + revealWaitMillis;
        io.fedmarket.messages.RevealRequest req = null;
        while (true) {
            if (req == null) {
                req = store.getJson(reqKey, io.fedmarket.messages.RevealRequest.class)
                        .filter(q -> q.reexec() != null && me.equalsIgnoreCase(q.reexec().assignee())).orElse(null);
            }
            if (req != null) {
                for (String owner : task.trainers()) {
                    java.util.Optional<byte[]> sealed = store.find(io.fedmarket.messages.RevealRequest.sealedKey(owner, r.reexecId(), me));
                    if (sealed.isPresent()) {
                        io.fedmarket.worker.reveal.SegmentReveal.Header h = io.fedmarket.worker.reveal.RevealServer.header(req.reexec(), req.sampleCount(),
                                io.fedmarket.worker.reveal.RevealServer.publicKeyHex(key));
                        if (h.fromStep() != r.startStep() || h.toStep() != r.startStep() + r.steps() || h.segment() != r.segment()) {
                            return "REVEAL_REJECTED: the marketplace's reveal request names steps [" + h.fromStep() + ", " + h.toStep()
                                    + "), this re-execution request [" + r.startStep() + ", " + (r.startStep() + r.steps()) + ")";
                        }
                        try {
                            return io.fedmarket.worker.reveal.SegmentReveal.open(sealed.get(), h, key.getEcKeyPair().getPrivateKey());
                        } catch (io.fedmarket.worker.reveal.SegmentReveal.Rejected e) {
                            return "REVEAL_REJECTED: " + e.getMessage();
                        }
                    }
                }
            }
            if (System.currentTimeMillis() > until) {
                return req == null ? "REVEAL_NOT_REQUESTED: the marketplace has no reveal request of " + r.reexecId() + " for " + me
                        + " (not drawn for it, or redrawn since)"
                        : "REVEAL_NOT_SERVED: the data owner's workers " + task.trainers() + " did not reveal segment " + r.segment() + " of "
                        + task.taskId() + " to " + me + " within " + revealWaitMillis / 1000.0 + " s";
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "REVEAL_NOT_SERVED: interrupted while waiting for the reveal";
            }
        }
    }

    /** A shard of the committed size holding only the revealed samples (every other position zero, and never read). */
    private static ShardResolver.Shard revealedShard(TrainTask task, io.fedmarket.worker.reveal.SegmentReveal.Opened o) {
        java.util.List<Integer> shape = io.fedmarket.messages.DataSource.sampleShape(task.dataset()).orElseThrow();
        return ShardResolver.whole(io.fedmarket.worker.data.local.LocalShards.imageData("revealed:" + task.taskId(), shape, o.header().sampleCount(),
                o::revealedAt), io.fedmarket.crypto.Hashes.fromHex32(task.shardCommitment()));
    }

    private ReexecResult replay(ReexecTask r, TrainTask task, ShardResolver.Shard shard, long t0) {
        ModelSpec spec = ModelSpec.parse(task.modelSpec());
        {
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
