package io.fedmarket.chain;

import io.fedmarket.chain.generated.Marketplace;
import io.fedmarket.chain.generated.TestToken;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.PayoutLeaf;
import io.fedmarket.crypto.SubmissionSignature;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthBlock;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.ReadonlyTransactionManager;
import org.web3j.tx.gas.DefaultGasProvider;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one way the marketplace talks to its contracts. One instance per signing key: it owns the key,
 * its nonces (safe under concurrent sends from many threads), gas estimation under a cap, retries
 * of transient RPC failures, waiting for N confirmations (re-checking the receipt's block so a
 * reorged-out transaction is noticed), and decoding of reverts into {@link ChainRevertException}.
 * {@link #as(Credentials)} gives a sibling for another key on the same connection.
 */
public final class MarketplaceChain implements AutoCloseable {

    /**
     * @param confirmations blocks a receipt must be buried under (1 = mined); a local anvil mines only
     *                      on transactions, so keep 1 there
     * @param gasCap        never send a transaction estimated above this
     * @param maxRetries    attempts for a transient RPC failure (connection refused, timeout, 5xx, rate limit)
     */
    public record Options(int confirmations, BigInteger gasCap, int maxRetries, Duration retryBackoff,
                          Duration receiptTimeout, Duration pollInterval) {
        public Options {
            if (confirmations < 1) {
                throw new IllegalArgumentException("confirmations must be ≥ 1, got " + confirmations);
            }
            if (gasCap == null || gasCap.signum() <= 0) {
                throw new IllegalArgumentException("gasCap must be positive, got " + gasCap);
            }
            if (maxRetries < 1) {
                throw new IllegalArgumentException("maxRetries must be ≥ 1, got " + maxRetries);
            }
        }

        public static Options defaults() {
            return new Options(1, BigInteger.valueOf(3_000_000), 8, Duration.ofMillis(100), Duration.ofSeconds(60), Duration.ofMillis(20));
        }

        public Options withConfirmations(int n) {
            return new Options(n, gasCap, maxRetries, retryBackoff, receiptTimeout, pollInterval);
        }

        public Options withGasCap(BigInteger cap) {
            return new Options(confirmations, cap, maxRetries, retryBackoff, receiptTimeout, pollInterval);
        }
    }

    /** A mined (and confirmed) transaction. */
    public record TxResult(String operation, String txHash, long blockNumber, String blockHash, BigInteger gasUsed, List<Log> logs) {
    }

    private static final Pattern HEX_DATA = Pattern.compile("0x[0-9a-fA-F]{8,}");

    private final Web3j web3j;
    private final boolean ownsWeb3j;
    private final Credentials credentials;
    private final long chainId;
    private final String marketplaceAddress;
    private final String tokenAddress;
    private final Options options;
    private final AbiCatalog abi = AbiCatalog.defaultCatalog();
    private final Marketplace marketplace;
    private final TestToken token;
    private final ReentrantLock nonceLock = new ReentrantLock();
    private BigInteger nextNonce; // guarded by nonceLock; null = ask the node
    private volatile BigInteger cachedGasPrice;
    private volatile long gasPriceAt;

    private MarketplaceChain(Web3j web3j, boolean owns, Credentials credentials, long chainId, String marketplace, String token, Options options) {
        this.web3j = web3j;
        this.ownsWeb3j = owns;
        this.credentials = credentials;
        this.chainId = chainId;
        this.marketplaceAddress = PayoutLeaf.normalizeAddress(marketplace);
        this.tokenAddress = PayoutLeaf.normalizeAddress(token);
        this.options = options;
        ReadonlyTransactionManager ro = new ReadonlyTransactionManager(web3j, credentials.getAddress());
        this.marketplace = Marketplace.load(marketplaceAddress, web3j, ro, new DefaultGasProvider());
        this.token = TestToken.load(tokenAddress, web3j, ro, new DefaultGasProvider());
    }

    /**
     * Connects to {@code rpcUrl} with {@code credentials}; {@code contracts} holds "marketplace" and
     * "token" addresses (what {@link MarketplaceDeployer} returns and endpoints.json stores).
     */
    public static MarketplaceChain connect(String rpcUrl, Credentials credentials, Map<String, String> contracts, Options options) {
        String m = contracts.get(MarketplaceDeployer.MARKETPLACE);
        String t = contracts.get(MarketplaceDeployer.TOKEN);
        if (m == null || t == null) {
            throw new IllegalArgumentException("contracts must name '" + MarketplaceDeployer.MARKETPLACE + "' and '" + MarketplaceDeployer.TOKEN
                    + "' addresses, got " + contracts.keySet() + ": deploy with MarketplaceDeployer (./mkt up does)");
        }
        Web3j w = Web3j.build(new HttpService(rpcUrl));
        long chainId = retrying("eth_chainId", options, () -> w.ethChainId().send()).getChainId().longValueExact();
        return new MarketplaceChain(w, true, credentials, chainId, m, t, options);
    }

    /** Connects knowing only the Marketplace's address: the token is read from the contract ({@code token()}). */
    public static MarketplaceChain connect(String rpcUrl, Credentials credentials, String marketplaceAddress, Options options) {
        if (marketplaceAddress == null || !marketplaceAddress.matches("0x[0-9a-fA-F]{40}")) {
            throw new IllegalArgumentException("the Marketplace address must be 0x and 40 hex digits, got '" + marketplaceAddress + "'");
        }
        Web3j w = Web3j.build(new HttpService(rpcUrl));
        try {
            long chainId = retrying("eth_chainId", options, () -> w.ethChainId().send()).getChainId().longValueExact();
            Marketplace m = Marketplace.load(marketplaceAddress, w, new ReadonlyTransactionManager(w, credentials.getAddress()), new DefaultGasProvider());
            String token = retrying("eth_call token", options, () -> m.token().send());
            return new MarketplaceChain(w, true, credentials, chainId, marketplaceAddress, token, options);
        } catch (RuntimeException e) {
            w.shutdown();
            throw e;
        }
    }

    /** The same chain and contracts, signing with another key (its own nonces). */
    public MarketplaceChain as(Credentials other) {
        return new MarketplaceChain(web3j, false, other, chainId, marketplaceAddress, tokenAddress, options);
    }

    public String address() {
        return credentials.getAddress().toLowerCase(Locale.ROOT);
    }

    public long chainId() {
        return chainId;
    }

    public String marketplaceAddress() {
        return marketplaceAddress;
    }

    public String tokenAddress() {
        return tokenAddress;
    }

    public Web3j web3j() {
        return web3j;
    }

    public AbiCatalog abi() {
        return abi;
    }

    /** The EIP-712 signer/verifier of submissions for this deployment. */
    public SubmissionSignature submissionSignature() {
        return new SubmissionSignature(chainId, marketplaceAddress);
    }

    // ------------------------------------------------------------------ marketplace operations

    public TxResult approve(BigInteger amount) {
        return send("approve", tokenAddress, token.approve(marketplaceAddress, amount).encodeFunctionCall());
    }

    /** TestToken only (local chains): mints to {@code to}. */
    public TxResult mintTestTokens(String to, BigInteger amount) {
        return send("mint", tokenAddress, token.mint(to, amount).encodeFunctionCall());
    }

    public TxResult openJob(byte[] jobId, BigInteger amount, long deadlineEpochSeconds) {
        return send("openJob", marketplaceAddress, marketplace.openJob(jobId, amount, BigInteger.valueOf(deadlineEpochSeconds)).encodeFunctionCall());
    }

    public TxResult deposit(byte[] jobId, BigInteger amount) {
        return send("deposit", marketplaceAddress, marketplace.deposit(jobId, amount).encodeFunctionCall());
    }

    public TxResult postRound(byte[] jobId, long round, byte[] modelHash, byte[] payoutRoot, BigInteger totalCumulative) {
        return send("postRound", marketplaceAddress,
                marketplace.postRound(jobId, BigInteger.valueOf(round), modelHash, payoutRoot, totalCumulative).encodeFunctionCall());
    }

    public TxResult finishJob(byte[] jobId) {
        return send("finishJob", marketplaceAddress, marketplace.finishJob(jobId).encodeFunctionCall());
    }

    public TxResult refund(byte[] jobId) {
        return send("refund", marketplaceAddress, marketplace.refund(jobId).encodeFunctionCall());
    }

    /** Books {@code account}'s new payout in the job (anyone may send it); {@link #withdraw} pays the wallet. */
    public TxResult claim(byte[] jobId, String account, BigInteger cumulative, List<byte[]> proof) {
        return send("claim", marketplaceAddress, marketplace.claim(jobId, account, cumulative, proof).encodeFunctionCall());
    }

    /** Pays this key's address, in one token transfer, what it claimed and has not withdrawn in {@code jobIds}. */
    public TxResult withdraw(List<byte[]> jobIds) {
        return send("withdraw", marketplaceAddress, marketplace.withdraw(jobIds).encodeFunctionCall());
    }

    public TxResult bond(BigInteger amount) {
        return send("bond", marketplaceAddress, marketplace.bond(amount).encodeFunctionCall());
    }

    public TxResult requestUnbond(BigInteger amount) {
        return send("requestUnbond", marketplaceAddress, marketplace.requestUnbond(amount).encodeFunctionCall());
    }

    public TxResult withdrawUnbonded() {
        return send("withdrawUnbonded", marketplaceAddress, marketplace.withdrawUnbonded().encodeFunctionCall());
    }

    public TxResult slash(String account, BigInteger amount, byte[] jobId, byte[] evidenceHash) {
        return send("slash", marketplaceAddress, marketplace.slash(account, amount, jobId, evidenceHash).encodeFunctionCall());
    }

    public TxResult grantRole(String role, String account) {
        return send("grantRole(" + role + ")", marketplaceAddress, marketplace.grantRole(roleId(role), account).encodeFunctionCall());
    }

    /** "COORDINATOR_ROLE", "VERIFIER_ROLE" or "DEFAULT_ADMIN_ROLE" → its bytes32 id. */
    public static byte[] roleId(String role) {
        return switch (role) {
            case "DEFAULT_ADMIN_ROLE" -> new byte[32];
            case "COORDINATOR_ROLE", "VERIFIER_ROLE" -> Hashes.keccak256(role.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            default -> throw new IllegalArgumentException("unknown role " + role + ": use COORDINATOR_ROLE, VERIFIER_ROLE or DEFAULT_ADMIN_ROLE");
        };
    }

    // ------------------------------------------------------------------ views

    public Marketplace.Job job(byte[] jobId) {
        return call("getJob", () -> marketplace.getJob(jobId).send());
    }

    /** A job's settlement state as the contract holds it. */
    public record JobState(String builder, BigInteger deposited, BigInteger committed, long deadline, long lastRound, int status,
                           byte[] payoutRoot) {
        /** Marketplace.JobStatus: 0 None, 1 Open, 2 Finished, 3 Closed. */
        public boolean exists() {
            return status != 0;
        }
    }

    /**
     * {@code getJob} decoded as the flat tuple it is (a static struct encodes like its fields), without the generated
     * wrapper's struct reflection, which fails under some class loaders (Quarkus: "Type cannot be encoded: class
     * java.lang.Class").
     */
    @SuppressWarnings("rawtypes")
    public JobState jobState(byte[] jobId) {
        List<org.web3j.abi.datatypes.Type> v = callFlat("getJob", List.of(new org.web3j.abi.datatypes.generated.Bytes32(jobId)),
                List.of(new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.Address>() { },
                        new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.generated.Uint96>() { },
                        new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.generated.Uint128>() { },
                        new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.generated.Uint128>() { },
                        new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.generated.Uint40>() { },
                        new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.generated.Uint32>() { },
                        new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.generated.Uint8>() { },
                        new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.generated.Bytes32>() { }));
        return new JobState(((org.web3j.abi.datatypes.Address) v.get(0)).getValue(), (BigInteger) v.get(2).getValue(),
                (BigInteger) v.get(3).getValue(), ((BigInteger) v.get(4).getValue()).longValueExact(),
                ((BigInteger) v.get(5).getValue()).longValueExact(), ((BigInteger) v.get(6).getValue()).intValueExact(),
                (byte[]) v.get(7).getValue());
    }

    /**
     * What a slash of {@code account} can take now: bonded + unbonding stake ({@code bondOf} decoded as its flat tuple,
     * like {@link #jobState}).
     */
    @SuppressWarnings("rawtypes")
    public BigInteger slashable(String account) {
        List<org.web3j.abi.datatypes.Type> v = callFlat("bondOf", List.of(new org.web3j.abi.datatypes.Address(account)),
                List.of(new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.generated.Uint128>() { },
                        new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.generated.Uint128>() { },
                        new org.web3j.abi.TypeReference<org.web3j.abi.datatypes.generated.Uint64>() { }));
        return ((BigInteger) v.get(0).getValue()).add((BigInteger) v.get(1).getValue());
    }

    /** eth_call of a view returning a static tuple, decoded field by field; a wrong count means a wrong contract. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private List<org.web3j.abi.datatypes.Type> callFlat(String function, List<org.web3j.abi.datatypes.Type> in,
                                                        List<org.web3j.abi.TypeReference<?>> out) {
        org.web3j.abi.datatypes.Function f = new org.web3j.abi.datatypes.Function(function, in, out);
        Transaction call = Transaction.createEthCallTransaction(credentials.getAddress(), marketplaceAddress,
                org.web3j.abi.FunctionEncoder.encode(f));
        String hex = retrying("eth_call " + function, options, () -> web3j.ethCall(call, DefaultBlockParameterName.LATEST).send()).getValue();
        List<org.web3j.abi.datatypes.Type> v = org.web3j.abi.FunctionReturnDecoder.decode(hex, f.getOutputParameters());
        if (v.size() != out.size()) {
            throw new ChainException(function + " returned " + v.size() + " values, expected " + out.size() + ": is " + marketplaceAddress
                    + " the Marketplace?");
        }
        return v;
    }

    /** An earlier slash of {@code account} in {@code jobId} with exactly this evidence hash (its Slashed event). */
    public record SlashOnChain(String txHash, BigInteger amount) {
    }

    /** The Slashed event of {@code account} in {@code jobId} carrying {@code evidenceHash}, if the chain has one. */
    public java.util.Optional<SlashOnChain> slashedWith(String account, byte[] jobId, byte[] evidenceHash) {
        org.web3j.protocol.core.methods.request.EthFilter f = new org.web3j.protocol.core.methods.request.EthFilter(
                DefaultBlockParameterName.EARLIEST, DefaultBlockParameterName.LATEST, marketplaceAddress);
        f.addSingleTopic(org.web3j.abi.EventEncoder.encode(Marketplace.SLASHED_EVENT));
        f.addSingleTopic(org.web3j.utils.Numeric.toHexStringWithPrefixZeroPadded(org.web3j.utils.Numeric.toBigInt(account), 64));
        f.addSingleTopic(org.web3j.utils.Numeric.toHexString(jobId));
        List<org.web3j.protocol.core.methods.response.EthLog.LogResult> logs = retrying("eth_getLogs Slashed", options,
                () -> web3j.ethGetLogs(f).send()).getLogs();
        String evidence = org.web3j.utils.Numeric.toHexStringNoPrefix(evidenceHash);
        for (org.web3j.protocol.core.methods.response.EthLog.LogResult<?> l : logs) {
            org.web3j.protocol.core.methods.response.Log log = (org.web3j.protocol.core.methods.response.Log) l.get();
            String data = org.web3j.utils.Numeric.cleanHexPrefix(log.getData());
            if (data.length() >= 128 && data.substring(0, 64).equalsIgnoreCase(evidence)) {
                return java.util.Optional.of(new SlashOnChain(log.getTransactionHash(), new BigInteger(data.substring(64, 128), 16)));
            }
        }
        return java.util.Optional.empty();
    }

    /** The transaction that posted {@code round} of {@code jobId} (its RoundPosted event), if the chain has it. */
    public java.util.Optional<String> roundPostedTx(byte[] jobId, long round) {
        org.web3j.protocol.core.methods.request.EthFilter f = new org.web3j.protocol.core.methods.request.EthFilter(
                DefaultBlockParameterName.EARLIEST, DefaultBlockParameterName.LATEST, marketplaceAddress);
        f.addSingleTopic(org.web3j.abi.EventEncoder.encode(Marketplace.ROUNDPOSTED_EVENT));
        f.addSingleTopic(org.web3j.utils.Numeric.toHexString(jobId));
        f.addSingleTopic(org.web3j.utils.Numeric.toHexStringWithPrefixZeroPadded(BigInteger.valueOf(round), 64));
        List<org.web3j.protocol.core.methods.response.EthLog.LogResult> logs = retrying("eth_getLogs RoundPosted", options,
                () -> web3j.ethGetLogs(f).send()).getLogs();
        return logs.stream().map(l -> ((org.web3j.protocol.core.methods.response.Log) l.get()).getTransactionHash()).findFirst();
    }

    public BigInteger claimed(byte[] jobId, String account) {
        return call("claimed", () -> marketplace.claimed(jobId, account).send());
    }

    /** What {@code account} has claimed in the job and not yet withdrawn. */
    public BigInteger unwithdrawn(byte[] jobId, String account) {
        return call("unwithdrawn", () -> marketplace.unwithdrawn(jobId, account).send());
    }

    public Marketplace.Bond bondOf(String account) {
        return call("bondOf", () -> marketplace.bondOf(account).send());
    }

    public BigInteger tokenBalance(String account) {
        return call("balanceOf", () -> token.balanceOf(account).send());
    }

    public boolean hasRole(String role, String account) {
        return call("hasRole", () -> marketplace.hasRole(roleId(role), account).send());
    }

    public long blockNumber() {
        return retrying("eth_blockNumber", options, () -> web3j.ethBlockNumber().send()).getBlockNumber().longValueExact();
    }

    public long latestTimestamp() {
        return block(DefaultBlockParameterName.LATEST).getTimestamp().longValueExact();
    }

    EthBlock.Block block(DefaultBlockParameter which) {
        EthBlock.Block b = retrying("eth_getBlockByNumber", options, () -> web3j.ethGetBlockByNumber(which, false).send()).getBlock();
        if (b == null) {
            throw new ChainException("block " + which.getValue() + " does not exist on the node");
        }
        return b;
    }

    private <T> T call(String what, ThrowingSupplier<T> s) {
        return retrying("eth_call " + what, options, s);
    }

    // ------------------------------------------------------------------ sending

    /** Estimates, signs with the next nonce, sends, and waits for {@code confirmations}. */
    public TxResult send(String operation, String to, String data) {
        BigInteger estimate = estimateGas(operation, to, data);
        if (estimate.compareTo(options.gasCap()) > 0) {
            throw new GasCapExceededException(operation, estimate, options.gasCap());
        }
        // 20% headroom: state can change between estimate and inclusion (another claim, a new round)
        BigInteger gasLimit = estimate.multiply(BigInteger.valueOf(12)).divide(BigInteger.TEN).min(options.gasCap());
        BigInteger maxFee = gasPrice().multiply(BigInteger.TWO);
        BigInteger tip = maxFee.min(BigInteger.valueOf(1_000_000_000L));
        for (int attempt = 0; ; attempt++) {
            Sent sent = signAndSend(operation, to, data, gasLimit, tip, maxFee);
            try {
                return awaitConfirmed(operation, sent, to, data);
            } catch (ReplacedException e) {
                // another process holding this key (a second Lambda instance) sent at the same nonce and its transaction took
                // the nonce: ours can never be mined, so sending the operation again with a fresh nonce cannot send it twice
                if (attempt >= 3) {
                    throw new ChainException(operation + ": its transaction was replaced at nonce " + sent.nonce() + " four times by another "
                            + "sender using the key " + address() + "; let one process send for a key (e.g. one settle instance at a time)");
                }
                nonceLock.lock();
                try {
                    nextNonce = null; // ask the node: the other sender has moved the key's nonce on
                } finally {
                    nonceLock.unlock();
                }
            }
        }
    }

    /** A signed transaction the node accepted, and the nonce it used. */
    private record Sent(String hash, BigInteger nonce) {
    }

    /** Our transaction's nonce was mined with another transaction: ours will never be. */
    private static final class ReplacedException extends RuntimeException {
        ReplacedException(String message) {
            super(message, null, false, false);
        }
    }

    private BigInteger estimateGas(String operation, String to, String data) {
        Transaction call = Transaction.createEthCallTransaction(address(), to, data);
        var resp = retrying("eth_estimateGas " + operation, options, () -> web3j.ethEstimateGas(call).send(), true);
        if (resp.hasError()) {
            throw revertOrRpc(operation, resp.getError());
        }
        return resp.getAmountUsed();
    }

    private BigInteger gasPrice() {
        long now = System.nanoTime();
        BigInteger p = cachedGasPrice;
        if (p == null || now - gasPriceAt > 2_000_000_000L) {
            p = retrying("eth_gasPrice", options, () -> web3j.ethGasPrice().send()).getGasPrice();
            cachedGasPrice = p;
            gasPriceAt = now;
        }
        return p;
    }

    /** How often a send resyncs its nonce with the node after a collision before it gives up. */
    static final int NONCE_RESYNCS = 12;

    private Sent signAndSend(String operation, String to, String data, BigInteger gasLimit, BigInteger tip, BigInteger maxFee) {
        nonceLock.lock();
        try {
            for (int attempt = 0; ; attempt++) {
                if (nextNonce == null) {
                    nextNonce = retrying("eth_getTransactionCount", options,
                            () -> web3j.ethGetTransactionCount(address(), DefaultBlockParameterName.PENDING).send()).getTransactionCount();
                }
                BigInteger nonce = nextNonce;
                RawTransaction tx = RawTransaction.createTransaction(chainId, nonce, gasLimit, to, BigInteger.ZERO, data, tip, maxFee);
                String raw = org.web3j.utils.Numeric.toHexString(TransactionEncoder.signMessage(tx, chainId, credentials));
                String expectedHash = org.web3j.crypto.Hash.sha3(raw);
                EthSendTransaction sent;
                try {
                    // resending the same signed bytes is idempotent: the retry cannot double-spend a nonce
                    sent = retrying("eth_sendRawTransaction " + operation, options, () -> web3j.ethSendRawTransaction(raw).send(), true);
                } catch (ChainException e) {
                    if (knownToNode(expectedHash, false)) { // an attempt did land, only its answers were lost
                        nextNonce = nonce.add(BigInteger.ONE);
                        return new Sent(expectedHash, nonce);
                    }
                    nextNonce = null; // unknown whether it landed: ask the node next time
                    throw e;
                }
                if (!sent.hasError()) {
                    nextNonce = nonce.add(BigInteger.ONE);
                    return new Sent(sent.getTransactionHash(), nonce);
                }
                String msg = String.valueOf(sent.getError().getMessage()).toLowerCase(Locale.ROOT);
                // an earlier attempt of these very bytes may have reached the node with its answer lost (a proxy's
                // 503 or timeout): the resend then reads "nonce too low" or "already known". Re-signing with the next
                // nonce would send the operation twice, so first ask whether the node has our transaction.
                if (msg.contains("already known") || msg.contains("already imported") || knownToNode(expectedHash, true)) {
                    nextNonce = nonce.add(BigInteger.ONE);
                    return new Sent(expectedHash, nonce);
                }
                if ((msg.contains("nonce too low") || msg.contains("nonce too high") || msg.contains("replacement")) && attempt < NONCE_RESYNCS) {
                    nextNonce = null; // another process used this key, or the node restarted: resync
                    if (attempt > 0) {
                        // two senders of one key that keep taking the same pending nonce: a random pause lets one of them
                        // through (four immediate resyncs were not always enough for two facades sending from 8 threads)
                        sleep(java.time.Duration.ofMillis(java.util.concurrent.ThreadLocalRandom.current().nextLong(5, 25L * attempt + 6)));
                    }
                    continue;
                }
                nextNonce = null;
                throw revertOrRpc(operation, sent.getError());
            }
        } finally {
            nonceLock.unlock();
        }
    }

    /** Whether the node has the transaction {@code txHash} (pending or mined); false when it cannot tell. */
    private boolean knownToNode(String txHash, boolean retry) {
        try {
            ThrowingSupplier<org.web3j.protocol.core.methods.response.EthTransaction> get = () -> web3j.ethGetTransactionByHash(txHash).send();
            var r = retry ? retrying("eth_getTransactionByHash", options, get) : get.get();
            return !r.hasError() && r.getTransaction().isPresent();
        } catch (Exception e) {
            return false;
        }
    }

    private TxResult awaitConfirmed(String operation, Sent sent, String to, String data) {
        String txHash = sent.hash();
        long deadline = System.nanoTime() + options.receiptTimeout().toNanos();
        int nonceTakenSeen = 0;
        while (true) {
            TransactionReceipt r = receipt(txHash);
            if (r == null) {
                // no receipt, yet the key's mined nonce is past ours: another transaction took our nonce (seen twice, so a
                // receipt that was merely late is not mistaken for it)
                BigInteger mined = retrying("eth_getTransactionCount", options,
                        () -> web3j.ethGetTransactionCount(address(), DefaultBlockParameterName.LATEST).send()).getTransactionCount();
                nonceTakenSeen = mined.compareTo(sent.nonce()) > 0 ? nonceTakenSeen + 1 : 0;
                if (nonceTakenSeen >= 2 && receipt(txHash) == null) {
                    throw new ReplacedException(operation + " (tx " + txHash + ") at nonce " + sent.nonce() + " was replaced");
                }
            }
            if (r != null) {
                if (!r.isStatusOK()) {
                    throw minedRevert(operation, r, to, data);
                }
                long mined = r.getBlockNumber().longValueExact();
                if (options.confirmations() == 1 || blockNumber() >= mined + options.confirmations() - 1) {
                    // re-read: if a reorg dropped the block meanwhile the receipt is gone or moved
                    TransactionReceipt again = options.confirmations() == 1 ? r : receipt(txHash);
                    if (again != null && again.getBlockHash().equals(r.getBlockHash())) {
                        return new TxResult(operation, txHash, mined, r.getBlockHash(), r.getGasUsed(), r.getLogs());
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new ChainException(operation + " (tx " + txHash + ") was not mined with " + options.confirmations()
                        + " confirmation(s) within " + options.receiptTimeout().toSeconds() + " s: check the node is mining and the fee is high enough");
            }
            sleep(options.pollInterval());
        }
    }

    private TransactionReceipt receipt(String txHash) {
        return retrying("eth_getTransactionReceipt", options, () -> web3j.ethGetTransactionReceipt(txHash).send())
                .getTransactionReceipt().orElse(null);
    }

    /** Replays a failed transaction as a call at its block to recover the revert data the receipt does not carry. */
    private ChainException minedRevert(String operation, TransactionReceipt r, String to, String data) {
        Transaction call = Transaction.createEthCallTransaction(address(), to, data);
        DefaultBlockParameter at = DefaultBlockParameter.valueOf(r.getBlockNumber().subtract(BigInteger.ONE).max(BigInteger.ZERO));
        var resp = retrying("eth_call (replay)", options, () -> web3j.ethCall(call, at).send(), true);
        if (resp.hasError()) {
            return revertOrRpc(operation, resp.getError());
        }
        if (resp.isReverted()) {
            return abi.revert(operation, resp.getValue());
        }
        return new ChainException(operation + " (tx " + r.getTransactionHash() + ") failed on chain using " + r.getGasUsed()
                + " gas but succeeds when replayed: it probably ran out of gas or lost a race with another transaction; retry it");
    }

    private ChainException revertOrRpc(String operation, Response.Error error) {
        String data = error.getData();
        if (data != null) {
            Matcher m = HEX_DATA.matcher(data);
            if (m.find()) {
                return abi.revert(operation, m.group());
            }
        }
        String msg = error.getMessage() == null ? "" : error.getMessage();
        if (msg.toLowerCase(Locale.ROOT).contains("revert")) {
            return new ChainRevertException(operation, "Error", Map.of("reason", msg), data == null ? "0x" : data);
        }
        return new ChainException(operation + " was refused by the node: " + msg + " (code " + error.getCode() + ")");
    }

    // ------------------------------------------------------------------ retries

    @FunctionalInterface
    interface ThrowingSupplier<T> {
        T get() throws Exception;
    }

    static <T> T retrying(String what, Options o, ThrowingSupplier<T> s) {
        return retrying(what, o, s, false);
    }

    /**
     * Runs an RPC with retries on transient failures (I/O errors, HTTP 5xx/408/425/429, JSON-RPC rate limits); any
     * other HTTP 4xx fails at once (a wrong URL or a missing API key does not pass by retrying).
     * With {@code errorsAreResults}, a JSON-RPC error that is not transient is returned for the caller to
     * decode (reverts); otherwise it becomes a {@link ChainException}.
     */
    static <T> T retrying(String what, Options o, ThrowingSupplier<T> s, boolean errorsAreResults) {
        Exception last = null;
        for (int attempt = 1; attempt <= o.maxRetries(); attempt++) {
            try {
                T r = s.get();
                if (r instanceof Response<?> resp && resp.hasError()) {
                    if (isTransient(resp.getError())) {
                        last = new IOException(resp.getError().getMessage());
                    } else if (errorsAreResults) {
                        return r;
                    } else {
                        throw new ChainException(what + " failed: " + resp.getError().getMessage() + " (code " + resp.getError().getCode() + ")");
                    }
                } else {
                    return r;
                }
            } catch (ChainException e) {
                throw e;
            } catch (org.web3j.protocol.exceptions.ClientConnectionException e) {
                // web3j's HttpService: "Invalid response received: <status>; <body>" for any non-2xx answer
                int status = httpStatus(e);
                if (status >= 400 && status < 500 && status != 408 && status != 425 && status != 429) {
                    throw new ChainException(what + " was refused by the RPC endpoint with HTTP " + status + " (" + e.getMessage()
                            + "): check the RPC URL and any API key it needs; retrying will not help", e);
                }
                last = e;
            } catch (IOException e) {
                last = e;
            } catch (RuntimeException e) {
                if (e.getCause() instanceof IOException io) {
                    last = io; // web3j wraps I/O in unchecked exceptions in some paths (wrappers' send)
                } else if (e instanceof org.web3j.tx.exceptions.ContractCallException && isTransientMessage(e.getMessage())) {
                    last = e; // a wrapper's eth_call reports a JSON-RPC error (a rate limit) as "reverted with the reason …"
                } else {
                    throw new ChainException(what + " failed: " + e.getMessage(), e);
                }
            } catch (Exception e) {
                throw new ChainException(what + " failed: " + e.getMessage(), e);
            }
            if (attempt < o.maxRetries()) {
                sleep(o.retryBackoff().multipliedBy(1L << Math.min(attempt - 1, 5)));
            }
        }
        throw new ChainException(what + " failed after " + o.maxRetries() + " attempts: " + (last == null ? "?" : last.getMessage())
                + ": is the EVM node running and reachable? (./mkt status)", last);
    }

    private static final Pattern HTTP_STATUS = Pattern.compile("Invalid response received: (\\d{3})");

    /** The HTTP status of a non-2xx answer, or -1 when the exception does not say. */
    private static int httpStatus(org.web3j.protocol.exceptions.ClientConnectionException e) {
        Matcher m = HTTP_STATUS.matcher(String.valueOf(e.getMessage()));
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    private static boolean isTransient(Response.Error e) {
        return e.getCode() == -32005 || e.getCode() == 429 || isTransientMessage(e.getMessage());
    }

    private static boolean isTransientMessage(String message) {
        String m = String.valueOf(message).toLowerCase(Locale.ROOT);
        return m.contains("rate limit") || m.contains("too many requests") || m.contains("limit exceeded") || m.contains("timeout")
                || m.contains("header not found") || m.contains("try again");
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChainException("interrupted while waiting for the chain", e);
        }
    }

    Optional<Map.Entry<String, Map<String, Object>>> decode(Log log) {
        return abi.decodeLog(log);
    }

    Options options() {
        return options;
    }

    @Override
    public void close() {
        if (ownsWeb3j) {
            web3j.shutdown();
        }
    }
}
