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
        byte[] sig = new SubmissionSigner(31337, Profiles.Verify.MARKETPLACE).sign(signer, ProofTrails.taskKey(j.taskIds().get(i)), update, root, 200, 42);
        return submission(j, i, worker).replace("0x" + "aa".repeat(32), Hashes.hex(update)).replace("0x" + "bb".repeat(32), Hashes.hex(root))
                .replace("0x" + "cc".repeat(65), Hashes.hex(sig));
    }

    static org.web3j.crypto.Credentials worker(Seed.Job j, int i, boolean bonded) throws Exception {
        org.web3j.crypto.Credentials k = org.web3j.crypto.Credentials.create(Api.newKey());
        String w = k.getAddress().toLowerCase();
        Seed.exec("update tasks set worker = '" + w + "' where id = '" + j.taskIds().get(i) + "'");
        if (bonded) {
            Seed.exec("insert into bonds (address, amount, block_number, updated_at) values ('" + w + "', 1000, 1, now())");
        }
        return k;
    }

    @Test
    void checksTheSignatureAndTheBondAndRejectsOtherwiseWithoutEvidence() throws Exception {
        Seed.Job j = Seed.job(3, false);
        org.web3j.crypto.Credentials honest = worker(j, 0, true);
        org.web3j.crypto.Credentials named = worker(j, 1, true);
        org.web3j.crypto.Credentials unbonded = worker(j, 2, false);
        org.web3j.crypto.Credentials forger = org.web3j.crypto.Credentials.create(Api.newKey());
        SqsEvents.Rec ok = SqsEvents.Rec.of(signed(j, 0, honest.getAddress(), honest));
        SqsEvents.Rec forged = SqsEvents.Rec.of(signed(j, 1, named.getAddress(), forger));
        SqsEvents.Rec noBond = SqsEvents.Rec.of(signed(j, 2, unbonded.getAddress(), unbonded));
        assertThat(SqsEvents.invoke(QUEUE, List.of(ok, forged, noBond))).isEmpty();
        assertThat(SqsEvents.invoke(QUEUE, List.of(forged))).as("redelivery").isEmpty();

        assertThat(Seed.one("select count(*) from submissions where task_id in ('" + String.join("','", j.taskIds()) + "')")).isEqualTo("3");
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'verdict:" + j.taskIds().get(0) + "'")).as("a good signature by a bonded worker").isEqualTo("0");
        String forgedVerdict = Seed.one("select body from outbox where dedup_key = 'verdict:" + j.taskIds().get(1) + "' and sent_at is not null");
        assertThat(forgedVerdict).contains("\"accepted\":false").contains("BAD_SIGNATURE: signature recovers to " + forger.getAddress().toLowerCase())
                .contains("\"evidenceHash\":null");
        assertThat(Seed.one("select body from outbox where dedup_key = 'verdict:" + j.taskIds().get(2) + "'"))
                .contains("BAD_SIGNATURE: the worker " + unbonded.getAddress().toLowerCase() + " has no bond");
        assertThat(Seed.one("select count(*) from outbox where dedup_key like 'verdict:%' and body like '%" + j.jobId() + "%'")).as("once each").isEqualTo("2");
        try (SqsClient sqs = TestStack.sqs()) {
            List<Message> m = sqs.receiveMessage(b -> b.queueUrl(TestStack.queueUrl(Queues.VERDICTS)).maxNumberOfMessages(10).waitTimeSeconds(2)).messages();
            assertThat(m).extracting(Message::body).anySatisfy(b -> assertThat(b).contains(j.taskIds().get(1)).contains("BAD_SIGNATURE"));
        }
    }

    @Test
    void recordsASubmissionOnceAndRefusesOneForAnotherWorkersTask() throws Exception {
        Seed.Job j = Seed.job(2, false);
        SqsEvents.Rec mine = SqsEvents.Rec.of(submission(j, 0, j.workers().get(0)));
        SqsEvents.Rec stolen = SqsEvents.Rec.of(submission(j, 1, j.workers().get(0)));
        assertThat(SqsEvents.invoke(QUEUE, List.of(mine, stolen))).containsExactly(stolen.messageId());
        assertThat(SqsEvents.invoke(QUEUE, List.of(mine))).as("redelivery").isEmpty();
        assertThat(Seed.one("select count(*) from submissions where task_id = '" + j.taskIds().get(0) + "'")).isEqualTo("1");
        assertThat(Seed.one("select gpu_seconds from submissions where task_id = '" + j.taskIds().get(0) + "'")).isEqualTo("42");
        assertThat(Seed.one("select status from tasks where id = '" + j.taskIds().get(0) + "'")).isEqualTo("SUBMITTED");
        assertThat(Seed.one("select count(*) from submissions where task_id = '" + j.taskIds().get(1) + "'")).isEqualTo("0");
    }
}
