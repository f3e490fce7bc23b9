package io.fedmarket.functions;

import io.fedmarket.config.Queues;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

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
