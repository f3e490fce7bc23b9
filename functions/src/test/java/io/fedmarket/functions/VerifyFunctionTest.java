package io.fedmarket.functions;

import io.fedmarket.config.Queues;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import io.fedmarket.crypto.Hashes;
import io.fedmarket.pol.ProofTrails;
import io.fedmarket.pol.SubmissionSigner;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.Verify.class)
@WithTestResource(TestStack.class)
@WithTestResource(ChainStack.class)
class VerifyFunctionTest {
    static final String QUEUE = Queues.get().byKey(Queues.SUBMISSIONS).name();

    static String submission(Seed.Job j, int i, String worker) {
        return "{\"taskId\":\"" + j.taskIds().get(i) + "\",\"jobId\":\"" + j.jobId() + "\",\"round\":1,\"worker\":\"" + worker
                + "\",\"updateUri\":\"updates/x\",\"updateHash\":\"0x" + "aa".repeat(32) + "\",\"proofRoot\":\"0x" + "bb".repeat(32)
                + "\",\"trailUri\":\"trails/x\",\"steps\":200,\"checkpointEvery\":20,\"gpuSeconds\":42,\"trainMillis\":42000,\"sampleCount\":600,"
                + "\"trainLoss\":0.4,\"threads\":1,\"signature\":\"0x" + "cc".repeat(65) + "\",\"submittedAtEpochSeconds\":1764000000}";
    }

    /** A submission of task i signed EIP-712 by {@code signer} (chain 31337, the profile's verifying contract). */
    static String signed(Seed.Job j, int i, String worker, org.web3j.crypto.Credentials signer) {
        byte[] update = Hashes.keccak256(("update " + i).getBytes(StandardCharsets.UTF_8));
        byte[] root = Hashes.keccak256(("root " + i).getBytes(StandardCharsets.UTF_8));
        String market = org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("fedmarket.marketplace-address", String.class);
        byte[] sig = new SubmissionSigner(31337, market).sign(signer, ProofTrails.taskKey(j.taskIds().get(i)), update, root, 200, 42);
        return submission(j, i, worker).replace("0x" + "aa".repeat(32), Hashes.hex(update)).replace("0x" + "bb".repeat(32), Hashes.hex(root))
                .replace("0x" + "cc".repeat(65), Hashes.hex(sig));
    }

    static org.web3j.crypto.Credentials worker(Seed.Job j, int i, boolean bonded) throws Exception {
        org.web3j.crypto.Credentials k = org.web3j.crypto.Credentials.create(Api.newKey());
        String w = k.getAddress().toLowerCase();
        Seed.exec("update tasks set worker = '" + w + "' where id = '" + j.taskIds().get(i) + "'");
        Seed.exec("insert into job_participants (job_id, provider_id, kind, address) values ('" + j.jobId() + "', '" + java.util.UUID.randomUUID() + "', 'GPU', '" + w + "')");
        if (bonded) {
            Seed.exec("insert into bonds (address, amount, block_number, updated_at) values ('" + w + "', 1000, 1, now())");
        }
        return k;
    }

    @Test
    void aForgedSignatureIsDroppedAnUnbondedWorkerRejectedWithoutEvidence() throws Exception {
        Seed.Job j = Seed.job(3, false);
        org.web3j.crypto.Credentials honest = worker(j, 0, true);
        org.web3j.crypto.Credentials named = worker(j, 1, true);
        org.web3j.crypto.Credentials unbonded = worker(j, 2, false);
        org.web3j.crypto.Credentials forger = org.web3j.crypto.Credentials.create(Api.newKey());
        SqsEvents.Rec ok = SqsEvents.Rec.of(signed(j, 0, honest.getAddress(), honest));
        SqsEvents.Rec forged = SqsEvents.Rec.of(signed(j, 1, named.getAddress(), forger));
        SqsEvents.Rec noBond = SqsEvents.Rec.of(signed(j, 2, unbonded.getAddress(), unbonded));
        // the good one passes intake (recorded in its own transaction) and goes on to the trail checks, which need the bucket:
        // this test has none, so that record fails and would come back; nothing of it is lost
        assertThat(SqsEvents.invoke(QUEUE, List.of(ok, forged, noBond))).containsExactly(ok.messageId());
        assertThat(SqsEvents.invoke(QUEUE, List.of(forged))).as("redelivery").isEmpty();
        assertThat(Seed.one("select stage || ' ' || draw_block || ' ' || submission_hash from submissions where task_id = '" + j.taskIds().get(0) + "'"))
                .as("recorded with the block its draw waits for").matches("RECORDED [0-9]+ 0x[0-9a-f]{64}");
        // billed GPU-seconds: at most the time since the task was published; the weight is the shard's as offered (none here: 1)
        assertThat(Seed.one("select gpu_seconds || ' ' || sample_count from submissions where task_id = '" + j.taskIds().get(0) + "'")).isEqualTo("42 1");

        // a signature that is not the named worker's takes nothing: not recorded, no verdict, the task still open for the real one
        assertThat(Seed.one("select count(*) from submissions where task_id = '" + j.taskIds().get(1) + "'")).isEqualTo("0");
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'verdict:" + j.taskIds().get(1) + "'")).isEqualTo("0");
        assertThat(Seed.one("select status from tasks where id = '" + j.taskIds().get(1) + "'")).isEqualTo("RUNNING");
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'verdict:" + j.taskIds().get(0) + "'")).as("a good signature by a bonded worker").isEqualTo("0");
        assertThat(Seed.one("select body from outbox where dedup_key = 'verdict:" + j.taskIds().get(2) + "' and sent_at is not null"))
                .contains("\"accepted\":false").contains("BAD_SIGNATURE: the worker " + unbonded.getAddress().toLowerCase() + " has no bond")
                .contains("\"evidenceHash\":null");
        assertThat(Seed.one("select count(*) from outbox where dedup_key like 'verdict:%' and body like '%" + j.jobId() + "%'")).as("once").isEqualTo("1");
        try (SqsClient sqs = TestStack.sqs()) {
            List<Message> m = sqs.receiveMessage(b -> b.queueUrl(TestStack.queueUrl(Queues.VERDICTS)).maxNumberOfMessages(10).waitTimeSeconds(2)).messages();
            assertThat(m).extracting(Message::body).anySatisfy(b -> assertThat(b).contains(j.taskIds().get(2)).contains("BAD_SIGNATURE"));
        }
    }

    @Test
    void anyLiveGpuParticipantMayTakeAnyTaskOnceAndEveryoneElseIsIgnored() throws Exception {
        Seed.Job j = Seed.job(4, false);
        org.web3j.crypto.Credentials[] k = new org.web3j.crypto.Credentials[4];
        for (int i = 0; i < 4; i++) {
            k[i] = worker(j, i, false); // no bond: every recorded submission is rejected at intake, the checks (and the bucket) never reached
        }
        String w0 = k[0].getAddress().toLowerCase();
        // worker 0 takes its own task and, a task belonging to a shard rather than to a GPU, worker 1's too
        SqsEvents.Rec mine = SqsEvents.Rec.of(signed(j, 0, w0, k[0]));
        SqsEvents.Rec taken = SqsEvents.Rec.of(signed(j, 1, w0, k[0]));
        assertThat(SqsEvents.invoke(QUEUE, List.of(mine, taken))).isEmpty();
        assertThat(SqsEvents.invoke(QUEUE, List.of(mine))).as("redelivery").isEmpty();
        assertThat(Seed.one("select count(*) from submissions where task_id = '" + j.taskIds().get(0) + "'")).isEqualTo("1");
        assertThat(Seed.one("select gpu_seconds from submissions where task_id = '" + j.taskIds().get(0) + "'")).isEqualTo("42");
        assertThat(Seed.one("select status || ' ' || worker from tasks where id = '" + j.taskIds().get(1) + "'")).isEqualTo("SUBMITTED " + w0);
        // the first submission wins: worker 1 submitting task 1 afterwards is not recorded
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(signed(j, 1, k[1].getAddress(), k[1]))))).isEmpty();
        assertThat(Seed.one("select worker from submissions where task_id = '" + j.taskIds().get(1) + "'")).isEqualTo(w0);
        // a stranger, a participant removed for cheating and a late update are left out (logged), never recorded
        org.web3j.crypto.Credentials stranger = org.web3j.crypto.Credentials.create(Api.newKey());
        Seed.exec("update job_participants set removed_at = now(), removed_reason = 'test' where job_id = '" + j.jobId() + "' and address = '"
                + k[3].getAddress().toLowerCase() + "'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(signed(j, 2, stranger.getAddress(), stranger)),
                SqsEvents.Rec.of(signed(j, 3, k[3].getAddress(), k[3]))))).isEmpty();
        // the stranger took task 2 off the queue for nothing: it is offered again to the job's own workers
        assertThat(Seed.one("select count(*) from outbox where dedup_key like 'task-reoffer:" + j.taskIds().get(2) + ":%'")).isEqualTo("1");
        Seed.exec("update rounds set status = 'CLOSED' where job_id = '" + j.jobId() + "'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(signed(j, 2, k[2].getAddress(), k[2]))))).isEmpty();
        assertThat(Seed.one("select count(*) from submissions where task_id in ('" + j.taskIds().get(2) + "', '" + j.taskIds().get(3) + "')")).isEqualTo("0");
        // a task of another job is poison: it fails alone
        SqsEvents.Rec wrongJob = SqsEvents.Rec.of(signed(j, 0, w0, k[0]).replace(j.jobId().toString(), java.util.UUID.randomUUID().toString()));
        assertThat(SqsEvents.invoke(QUEUE, List.of(wrongJob))).containsExactly(wrongJob.messageId());
    }
}
