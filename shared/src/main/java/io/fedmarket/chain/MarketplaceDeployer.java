package io.fedmarket.chain;

import io.fedmarket.chain.generated.Marketplace;
import io.fedmarket.chain.generated.TestToken;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.FastRawTransactionManager;
import org.web3j.tx.gas.StaticGasProvider;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Deploys TestToken + Marketplace on a local chain with anvil's dev accounts:
 * account 0 is admin, coordinator and verifier; account {@link DevAccounts#TREASURY} is the treasury; every dev account gets
 * {@link #DEV_MINT} test tokens each. Returns {"token": addr, "marketplace": addr, "deployBlock": n}.
 */
public final class MarketplaceDeployer {
    public static final String MARKETPLACE = "marketplace";
    public static final String TOKEN = "token";
    public static final String DEPLOY_BLOCK = "deployBlock";
    public static final BigInteger DEV_MINT = BigInteger.TEN.pow(24); // 1,000,000 tokens of 18 decimals
    /** Local unbonding delay: short enough for a demo to withdraw. */
    public static final long LOCAL_UNBONDING_DELAY_SECONDS = 3600;
    /** Half of a slash compensates the harmed builder's escrow, half goes to the treasury. */
    public static final int LOCAL_COMPENSATION_BPS = 5000;

    private MarketplaceDeployer() {
    }

    public static Map<String, String> deployLocal(String rpcUrl) {
        Web3j web3j = Web3j.build(new HttpService(rpcUrl));
        try {
            long chainId = web3j.ethChainId().send().getChainId().longValueExact();
            Credentials admin = DevAccounts.account(0);
            String treasury = DevAccounts.account(DevAccounts.TREASURY).getAddress();
            var tm = new FastRawTransactionManager(web3j, admin, chainId, new PollingTransactionReceiptProcessor(web3j, 50, 600));
            var gas = new StaticGasProvider(web3j.ethGasPrice().send().getGasPrice().multiply(BigInteger.TWO), BigInteger.valueOf(6_000_000));
            long deployBlock = web3j.ethBlockNumber().send().getBlockNumber().longValueExact() + 1;
            TestToken token = TestToken.deploy(web3j, tm, gas).send();
            Marketplace market = Marketplace.deploy(web3j, tm, gas, token.getContractAddress(), admin.getAddress(), treasury,
                    BigInteger.valueOf(LOCAL_UNBONDING_DELAY_SECONDS), BigInteger.valueOf(LOCAL_COMPENSATION_BPS)).send();
            Map<String, String> out = new LinkedHashMap<>();
            out.put(TOKEN, token.getContractAddress().toLowerCase());
            out.put(MARKETPLACE, market.getContractAddress().toLowerCase());
            out.put(DEPLOY_BLOCK, Long.toString(deployBlock));
            try (MarketplaceChain chain = MarketplaceChain.connect(rpcUrl, admin, out, MarketplaceChain.Options.defaults())) {
                chain.grantRole("COORDINATOR_ROLE", admin.getAddress());
                chain.grantRole("VERIFIER_ROLE", admin.getAddress());
                for (int i = 0; i < DevAccounts.COUNT; i++) {
                    chain.mintTestTokens(DevAccounts.account(i).getAddress(), DEV_MINT);
                }
            }
            return out;
        } catch (ChainException e) {
            throw e;
        } catch (Exception e) {
            throw new ChainException("deploying the contracts to " + rpcUrl + " failed: " + e.getMessage()
                    + ": is anvil running there (./mkt up)?", e);
        } finally {
            web3j.shutdown();
        }
    }
}
