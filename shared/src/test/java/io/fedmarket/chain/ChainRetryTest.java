package io.fedmarket.chain;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.protocol.core.DefaultBlockParameterName;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Retries of transient RPC failures other than a refused connection (ChainRestartTest covers that one): the facade
 * talks to anvil through {@link FlakyRpcProxy}, which answers chosen requests with HTTP 503 / 429, a JSON-RPC
 * rate-limit error, or loses the node's answer to a request that did reach it.
 */
class ChainRetryTest {
    /** 4 attempts per RPC, 5 ms backoff doubling: a test that exhausts the budget waits 5 + 10 + 20 ms. */
    static final MarketplaceChain.Options FAST_RETRIES = new MarketplaceChain.Options(1, BigInteger.valueOf(3_000_000), 4,
            Duration.ofMillis(5), Duration.ofSeconds(30), Duration.ofMillis(10));

    @TempDir
    static Path tmp;
    static AnvilNode anvil;
    static Map<String, String> contracts;
    static FlakyRpcProxy proxy;
    static MarketplaceChain direct;
    static MarketplaceChain viaProxy;

    @BeforeAll
    static void start() throws Exception {
        anvil = AnvilNode.start(0, null, tmp.resolve("anvil.log"));
        contracts = MarketplaceDeployer.deployLocal(anvil.rpcUrl());
        proxy = new FlakyRpcProxy(anvil.rpcUrl());
        direct = MarketplaceChain.connect(anvil.rpcUrl(), DevAccounts.account(0), contracts, MarketplaceChain.Options.defaults());
        viaProxy = MarketplaceChain.connect(proxy.url(), DevAccounts.account(3), contracts, FAST_RETRIES);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {viaProxy, direct, proxy, anvil}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    @BeforeEach
    void clearFaults() {
        proxy.reset();
    }

    static long nonceOf(String address) throws Exception {
        return direct.web3j().ethGetTransactionCount(address, DefaultBlockParameterName.LATEST).send().getTransactionCount().longValueExact();
    }

    @Test
    void readsRetryHttp503And429AndRateLimitErrorsThenSucceed() {
        String who = DevAccounts.account(4).getAddress();
        proxy.failNext(1, 503).failNext(1, 429).rateLimitNext(1);
        assertThat(viaProxy.tokenBalance(who)).isEqualTo(direct.tokenBalance(who)).isEqualTo(MarketplaceDeployer.DEV_MINT);
        assertThat(proxy.faultsServed()).isEqualTo(3);
        // the same call four times: three answered by the proxy, the fourth by anvil
        assertThat(proxy.methods()).containsExactly("eth_call", "eth_call", "eth_call", "eth_call");
        assertThat(proxy.forwarded()).isEqualTo(1);
    }

    @Test
    void sendsRetryEveryStepAndLandExactlyOnce() throws Exception {
        long before = nonceOf(viaProxy.address());
        // estimate, then the send itself refused twice before it reaches the node
        proxy.failNext("eth_estimateGas", 2, 503).failNext("eth_sendRawTransaction", 1, 429).failNext("eth_sendRawTransaction", 1, 503);
        MarketplaceChain.TxResult r = viaProxy.approve(BigInteger.valueOf(777));
        assertThat(proxy.faultsServed()).isEqualTo(4);
        assertThat(Collections.frequency(proxy.methods(), "eth_sendRawTransaction")).isEqualTo(3);
        assertThat(direct.web3j().ethGetTransactionReceipt(r.txHash()).send().getTransactionReceipt()).hasValueSatisfying(
                rc -> assertThat(rc.isStatusOK()).isTrue());
        assertThat(nonceOf(viaProxy.address())).isEqualTo(before + 1);
    }

    /**
     * The node got the transaction but its answer was lost (HTTP 503 from a proxy that timed out): resending the same
     * signed bytes must not become a second transaction with the next nonce.
     */
    @Test
    void aLostAnswerToASentTransactionDoesNotSendItTwice() throws Exception {
        long before = nonceOf(viaProxy.address());
        proxy.loseAnswerOfNext("eth_sendRawTransaction", 503);
        MarketplaceChain.TxResult r = viaProxy.approve(BigInteger.valueOf(4242));
        assertThat(proxy.faultsServed()).isEqualTo(1);
        assertThat(nonceOf(viaProxy.address())).as("transactions sent").isEqualTo(before + 1);
        assertThat(direct.web3j().ethGetTransactionReceipt(r.txHash()).send().getTransactionReceipt()).isPresent();
        // and the facade's nonce bookkeeping is still right for the next one
        viaProxy.approve(BigInteger.valueOf(4243));
        assertThat(nonceOf(viaProxy.address())).isEqualTo(before + 2);
    }

    @Test
    void givesUpAfterItsRetryBudgetWithAClearError() throws Exception {
        String who = DevAccounts.account(4).getAddress();
        proxy.failNext(100, 503);
        assertThatThrownBy(() -> viaProxy.tokenBalance(who))
                .isInstanceOf(ChainException.class)
                .hasMessageContaining("eth_call balanceOf failed after 4 attempts")
                .hasMessageContaining("503")
                .hasMessageContaining("is the EVM node running and reachable?");
        assertThat(proxy.methods()).hasSize(4);

        proxy.reset();
        long before = nonceOf(viaProxy.address());
        proxy.failNext(100, 429);
        assertThatThrownBy(() -> viaProxy.approve(BigInteger.ONE))
                .isInstanceOf(ChainException.class)
                .hasMessageContaining("eth_estimateGas approve failed after 4 attempts")
                .hasMessageContaining("429");
        assertThat(proxy.methods()).hasSize(4).containsOnly("eth_estimateGas");
        assertThat(nonceOf(viaProxy.address())).isEqualTo(before);

        proxy.reset();
        proxy.rateLimitNext(100);
        assertThatThrownBy(() -> viaProxy.blockNumber())
                .isInstanceOf(ChainException.class)
                .hasMessageContaining("eth_blockNumber failed after 4 attempts")
                .hasMessageContaining("rate limit");
        assertThat(proxy.methods()).hasSize(4);
        proxy.reset();
        assertThat(viaProxy.blockNumber()).isEqualTo(direct.blockNumber());
    }

    /** A 4xx other than 408/429 (a wrong URL path, a missing API key) will not pass by retrying: one attempt, and it says so. */
    @Test
    void clientErrorsAreNotRetried() {
        for (int status : List.of(401, 403, 404)) {
            proxy.reset();
            proxy.failNext(1, status);
            assertThatThrownBy(() -> viaProxy.blockNumber())
                    .isInstanceOf(ChainException.class)
                    .hasMessageContaining("eth_blockNumber was refused by the RPC endpoint with HTTP " + status)
                    .hasMessageContaining("check the RPC URL");
            assertThat(proxy.methods()).hasSize(1);
        }
        proxy.reset();
        proxy.failNext(2, 408);
        assertThat(viaProxy.blockNumber()).isEqualTo(direct.blockNumber());
        assertThat(proxy.methods()).hasSize(3);
    }
}
