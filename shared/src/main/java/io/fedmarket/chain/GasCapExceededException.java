package io.fedmarket.chain;

import java.math.BigInteger;

/** The node estimated more gas than the facade's cap allows: nothing was sent. */
public final class GasCapExceededException extends ChainException {
    public GasCapExceededException(String operation, BigInteger estimate, BigInteger cap) {
        super(operation + " needs an estimated " + estimate + " gas, above the cap of " + cap
                + ": raise MarketplaceChain.Options.gasCap if this is expected, otherwise the call is doing more work than it should");
    }
}
