package io.fedmarket.messages;

import java.math.BigInteger;

/**
 * On the chain-events queue: one log of the marketplace contracts, as read by the chain watcher.
 * {@code (txHash, logIndex)} is the business key. Amounts are token base units.
 */
public record ChainEvent(Kind kind, String address, BigInteger amount, long blockNumber, String blockHash,
                         String txHash, int logIndex, long timestamp) {

    public enum Kind {
        /** bond increased by amount */
        BONDED,
        /** amount moved from bonded to unbonding (released after the delay) */
        UNBOND_REQUESTED,
        /** unbonding amount withdrawn */
        UNBONDED,
        /** amount taken from the bond by the verifier role */
        SLASHED
    }
}
