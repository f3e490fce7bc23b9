package io.fedmarket.chain;

import io.fedmarket.chain.generated.Marketplace;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.MerkleTree;
import io.fedmarket.crypto.PayoutLeaf;
import io.fedmarket.crypto.PayoutTree;
import io.fedmarket.crypto.SubmissionSignature;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.methods.response.VoidResponse;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Against a real anvil started here: deploy, escrow, bond, rounds, Merkle claims, slashing, event sync. */
class MarketplaceChainTest {
    private static final BigInteger E18 = BigInteger.TEN.pow(18);

    @TempDir
    static Path tmp;
    static AnvilNode anvil;
    static Map<String, String> contracts;
    static MarketplaceChain admin;

    @BeforeAll
    static void start() {
        anvil = AnvilNode.start(0, tmp.resolve("anvil-state.json"), tmp.resolve("anvil.log"));
        contracts = MarketplaceDeployer.deployLocal(anvil.rpcUrl());
        admin = MarketplaceChain.connect(anvil.rpcUrl(), DevAccounts.account(0), contracts, MarketplaceChain.Options.defaults());
    }

    @AfterAll
    static void stop() {
        if (admin != null) {
            admin.close();
        }
        if (anvil != null) {
            anvil.close();
        }
    }

    static byte[] id(String s) {
        return Hashes.keccak256(s.getBytes(StandardCharsets.UTF_8));
    }

    static BigInteger tokens(long n) {
        return BigInteger.valueOf(n).multiply(E18);
    }

    @Test
    void devAccountsAreAnvils() {
        assertThat(DevAccounts.account(0).getAddress()).isEqualTo("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
        assertThat(admin.hasRole("COORDINATOR_ROLE", admin.address())).isTrue();
        assertThat(admin.tokenBalance(DevAccounts.account(5).getAddress())).isEqualTo(MarketplaceDeployer.DEV_MINT);
    }

    @Test
    void fullJobLifecycleWithJavaMerkleProofs() {
        byte[] job = id("job-lifecycle");
        MarketplaceChain builder = admin.as(DevAccounts.account(1));
        Credentials[] providers = {DevAccounts.account(2), DevAccounts.account(3), DevAccounts.account(4)};
        String p2 = providers[0].getAddress(), p3 = providers[1].getAddress(), p4 = providers[2].getAddress();
        String treasury = DevAccounts.account(DevAccounts.TREASURY).getAddress();
        long fromBlock = admin.blockNumber() + 1;

        builder.approve(tokens(1000));
        builder.openJob(job, tokens(1000), admin.latestTimestamp() + 3600);
        for (Credentials p : providers) {
            MarketplaceChain pc = admin.as(p);
            pc.approve(tokens(100));
            pc.bond(tokens(100));
        }
        assertThat(admin.bondOf(p4).bonded).isEqualTo(tokens(100));

        PayoutTree r1 = PayoutTree.of(Map.of(p2, tokens(10), p3, tokens(20), p4, tokens(5)));
        MarketplaceChain.TxResult posted = admin.postRound(job, 1, id("model-1"), r1.root(), tokens(35));
        assertThat(posted.gasUsed()).isLessThanOrEqualTo(BigInteger.valueOf(80_000));

        BigInteger p2Before = admin.tokenBalance(p2);
        MarketplaceChain.TxResult c1 = admin.as(providers[0]).claim(job, p2, tokens(10), r1.proof(p2));
        assertThat(c1.gasUsed()).isLessThanOrEqualTo(BigInteger.valueOf(75_000));
        // a claim credits the marketplace account; the wallet is paid on withdrawal
        assertThat(admin.unwithdrawn(job, p2)).isEqualTo(tokens(10));
        assertThat(admin.tokenBalance(p2)).isEqualTo(p2Before);

        PayoutTree r2 = PayoutTree.of(Map.of(p2, tokens(25), p3, tokens(20), p4, tokens(15)));
        admin.postRound(job, 2, id("model-2"), r2.root(), tokens(60));
        // anyone may submit a claim; the money goes to the account in the leaf
        admin.claim(job, p2, tokens(25), r2.proof(p2));
        admin.claim(job, p3, tokens(20), r2.proof(p3));
        assertThat(admin.unwithdrawn(job, p2)).isEqualTo(tokens(25));
        assertThat(admin.claimed(job, p3)).isEqualTo(tokens(20));
        admin.as(providers[0]).withdraw(List.of(job));
        assertThat(admin.tokenBalance(p2).subtract(p2Before)).isEqualTo(tokens(25));
        assertThat(admin.unwithdrawn(job, p2)).isZero();
        assertThatThrownBy(() -> admin.as(providers[0]).withdraw(List.of(job)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> {
                    assertThat(e.errorName()).isEqualTo("NothingToWithdraw");
                    assertThat(e.args()).containsEntry("account", p2);
                });

        assertThatThrownBy(() -> admin.postRound(job, 2, id("model-2b"), r2.root(), tokens(60)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> {
                    assertThat(e.errorName()).isEqualTo("RoundAlreadyPosted");
                    assertThat(e.args()).containsEntry("round", BigInteger.TWO);
                    assertThat(e.getMessage()).contains("postRound reverted: RoundAlreadyPosted").contains("post the next round");
                });
        assertThatThrownBy(() -> builder.postRound(job, 3, id("m"), r2.root(), tokens(60)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> {
                    assertThat(e.errorName()).isEqualTo("AccessControlUnauthorizedAccount");
                    assertThat(e.args()).containsEntry("account", builder.address());
                });
        assertThatThrownBy(() -> admin.claim(job, p2, tokens(25), r2.proof(p2)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("NothingToClaim"));
        assertThatThrownBy(() -> admin.claim(job, p4, tokens(50), r2.proof(p4)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("InvalidProof"));
        assertThatThrownBy(() -> admin.postRound(job, 3, id("m3"), r2.root(), tokens(5000)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("PayoutsExceedEscrow"));

        // slash half to the job's escrow, half to the treasury
        BigInteger treasuryBefore = admin.tokenBalance(treasury);
        BigInteger depositedBefore = admin.job(job).deposited;
        admin.slash(p4, tokens(40), job, id("evidence: failed verification of p4"));
        assertThat(admin.bondOf(p4).bonded).isEqualTo(tokens(60));
        assertThat(admin.tokenBalance(treasury).subtract(treasuryBefore)).isEqualTo(tokens(20));
        assertThat(admin.job(job).deposited.subtract(depositedBefore)).isEqualTo(tokens(20));
        assertThatThrownBy(() -> admin.slash(p4, tokens(61), job, id("too much")))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> {
                    assertThat(e.errorName()).isEqualTo("SlashExceedsBond");
                    assertThat(e.args()).containsEntry("slashable", tokens(60));
                });
        assertThatThrownBy(() -> builder.slash(p4, tokens(1), job, id("x")))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("AccessControlUnauthorizedAccount"));

        // unbonding delay is enforced
        MarketplaceChain p3c = admin.as(providers[1]);
        p3c.requestUnbond(tokens(30));
        assertThatThrownBy(p3c::withdrawUnbonded)
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("StillUnbonding"));

        // finish + refund: the uncommitted budget (plus compensation) returns, committed payouts stay claimable
        admin.finishJob(job);
        BigInteger builderBefore = admin.tokenBalance(builder.address());
        builder.refund(job);
        assertThat(admin.tokenBalance(builder.address()).subtract(builderBefore)).isEqualTo(tokens(1000 + 20 - 60));
        admin.claim(job, p4, tokens(15), r2.proof(p4));
        Marketplace.Job j = admin.job(job);
        BigInteger paid = admin.claimed(job, p2).add(admin.claimed(job, p3)).add(admin.claimed(job, p4));
        // conservation with nothing left held: paid + refunded = deposited
        assertThat(paid).isEqualTo(tokens(60));
        assertThat(paid.add(j.refunded)).isEqualTo(j.deposited);

        List<MarketEvent> events = new ArrayList<>();
        EventSync sync = new EventSync(admin, new InMemoryCursorStore(), "lifecycle", 1, fromBlock);
        sync.syncOnce(events::add);
        List<MarketEvent> mine = events.stream().filter(e -> Hashes.hex(job).equals(e.args().get("jobId"))).toList();
        assertThat(mine).extracting(MarketEvent::name).containsExactly("JobOpened", "RoundPosted", "Claimed", "RoundPosted",
                "Claimed", "Claimed", "Withdrawn", "Slashed", "JobFinished", "Refunded", "Claimed");
        MarketEvent round2 = mine.get(3);
        assertThat(round2.args()).containsEntry("round", BigInteger.TWO).containsEntry("modelHash", Hashes.hex(id("model-2")))
                .containsEntry("payoutRoot", r2.rootHex());
        assertThat(sync.syncOnce(e -> { })).isZero();
    }

    /** A top-up of an open job grows its escrow; refund returns exactly what no round committed, top-ups included. */
    @Test
    void depositTopsUpAnOpenJobAndRefundReturnsWhatNoRoundCommitted() {
        byte[] job = id("job-deposit");
        MarketplaceChain builder = admin.as(DevAccounts.account(10));
        Credentials provider = DevAccounts.account(11);
        String market = admin.marketplaceAddress();
        builder.approve(tokens(1000));
        BigInteger builderStart = admin.tokenBalance(builder.address());
        BigInteger marketStart = admin.tokenBalance(market);

        builder.openJob(job, tokens(100), admin.latestTimestamp() + 3600);
        MarketplaceChain.TxResult topUp = builder.deposit(job, tokens(50));
        assertThat(admin.jobState(job).deposited()).isEqualTo(tokens(150));
        assertThat(admin.tokenBalance(builder.address())).isEqualTo(builderStart.subtract(tokens(150)));
        assertThat(admin.tokenBalance(market)).isEqualTo(marketStart.add(tokens(150)));
        assertThat(topUp.logs().stream().filter(l -> l.getAddress().equalsIgnoreCase(market)).map(admin::decode).flatMap(java.util.Optional::stream).toList()).singleElement().satisfies(ev -> {
            assertThat(ev.getKey()).isEqualTo("Deposited");
            assertThat(ev.getValue()).containsEntry("jobId", Hashes.hex(job)).containsEntry("from", builder.address())
                    .containsEntry("amount", tokens(50));
        });

        // a round commits 40; a top-up after it still goes to the escrow
        PayoutTree t = PayoutTree.of(Map.of(provider.getAddress(), tokens(40)));
        admin.postRound(job, 1, id("model-deposit"), t.root(), tokens(40));
        builder.deposit(job, tokens(25));
        MarketplaceChain.JobState st = admin.jobState(job);
        assertThat(st.deposited()).isEqualTo(tokens(175));
        assertThat(st.committed()).isEqualTo(tokens(40));
        // a round may now commit up to the larger escrow
        assertThatThrownBy(() -> admin.postRound(job, 2, id("m"), t.root(), tokens(176)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("PayoutsExceedEscrow"));

        // only the builder tops up, never zero, only while the job is open
        assertThatThrownBy(() -> admin.as(DevAccounts.account(12)).deposit(job, tokens(1)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("NotBuilder"));
        assertThatThrownBy(() -> builder.deposit(job, BigInteger.ZERO))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("ZeroAmount"));
        assertThatThrownBy(() -> builder.deposit(id("job-deposit-unknown"), tokens(1)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("JobNotOpen"));
        admin.finishJob(job);
        assertThatThrownBy(() -> builder.deposit(job, tokens(1)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("JobNotOpen"));

        BigInteger beforeRefund = admin.tokenBalance(builder.address());
        builder.refund(job);
        assertThat(admin.tokenBalance(builder.address()).subtract(beforeRefund)).isEqualTo(tokens(175 - 40));
        assertThat(admin.job(job).refunded).isEqualTo(tokens(135));
        // the committed 40 stays claimable; once withdrawn the escrow is empty and the builder is out exactly 40
        admin.claim(job, provider.getAddress(), tokens(40), t.proof(provider.getAddress()));
        admin.as(provider).withdraw(List.of(job));
        assertThat(admin.tokenBalance(market)).isEqualTo(marketStart);
        assertThat(admin.tokenBalance(builder.address())).isEqualTo(builderStart.subtract(tokens(40)));
    }

    /** 20,000 participants: proofs of 15 hashes; every claim, also to an address that never held the token, stays under 75k gas. */
    @Test
    void javaMerkleProofsOfManyLeavesAreAcceptedByTheContract() {
        byte[] job = id("job-big-tree");
        admin.approve(tokens(10_000));
        admin.openJob(job, tokens(10_000), admin.latestTimestamp() + 3600);
        Map<String, BigInteger> payouts = new LinkedHashMap<>();
        for (int i = 1; i <= 19_999; i++) {
            payouts.put(String.format("0x%040x", 0x1000 + i), BigInteger.valueOf(i * 1000L));
        }
        payouts.put(DevAccounts.account(6).getAddress(), tokens(3));
        PayoutTree tree = PayoutTree.of(payouts);
        BigInteger total = payouts.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
        MarketplaceChain.TxResult posted = admin.postRound(job, 1, id("m"), tree.root(), total);
        // a round costs the same whatever the number of participants: one root, one total
        assertThat(posted.gasUsed()).isLessThanOrEqualTo(BigInteger.valueOf(80_000));
        String funded = DevAccounts.account(6).getAddress();
        assertThat(tree.proof(funded)).hasSizeGreaterThanOrEqualTo(14);
        BigInteger walletBefore = admin.tokenBalance(funded);
        MarketplaceChain.TxResult r = admin.claim(job, funded, tree.cumulative(funded), tree.proof(funded));
        assertThat(r.gasUsed()).isLessThanOrEqualTo(BigInteger.valueOf(75_000));
        assertThat(admin.claimed(job, funded)).isEqualTo(tree.cumulative(funded));
        // addresses that never held the token nor bonded: the claim does not touch the token, so the same bound holds
        assertThat(admin.unwithdrawn(job, funded)).isEqualTo(tree.cumulative(funded));
        for (String a : List.of(String.format("0x%040x", 0x1001), String.format("0x%040x", 0x1000 + 12_345))) {
            MarketplaceChain.TxResult fresh = admin.claim(job, a, tree.cumulative(a), tree.proof(a));
            assertThat(fresh.gasUsed()).isLessThanOrEqualTo(BigInteger.valueOf(75_000));
            assertThat(admin.claimed(job, a)).isEqualTo(tree.cumulative(a));
            assertThat(admin.unwithdrawn(job, a)).isEqualTo(tree.cumulative(a));
            assertThat(admin.tokenBalance(a)).isZero();
        }
        admin.as(DevAccounts.account(6)).withdraw(List.of(job));
        assertThat(admin.tokenBalance(funded).subtract(walletBefore)).isEqualTo(tree.cumulative(funded));

        // The contract hashes (account, cumulative) itself, as PayoutLeaf does: a tree whose leaves were hashed any
        // other way is refused even though each proof is sound for its leaf as hashed. Round 2 of the job commits
        // such a tree; next to it a correctly hashed leaf, which claims (so the root is live and the refusals come
        // from the hashing alone).
        String other = DevAccounts.account(7).getAddress();
        BigInteger four = tokens(4);
        byte[] singleHash = Hashes.keccak256(abiEncode(funded, four)); // no second keccak
        byte[] packed = Hashes.keccak256(Hashes.keccak256(Hashes.fromHex(funded), uint256(four))); // abi.encodePacked
        byte[] swapped = Hashes.keccak256(Hashes.keccak256(uint256(four), pad32(Hashes.fromHex(funded)))); // (cumulative, account)
        byte[] fiveLeaf = new PayoutLeaf(funded, tokens(5)).hash(); // right hashing, another amount
        byte[] good = new PayoutLeaf(other, tokens(1)).hash();
        List<byte[]> wrongLeaves = List.of(singleHash, packed, swapped, fiveLeaf, good);
        MerkleTree wrong = MerkleTree.of(wrongLeaves);
        admin.postRound(job, 2, id("m2"), wrong.root(), total);
        for (int i = 0; i < 3; i++) {
            assertThat(MerkleTree.verify(wrong.proof(i), wrong.root(), wrongLeaves.get(i))).as("Java proof of leaf %d", i).isTrue();
            List<byte[]> p = wrong.proof(i);
            assertThatThrownBy(() -> admin.claim(job, funded, four, p)).as("leaf %d hashed the wrong way", i)
                    .isInstanceOfSatisfying(ChainRevertException.class, e -> {
                        assertThat(e.errorName()).isEqualTo("InvalidProof");
                        assertThat(e.args()).containsEntry("account", funded).containsEntry("cumulative", four);
                    });
        }
        // the proof of (funded, 5) does not prove (funded, 4), nor (other, 5)
        assertThatThrownBy(() -> admin.claim(job, funded, four, wrong.proof(3)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> assertThat(e.errorName()).isEqualTo("InvalidProof"));
        assertThatThrownBy(() -> admin.claim(job, other, tokens(5), wrong.proof(3)))
                .isInstanceOfSatisfying(ChainRevertException.class, e -> {
                    assertThat(e.errorName()).isEqualTo("InvalidProof");
                    assertThat(e.args()).containsEntry("account", other).containsEntry("cumulative", tokens(5));
                });
        assertThat(admin.claimed(job, funded)).isEqualTo(tokens(3));
        admin.claim(job, other, tokens(1), wrong.proof(4));
        assertThat(admin.claimed(job, other)).isEqualTo(tokens(1));
    }

    /** abi.encode(address, uint256). */
    private static byte[] abiEncode(String account, BigInteger amount) {
        byte[] out = new byte[64];
        System.arraycopy(pad32(Hashes.fromHex(account)), 0, out, 0, 32);
        System.arraycopy(uint256(amount), 0, out, 32, 32);
        return out;
    }

    private static byte[] pad32(byte[] b) {
        byte[] out = new byte[32];
        System.arraycopy(b, 0, out, 32 - b.length, b.length);
        return out;
    }

    private static byte[] uint256(BigInteger v) {
        return org.web3j.utils.Numeric.toBytesPadded(v, 32);
    }

    @Test
    void submissionSignaturesMatchTheContractsEip712Domain() throws Exception {
        SubmissionSignature sigs = admin.submissionSignature();
        Credentials worker = DevAccounts.account(7);
        SubmissionSignature.Submission s = new SubmissionSignature.Submission(id("task-1"), id("update"), id("proof-root"), 300, 42);
        byte[] signature = sigs.sign(s, worker);
        assertThat(sigs.recover(s, signature)).isEqualTo(worker.getAddress());

        var market = Marketplace.load(admin.marketplaceAddress(), admin.web3j(),
                new org.web3j.tx.ReadonlyTransactionManager(admin.web3j(), admin.address()), new org.web3j.tx.gas.DefaultGasProvider());
        assertThat(market.domainSeparator().send()).isEqualTo(sigs.domainSeparator());
        Marketplace.Submission onChain = new Marketplace.Submission(s.task(), s.updateHash(), s.proofRoot(), BigInteger.valueOf(300), BigInteger.valueOf(42));
        assertThat(market.submissionDigest(onChain).send()).isEqualTo(sigs.digest(s));
        assertThat(market.submissionSigner(onChain, signature).send().toLowerCase()).isEqualTo(worker.getAddress());

        SubmissionSignature.Submission tampered = new SubmissionSignature.Submission(id("task-1"), id("update"), id("proof-root"), 301, 42);
        assertThat(sigs.verify(tampered, signature, worker.getAddress())).isFalse();
        assertThatThrownBy(() -> sigs.recover(s, new byte[64])).hasMessageContaining("65 bytes");
    }

    /** The key's transaction count on the node (mined transactions). */
    static BigInteger nonceOf(String address) throws Exception {
        return admin.web3j().ethGetTransactionCount(address, org.web3j.protocol.core.DefaultBlockParameterName.LATEST).send()
                .getTransactionCount();
    }

    /** {@code n} approvals (distinct amounts, so distinct transactions) sent from 8 threads, spread over {@code facades}. */
    static List<MarketplaceChain.TxResult> approveConcurrently(List<MarketplaceChain> facades, int n, long amountBase) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<MarketplaceChain.TxResult>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                MarketplaceChain f = facades.get(i % facades.size());
                BigInteger amount = BigInteger.valueOf(amountBase + i);
                fs.add(pool.submit(() -> f.approve(amount)));
            }
            List<MarketplaceChain.TxResult> out = new ArrayList<>();
            for (Future<MarketplaceChain.TxResult> f : fs) {
                out.add(f.get(60, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Every result is a distinct transaction from {@code address}, mined with status 1, and their nonces are exactly
     * {@code before .. before + n - 1}: the account's nonce rose by exactly {@code n} (nothing lost, nothing doubled).
     */
    static void assertMinedWithConsecutiveNonces(List<MarketplaceChain.TxResult> results, String address, BigInteger before) throws Exception {
        int n = results.size();
        assertThat(results.stream().map(MarketplaceChain.TxResult::txHash).distinct().count()).isEqualTo(n);
        Set<BigInteger> nonces = new HashSet<>();
        for (MarketplaceChain.TxResult r : results) {
            var receipt = admin.web3j().ethGetTransactionReceipt(r.txHash()).send().getTransactionReceipt().orElseThrow();
            assertThat(receipt.isStatusOK()).as("receipt of %s", r.txHash()).isTrue();
            assertThat(receipt.getFrom()).isEqualToIgnoringCase(address);
            var tx = admin.web3j().ethGetTransactionByHash(r.txHash()).send().getTransaction().orElseThrow();
            nonces.add(tx.getNonce());
        }
        Set<BigInteger> expected = new HashSet<>();
        for (int i = 0; i < n; i++) {
            expected.add(before.add(BigInteger.valueOf(i)));
        }
        assertThat(nonces).isEqualTo(expected);
        assertThat(nonceOf(address)).isEqualTo(before.add(BigInteger.valueOf(n)));
    }

    @Test
    void concurrentSendsFromOneKeyGetDistinctNonces() throws Exception {
        MarketplaceChain sender = admin.as(DevAccounts.account(8));
        BigInteger before = nonceOf(sender.address());
        List<MarketplaceChain.TxResult> results = approveConcurrently(List.of(sender), 40, 1);
        assertMinedWithConsecutiveNonces(results, sender.address(), before);
        assertThat(admin.web3j().ethGetTransactionCount(sender.address(), org.web3j.protocol.core.DefaultBlockParameterName.PENDING)
                .send().getTransactionCount()).as("nothing left pending").isEqualTo(before.add(BigInteger.valueOf(40)));
    }

    /**
     * Two facades (as two processes would have) for one key, taking turns: each caches its next nonce, so every
     * turn collides with the other's last send; the facade gets "nonce too low", resyncs from the node and sends
     * once. The nonce rises by exactly the number of sends.
     */
    @Test
    void twoFacadesOfOneKeyTakingTurnsResyncOnNonceTooLow() throws Exception {
        Credentials key = DevAccounts.account(9);
        try (MarketplaceChain a = MarketplaceChain.connect(anvil.rpcUrl(), key, contracts, MarketplaceChain.Options.defaults());
             MarketplaceChain b = MarketplaceChain.connect(anvil.rpcUrl(), key, contracts, MarketplaceChain.Options.defaults())) {
            BigInteger before = nonceOf(a.address());
            List<MarketplaceChain.TxResult> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add((i % 2 == 0 ? a : b).approve(BigInteger.valueOf(1_000 + i)));
            }
            assertMinedWithConsecutiveNonces(results, a.address(), before);
        }
    }

    /**
     * Two facades for one key sending at the same time. Fails: each facade caches eth_gasPrice for 2 s, so their
     * fees differ by a little (anvil's base fee falls block by block); a facade whose cached nonce is the other's
     * pending transaction's nonce sends a higher-fee transaction that anvil takes as a REPLACEMENT of the pending
     * one, and the replaced sender waits out receiptTimeout (60 s) and throws "was not mined" (its operation lost);
     * or a facade that keeps losing the race gives up after 4 attempts with "replacement transaction underpriced".
     * The resync in signAndSend only covers "nonce too low" after the other's transaction is mined.
     */
    @Test
    void twoFacadesOfOneKeySendingConcurrentlyEverySendLandsOnce() throws Exception {
        Credentials key = DevAccounts.account(13);
        try (MarketplaceChain a = MarketplaceChain.connect(anvil.rpcUrl(), key, contracts, MarketplaceChain.Options.defaults());
             MarketplaceChain b = MarketplaceChain.connect(anvil.rpcUrl(), key, contracts, MarketplaceChain.Options.defaults())) {
            BigInteger before = nonceOf(a.address());
            List<MarketplaceChain.TxResult> results = new ArrayList<>();
            // a certain collision first (a caches before+1, b takes it), then both at once from 8 threads
            results.add(a.approve(BigInteger.valueOf(1_000)));
            results.add(b.approve(BigInteger.valueOf(1_001)));
            results.add(a.approve(BigInteger.valueOf(1_002)));
            results.addAll(approveConcurrently(List.of(a, b), 40, 2_000));
            assertMinedWithConsecutiveNonces(results, a.address(), before);
        }
    }

    @Test
    void eventSyncRefusesACursorTheChainNoLongerHas() {
        InMemoryCursorStore store = new InMemoryCursorStore();
        long head = admin.blockNumber();
        store.save("reorged", new EventCursor(head - 1, "0x" + "ab".repeat(32)));
        EventSync sync = new EventSync(admin, store, "reorged", 1, 0);
        assertThatThrownBy(() -> sync.syncOnce(e -> { }))
                .isInstanceOf(ChainException.class).hasMessageContaining("reorg deeper than 1 confirmations");
        // with N confirmations the newest N-1 blocks are not read yet
        InMemoryCursorStore fresh = new InMemoryCursorStore();
        new EventSync(admin, fresh, "deep", 3, Math.max(0, head - 5)).syncOnce(e -> { });
        assertThat(fresh.load("deep")).hasValueSatisfying(c -> assertThat(c.blockNumber()).isEqualTo(head - 2));
    }

    @Test
    void gasCapStopsExpensiveCallsBeforeSending() throws Exception {
        try (MarketplaceChain capped = MarketplaceChain.connect(anvil.rpcUrl(), DevAccounts.account(1), contracts,
                MarketplaceChain.Options.defaults().withGasCap(BigInteger.valueOf(30_000)))) {
            BigInteger nonceBefore = nonceOf(capped.address());
            BigInteger pendingBefore = capped.web3j().ethGetTransactionCount(capped.address(),
                    org.web3j.protocol.core.DefaultBlockParameterName.PENDING).send().getTransactionCount();
            assertThatThrownBy(() -> capped.approve(tokens(1)))
                    .isInstanceOf(GasCapExceededException.class).hasMessageContaining("above the cap of 30000");
            // nothing was signed and sent: the key's nonce, mined or pending, did not move
            assertThat(nonceOf(capped.address())).isEqualTo(nonceBefore);
            assertThat(capped.web3j().ethGetTransactionCount(capped.address(), org.web3j.protocol.core.DefaultBlockParameterName.PENDING)
                    .send().getTransactionCount()).isEqualTo(pendingBefore);
            // the same call under the default cap is sent, and the nonce read above sees it (the cap, not the call, stopped it)
            admin.as(DevAccounts.account(1)).approve(tokens(1));
            assertThat(nonceOf(capped.address())).isEqualTo(nonceBefore.add(BigInteger.ONE));
        }
    }

    @Test
    void waitsForConfirmations() throws Exception {
        try (MarketplaceChain confirming = MarketplaceChain.connect(anvil.rpcUrl(), DevAccounts.account(5), contracts,
                MarketplaceChain.Options.defaults().withConfirmations(3))) {
            CompletableFuture<MarketplaceChain.TxResult> f = CompletableFuture.supplyAsync(() -> confirming.approve(tokens(2)));
            Thread.sleep(500);
            assertThat(f).isNotDone(); // anvil mines only on transactions: nobody has built on it yet
            new Request<>("anvil_mine", List.of("0x2"), new org.web3j.protocol.http.HttpService(anvil.rpcUrl()), VoidResponse.class).send();
            MarketplaceChain.TxResult r = f.get(20, TimeUnit.SECONDS);
            assertThat(admin.blockNumber()).isGreaterThanOrEqualTo(r.blockNumber() + 2);
        }
    }
}
