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

    @Test
    void anOpenRoundIsNotSettledAndStaysForRetry() throws Exception {
        Seed.Job j = Seed.job(2, true);
        SqsEvents.Rec rec = settleRecord(j.jobId());
        assertThat(SqsEvents.invoke(QUEUE, List.of(rec))).containsExactly(rec.messageId());
        assertThat(Seed.one("select count(*) from payout_roots where job_id = '" + j.jobId() + "'")).isEqualTo("0");
        assertThat(Seed.one("select count(*) from processed_messages where business_key like '%" + j.jobId() + "%'")).as("failure rolls back the key").isEqualTo("0");
    }
}
