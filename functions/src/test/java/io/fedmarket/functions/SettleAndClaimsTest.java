package io.fedmarket.functions;

import io.fedmarket.chain.DevAccounts;
import io.fedmarket.chain.MarketplaceChain;
import io.fedmarket.config.Queues;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.MerkleTree;
import io.fedmarket.crypto.PayoutLeaf;
import io.fedmarket.functions.consumers.RoundPoster;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The settle function against PostgreSQL, ElasticMQ and anvil with the compiled contracts. */
@QuarkusTest
@TestProfile(Profiles.Settle.class)
@WithTestResource(TestStack.class)
@WithTestResource(ChainStack.class)
class SettleAndClaimsTest {
    static final String QUEUE = Queues.get().byKey(Queues.SETTLE).name();
    static final BigInteger BUDGET = BigInteger.TEN.pow(18);

    /** A job whose round 1 is CLOSED with 3 accepted and 1 rejected verdicts. */
    static Seed.Job closedJob() throws Exception {
        Seed.Job j = Seed.job(4, true);
        for (int i = 0; i < 4; i++) {
            Seed.exec("insert into verdicts (task_id, job_id, round_no, accepted, decided_at) values ('" + j.taskIds().get(i) + "', '" + j.jobId() + "', 1, " + (i < 3) + ", now())");
        }
        Seed.exec("update rounds set status = 'CLOSED' where job_id = '" + j.jobId() + "'");
        return j;
    }

    /** The builder escrows the job on chain (what it does after the match). */
    static void escrow(UUID jobId) {
        try (MarketplaceChain op = ChainStack.operator()) {
            MarketplaceChain builder = op.as(DevAccounts.account(1));
            builder.approve(BUDGET);
            builder.openJob(RoundPoster.onChainJobId(jobId), BUDGET, op.latestTimestamp() + 3600);
        }
    }

    static SqsEvents.Rec settleRecord(UUID jobId) {
        return SqsEvents.Rec.of("{\"kind\":\"ROUND\",\"jobId\":\"" + jobId + "\",\"round\":1}");
    }

    @Test
    void postsTheRoundOnChainOnceAndItsProofsClaimThere() throws Exception {
        Seed.Job j = closedJob();
        escrow(j.jobId());
        SqsEvents.Rec rec = settleRecord(j.jobId());
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
        assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(rec.messageId(), rec.body(), 2)))).as("redelivery").isEmpty();

        assertThat(Seed.one("select status from rounds where job_id = '" + j.jobId() + "'")).isEqualTo("SETTLED");
        assertThat(Seed.one("select count(*) from payout_roots where job_id = '" + j.jobId() + "'")).isEqualTo("1");
        assertThat(Seed.one("select count(*) from payouts where job_id = '" + j.jobId() + "'")).isEqualTo("3");
        String root = Seed.one("select payout_root from payout_roots where job_id = '" + j.jobId() + "'");
        String tx = Seed.one("select tx_hash from payout_roots where job_id = '" + j.jobId() + "'");
        byte[] key = RoundPoster.onChainJobId(j.jobId());
        try (MarketplaceChain op = ChainStack.operator()) {
            MarketplaceChain.JobState onChain = op.jobState(key);
            assertThat(onChain.lastRound()).isEqualTo(1);
            assertThat(Hashes.hex(onChain.payoutRoot())).as("the stored root is the one on chain").isEqualTo(root);
            assertThat(onChain.committed()).isEqualTo(BigInteger.valueOf(7L * 100 * (1 + 2 + 3)));
            assertThat(op.roundPostedTx(key, 1)).as("one RoundPosted, recorded with the round").contains(tx);

            for (int i = 0; i < 4; i++) {
                String worker = j.workers().get(i);
                String cum = Seed.one("select cumulative from payouts where job_id = '" + j.jobId() + "' and address = '" + worker + "'");
                if (i == 3) {
                    assertThat(cum).as("a rejected update is not paid").isNull();
                    continue;
                }
                BigInteger amount = new BigInteger(cum);
                assertThat(amount).isEqualTo(BigInteger.valueOf(7L * 100 * (i + 1)));
                String proofJson = Seed.one("select proof from payouts where job_id = '" + j.jobId() + "' and address = '" + worker + "'");
                List<byte[]> proof = List.of(Api.JSON.readValue(proofJson, String[].class)).stream().map(Hashes::fromHex32).toList();
                assertThat(MerkleTree.verify(proof, Hashes.fromHex32(root), new PayoutLeaf(worker, amount).hash())).isTrue();
                // the contract accepts it (anyone may submit a claim; it is booked to the worker, who withdraws it)
                op.claim(key, worker, amount, proof);
                assertThat(op.claimed(key, worker)).isEqualTo(amount);
                assertThat(op.unwithdrawn(key, worker)).isEqualTo(amount);
            }
        }
    }

    @Test
    void aJobNotYetEscrowedOnChainIsRetriedWithItsTreeKept() throws Exception {
        Seed.Job j = closedJob();
        SqsEvents.Rec rec = settleRecord(j.jobId());
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).as("no escrow yet: the record stays for a retry").containsExactly(rec.messageId());
        String root = Seed.one("select payout_root from payout_roots where job_id = '" + j.jobId() + "'");
        assertThat(root).as("the tree is stored once, before the chain").isNotNull();
        assertThat(Seed.one("select tx_hash from payout_roots where job_id = '" + j.jobId() + "'")).isNull();
        assertThat(Seed.one("select status from rounds where job_id = '" + j.jobId() + "'")).isEqualTo("CLOSED");

        escrow(j.jobId());
        assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(rec.messageId(), rec.body(), 2)))).isEmpty();
        assertThat(Seed.one("select status from rounds where job_id = '" + j.jobId() + "'")).isEqualTo("SETTLED");
        assertThat(Seed.one("select payout_root from payout_roots where job_id = '" + j.jobId() + "'")).as("same root").isEqualTo(root);
        try (MarketplaceChain op = ChainStack.operator()) {
            assertThat(Hashes.hex(op.jobState(RoundPoster.onChainJobId(j.jobId())).payoutRoot())).isEqualTo(root);
        }
    }

    static SqsEvents.Rec slashRecord(UUID jobId, String taskId) {
        return SqsEvents.Rec.of("{\"kind\":\"SLASH\",\"jobId\":\"" + jobId + "\",\"round\":1,\"taskId\":\"" + taskId + "\"}");
    }

    /** A worker with a dev key, bonded on chain, as the worker of the job's first task; returns its address. */
    static String bondedWorker(Seed.Job j, int devAccount, BigInteger stake) throws Exception {
        org.web3j.crypto.Credentials k = DevAccounts.account(devAccount);
        String w = k.getAddress().toLowerCase();
        Seed.exec("update tasks set worker = '" + w + "' where id = '" + j.taskIds().get(0) + "'");
        try (MarketplaceChain op = ChainStack.operator()) {
            MarketplaceChain c = op.as(k);
            c.approve(stake);
            c.bond(stake);
        }
        return w;
    }

    static void pendingSlash(Seed.Job j, String worker, String evidence, String status, String disputeUntil) throws Exception {
        Seed.exec("insert into slashes (id, job_id, round_no, task_id, address, amount, evidence_hash, status, dispute_until, created_at) values (gen_random_uuid(), '"
                + j.jobId() + "', 1, '" + j.taskIds().get(0) + "', '" + worker + "', 0, '" + evidence + "', '" + status + "', " + disputeUntil + ", now())");
    }

    @Test
    void slashesTheRejectedWorkerOnChainOnceItsDisputeWindowHasPassed() throws Exception {
        Seed.Job j = Seed.job(2, true);
        escrow(j.jobId());
        BigInteger stake = BigInteger.TEN.pow(18).multiply(BigInteger.valueOf(3));
        String w = bondedWorker(j, 12, stake);
        String task = j.taskIds().get(0);
        String evidence = Hashes.hex(Hashes.keccak256(("evidence of " + task).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        pendingSlash(j, w, evidence, "PENDING", "now() + interval '10 minutes'");
        byte[] key = RoundPoster.onChainJobId(j.jobId());
        SqsEvents.Rec rec = slashRecord(j.jobId(), task);
        try (MarketplaceChain op = ChainStack.operator(); software.amazon.awssdk.services.sqs.SqsClient sqs = TestStack.sqs()) {
            String url = TestStack.queueUrl(Queues.SETTLE);
            int delayedBefore = delayed(sqs, url);
            // the window is open: nothing on chain; the request waits on the queue, delayed, instead of failing towards the DLQ
            assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
            assertThat(Seed.one("select status from slashes where task_id = '" + task + "'")).isEqualTo("PENDING");
            assertThat(op.slashable(w)).isEqualTo(stake);
            assertThat(delayed(sqs, url)).as("the SLASH request re-queued with a delay").isEqualTo(delayedBefore + 1);

            // the window is over: the whole stake, once, with the evidence hash; half of it joins the job's escrow
            Seed.exec("update slashes set dispute_until = now() - interval '1 second' where task_id = '" + task + "'");
            BigInteger depositedBefore = op.jobState(key).deposited();
            assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(rec.messageId(), rec.body(), 2)))).isEmpty();
            assertThat(Seed.one("select status from slashes where task_id = '" + task + "'")).isEqualTo("POSTED");
            assertThat(new BigInteger(Seed.one("select amount from slashes where task_id = '" + task + "'"))).isEqualTo(stake);
            String tx = Seed.one("select tx_hash from slashes where task_id = '" + task + "'");
            assertThat(tx).startsWith("0x");
            assertThat(op.slashable(w)).isZero();
            assertThat(op.slashedWith(w, key, Hashes.fromHex32(evidence))).hasValueSatisfying(s -> {
                assertThat(s.txHash()).isEqualTo(tx);
                assertThat(s.amount()).isEqualTo(stake);
            });
            assertThat(op.jobState(key).deposited().subtract(depositedBefore)).isEqualTo(stake.divide(BigInteger.TWO));

            // redelivered: nothing more
            assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(rec.messageId(), rec.body(), 3)))).isEmpty();
            assertThat(Seed.one("select tx_hash from slashes where task_id = '" + task + "'")).isEqualTo(tx);
            // a crash between the chain and the database (row still PENDING): the retry finds the chain's slash, sends none
            Seed.exec("update slashes set status = 'PENDING', tx_hash = null, amount = 0 where task_id = '" + task + "'");
            assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(rec.messageId(), rec.body(), 4)))).isEmpty();
            assertThat(Seed.one("select status || ' ' || tx_hash || ' ' || amount from slashes where task_id = '" + task + "'"))
                    .isEqualTo("POSTED " + tx + " " + stake);
        }
    }

    @Test
    void aDisputedSlashIsNeverSentAndAnEmptyStakeSendsNothing() throws Exception {
        BigInteger stake = BigInteger.TEN.pow(18);
        Seed.Job disputed = Seed.job(1, true);
        escrow(disputed.jobId());
        String w = bondedWorker(disputed, 13, stake);
        pendingSlash(disputed, w, "0x" + "cd".repeat(32), "CANCELLED", "now() - interval '1 second'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(slashRecord(disputed.jobId(), disputed.taskIds().get(0))))).isEmpty();
        assertThat(Seed.one("select status from slashes where task_id = '" + disputed.taskIds().get(0) + "'")).isEqualTo("CANCELLED");
        try (MarketplaceChain op = ChainStack.operator()) {
            assertThat(op.slashable(w)).as("a cancelled (disputed) slash takes nothing").isEqualTo(stake);
        }

        Seed.Job gone = Seed.job(1, true); // its worker never bonded (or withdrew everything)
        escrow(gone.jobId());
        pendingSlash(gone, gone.workers().get(0), "0x" + "ef".repeat(32), "PENDING", "now() - interval '1 second'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(slashRecord(gone.jobId(), gone.taskIds().get(0))))).isEmpty();
        assertThat(Seed.one("select status || ' ' || amount || ' ' || coalesce(tx_hash, 'no tx') from slashes where task_id = '" + gone.taskIds().get(0) + "'"))
                .isEqualTo("NOTHING_TO_SLASH 0 no tx");

        // a SLASH request for a task with no recorded slash can never succeed: it fails alone, towards the DLQ
        SqsEvents.Rec unknown = slashRecord(gone.jobId(), "task-nope");
        assertThat(SqsEvents.invoke(QUEUE, List.of(unknown))).containsExactly(unknown.messageId());
    }

    @Test
    void theDeadlineClosesAnOpenRoundDroppingItsStragglersAndSettlesIt() throws Exception {
        Seed.Job j = Seed.job(3, false);
        Seed.exec("insert into verdicts (task_id, job_id, round_no, accepted, decided_at) values ('" + j.taskIds().get(0) + "', '" + j.jobId() + "', 1, true, now())");
        Seed.exec("update tasks set status = 'ACCEPTED' where id = '" + j.taskIds().get(0) + "'");
        Seed.exec("update tasks set status = 'SUBMITTED' where id = '" + j.taskIds().get(1) + "'");
        SqsEvents.Rec rec = SqsEvents.Rec.of("{\"kind\":\"DEADLINE\",\"jobId\":\"" + j.jobId() + "\",\"round\":1}");
        try (software.amazon.awssdk.services.sqs.SqsClient sqs = TestStack.sqs()) {
            String url = TestStack.queueUrl(Queues.SETTLE);
            int before = delayed(sqs, url);
            // not due yet (Seed: deadline in an hour): the clock re-queues itself, the round stays open
            assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).isEmpty();
            assertThat(Seed.one("select status from rounds where job_id = '" + j.jobId() + "'")).isEqualTo("OPEN");
            assertThat(delayed(sqs, url)).isEqualTo(before + 1);
        }
        Seed.exec("update rounds set deadline = now() - interval '1 second' where job_id = '" + j.jobId() + "'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(rec.messageId(), rec.body(), 2)))).isEmpty();
        assertThat(Seed.one("select status from rounds where job_id = '" + j.jobId() + "'")).isEqualTo("CLOSED");
        assertThat(Seed.one("select string_agg(status, ',' order by id collate \"C\") from tasks where job_id = '" + j.jobId() + "'"))
                .as("the straggler is DROPPED; the accepted and the submitted-but-unverified keep their state")
                .isEqualTo(String.join(",", statusesInIdOrder(j, "ACCEPTED", "SUBMITTED", "DROPPED")));
        // the seeded round has its model recorded already, so its settlement is queued at once
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'settle-round:" + j.jobId() + ":1'")).isEqualTo("1");
        // redelivered: nothing more
        assertThat(SqsEvents.invoke(QUEUE, List.of(new SqsEvents.Rec(rec.messageId(), rec.body(), 3)))).isEmpty();
        assertThat(Seed.one("select count(*) from tasks where job_id = '" + j.jobId() + "' and status = 'DROPPED'")).isEqualTo("1");
    }

    @Test
    void aRoundThatGotNothingClosesAtItsDeadlineWithoutModelOrSettlement() throws Exception {
        Seed.Job j = Seed.job(2, false);
        Seed.exec("update rounds set global_model_hash = null, deadline = now() - interval '1 second' where job_id = '" + j.jobId() + "'");
        assertThat(SqsEvents.invoke(QUEUE, List.of(SqsEvents.Rec.of("{\"kind\":\"DEADLINE\",\"jobId\":\"" + j.jobId() + "\",\"round\":1}")))).isEmpty();
        assertThat(Seed.one("select status || ' ' || coalesce(global_model_hash, 'no model') from rounds where job_id = '" + j.jobId() + "'"))
                .isEqualTo("CLOSED no model");
        assertThat(Seed.one("select count(*) from tasks where job_id = '" + j.jobId() + "' and status = 'DROPPED'")).isEqualTo("2");
        assertThat(Seed.one("select count(*) from outbox where dedup_key = 'settle-round:" + j.jobId() + ":1'")).isEqualTo("0");
        // a DEADLINE for a round that does not exist can never succeed: it fails alone
        SqsEvents.Rec none = SqsEvents.Rec.of("{\"kind\":\"DEADLINE\",\"jobId\":\"" + j.jobId() + "\",\"round\":9}");
        assertThat(SqsEvents.invoke(QUEUE, List.of(none))).containsExactly(none.messageId());
    }

    /** The statuses of j's tasks 0, 1, 2 in the order of their ids. */
    static List<String> statusesInIdOrder(Seed.Job j, String... statuses) {
        List<Integer> order = new java.util.ArrayList<>(List.of(0, 1, 2));
        order.sort(java.util.Comparator.comparing(i -> j.taskIds().get(i)));
        return order.stream().map(i -> statuses[i]).toList();
    }

    static int delayed(software.amazon.awssdk.services.sqs.SqsClient sqs, String url) {
        return Integer.parseInt(sqs.getQueueAttributes(b -> b.queueUrl(url).attributeNamesWithStrings("ApproximateNumberOfMessagesDelayed"))
                .attributesAsStrings().getOrDefault("ApproximateNumberOfMessagesDelayed", "0"));
    }

    @Test
    void anOpenRoundIsNotSettledAndStaysForRetry() throws Exception {
        Seed.Job j = Seed.job(2, true);
        SqsEvents.Rec rec = settleRecord(j.jobId());
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).containsExactly(rec.messageId());
        assertThat(Seed.one("select count(*) from payout_roots where job_id = '" + j.jobId() + "'")).isEqualTo("0");
        assertThat(Seed.one("select count(*) from processed_messages where business_key like '%" + j.jobId() + "%'")).as("failure rolls back the key").isEqualTo("0");
    }
}
