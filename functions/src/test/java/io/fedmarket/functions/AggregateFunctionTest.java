package io.fedmarket.functions;

import io.fedmarket.config.Queues;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.Aggregate.class)
@WithTestResource(TestStack.class)
class AggregateFunctionTest {
    static final String QUEUE = Queues.get().byKey(Queues.VERDICTS).name();

    static String verdict(Seed.Job j, int i, boolean accepted) {
        return "{\"taskId\":\"" + j.taskIds().get(i) + "\",\"jobId\":\"" + j.jobId() + "\",\"round\":1,\"worker\":\"" + j.workers().get(i)
                + "\",\"accepted\":" + accepted + ",\"reason\":\"" + (accepted ? "ok" : "segment 3 mismatch") + "\"}";
    }

    @Test
    void closesTheRoundAtMinUpdatesAndQueuesSettlementOnce() throws Exception {
        Seed.Job j = Seed.job(3, true);
        SqsEvents.Rec rejected = SqsEvents.Rec.of(verdict(j, 0, false));
        SqsEvents.Rec first = SqsEvents.Rec.of(verdict(j, 1, true));
        assertThat(SqsEvents.invoke(QUEUE, List.of(rejected, first))).isEmpty();
        assertThat(Seed.one("select status from rounds where job_id = '" + j.jobId() + "'")).isEqualTo("OPEN");
        // a redelivered accepted verdict must not count twice towards min_updates (2)
        assertThat(SqsEvents.invoke(QUEUE, List.of(first))).isEmpty();
        assertThat(Seed.one("select status from rounds where job_id = '" + j.jobId() + "'")).isEqualTo("OPEN");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(verdict(j, 2, true))))).isEmpty();
        assertThat(Seed.one("select status from rounds where job_id = '" + j.jobId() + "'")).isEqualTo("CLOSED");
        assertThat(Seed.one("select status from tasks where id = '" + j.taskIds().get(0) + "'")).isEqualTo("REJECTED");
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'settle-round:" + j.jobId() + ":1' and sent_at is not null")).isEqualTo("1");
        try (SqsClient sqs = TestStack.sqs()) {
            List<Message> m = sqs.receiveMessage(b -> b.queueUrl(TestStack.queueUrl(Queues.SETTLE)).maxNumberOfMessages(10).waitTimeSeconds(2)).messages();
            assertThat(m).extracting(Message::body).anySatisfy(b -> assertThat(b).contains(j.jobId().toString()).contains("ROUND"));
        }
    }

    static String rejection(Seed.Job j, int i, String reason, String evidence) {
        return "{\"taskId\":\"" + j.taskIds().get(i) + "\",\"jobId\":\"" + j.jobId() + "\",\"round\":1,\"worker\":\"" + j.workers().get(i)
                + "\",\"accepted\":false,\"reason\":\"" + reason + "\"" + (evidence == null ? "" : ",\"evidenceHash\":\"" + evidence + "\"") + "}";
    }

    @Test
    void aRejectionWithEvidenceRecordsOnePendingSlashAfterTheDisputeWindow() throws Exception {
        Seed.Job j = Seed.job(4, true);
        Seed.exec("insert into bonds (address, amount, unbonding, block_number, updated_at) values ('" + j.workers().get(0) + "', 900, 100, 1, now())");
        String evidence = "0x" + "ab".repeat(32);
        SqsEvents.Rec proven = SqsEvents.Rec.of(rejection(j, 0, "SEGMENT_MISMATCH: segment 3 ends elsewhere", evidence));
        assertThat(SqsEvents.invoke(QUEUE, List.of(proven))).isEmpty();
        assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(proven.messageId(), proven.body(), 2)))).as("redelivery").isEmpty();
        assertThat(Seed.one("select count(*) from slashes where task_id = '" + j.taskIds().get(0) + "'")).isEqualTo("1");
        assertThat(Seed.one("select status || ' ' || address || ' ' || amount || ' ' || evidence_hash from slashes where task_id = '" + j.taskIds().get(0) + "'"))
                .isEqualTo("PENDING " + j.workers().get(0) + " 1000 " + evidence);
        long window = Long.parseLong(Seed.one("select extract(epoch from dispute_until - created_at)::bigint from slashes where task_id = '" + j.taskIds().get(0) + "'"));
        assertThat(window).as("the dispute window (fedmarket.dispute-window, default PT1H)").isEqualTo(3600);
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'slash:" + j.taskIds().get(0) + "' and sent_at is not null")).isEqualTo("1");
        try (SqsClient sqs = TestStack.sqs()) {
            List<Message> m = sqs.receiveMessage(b -> b.queueUrl(TestStack.queueUrl(Queues.SETTLE)).maxNumberOfMessages(10).waitTimeSeconds(2)).messages();
            assertThat(m).extracting(Message::body).anySatisfy(b -> assertThat(b).contains("SLASH").contains(j.taskIds().get(0)));
        }
        // no slash without evidence, for a cheap-check flag (a hunch is not evidence), or for an acceptance
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(rejection(j, 1, "SEGMENT_MISMATCH", null)),
                SqsEvents.Rec.of(rejection(j, 2, "NORM_OUT_OF_BOUNDS", evidence)), SqsEvents.Rec.of(verdict(j, 3, true))))).isEmpty();
        assertThat(Seed.one("select count(*) from slashes where job_id = '" + j.jobId() + "'")).isEqualTo("1");
        assertThat(Seed.one("select count(*) from verdicts where job_id = '" + j.jobId() + "'")).isEqualTo("4");
    }

    @Test
    void aClosedRoundWithAcceptedUpdatesButNoStartModelFailsClearlyAndKeepsItsVerdicts() throws Exception {
        Seed.Job j = Seed.job(2, true);
        Seed.exec("update rounds set global_model_hash = null where job_id = '" + j.jobId() + "'");
        SqsEvents.Rec first = SqsEvents.Rec.of(verdict(j, 0, true));
        SqsEvents.Rec closing = SqsEvents.Rec.of(verdict(j, 1, true));
        assertThat(SqsEvents.invoke(QUEUE, List.of(first))).isEmpty();
        // the second verdict closes the round; its aggregation cannot run without the model the round started from
        assertThat(SqsEvents.invoke(QUEUE, List.of(closing))).containsExactly(closing.messageId());
        assertThat(Seed.one("select status || ' ' || coalesce(global_model_hash, 'no model') from rounds where job_id = '" + j.jobId() + "'"))
                .isEqualTo("CLOSED no model");
        assertThat(Seed.one("select count(*) from verdicts where job_id = '" + j.jobId() + "'")).as("nothing lost: both verdicts recorded").isEqualTo("2");
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'settle-round:" + j.jobId() + ":1'")).as("no settlement without a model").isEqualTo("0");
    }

    @Test
    void aVerdictForAnUnknownTaskFailsAlone() throws Exception {
        Seed.Job j = Seed.job(1, true);
        SqsEvents.Rec ok = SqsEvents.Rec.of(verdict(j, 0, true));
        SqsEvents.Rec unknown = SqsEvents.Rec.of("{\"taskId\":\"task-nope\",\"jobId\":\"" + j.jobId() + "\",\"round\":1,\"accepted\":true}");
        assertThat(SqsEvents.invoke(QUEUE, List.of(ok, unknown))).containsExactly(unknown.messageId());
        assertThat(Seed.one("select count(*) from verdicts where job_id = '" + j.jobId() + "'")).isEqualTo("1");
    }

    @Test
    void aWorkerRemovedForCheatingLosesWhatItWasDrawnToReexecute() throws Exception {
        Seed.Job j = Seed.job(3, true);
        for (String w : j.workers()) {
            Seed.exec("insert into bonds (address, amount, block_number, updated_at) values ('" + w + "', 1000, 1, now())");
        }
        // task 1's submission is being verified; worker 0 was drawn to re-execute its segment 2
        String manifest = io.fedmarket.functions.http.Json.write(new io.fedmarket.pol.TrailManifest(j.taskIds().get(1), "0x" + "11".repeat(32),
                "0x" + "12".repeat(32), 7, 60, 20, "test", 1, 1, java.util.List.of("0x" + "a0".repeat(32), "0x" + "a1".repeat(32), "0x" + "a2".repeat(32),
                "0x" + "a3".repeat(32)), java.util.List.of("checkpoints/0", "checkpoints/1", "checkpoints/2", "checkpoints/3"), "0x" + "33".repeat(32),
                "0x" + "34".repeat(32), "0x" + "22".repeat(32), "s3://u", null, null));
        Seed.exec("update submissions set stage = 'DRAWN', segments = '[2]', submission_hash = '0x" + "55".repeat(32) + "', draw_block_hash = '0x"
                + "66".repeat(32) + "', trail_doc = '" + manifest + "' where task_id = '" + j.taskIds().get(1) + "'");
        String id = j.taskIds().get(1) + "-seg2";
        Seed.exec("insert into reexec_requests (id, task_id, segment, purpose, attempt, steps, exclude, status, requested_at, assignee) values ('"
                + id + "', '" + j.taskIds().get(1) + "', 2, 'DRAW', 0, 20, '[\"" + j.workers().get(1) + "\"]', 'SENT', now(), '" + j.workers().get(0) + "')");
        // worker 0's own update is rejected with evidence: it is removed from the job, and its drawn request goes to worker 2 now
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(rejection(j, 0, "SEGMENT_MISMATCH: segment 1", "0x" + "ab".repeat(32)))))).isEmpty();
        assertThat(Seed.one("select removed_at is not null from job_participants where job_id = '" + j.jobId() + "' and address = '" + j.workers().get(0) + "'"))
                .isEqualTo("t");
        assertThat(Seed.one("select assignee || ' ' || exclude || ' ' || status from reexec_requests where id = '" + id + "'"))
                .isEqualTo(j.workers().get(2) + " [\"" + j.workers().get(1) + "\",\"" + j.workers().get(0) + "\"] SENT");
        assertThat(Seed.one("select body from outbox where dedup_key like 'reexec-again:" + id + ":%:removed'")).contains("\"assignee\":\"" + j.workers().get(2) + "\"");
    }

    @Test
    void closedAtItsQuorumTheRoundDropsTheTasksNobodySubmitted() throws Exception {
        Seed.Job j = Seed.job(3, true); // min_updates 2 of 3 tasks
        Seed.exec("update tasks set status = 'RUNNING' where id = '" + j.taskIds().get(2) + "'");
        Seed.exec("delete from submissions where task_id = '" + j.taskIds().get(2) + "'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of(verdict(j, 0, true)), SqsEvents.Rec.of(verdict(j, 1, true))))).isEmpty();
        assertThat(Seed.one("select status from rounds where job_id = '" + j.jobId() + "'")).isEqualTo("CLOSED");
        // the straggler is a value, not an exception: dropped (not paid, not aggregated), as at the deadline
        assertThat(Seed.one("select status from tasks where id = '" + j.taskIds().get(2) + "'")).isEqualTo("DROPPED");
        assertThat(Seed.one("select string_agg(status, ',' order by id) from tasks where id in ('" + j.taskIds().get(0) + "', '" + j.taskIds().get(1) + "')"))
                .isEqualTo("ACCEPTED,ACCEPTED");
    }
}
