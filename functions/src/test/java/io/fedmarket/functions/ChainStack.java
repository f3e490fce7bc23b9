package io.fedmarket.functions;

import io.fedmarket.chain.AnvilNode;
import io.fedmarket.chain.DevAccounts;
import io.fedmarket.chain.MarketplaceChain;
import io.fedmarket.chain.MarketplaceDeployer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import org.web3j.utils.Numeric;

import java.nio.file.Path;
import java.util.Map;

/**
 * An anvil node with the compiled contracts deployed (account 0: admin, coordinator, verifier; every dev account
 * holds test tokens), for the functions that talk to the chain. Started once per Quarkus start.
 */
public class ChainStack implements QuarkusTestResourceLifecycleManager {
    static volatile AnvilNode anvil;
    static volatile Map<String, String> contracts;

    /** The operator's facade (account 0); callers close it. */
    public static MarketplaceChain operator() {
        return MarketplaceChain.connect(anvil.rpcUrl(), DevAccounts.account(0), contracts, MarketplaceChain.Options.defaults());
    }

    @Override
    public Map<String, String> start() {
        anvil = AnvilNode.start(0, null, Path.of(System.getProperty("mkt.target", "target"), "test-anvil.log"));
        contracts = MarketplaceDeployer.deployLocal(anvil.rpcUrl());
        return Map.of("fedmarket.rpc-url", anvil.rpcUrl(),
                "fedmarket.marketplace-address", contracts.get(MarketplaceDeployer.MARKETPLACE),
                "fedmarket.coordinator-key", Numeric.toHexStringNoPrefixZeroPadded(DevAccounts.account(0).getEcKeyPair().getPrivateKey(), 64));
    }

    @Override
    public void stop() {
        if (anvil != null) {
            anvil.close();
        }
    }
}
