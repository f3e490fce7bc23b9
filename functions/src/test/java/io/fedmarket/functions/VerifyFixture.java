package io.fedmarket.functions;

import io.fedmarket.fl.job.JobPlan;
import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.rounds.Verification;
import io.fedmarket.messages.Submission;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.pol.ProofTrails;
import io.fedmarket.pol.SubmissionSigner;
import io.fedmarket.pol.TrailManifest;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.http.HttpService;

import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * What the verify function finds for one submission, built for real: a job whose plan is {@link #MODEL}, its round's start
 * model content-addressed in the bucket (round and task naming it and its hash), a bonded submitter, a pool of bonded
 * re-executors and accounts that must never be drawn; then the worker's checkpoints, update and trail manifest in the
 * bucket and its EIP-712-signed submission. And the chain (anvil) the draw waits on.
 */
final class VerifyFixture {
    static final String MODEL = "mlp:16";
    /** Steps per segment (k). */
    static final int K = 5;
    static final long GPU_SECONDS = 42;
    /** Every bonded verifier node seeded so far: an operator's verifier node may be drawn for any job (the database lives as long as the Quarkus start). */
    static final List<String> VERIFIER_NODES = new CopyOnWriteArrayList<>();

    private VerifyFixture() {
    }

    /**
     * One task of a job and who may re-execute it: {@code eligible} are the bonded live GPU participants besides the
     * submitter and this test's bonded verifier node; {@code never} are accounts that must not be drawn (a bonded
     * participant removed for cheating, an unbonded participant, an unbonded verifier node).
     */
    record Task(UUID jobId, String taskId, int segments, JobPlan plan, TrainTask train, ModelState start, String startUri, String startHash,
                Credentials submitterKey, String submitter, List<String> eligible, List<String> never) {
        int steps() {
            return segments * K;
        }

        /** Who the draw may pick as the database must see it now: the submitter (the draw leaves it out), this job's pool, every verifier node. */
        List<String> pool() {
            TreeSet<String> all = new TreeSet<>(eligible);
            all.add(submitter);
            all.addAll(VERIFIER_NODES);
            return List.copyOf(all);
        }
    }

    /** A worker's run as it is in the bucket, and its signed submission. */
    record Run(Task task, List<ModelState> checkpoints, List<String> checkpointUris, List<String> hashes, String proofRoot, float[] update,
               String updateUri, String updateHash, String trailUri, String signature, String submissionHash, String message,
               String trailHash, String trailSignature) {
        /** The worker's own bucket prefix, {@code workers/<address>/}: only it may write there. */
        String own() {
            return SubmissionSigner.workerPrefix(task.submitter());
        }
    }

    static Task task(int segments, JobPlan.Verification verification) throws Exception {
        return task(MODEL, segments, verification);
    }

    /** As {@link #task(int, JobPlan.Verification)} for another catalogue model. */
    static Task task(String model, int segments, JobPlan.Verification verification) throws Exception {
        final String MODEL = model;
        Seed.Job j = Seed.job(1, false);
        UUID job = j.jobId();
        String task = j.taskIds().get(0);
        JobPlan plan = JobPlan.of(MODEL, null, verification, 1, "fedavg", false, null, null, 2, 600, job);
        Seed.exec("update jobs set plan = '" + Json.write(plan) + "' where id = '" + job + "'");

        ModelState start = ModelLayouts.initialState(MODEL, plan.seed());
        String startUri = BucketStack.putContent("models", "fmck", start.encode());
        String startHash = Hashes.hex(Hashes.paramsHash(start.flat()));
        assertThat(startHash.equals(Hashes.hex(start.paramsHash())), "ModelState.paramsHash is the hash of its flat parameters");
        assertThat(!startHash.equals(Hashes.hex(start.stateHash())), "a trail commits whole states: their hash is not the parameters' alone");
        Seed.exec("update rounds set start_model_uri = '" + startUri + "', global_model_hash = '" + startHash + "' where job_id = '" + job + "'");
        TrainTask train = new TrainTask(task, job, 1, MODEL, startUri, startHash, "fashion-mnist", "iid", 1, 0, 7,
                hex32("shard of " + task), 11, plan.lr(), plan.momentum(), 0, plan.batchSize(), 0, segments * K, K, 1, null, null, 0, 0).validate();
        Seed.exec("update tasks set hyper_params = '" + Json.write(train) + "' where id = '" + task + "'");

        Credentials submitterKey = key();
        String submitter = submitterKey.getAddress().toLowerCase();
        Seed.exec("update tasks set worker = '" + submitter + "' where id = '" + task + "'");
        participant(job, submitter);
        bond(submitter);

        List<String> eligible = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String w = key().getAddress().toLowerCase();
            participant(job, w);
            bond(w);
            eligible.add(w);
        }
        String node = key().getAddress().toLowerCase();
        verifier(node);
        bond(node);
        eligible.add(node);
        VERIFIER_NODES.add(node);

        List<String> never = new ArrayList<>();
        String removed = key().getAddress().toLowerCase();
        participant(job, removed);
        bond(removed);
        Seed.exec("update job_participants set removed_at = now(), removed_reason = 'test' where job_id = '" + job + "' and address = '" + removed + "'");
        never.add(removed);
        String unbonded = key().getAddress().toLowerCase();
        participant(job, unbonded);
        never.add(unbonded);
        String unbondedNode = key().getAddress().toLowerCase();
        verifier(unbondedNode);
        never.add(unbondedNode);
        never.add(j.workers().get(0)); // Seed's own participant of the job: not bonded
        return new Task(job, task, segments, plan, train, start, startUri, startHash, submitterKey, submitter, List.copyOf(eligible), List.copyOf(never));
    }

    /** An honest-looking run: checkpoint i is the start model moved a little further (deterministically), after i·k steps. */
    static List<ModelState> honest(Task t) {
        float[] start = t.start().flat();
        SplittableRandom rnd = new SplittableRandom(t.taskId().hashCode());
        float[] direction = new float[start.length];
        for (int p = 0; p < direction.length; p++) {
            direction[p] = (float) ((rnd.nextDouble() * 2 - 1) * 1e-3);
        }
        List<ModelState> out = new ArrayList<>();
        for (int i = 0; i <= t.segments(); i++) {
            float[] x = start.clone();
            for (int p = 0; p < x.length; p++) {
                x[p] += i * direction[p];
            }
            out.add(atStep(t.start().withFlat(x), i * K));
        }
        return out;
    }

    /** A free-rider's run: every checkpoint is the start model (after i·k steps, it says), the update too. */
    static List<ModelState> freeRider(Task t) {
        List<ModelState> out = new ArrayList<>();
        for (int i = 0; i <= t.segments(); i++) {
            out.add(atStep(t.start(), i * K));
        }
        return out;
    }

    static ModelState atStep(ModelState m, int step) {
        return new ModelState(m.names(), m.shapes(), m.params(), null, step);
    }

    static Run run(Task t, List<ModelState> checkpoints) {
        return run(t, checkpoints, UnaryOperator.identity());
    }

    /**
     * Puts the run in the bucket: checkpoints (content-addressed under {@code checkpoints/}), the update (the last one,
     * under {@code updates/}) and the trail manifest, whose checkpoint hashes are {@code manifestHashes} applied to the
     * true ones (the identity for a faithful trail); the signed proof root is always the Merkle root of the true hashes.
     */
    static Run run(Task t, List<ModelState> checkpoints, UnaryOperator<List<String>> manifestHashes) {
        return run(t, checkpoints, manifestHashes, true);
    }

    /**
     * As the worker leaves it: checkpoints and update content-addressed under the worker's own prefix ({@code workers/<address>/},
     * the checkpoint hashes being whole-state hashes, {@link ModelState#stateHash}), the manifest at
     * {@code workers/<address>/tasks/<taskId>/trail.json}. {@code signedTrail}: the manifest file's keccak is signed
     * (EIP-712 {@code Trail}) and carried with the submission; false: a worker from before trail signatures (no trail hash,
     * the manifest at the old shared location).
     */
    static Run run(Task t, List<ModelState> checkpoints, UnaryOperator<List<String>> manifestHashes, boolean signedTrail) {
        String own = SubmissionSigner.workerPrefix(t.submitter());
        List<String> uris = new ArrayList<>();
        List<String> hashes = new ArrayList<>();
        for (ModelState c : checkpoints) {
            uris.add(BucketStack.putContent(own + "checkpoints", "fmck", c.encode()));
            hashes.add(Hashes.hex(c.stateHash()));
        }
        ModelState last = checkpoints.get(checkpoints.size() - 1);
        float[] update = last.flat();
        String updateUri = BucketStack.putContent(own + "updates", "fmck", last.withoutVelocity().encode());
        String updateHash = Hashes.hex(Hashes.paramsHash(update));
        byte[] root = ProofTrails.proofRoot(hashes.stream().map(Hashes::fromHex).toList());
        String proofRoot = Hashes.hex(root);
        String trailUri = signedTrail ? own + "tasks/" + t.taskId() + "/trail.json" : "tasks/" + t.taskId() + "/trail.json";
        String manifest = Json.write(new TrailManifest(t.taskId(), t.startHash(), t.train().shardCommitment(), t.train().seed(), t.steps(), K,
                "djl", 1, 1, manifestHashes.apply(List.copyOf(hashes)), uris, proofRoot, null, updateHash, updateUri, null, null));
        BucketStack.putJson(trailUri, manifest);
        String market = org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("fedmarket.marketplace-address", String.class);
        SubmissionSigner signer = new SubmissionSigner(31337, market);
        byte[] sig = signer.sign(t.submitterKey(), ProofTrails.taskKey(t.taskId()), Hashes.fromHex(updateHash), root, t.steps(), GPU_SECONDS);
        String trailHash = signedTrail ? Hashes.hex(SubmissionSigner.manifestHash(manifest.getBytes(StandardCharsets.UTF_8))) : null;
        String trailSig = signedTrail ? Hashes.hex(signer.signTrail(t.submitterKey(), ProofTrails.taskKey(t.taskId()), Hashes.fromHex(trailHash))) : null;
        String submissionHash = Hashes.hex(ProofTrails.submissionHash(t.taskId(), Hashes.fromHex(updateHash), root, sig));
        String message = Json.write(new Submission(t.taskId(), t.jobId(), 1, t.submitterKey().getAddress(), updateUri, updateHash, proofRoot, trailUri,
                t.steps(), K, GPU_SECONDS, 42_000, 600, 0.4, 1, Hashes.hex(sig), java.time.Instant.now().getEpochSecond(), trailHash, trailSig));
        return new Run(t, List.copyOf(checkpoints), List.copyOf(uris), List.copyOf(hashes), proofRoot, update, updateUri, updateHash, trailUri,
                Hashes.hex(sig), submissionHash, message, trailHash, trailSig);
    }

    /** The re-executor the draw must give for request {@code id} with {@code exclude}: the pure draw over the expected pool. */
    static String expectedAssignee(Run r, String blockHash, String id, List<String> exclude) {
        return Verification.assign(r.task().pool(), exclude, r.task().submitter(), Verification.drawSeed(blockHash, r.submissionHash(), id));
    }

    // --- the chain the draw waits on

    static Web3j web3j() {
        return Web3j.build(new HttpService(ChainStack.anvil.rpcUrl()));
    }

    static long latestBlock() throws Exception {
        Web3j w = web3j();
        try {
            return w.ethBlockNumber().send().getBlockNumber().longValueExact();
        } finally {
            w.shutdown();
        }
    }

    static Optional<String> blockHash(long number) throws Exception {
        Web3j w = web3j();
        try {
            var b = w.ethGetBlockByNumber(DefaultBlockParameter.valueOf(BigInteger.valueOf(number)), false).send().getBlock();
            return b == null ? Optional.empty() : Optional.of(b.getHash());
        } finally {
            w.shutdown();
        }
    }

    /** Mines one block (anvil mines only on a transaction otherwise). */
    static void mine() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(ChainStack.anvil.rpcUrl()))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"evm_mine\",\"params\":[]}")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200 || r.body().contains("\"error\"")) {
            throw new IllegalStateException("evm_mine: " + r.statusCode() + " " + r.body());
        }
    }

    // --- rows

    static Credentials key() {
        return Credentials.create(Api.newKey());
    }

    static String hex32(String seed) {
        return io.fedmarket.crypto.Hashes.hex(io.fedmarket.crypto.Hashes.keccak256(seed.getBytes(StandardCharsets.UTF_8)));
    }

    static void participant(UUID job, String address) throws Exception {
        Seed.exec("insert into job_participants (job_id, provider_id, kind, address) values ('" + job + "', '" + UUID.randomUUID() + "', 'GPU', '" + address + "')");
    }

    static void bond(String address) throws Exception {
        Seed.exec("insert into bonds (address, amount, block_number, updated_at) values ('" + address + "', 1000, 1, now()) "
                + "on conflict (address) do update set amount = excluded.amount");
    }

    static void verifier(String address) throws Exception {
        Seed.exec("insert into accounts (address) values ('" + address + "')");
        Seed.exec("insert into account_roles (address, role) values ('" + address + "', 'verifier')");
    }

    private static void assertThat(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
