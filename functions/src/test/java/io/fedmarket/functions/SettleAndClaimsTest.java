package io.fedmarket.functions;

import io.fedmarket.config.Queues;
import io.fedmarket.functions.consumers.PayoutTree;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.Settle.class)
@WithTestResource(TestStack.class)
class SettleAndClaimsTest {
    static final String QUEUE = Queues.get().byKey(Queues.SETTLE).name();

    /** A job whose round 1 is CLOSED with 3 accepted and 1 rejected verdicts, settled once. */
    static Seed.Job settledJob() throws Exception {
        Seed.Job j = Seed.job(4, true);
        for (int i = 0; i < 4; i++) {
            Seed.exec("insert into verdicts (task_id, job_id, round_no, accepted, decided_at) values ('" + j.taskIds().get(i) + "', '" + j.jobId() + "', 1, " + (i < 3) + ", now())");
        }
        Seed.exec("update rounds set status = 'CLOSED' where job_id = '" + j.jobId() + "'");
        String msg = "{\"kind\":\"ROUND\",\"jobId\":\"" + j.jobId() + "\",\"round\":1}";
        SqsEvents.Rec rec = SqsEvents.Rec.of(msg);
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(rec.messageId(), msg, 2)))).as("redelivery").isEmpty();
        return j;
    }

    @Test
    void settlesCumulativePayoutsOnceWithProofsThatVerify() throws Exception {
        Seed.Job j = settledJob();
        assertThat(Seed.one("select status from rounds where job_id = '" + j.jobId() + "'")).isEqualTo("SETTLED");
        assertThat(Seed.one("select count(*) from payout_roots where job_id = '" + j.jobId() + "'")).isEqualTo("1");
        assertThat(Seed.one("select count(*) from payouts where job_id = '" + j.jobId() + "'")).isEqualTo("3");
        String root = Seed.one("select payout_root from payout_roots where job_id = '" + j.jobId() + "'");
        for (int i = 0; i < 4; i++) {
            String cum = Seed.one("select cumulative from payouts where job_id = '" + j.jobId() + "' and address = '" + j.workers().get(i) + "'");
            if (i == 3) {
                assertThat(cum).as("a rejected update is not paid").isNull();
                continue;
            }
            assertThat(new BigInteger(cum)).isEqualTo(BigInteger.valueOf(7L * 100 * (i + 1)));
            String proofJson = Seed.one("select proof from payouts where job_id = '" + j.jobId() + "' and address = '" + j.workers().get(i) + "'");
            List<String> proof = List.of(Api.JSON.readValue(proofJson, String[].class));
            byte[] computed = PayoutTree.process(PayoutTree.leaf(j.workers().get(i), new BigInteger(cum)), proof);
            assertThat(Numeric.toHexString(computed)).isEqualTo(root);
        }
    }

    @Test
    void anOpenRoundIsNotSettledAndStaysForRetry() throws Exception {
        Seed.Job j = Seed.job(2, true);
        SqsEvents.Rec rec = SqsEvents.Rec.of("{\"kind\":\"ROUND\",\"jobId\":\"" + j.jobId() + "\",\"round\":1}");
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).containsExactly(rec.messageId());
        assertThat(Seed.one("select count(*) from payout_roots where job_id = '" + j.jobId() + "'")).isEqualTo("0");
        assertThat(Seed.one("select count(*) from processed_messages where business_key like '%" + j.jobId() + "%'")).as("failure rolls back the key").isEqualTo("0");
    }
}
