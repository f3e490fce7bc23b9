package io.fedmarket.functions;

import io.fedmarket.config.Queues;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.fl.job.JobPlan;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.rounds.Verification;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.messages.RevealRequest;
import io.fedmarket.messages.VerdictReached;
import io.fedmarket.pol.ReexecSigner;
import io.fedmarket.pol.TrailManifest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;
import io.fedmarket.fl.model.ModelState;
import org.web3j.crypto.Credentials;
import software.amazon.awssdk.services.s3.S3Client;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code judge} Lambda through its SQS invocation path: a submission already DRAWN (its trail manifest in a real
 * bucket, s3proxy), its drawn segment's request SENT to a drawn worker, and signed answers arriving on
 * {@code reexec-results}. Everything else a running job has is seeded straight into the test database.
 */
@QuarkusTest
@TestProfile(Profiles.Judge.class)
@WithTestResource(TestStack.class)
@WithTestResource(BucketStack.class)
class JudgeFunctionTest {
    static final String QUEUE = Queues.get().byKey(Queues.REEXEC_RESULTS).name();
    static final ReexecSigner SIGNER = new ReexecSigner(31337, Profiles.Judge.MARKETPLACE);
    /** The one drawn segment of every seeded submission: its answer must end at checkpoint SEGMENT + 1. */
    static final int SEGMENT = 2;
    /**
     * The bonded verifier nodes this class has seeded: an operator's verifier node may be drawn for every job, so each
     * test's pool holds those of the tests before it too (the database is emptied once per Quarkus start).
     */
    static final List<String> VERIFIER_NODES = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Every key seeded so far, by address: a drawn verifier node may be another test's. */
    static final Map<String, Credentials> KEYS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A DRAWN submission of a bit-exact job and who may answer for it: {@code keys} holds every key the test signs with
     * (the submitter, four bonded GPU participants, a bonded verifier node, and accounts that may not be drawn);
     * {@code pool} is this job's eligible re-executors as the draw must see them (bonded live GPU participants and its
     * bonded verifier node, the submitter among them: the draw itself leaves it out); {@link #pool(Sub)} adds the other
     * verifier nodes.
     */
    record Sub(UUID jobId, String taskId, String submitter, List<String> hashes, String reexecId, String assignee,
               List<String> reexecutors, String verifierNode, String removed, String unbonded, String unbondedVerifier,
               List<String> pool, String blockHash, String submissionHash, Map<String, Credentials> keys, List<String> uris, float[] target) {
        String committedStart() {
            return hashes.get(SEGMENT);
        }

        String committedEnd() {
            return hashes.get(SEGMENT + 1);
        }
    }

    static String hex32(String seed) {
        return Hashes.hex(Hashes.keccak256(seed.getBytes(StandardCharsets.UTF_8)));
    }

    static Credentials key() {
        return Credentials.create(Api.newKey());
    }

    /** How the submitter's trail of checkpoints 0..4 comes about, from the round's model and its shard's target. */
    interface Trail {
        List<ModelState> make(ModelState start, float[] target);
    }

    // --- the fixture's stand-in for training: momentum SGD on ½‖p − target‖², deterministic in float arithmetic

    static final float LR = 0.05f;
    static final float MU = 0.9f;
    static final int K = 20;
    /** Every state an answer may name, by its whole-state hash: the committed ones and what re-executors computed. */
    static final Map<String, ModelState> STATES = new java.util.concurrent.ConcurrentHashMap<>();

    static ModelState start() {
        ModelState m = io.fedmarket.fl.model.ModelLayouts.initialState("mlp:16", 7);
        return new ModelState(m.names(), m.shapes(), m.params(), null, 0);
    }

    /** The task's shard as the loss sees it: a point near the start model, different per task. */
    static float[] target(String task) {
        float[] p = start().flat();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(task.hashCode());
        for (int j = 0; j < p.length; j++) {
            p[j] += (float) ((rnd.nextDouble() * 2 - 1) * 0.05);
        }
        return p;
    }

    /** {@code n} steps of momentum SGD from {@code from} (its momentum restored, zero when it has none): v ← μv + ∇, p ← p − η·v. */
    static ModelState train(ModelState from, int n, float[] target) {
        float[] p = from.flat();
        float[] v = velocity(from);
        for (int st = 0; st < n; st++) {
            for (int j = 0; j < p.length; j++) {
                v[j] = MU * v[j] + (p[j] - target[j]);
                p[j] -= LR * v[j];
            }
        }
        return state(from, p, v, from.step() + n);
    }

    static float[] velocity(ModelState m) {
        float[] v = new float[m.parameterCount()];
        if (m.velocity() != null) {
            int o = 0;
            for (float[] t : m.velocity()) {
                System.arraycopy(t, 0, v, o, t.length);
                o += t.length;
            }
        }
        return v;
    }

    static ModelState state(ModelState like, float[] p, float[] v, int step) {
        ModelState a = like.withFlat(p);
        ModelState b = like.withFlat(v);
        return new ModelState(like.names(), like.shapes(), a.params(), b.params(), step);
    }

    /** The honest trail: checkpoint i+1 is k steps from checkpoint i, momentum carried along. */
    static List<ModelState> honestTrail(ModelState start, float[] target) {
        List<ModelState> out = new ArrayList<>(List.of(start));
        for (int i = 0; i < 4; i++) {
            out.add(train(out.get(i), K, target));
        }
        return out;
    }

    /** What an honest re-executor computes for segment {@code seg}: k steps from the committed start checkpoint as the bucket holds it. */
    static String reexecute(Sub s, int seg) {
        ModelState from = ModelState.decode(BucketStack.find(s.uris().get(seg)).orElseThrow(), "committed checkpoint " + seg);
        assertThat(Hashes.hex(from.stateHash())).as("the committed start").isEqualTo(s.hashes().get(seg));
        ModelState end = train(from, K, s.target());
        STATES.put(Hashes.hex(end.stateHash()), end);
        return Hashes.hex(end.stateHash());
    }

    /** A made-up end state (what a lying or broken re-executor shows): the committed end moved a little, named by {@code tag}. */
    static String wrong(Sub s, String tag) {
        ModelState end = STATES.get(s.committedEnd());
        float[] p = end.flat();
        p[Math.floorMod(tag.hashCode(), p.length)] += 0.125f;
        ModelState w = state(end, p, velocity(end), end.step());
        STATES.put(Hashes.hex(w.stateHash()), w);
        return Hashes.hex(w.stateHash());
    }

    static Sub seed() throws Exception {
        return seed(JudgeFunctionTest::honestTrail);
    }

    static Sub seed(Trail trail) throws Exception {
        return seed(trail, null);
    }

    /** {@code adoptedSteps}: the trail says its first steps were another worker's progress, resumed (null: none). */
    static Sub seed(Trail trail, Integer adoptedSteps) throws Exception {
        Seed.Job j = Seed.job(1, false);
        UUID job = j.jobId();
        String task = j.taskIds().get(0);
        String submitter = j.workers().get(0);
        Map<String, Credentials> keys = new LinkedHashMap<>();

        JobPlan plan = JobPlan.of("mlp", null, new JobPlan.Verification(null, null, null, "bit-exact", null), 1, "fedavg", false,
                null, null, 2, 600, job);
        assertThat(plan.bitExact()).isTrue();
        Seed.exec("update jobs set plan = '" + Json.write(plan) + "' where id = '" + job + "'");
        Seed.exec("update rounds set start_model_uri = 'models/start-" + job + ".fmck' where job_id = '" + job + "'");
        Seed.exec("update tasks set status = 'SUBMITTED', hyper_params = '{\"taskId\":\"" + task + "\",\"jobId\":\"" + job
                + "\",\"round\":1,\"modelSpec\":\"mlp\",\"steps\":80,\"checkpointEvery\":20,\"threads\":1}' where id = '" + task + "'");

        // the trail the submitter committed to: 80 steps, a checkpoint every 20 (checkpoints 0..4), whole states (parameters,
        // momentum, step) trained by the fixture's deterministic momentum SGD, under the submitter's own prefix, the manifest signed
        float[] target = target(task);
        List<ModelState> states = trail.make(start(), target);
        String own = io.fedmarket.pol.SubmissionSigner.workerPrefix(submitter);
        List<String> hashes = new ArrayList<>();
        List<String> uris = new ArrayList<>();
        for (ModelState st : states) {
            hashes.add(Hashes.hex(st.stateHash()));
            uris.add(BucketStack.putContent(own + "checkpoints", "fmck", st.encode()));
            STATES.put(Hashes.hex(st.stateHash()), st);
        }
        String trailKey = own + "tasks/" + task + "/trail.json";
        String proofRoot = Hashes.hex(io.fedmarket.pol.ProofTrails.proofRoot(hashes.stream().map(Hashes::fromHex).toList()));
        String updateHash = Hashes.hex(states.get(4).paramsHash());
        String manifest = Json.write(new TrailManifest(task, Hashes.hex(start().paramsHash()), hex32("shard " + task), 7, 80, 20, "djl", 1, 1,
                hashes, uris, proofRoot, hex32("chain " + task), updateHash, own + "updates/" + task + ".fmck", null, null, adoptedSteps));
        BucketStack.putJson(trailKey, manifest);
        String trailHash = Hashes.hex(Hashes.keccak256(manifest.getBytes(StandardCharsets.UTF_8)));

        String blockHash = hex32("block " + task);
        String submissionHash = hex32("submission " + task);
        Seed.exec("insert into submissions (task_id, worker, update_uri, update_hash, proof_root, steps, gpu_seconds, signature, submitted_at, "
                + "trail_uri, stage, draw_block, draw_block_hash, segments, flags, submission_hash, trail_hash, trail_doc) values ('" + task + "', '" + submitter
                + "', '" + own + "updates/" + task + ".fmck', '" + updateHash + "', '" + proofRoot + "', 80, 42, '0x" + "44".repeat(65) + "', now(), '"
                + trailKey + "', 'DRAWN', 12, '" + blockHash + "', '[" + SEGMENT + "]', '[]', '" + submissionHash + "', '" + trailHash + "', '"
                + manifest.replace("'", "''") + "')");

        List<String> pool = new ArrayList<>();
        Seed.exec("insert into bonds (address, amount, block_number, updated_at) values ('" + submitter + "', 1000, 1, now())");
        pool.add(submitter);
        List<String> reexecutors = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Credentials k = key();
            String w = k.getAddress().toLowerCase();
            keys.put(w, k);
            reexecutors.add(w);
            pool.add(w);
            participant(job, w);
            bond(w, 1000);
        }
        // a bonded verifier node (an operator granted it the role): eligible for every job
        Credentials v = key();
        String verifierNode = v.getAddress().toLowerCase();
        keys.put(verifierNode, v);
        pool.add(verifierNode);
        verifier(verifierNode);
        bond(verifierNode, 1000);
        VERIFIER_NODES.add(verifierNode);
        // never drawn: a bonded participant removed for cheating, an unbonded participant, an unbonded verifier node
        Credentials x = key();
        String removed = x.getAddress().toLowerCase();
        keys.put(removed, x);
        participant(job, removed);
        bond(removed, 1000);
        Seed.exec("update job_participants set removed_at = now(), removed_reason = 'test' where job_id = '" + job + "' and address = '" + removed + "'");
        Credentials u = key();
        String unbonded = u.getAddress().toLowerCase();
        keys.put(unbonded, u);
        participant(job, unbonded);
        Credentials uv = key();
        String unbondedVerifier = uv.getAddress().toLowerCase();
        keys.put(unbondedVerifier, uv);
        verifier(unbondedVerifier);
        pool.sort(null);
        KEYS.putAll(keys);

        String assignee = reexecutors.get(0);
        String id = Verification.reexecId(task, SEGMENT, "DRAW", 0);
        Seed.exec("insert into reexec_requests (id, task_id, segment, purpose, attempt, steps, exclude, status, requested_at, assignee) values ('"
                + id + "', '" + task + "', " + SEGMENT + ", 'DRAW', 0, 20, '[\"" + submitter + "\"]', 'SENT', now(), '" + assignee + "')");
        return new Sub(job, task, submitter, hashes, id, assignee, reexecutors, verifierNode, removed, unbonded, unbondedVerifier,
                List.copyOf(pool), blockHash, submissionHash, keys, List.copyOf(uris), target);
    }

    static void participant(UUID job, String address) throws Exception {
        Seed.exec("insert into job_participants (job_id, provider_id, kind, address) values ('" + job + "', '" + UUID.randomUUID() + "', 'GPU', '" + address + "')");
    }

    static void bond(String address, long amount) throws Exception {
        Seed.exec("insert into bonds (address, amount, block_number, updated_at) values ('" + address + "', " + amount + ", 1, now()) "
                + "on conflict (address) do update set amount = excluded.amount");
    }

    static void verifier(String address) throws Exception {
        Seed.exec("insert into accounts (address) values ('" + address + "')");
        Seed.exec("insert into account_roles (address, role) values ('" + address + "', 'verifier')");
    }

    /**
     * An answer naming {@code worker}, signed EIP-712 by {@code signer} over (reexecId, segment, startHash, endHash), with the end
     * state it names uploaded as a worker does, under the worker's own prefix ({@code endUri}).
     */
    static SqsEvents.Rec answer(Sub s, String reexecId, Credentials signer, String worker, String endHash, String error) {
        String endUri = null;
        if (endHash != null) {
            ModelState end = STATES.get(endHash);
            assertThat(end).as("a state hashing to " + endHash).isNotNull();
            endUri = BucketStack.putContent(io.fedmarket.pol.SubmissionSigner.workerPrefix(worker) + "reexec-states", "ckpt", end.encode());
        }
        return answer(s, reexecId, signer, worker, endHash, endUri, error);
    }

    /** As above, naming {@code endUri} as its end state, whatever is there. */
    static SqsEvents.Rec answer(Sub s, String reexecId, Credentials signer, String worker, String endHash, String endUri, String error) {
        byte[] sig = SIGNER.sign(signer, reexecId, SEGMENT, Hashes.fromHex(s.committedStart()), endHash == null ? null : Hashes.fromHex(endHash));
        return SqsEvents.Rec.of(Json.write(new ReexecResult(reexecId, s.taskId(), SEGMENT, worker, s.committedStart(), endHash,
                endHash == null ? null : endHash.equals(s.committedEnd()), 1234, 1, error, endUri, Hashes.hex(sig))));
    }

    /** The worker's own signed answer. */
    static SqsEvents.Rec answer(Sub s, String reexecId, String worker, String endHash, String error) {
        Credentials k = KEYS.get(worker);
        assertThat(k).as("a key of " + worker).isNotNull();
        return answer(s, reexecId, k, worker, endHash, error);
    }

    static String request(String id) throws Exception {
        return Seed.one("select purpose || ' ' || attempt || ' ' || status || ' ' || coalesce(verifier, '-') || ' ' || coalesce(assignee, '-') "
                + "from reexec_requests where id = '" + id + "'");
    }

    static String stage(Sub s) throws Exception {
        return Seed.one("select stage from submissions where task_id = '" + s.taskId() + "'");
    }

    static long verdicts(Sub s) throws Exception {
        return Long.parseLong(Seed.one("select count(*) from outbox where dedup_key = 'verdict:" + s.taskId() + "'"));
    }

    static String verdict(Sub s) throws Exception {
        return Seed.one("select body from outbox where dedup_key = 'verdict:" + s.taskId() + "'");
    }

    /** Who may be drawn for this job now: its own pool and every bonded verifier node seeded so far, sorted. */
    static List<String> pool(Sub s) {
        java.util.TreeSet<String> all = new java.util.TreeSet<>(s.pool());
        all.addAll(VERIFIER_NODES);
        return List.copyOf(all);
    }

    /** What the draw must give for request {@code drawId} with {@code exclude}: the pure draw over the expected pool. */
    static String expectedDraw(Sub s, String drawId, List<String> exclude) {
        return Verification.assign(pool(s), exclude, s.submitter(), Verification.drawSeed(s.blockHash(), s.submissionHash(), drawId));
    }

    @Test
    void theDrawnWorkersMatchingAnswerAcceptsTheUpdateOnce() throws Exception {
        Sub s = seed();
        SqsEvents.Rec ok = answer(s, s.reexecId(), s.assignee(), s.committedEnd(), null);
        assertThat(SqsEvents.invoke(QUEUE, List.of(ok))).isEmpty();
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 MATCH " + s.assignee() + " " + s.assignee());
        assertThat(stage(s)).isEqualTo("DECIDED");
        assertThat(verdicts(s)).isEqualTo(1);
        assertThat(verdict(s)).contains("\"accepted\":true").contains("\"reason\":\"ACCEPTED: 1 segment(s) [2]").contains("bit-exact")
                .contains("\"worker\":\"" + s.submitter() + "\"").contains("\"evidenceHash\":null");
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'verdict:" + s.taskId() + "' and sent_at is not null"))
                .as("relayed to the verdicts queue").isEqualTo("1");
        String answeredAt = Seed.one("select answered_at from reexec_requests where id = '" + s.reexecId() + "'");

        // a redelivery of the same answer changes nothing
        assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(ok.messageId(), ok.body(), 2)))).isEmpty();
        assertThat(verdicts(s)).isEqualTo(1);
        assertThat(stage(s)).isEqualTo("DECIDED");
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 MATCH " + s.assignee() + " " + s.assignee());
        assertThat(Seed.one("select answered_at from reexec_requests where id = '" + s.reexecId() + "'")).isEqualTo(answeredAt);
        assertThat(Seed.one("select count(*) from reexec_requests where task_id = '" + s.taskId() + "'")).isEqualTo("1");
        assertThat(Seed.one("select count(*) from outbox where dedup_key like 'reexec%" + s.taskId() + "%'")).isEqualTo("0");
    }

    /** The seeded task as a task of the submitter's private shard (only it holds the data). */
    static String makePrivate(Sub s) throws Exception {
        String root = hex32("root " + s.taskId());
        Seed.exec("update tasks set hyper_params = '{\"taskId\":\"" + s.taskId() + "\",\"jobId\":\"" + s.jobId()
                + "\",\"round\":1,\"modelSpec\":\"mlp\",\"dataset\":\"private:1x28x28:10\",\"partition\":\"iid\",\"clients\":1,\"client\":0,"
                + "\"shardCommitment\":\"" + root + "\",\"batchSize\":8,\"steps\":80,\"checkpointEvery\":20,\"threads\":1,\"trainers\":[\""
                + s.submitter() + "\"]}' where id = '" + s.taskId() + "'");
        return root;
    }

    @Test
    void anOwnerThatDoesNotRevealTheDrawnSamplesIsLeftOutUnpaidAndNotSlashed() throws Exception {
        Sub s = seed();
        makePrivate(s);
        String error = "REVEAL_NOT_SERVED: the data owner's workers [" + s.submitter() + "] did not reveal segment " + SEGMENT + " within 60 s";
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), s.assignee(), null, error)))).isEmpty();
        assertThat(stage(s)).isEqualTo("DECIDED");
        assertThat(verdict(s)).contains("\"accepted\":false").contains("\"reason\":\"REVEAL_NOT_SERVED: segment " + SEGMENT);
        VerdictReached v = Json.parse(verdict(s), VerdictReached.class);
        assertThat(io.fedmarket.functions.consumers.AggregateFunction.slashable(v)).as("a refusal is not slashable").isFalse();
        assertThat(Seed.one("select count(*) from reexec_requests where task_id = '" + s.taskId() + "'")).as("nobody else is asked").isEqualTo("1");
    }

    @Test
    void aReExecutorThatClaimsAnUnservedRevealWhenTheOwnerSealedItIsNotBelievedAndAnotherIsDrawn() throws Exception {
        Sub s = seed();
        String root = makePrivate(s);
        // the owner's worker sealed the segment to the drawn re-executor (its own prefix: only it writes there)
        BucketStack.put(RevealRequest.sealedKey(s.submitter(), s.reexecId(), s.assignee()), new byte[] {1, 2, 3});
        String error = "REVEAL_NOT_SERVED: the data owner's workers [" + s.submitter() + "] did not reveal segment " + SEGMENT + " within 60 s";
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), s.assignee(), null, error)))).isEmpty();
        assertThat(stage(s)).as("not decided on the re-executor's word").isEqualTo("DRAWN");
        assertThat(verdicts(s)).isZero();
        String retry = Verification.reexecId(s.taskId(), SEGMENT, "RETRY", 1);
        String next = Seed.one("select assignee from reexec_requests where id = '" + retry + "'");
        assertThat(next).isNotNull().isNotEqualTo(s.assignee());
        // the retry's reveal request is the marketplace's word to the owner, keyed by the shard's root, naming the new draw
        byte[] doc = BucketStack.find(RevealRequest.key(root, retry)).orElseThrow();
        RevealRequest q = Json.parse(new String(doc, StandardCharsets.UTF_8), RevealRequest.class);
        assertThat(q.reexec().assignee()).isEqualTo(next);
        assertThat(q.reexec().task().trainers()).containsExactly(s.submitter());
    }

    @Test
    void aBondedWorkerThatWasNotDrawnIsIgnoredAndTheRequestGoesBackToTheAssignee() throws Exception {
        Sub s = seed();
        String other = s.reexecutors().get(1);
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), other, s.committedEnd(), null)))).isEmpty();
        assertThat(request(s.reexecId())).as("not recorded").isEqualTo("DRAW 0 SENT - " + s.assignee());
        assertThat(stage(s)).isEqualTo("DRAWN");
        assertThat(verdicts(s)).isZero();
        List<String> exclude = List.of(s.submitter(), other);
        assertThat(Seed.one("select exclude from reexec_requests where id = '" + s.reexecId() + "'")).isEqualTo(Json.write(exclude));
        String again = "reexec-again:" + s.reexecId() + ":" + String.join(",", exclude);
        assertThat(Seed.one("select queue_key from outbox where dedup_key = '" + again + "'")).isEqualTo(Queues.REEXEC);
        assertThat(Seed.one("select body from outbox where dedup_key = '" + again + "'")).contains("\"reexecId\":\"" + s.reexecId() + "\"")
                .contains("\"assignee\":\"" + s.assignee() + "\"").contains("\"segment\":" + SEGMENT).contains("\"startHash\":\"" + s.committedStart() + "\"");
        assertThat(Seed.one("select count(*) from reexec_requests where task_id = '" + s.taskId() + "'")).as("no attempt spent").isEqualTo("1");

        // the drawn worker's answer still counts
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), s.assignee(), s.committedEnd(), null)))).isEmpty();
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 MATCH " + s.assignee() + " " + s.assignee());
        assertThat(stage(s)).isEqualTo("DECIDED");
        assertThat(verdict(s)).contains("\"accepted\":true");
    }

    @Test
    void aForgedAnswerIsIgnoredAndAnUnbondedAssigneeIsReplacedFromTheEligiblePool() throws Exception {
        Sub s = seed();
        // signed by a key that is not the named worker's (the named worker is bonded, eligible, not the assignee)
        String named = s.reexecutors().get(2);
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), key(), named, s.committedEnd(), null)))).isEmpty();
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 SENT - " + s.assignee());
        assertThat(stage(s)).isEqualTo("DRAWN");
        assertThat(verdicts(s)).isZero();
        // the sender is unknown: the named worker is not excluded, the request goes back for the drawn worker
        assertThat(Seed.one("select exclude from reexec_requests where id = '" + s.reexecId() + "'")).isEqualTo(Json.write(List.of(s.submitter())));
        assertThat(Seed.one("select body from outbox where dedup_key like 'reexec-again:" + s.reexecId() + ":" + s.submitter() + ":forged-%'"))
                .contains("\"assignee\":\"" + s.assignee() + "\"");

        // the drawn worker unbonds after the draw: its answer no longer counts, and another worker is drawn
        bond(s.assignee(), 0);
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), s.assignee(), s.committedEnd(), null)))).isEmpty();
        assertThat(stage(s)).isEqualTo("DRAWN");
        assertThat(verdicts(s)).isZero();
        List<String> exclude2 = List.of(s.submitter(), s.assignee());
        String drawn = Seed.one("select assignee from reexec_requests where id = '" + s.reexecId() + "'");
        assertThat(drawn).isNotEqualTo(s.assignee()).isNotEqualTo(s.submitter()).isIn(pool(s))
                .isNotIn(s.removed(), s.unbonded(), s.unbondedVerifier());
        assertThat(drawn).as("the draw is recomputable").isEqualTo(expectedDraw(s, s.reexecId() + "/" + String.join(",", exclude2), exclude2));
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 SENT - " + drawn);
        assertThat(Seed.one("select body from outbox where dedup_key = 'reexec-again:" + s.reexecId() + ":" + String.join(",", exclude2) + "'"))
                .contains("\"assignee\":\"" + drawn + "\"");

        // the new assignee's answer counts
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), drawn, s.committedEnd(), null)))).isEmpty();
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 MATCH " + drawn + " " + drawn);
        assertThat(verdict(s)).contains("\"accepted\":true");
    }

    /**
     * An answer whose signature is not the named worker's proves nothing about who sent it: the named worker is not blamed
     * (excluding it would let anyone have the drawn worker replaced by a fresh draw, again and again at no cost, until an
     * accomplice is drawn); the request goes back on the queue for the same drawn worker, once per distinct forged answer.
     */
    @Test
    void aForgedAnswerNamingTheDrawnWorkerDoesNotUnseatIt() throws Exception {
        Sub s = seed();
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), key(), s.assignee(), s.committedEnd(), null)))).isEmpty();
        assertThat(stage(s)).isEqualTo("DRAWN");
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 SENT - " + s.assignee());
        assertThat(Seed.one("select exclude from reexec_requests where id = '" + s.reexecId() + "'")).doesNotContain(s.assignee());
        assertThat(Seed.one("select count(*) from outbox where dedup_key like 'reexec-again:" + s.reexecId() + ":%:forged-%' and body like '%\"assignee\":\""
                + s.assignee() + "\"%'")).as("back on the queue for the drawn worker").isEqualTo("1");
    }

    /** The first answer a mismatch; returns the CONFIRM request's id and its drawn worker. */
    static String[] mismatchThenConfirm(Sub s) throws Exception {
        String wrong = wrong(s, "what " + s.assignee() + " computed");
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), s.assignee(), wrong, null)))).isEmpty();
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 MISMATCH " + s.assignee() + " " + s.assignee());
        assertThat(Seed.one("select end_hash from reexec_requests where id = '" + s.reexecId() + "'")).isEqualTo(wrong);
        assertThat(stage(s)).as("one worker's word rejects nothing").isEqualTo("DRAWN");
        assertThat(verdicts(s)).isZero();
        String confirm = Verification.reexecId(s.taskId(), SEGMENT, "CONFIRM", 1);
        assertThat(confirm).isEqualTo(s.taskId() + "-seg2-confirm1");
        String confirmer = Seed.one("select assignee from reexec_requests where id = '" + confirm + "'");
        assertThat(confirmer).isNotNull().isNotEqualTo(s.assignee()).isNotEqualTo(s.submitter()).isIn(pool(s));
        assertThat(confirmer).isEqualTo(expectedDraw(s, confirm, List.of(s.submitter(), s.assignee())));
        assertThat(request(confirm)).isEqualTo("CONFIRM 1 SENT - " + confirmer);
        assertThat(Seed.one("select exclude from reexec_requests where id = '" + confirm + "'")).isEqualTo(Json.write(List.of(s.submitter(), s.assignee())));
        assertThat(Seed.one("select body from outbox where dedup_key = 'reexec:" + confirm + "'")).contains("\"assignee\":\"" + confirmer + "\"");
        return new String[]{confirm, confirmer};
    }

    @Test
    void aConfirmedMismatchRejectsWithEvidenceNamingBothReexecutors() throws Exception {
        Sub s = seed();
        String[] c = mismatchThenConfirm(s);
        String confirmer = c[1];
        String wrong2 = wrong(s, "what " + confirmer + " computed");
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, c[0], confirmer, wrong2, null)))).isEmpty();
        assertThat(request(c[0])).isEqualTo("CONFIRM 1 MISMATCH " + confirmer + " " + confirmer);
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 MISMATCH " + s.assignee() + " " + s.assignee());
        assertThat(stage(s)).isEqualTo("DECIDED");
        assertThat(verdicts(s)).isEqualTo(1);
        String body = verdict(s);
        assertThat(body).contains("\"accepted\":false").contains("\"reason\":\"SEGMENT_MISMATCH: ");
        String evidenceHash = Json.parse(body, io.fedmarket.messages.VerdictReached.class).evidenceHash();
        assertThat(evidenceHash).matches("0x[0-9a-f]{64}");
        String doc = Seed.one("select evidence_doc from submissions where task_id = '" + s.taskId() + "'");
        assertThat(doc).contains(s.assignee()).contains(confirmer).contains("SEGMENT_MISMATCH").contains(s.committedEnd())
                .contains("reexec/" + s.reexecId() + ".json").contains("reexec/" + c[0] + ".json");
        assertThat(Hashes.hex(Hashes.keccak256(doc.getBytes(StandardCharsets.UTF_8)))).as("the evidence hash is the document's keccak").isEqualTo(evidenceHash);
        try (S3Client s3 = BucketStack.s3()) {
            String copy = s3.getObjectAsBytes(b -> b.bucket(BucketStack.BUCKET).key(Verification.evidenceKey(s.taskId(), evidenceHash))).asUtf8String();
            assertThat(copy).as("the bucket's copy").isEqualTo(doc);
        }
        assertThat(Seed.one("select count(*) from reexec_requests where task_id = '" + s.taskId() + "'")).isEqualTo("2");
    }

    /** The open CONFIRM request {@code attempt} of the segment and its drawn worker, checked against the pure draw. */
    static String confirmer(Sub s, int attempt, List<String> exclude) throws Exception {
        String id = Verification.reexecId(s.taskId(), SEGMENT, "CONFIRM", attempt);
        String drawn = Seed.one("select assignee from reexec_requests where id = '" + id + "'");
        assertThat(drawn).as("a CONFIRM " + attempt + " is drawn").isNotNull().isNotIn(exclude).isIn(pool(s));
        assertThat(drawn).isEqualTo(expectedDraw(s, id, exclude));
        assertThat(request(id)).isEqualTo("CONFIRM " + attempt + " SENT - " + drawn);
        assertThat(Seed.one("select exclude from reexec_requests where id = '" + id + "'")).isEqualTo(Json.write(exclude));
        return drawn;
    }

    /** The slash recorded for the signer of answer {@code reexecId}: "status address amount", its evidence hash the keccak of its document. */
    static String slashOf(Sub s, String reexecId, String signer) throws Exception {
        String doc = Seed.one("select evidence_doc from reexec_requests where id = '" + reexecId + "'");
        assertThat(doc).as("the evidence of a false answer").isNotNull().contains(signer).contains("FALSE_REEXECUTION_ANSWER");
        String hash = Hashes.hex(Hashes.keccak256(doc.getBytes(StandardCharsets.UTF_8)));
        assertThat(Seed.one("select evidence_hash from slashes where task_id = '" + reexecId + "'")).isEqualTo(hash);
        assertThat(Seed.one("select queue_key from outbox where dedup_key = 'slash:" + reexecId + "'")).isEqualTo(Queues.SETTLE);
        assertThat(Seed.one("select body from outbox where dedup_key = 'slash:" + reexecId + "'")).contains("\"kind\":\"SLASH\"")
                .contains("\"taskId\":\"" + reexecId + "\"").contains(s.jobId().toString());
        assertThat(BucketStack.find(Verification.evidenceKey(s.taskId(), hash)).map(b -> new String(b, StandardCharsets.UTF_8)))
                .as("the bucket's copy").contains(doc);
        return Seed.one("select status || ' ' || address || ' ' || amount from slashes where task_id = '" + reexecId + "'");
    }

    static long slashes(String address) throws Exception {
        return Long.parseLong(Seed.one("select count(*) from slashes where address = '" + address + "'"));
    }

    /**
     * A lying mismatch is not overruled by one match (a MATCH is the committed hash, which anyone can read off the trail): a
     * second drawn opinion is asked for; two matches that reproduce the committed state overrule it, and the liar, whose signed
     * answer is now proven false (bit-exact: anyone can recompute it), is slashed and removed from the job.
     */
    @Test
    void aMatchOverrulesALyingMismatchOnlyWithASecondOpinionAndTheLiarIsSlashed() throws Exception {
        Sub s = seed();
        String[] c = mismatchThenConfirm(s);
        String confirmer = c[1];
        String honest = reexecute(s, SEGMENT);
        assertThat(honest).as("an honest trail re-executes bit-exactly").isEqualTo(s.committedEnd());
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, c[0], confirmer, honest, null)))).isEmpty();
        assertThat(request(c[0])).isEqualTo("CONFIRM 1 MATCH " + confirmer + " " + confirmer);
        assertThat(request(s.reexecId())).as("one match overrules nothing").isEqualTo("DRAW 0 MISMATCH " + s.assignee() + " " + s.assignee());
        assertThat(stage(s)).isEqualTo("DRAWN");
        assertThat(verdicts(s)).isZero();
        String third = confirmer(s, 2, List.of(s.submitter(), s.assignee(), confirmer));

        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, Verification.reexecId(s.taskId(), SEGMENT, "CONFIRM", 2), third, reexecute(s, SEGMENT), null))))
                .isEmpty();
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 DISREGARDED " + s.assignee() + " " + s.assignee());
        assertThat(Seed.one("select error from reexec_requests where id = '" + s.reexecId() + "'")).startsWith("proven false: contradicted by 2 re-executions");
        assertThat(stage(s)).isEqualTo("DECIDED");
        assertThat(verdict(s)).contains("\"accepted\":true").contains("ACCEPTED").contains("\"evidenceHash\":null");
        assertThat(Seed.one("select evidence_doc from submissions where task_id = '" + s.taskId() + "'")).isNull();
        assertThat(slashOf(s, s.reexecId(), s.assignee())).isEqualTo("PENDING " + s.assignee() + " 1000");
        assertThat(Seed.one("select removed_at is not null from job_participants where job_id = '" + s.jobId() + "' and address = '" + s.assignee() + "'"))
                .isEqualTo("t");
        assertThat(slashes(confirmer) + slashes(third) + slashes(s.submitter())).as("nobody else").isZero();
    }

    /**
     * The attack "a match is not proof": a cheater's segment 2 ends at a poisoned state; the drawn honest worker's mismatch is
     * contradicted by a MATCH from the next drawn worker, who only copied the committed checkpoint (its hash is on the trail for
     * anyone to read). That match overrules nothing: a second opinion is drawn, reproduces the honest end state, and the two
     * agreeing mismatches reject the update; the false MATCH's signer is slashed with the evidence of the three answers.
     */
    @Test
    void aFalseMatchIsOverruledAndItsSignerSlashed() throws Exception {
        Sub s = seed(JudgeFunctionTest::poisonedTrail);
        String honest = reexecute(s, SEGMENT);
        assertThat(honest).as("the poisoned checkpoint is not what segment 2 leads to").isNotEqualTo(s.committedEnd());
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), s.assignee(), honest, null)))).isEmpty();
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 MISMATCH " + s.assignee() + " " + s.assignee());
        String accomplice = confirmer(s, 1, List.of(s.submitter(), s.assignee()));
        String falseMatch = Verification.reexecId(s.taskId(), SEGMENT, "CONFIRM", 1);
        // the accomplice (or a lazy worker) signs the committed end hash and shows a copy of the committed checkpoint as its end state
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, falseMatch, accomplice, s.committedEnd(), null)))).isEmpty();
        assertThat(request(falseMatch)).isEqualTo("CONFIRM 1 MATCH " + accomplice + " " + accomplice);
        assertThat(request(s.reexecId())).as("the honest mismatch stands").isEqualTo("DRAW 0 MISMATCH " + s.assignee() + " " + s.assignee());
        assertThat(stage(s)).isEqualTo("DRAWN");
        assertThat(verdicts(s)).as("no verdict on one match against one mismatch").isZero();
        String second = confirmer(s, 2, List.of(s.submitter(), s.assignee(), accomplice));

        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, Verification.reexecId(s.taskId(), SEGMENT, "CONFIRM", 2), second, reexecute(s, SEGMENT), null))))
                .isEmpty();
        assertThat(stage(s)).isEqualTo("DECIDED");
        String body = verdict(s);
        assertThat(body).contains("\"accepted\":false").contains("\"reason\":\"SEGMENT_MISMATCH: ");
        String evidenceHash = Json.parse(body, io.fedmarket.messages.VerdictReached.class).evidenceHash();
        assertThat(evidenceHash).matches("0x[0-9a-f]{64}");
        assertThat(Seed.one("select evidence_doc from submissions where task_id = '" + s.taskId() + "'")).contains(s.assignee()).contains(second).contains(honest);
        // the false MATCH: proven false, slashed (after the dispute window, by settle), removed from the job if it is in it
        assertThat(request(falseMatch)).isEqualTo("CONFIRM 1 DISREGARDED " + accomplice + " " + accomplice);
        assertThat(Seed.one("select error from reexec_requests where id = '" + falseMatch + "'")).startsWith("proven false: contradicted by 2 re-executions");
        assertThat(slashOf(s, falseMatch, accomplice)).isEqualTo("PENDING " + accomplice + " 1000");
        String doc = Seed.one("select evidence_doc from reexec_requests where id = '" + falseMatch + "'");
        assertThat(doc).contains(s.committedEnd()).contains(honest).contains(s.assignee()).contains(second)
                .contains("reexec/" + s.reexecId() + ".json").contains("reexec/" + falseMatch + ".json");
        if (s.reexecutors().contains(accomplice)) {
            assertThat(Seed.one("select removed_at is not null from job_participants where job_id = '" + s.jobId() + "' and address = '" + accomplice + "'"))
                    .isEqualTo("t");
        }
        assertThat(slashes(s.assignee()) + slashes(second)).as("the honest re-executors are not slashed").isZero();
    }

    /**
     * The attack "momentum steering": the cheater trains honestly but picks the momentum each segment starts from (so honest
     * steps drift towards its own target). Every segment re-executed from its committed start reproduces the committed
     * parameters bit-exactly, so a parameters-only hash would match; the trail now commits whole states, and the re-executed
     * end state's momentum is not the committed one: two mismatches reject the update.
     */
    @Test
    void steeredMomentumIsRejected() throws Exception {
        Sub s = seed(JudgeFunctionTest::steeredTrail);
        String got = reexecute(s, SEGMENT);
        ModelState reexecuted = STATES.get(got);
        ModelState committed = STATES.get(s.committedEnd());
        assertThat(Hashes.hex(reexecuted.paramsHash())).as("the parameters re-execute bit-exactly: a parameter hash would match")
                .isEqualTo(Hashes.hex(committed.paramsHash()));
        assertThat(got).as("the whole state does not").isNotEqualTo(s.committedEnd());
        List<ModelState> honest = honestTrail(start(), s.target());
        assertThat(Hashes.hex(honest.get(4).paramsHash())).as("the steering changed where training ends")
                .isNotEqualTo(Hashes.hex(ModelState.decode(BucketStack.find(s.uris().get(4)).orElseThrow(), "ck4").paramsHash()));

        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), s.assignee(), got, null)))).isEmpty();
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 MISMATCH " + s.assignee() + " " + s.assignee());
        String confirmer = confirmer(s, 1, List.of(s.submitter(), s.assignee()));
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, Verification.reexecId(s.taskId(), SEGMENT, "CONFIRM", 1), confirmer, reexecute(s, SEGMENT), null))))
                .isEmpty();
        assertThat(stage(s)).isEqualTo("DECIDED");
        String body = verdict(s);
        assertThat(body).contains("\"accepted\":false").contains("\"reason\":\"SEGMENT_MISMATCH: ");
        assertThat(Json.parse(body, io.fedmarket.messages.VerdictReached.class).evidenceHash()).matches("0x[0-9a-f]{64}");
        assertThat(slashes(s.assignee()) + slashes(confirmer)).isZero();
    }

    /**
     * A resumer is not framed by the progress it resumed (the progress file is shared: anyone could have written it): a
     * confirmed mismatch in a segment the trail says was adopted from another worker's progress leaves the update out, unslashed.
     */
    @Test
    void aMismatchInASegmentAdoptedFromAnotherWorkersProgressIsNoEvidence() throws Exception {
        Sub s = seed(JudgeFunctionTest::poisonedTrail, 3 * K);
        String honest = reexecute(s, SEGMENT);
        assertThat(honest).isNotEqualTo(s.committedEnd());
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), s.assignee(), honest, null)))).isEmpty();
        String confirmer = confirmer(s, 1, List.of(s.submitter(), s.assignee()));
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, Verification.reexecId(s.taskId(), SEGMENT, "CONFIRM", 1), confirmer, reexecute(s, SEGMENT), null))))
                .isEmpty();
        assertThat(stage(s)).isEqualTo("DECIDED");
        assertThat(verdict(s)).contains("\"accepted\":false").contains("\"reason\":\"INCONCLUSIVE: segment 2 does not re-execute, but it lies within the first 60 steps")
                .contains("\"evidenceHash\":null");
        assertThat(Seed.one("select evidence_doc from submissions where task_id = '" + s.taskId() + "'")).isNull();
    }

    /** An end hash alone proves nothing: an answer without its own end state, or with one that is not the state it signed, is an error. */
    @Test
    void anAnswerWithoutTheEndStateItSignedCountsForNothing() throws Exception {
        Sub s = seed();
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, s.reexecId(), KEYS.get(s.assignee()), s.assignee(), s.committedEnd(), null, null)))).isEmpty();
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 ERROR " + s.assignee() + " " + s.assignee());
        assertThat(Seed.one("select error from reexec_requests where id = '" + s.reexecId() + "'")).contains("names no end state");
        assertThat(stage(s)).isEqualTo("DRAWN");
        String retry = Verification.reexecId(s.taskId(), SEGMENT, "RETRY", 1);
        String drawn = Seed.one("select assignee from reexec_requests where id = '" + retry + "'");
        assertThat(drawn).isNotNull().isNotIn(s.submitter(), s.assignee());
        // the committed start shown as the end state of an answer claiming the committed end
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, retry, KEYS.get(drawn), drawn, s.committedEnd(), s.uris().get(SEGMENT), null)))).isEmpty();
        assertThat(request(retry)).isEqualTo("RETRY 1 ERROR " + drawn + " " + drawn);
        assertThat(Seed.one("select error from reexec_requests where id = '" + retry + "'")).contains("does not hash to the end hash the re-executor signed");
        assertThat(verdicts(s)).isZero();
    }

    /** The trail with segment 2's end poisoned (its parameters moved), training continuing from the poison. */
    static List<ModelState> poisonedTrail(ModelState start, float[] target) {
        List<ModelState> out = honestTrail(start, target).subList(0, 3);
        out = new ArrayList<>(out);
        ModelState real = train(out.get(2), K, target);
        float[] p = real.flat();
        for (int j = 0; j < p.length; j += 7) {
            p[j] += 0.01f;
        }
        ModelState poisoned = state(real, p, velocity(real), real.step());
        out.add(poisoned);
        out.add(train(poisoned, K, target));
        return out;
    }

    /**
     * Momentum steering: checkpoint 0 is the round's model (no momentum), then at every later checkpoint the cheater replaces
     * the momentum it carries with one pushed towards its own target; the parameters of every checkpoint are exactly what k
     * honest steps from the previous committed checkpoint give.
     */
    static List<ModelState> steeredTrail(ModelState start, float[] target) {
        float[] poison = start.flat();
        for (int j = 0; j < poison.length; j++) {
            poison[j] += (j % 2 == 0 ? 0.3f : -0.3f);
        }
        List<ModelState> out = new ArrayList<>(List.of(start));
        for (int i = 0; i < 4; i++) {
            ModelState from = out.get(i);
            if (i > 0) {
                float[] p = from.flat();
                float[] v = velocity(from);
                for (int j = 0; j < v.length; j++) {
                    v[j] += 0.5f * (p[j] - poison[j]);
                }
                from = state(from, p, v, from.step());
                out.set(i, from);
            }
            out.add(train(from, K, target));
        }
        return out;
    }

    @Test
    void reexecutorErrorsGoToOtherWorkersAndEndInconclusiveWithoutEvidence() throws Exception {
        Sub s = seed();
        String id = s.reexecId();
        String worker = s.assignee();
        List<String> exclude = new ArrayList<>(List.of(s.submitter()));
        for (int attempt = 0; attempt < Verification.MAX_ATTEMPTS; attempt++) {
            assertThat(stage(s)).isEqualTo("DRAWN");
            assertThat(verdicts(s)).isZero();
            assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, id, worker, null, "out of memory on attempt " + attempt)))).isEmpty();
            assertThat(request(id)).isEqualTo((attempt == 0 ? "DRAW" : "RETRY") + " " + attempt + " ERROR " + worker + " " + worker);
            assertThat(Seed.one("select error from reexec_requests where id = '" + id + "'")).isEqualTo("out of memory on attempt " + attempt);
            exclude.add(worker);
            if (attempt + 1 < Verification.MAX_ATTEMPTS) {
                String next = Verification.reexecId(s.taskId(), SEGMENT, "RETRY", attempt + 1);
                String drawn = Seed.one("select assignee from reexec_requests where id = '" + next + "'");
                assertThat(drawn).isIn(pool(s)).isNotIn(exclude);
                assertThat(drawn).isEqualTo(expectedDraw(s, next, exclude));
                assertThat(request(next)).isEqualTo("RETRY " + (attempt + 1) + " SENT - " + drawn);
                assertThat(Seed.one("select exclude from reexec_requests where id = '" + next + "'")).isEqualTo(Json.write(exclude));
                assertThat(Seed.one("select count(*) from outbox where dedup_key = 'reexec:" + next + "'")).isEqualTo("1");
                id = next;
                worker = drawn;
            }
        }
        assertThat(stage(s)).isEqualTo("DECIDED");
        assertThat(verdicts(s)).isEqualTo(1);
        assertThat(verdict(s)).contains("\"accepted\":false").contains("\"reason\":\"INCONCLUSIVE: segment 2 could not be re-executed by "
                + Verification.MAX_ATTEMPTS + " workers").contains("\"evidenceHash\":null");
        assertThat(Seed.one("select evidence_doc from submissions where task_id = '" + s.taskId() + "'")).isNull();
        assertThat(Seed.one("select count(*) || ' ' || count(distinct verifier) from reexec_requests where task_id = '" + s.taskId() + "' and status = 'ERROR'"))
                .isEqualTo(Verification.MAX_ATTEMPTS + " " + Verification.MAX_ATTEMPTS);
        assertThat(Seed.one("select count(*) from reexec_requests where task_id = '" + s.taskId() + "'")).isEqualTo(Integer.toString(Verification.MAX_ATTEMPTS));
    }

    @Test
    void aPoisonRecordFailsAloneInItsBatch() throws Exception {
        Sub s = seed();
        SqsEvents.Rec poison = SqsEvents.Rec.of("{\"taskId\":\"" + s.taskId() + "\",\"segment\":2,\"worker\":\"" + s.assignee() + "\"}");
        SqsEvents.Rec ok = answer(s, s.reexecId(), s.assignee(), s.committedEnd(), null);
        assertThat(SqsEvents.invoke(QUEUE, List.of(poison, ok))).containsExactly(poison.messageId());
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 MATCH " + s.assignee() + " " + s.assignee());
        assertThat(stage(s)).isEqualTo("DECIDED");
        assertThat(verdict(s)).contains("\"accepted\":true");
    }
}
