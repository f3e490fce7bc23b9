package io.fedmarket.functions;

import io.fedmarket.config.Queues;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.fl.job.JobPlan;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.rounds.Verification;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.pol.ReexecSigner;
import io.fedmarket.pol.TrailManifest;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;
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
               List<String> pool, String blockHash, String submissionHash, Map<String, Credentials> keys) {
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

    static Sub seed() throws Exception {
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

        // the trail the submitter committed to: 80 steps, a checkpoint every 20 (checkpoints 0..4)
        List<String> hashes = new ArrayList<>();
        List<String> uris = new ArrayList<>();
        for (int i = 0; i <= 4; i++) {
            hashes.add(hex32("checkpoint " + i + " of " + task));
            uris.add("checkpoints/" + task + "/" + i + ".fmck");
        }
        String trailKey = "trails/" + task + ".json";
        String proofRoot = hex32("root " + task);
        String updateHash = hex32("update " + task);
        BucketStack.putJson(trailKey, Json.write(new TrailManifest(task, hex32("start " + job), hex32("shard " + task), 7, 80, 20, "djl", 1, 1,
                hashes, uris, proofRoot, hex32("chain " + task), updateHash, "updates/" + task + ".fmck", null, null)));

        String blockHash = hex32("block " + task);
        String submissionHash = hex32("submission " + task);
        Seed.exec("insert into submissions (task_id, worker, update_uri, update_hash, proof_root, steps, gpu_seconds, signature, submitted_at, "
                + "trail_uri, stage, draw_block, draw_block_hash, segments, flags, submission_hash) values ('" + task + "', '" + submitter
                + "', 'updates/" + task + ".fmck', '" + updateHash + "', '" + proofRoot + "', 80, 42, '0x" + "44".repeat(65) + "', now(), '"
                + trailKey + "', 'DRAWN', 12, '" + blockHash + "', '[" + SEGMENT + "]', '[]', '" + submissionHash + "')");

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
                List.copyOf(pool), blockHash, submissionHash, keys);
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

    /** An answer naming {@code worker}, signed EIP-712 by {@code signer} over (reexecId, segment, startHash, endHash). */
    static SqsEvents.Rec answer(Sub s, String reexecId, Credentials signer, String worker, String endHash, String error) {
        byte[] sig = SIGNER.sign(signer, reexecId, SEGMENT, Hashes.fromHex(s.committedStart()), endHash == null ? null : Hashes.fromHex(endHash));
        return SqsEvents.Rec.of(Json.write(new ReexecResult(reexecId, s.taskId(), SEGMENT, worker, s.committedStart(), endHash,
                endHash == null ? null : endHash.equals(s.committedEnd()), 1234, 1, error, null, Hashes.hex(sig))));
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
        String wrong = hex32("what " + s.assignee() + " computed");
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
        String wrong2 = hex32("what " + confirmer + " computed");
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

    @Test
    void aMatchingConfirmationOverrulesALyingVerifier() throws Exception {
        Sub s = seed();
        String[] c = mismatchThenConfirm(s);
        String confirmer = c[1];
        assertThat(SqsEvents.invoke(QUEUE, List.of(answer(s, c[0], confirmer, s.committedEnd(), null)))).isEmpty();
        assertThat(request(c[0])).isEqualTo("CONFIRM 1 MATCH " + confirmer + " " + confirmer);
        assertThat(request(s.reexecId())).isEqualTo("DRAW 0 DISREGARDED " + s.assignee() + " " + s.assignee());
        assertThat(Seed.one("select error from reexec_requests where id = '" + s.reexecId() + "'")).isEqualTo("contradicted by " + confirmer + "'s confirmation");
        assertThat(stage(s)).isEqualTo("DECIDED");
        assertThat(verdicts(s)).isEqualTo(1);
        assertThat(verdict(s)).contains("\"accepted\":true").contains("ACCEPTED").contains("\"evidenceHash\":null");
        assertThat(Seed.one("select evidence_doc from submissions where task_id = '" + s.taskId() + "'")).isNull();
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
