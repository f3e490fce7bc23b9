package io.fedmarket.functions.consumers;

import io.fedmarket.chain.ChainRevertException;
import io.fedmarket.chain.MarketplaceChain;
import io.fedmarket.fl.proof.Hashes;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.web3j.crypto.Credentials;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;

/**
 * Posts a settled round {@code (job, round, modelHash, payoutRoot, total)} on chain with the coordinator key, once:
 * a retry of a round the chain already has finds its transaction instead of sending another; a round whose
 * predecessor is not on chain yet, or whose job the builder has not escrowed yet, is retried later (queue
 * redelivery); a round the contract can never take (job finished, payouts above the escrow) is a poison record.
 *
 * <p>The key is {@code fedmarket.coordinator-key}: a hex private key (local stack), or
 * {@code secretsmanager:<secret ARN>} on AWS (the secret's string is the hex key; only the settle role may read it).
 */
@ApplicationScoped
public class RoundPoster {
    private static final Logger LOG = Logger.getLogger(RoundPoster.class);

    /** What the chain says after a post. */
    public record Posted(String txHash, boolean sentNow) {
    }

    @ConfigProperty(name = "fedmarket.rpc-url")
    String rpcUrl;

    @ConfigProperty(name = "fedmarket.marketplace-address")
    Optional<String> marketplace;

    @ConfigProperty(name = "fedmarket.coordinator-key")
    Optional<String> coordinatorKey;

    @ConfigProperty(name = "fedmarket.chain.confirmations", defaultValue = "1")
    int confirmations;

    private MarketplaceChain chain;

    /** The on-chain id of a job: keccak256 of its id's string form (what the builder's openJob used). */
    public static byte[] onChainJobId(UUID jobId) {
        return Hashes.keccak(jobId.toString().getBytes(StandardCharsets.UTF_8));
    }

    synchronized MarketplaceChain chain() {
        if (chain == null) {
            String address = marketplace.filter(s -> !s.isBlank()).orElseThrow(() -> new Records.PoisonRecord(
                    "settle cannot post rounds: FEDMARKET_MARKETPLACE_ADDRESS (fedmarket.marketplace-address) is not set"));
            String key = coordinatorKey.filter(s -> !s.isBlank()).orElseThrow(() -> new Records.PoisonRecord(
                    "settle cannot post rounds: FEDMARKET_COORDINATOR_KEY (fedmarket.coordinator-key) is not set"));
            Credentials c = Credentials.create(resolveKey(key));
            chain = MarketplaceChain.connect(rpcUrl, c, address, MarketplaceChain.Options.defaults().withConfirmations(confirmations));
            if (!chain.hasRole("COORDINATOR_ROLE", c.getAddress())) {
                String who = c.getAddress();
                chain.close();
                chain = null;
                throw new Records.PoisonRecord("the settle key " + who + " lacks COORDINATOR_ROLE on " + address + ": grant it (grantRole)");
            }
            LOG.infof("posting rounds to %s as %s", address, c.getAddress());
        }
        return chain;
    }

    static String resolveKey(String key) {
        if (key.startsWith("secretsmanager:")) {
            String arn = key.substring("secretsmanager:".length());
            try (software.amazon.awssdk.services.secretsmanager.SecretsManagerClient sm = software.amazon.awssdk.services.secretsmanager.SecretsManagerClient
                    .builder().httpClient(software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient.create()).build()) {
                return sm.getSecretValue(b -> b.secretId(arn)).secretString().strip();
            }
        }
        if (!key.matches("(0x)?[0-9a-fA-F]{64}")) {
            throw new Records.PoisonRecord("fedmarket.coordinator-key must be a 32-byte hex private key or secretsmanager:<ARN>");
        }
        return key;
    }

    /**
     * Posts the round unless the chain has it already.
     *
     * @throws IllegalStateException (retried) when the job is not escrowed yet or round − 1 is not on chain yet
     */
    public Posted post(UUID jobId, int round, byte[] modelHash, byte[] payoutRoot, BigInteger totalCumulative) {
        MarketplaceChain c = chain();
        byte[] key = onChainJobId(jobId);
        MarketplaceChain.JobState job = c.jobState(key);
        int status = job.status();
        long last = job.lastRound();
        if (last >= round) {
            return new Posted(c.roundPostedTx(key, round).orElse(null), false);
        }
        if (status == 0) {
            throw new IllegalStateException("job " + jobId + " has no escrow on chain yet (the builder's openJob): round " + round + " is retried");
        }
        if (last < round - 1) {
            throw new IllegalStateException("round " + (round - 1) + " of job " + jobId + " is not on chain yet (the chain has " + last
                    + "): round " + round + " is retried after it");
        }
        try {
            MarketplaceChain.TxResult tx = c.postRound(key, round, modelHash, payoutRoot, totalCumulative);
            LOG.infof("posted round %d of %s: root %s, gas %s, tx %s", round, jobId, Hashes.hex(payoutRoot), tx.gasUsed(), tx.txHash());
            return new Posted(tx.txHash(), true);
        } catch (ChainRevertException e) {
            if ("RoundAlreadyPosted".equals(e.errorName())) { // another delivery won the race
                return new Posted(c.roundPostedTx(key, round).orElse(null), false);
            }
            if ("RoundOutOfOrder".equals(e.errorName())) {
                throw new IllegalStateException(e.getMessage() + ": retried", e);
            }
            throw new Records.PoisonRecord("the contract refuses round " + round + " of job " + jobId + ": " + e.getMessage());
        }
    }

    /** The job's escrow as the chain holds it (status 0: the builder has not opened it yet). */
    public MarketplaceChain.JobState escrow(UUID jobId) {
        return chain().jobState(onChainJobId(jobId));
    }

    /**
     * Marks the job finished on chain after its last round (the builder may then refund what was not committed), once:
     * a job that is not Open any more is left alone. Returns the transaction, or null when nothing was sent.
     */
    public String finish(UUID jobId) {
        MarketplaceChain c = chain();
        byte[] key = onChainJobId(jobId);
        if (c.jobState(key).status() != 1) {
            return null;
        }
        try {
            MarketplaceChain.TxResult tx = c.finishJob(key);
            LOG.infof("finished job %s on chain: gas %s, tx %s", jobId, tx.gasUsed(), tx.txHash());
            return tx.txHash();
        } catch (ChainRevertException e) {
            if ("JobNotOpen".equals(e.errorName())) {
                return null;
            }
            throw new Records.PoisonRecord("the contract refuses to finish job " + jobId + ": " + e.getMessage());
        }
    }

    /** What the chain says after a slash: the transaction (null when nothing was taken) and the amount taken. */
    public record Slashed(String txHash, BigInteger amount, boolean sentNow) {
    }

    /**
     * Slashes everything {@code worker} has at stake (bonded + unbonding) with {@code evidenceHash}, the jobs's share going
     * to its escrow, unless the chain already has a slash of this worker in this job with this evidence (a retry finds
     * it instead of slashing twice). Nothing at stake: no transaction, amount 0.
     */
    public Slashed slash(UUID jobId, String worker, byte[] evidenceHash) {
        MarketplaceChain c = chain();
        byte[] key = onChainJobId(jobId);
        Optional<MarketplaceChain.SlashOnChain> earlier = c.slashedWith(worker, key, evidenceHash);
        if (earlier.isPresent()) {
            return new Slashed(earlier.get().txHash(), earlier.get().amount(), false);
        }
        if (!c.hasRole("VERIFIER_ROLE", c.address())) {
            throw new Records.PoisonRecord("the settle key " + c.address() + " lacks VERIFIER_ROLE on " + c.marketplaceAddress()
                    + ": grant it (grantRole) to let settle slash");
        }
        BigInteger amount = c.slashable(worker);
        if (amount.signum() == 0) {
            return new Slashed(null, BigInteger.ZERO, false);
        }
        try {
            MarketplaceChain.TxResult tx = c.slash(worker, amount, key, evidenceHash);
            LOG.infof("slashed %s by %s in %s: evidence %s, gas %s, tx %s", worker, amount, jobId, Hashes.hex(evidenceHash), tx.gasUsed(), tx.txHash());
            return new Slashed(tx.txHash(), amount, true);
        } catch (ChainRevertException e) {
            if ("SlashExceedsBond".equals(e.errorName())) { // the stake moved between the read and the send
                throw new IllegalStateException(e.getMessage() + ": retried with the new stake", e);
            }
            throw new Records.PoisonRecord("the contract refuses to slash " + worker + " in job " + jobId + ": " + e.getMessage());
        }
    }

    @PreDestroy
    synchronized void close() {
        if (chain != null) {
            chain.close();
        }
    }
}
