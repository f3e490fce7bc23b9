package io.fedmarket.chain;

import java.util.Map;

/**
 * A decoded Marketplace event. {@code args} by Solidity parameter name: addresses lower-case
 * {@code 0x…}, bytes32 as {@code 0x…} hex, integers as BigInteger.
 */
public record MarketEvent(String name, Map<String, Object> args, long blockNumber, String blockHash, String txHash, long logIndex) {
    /** Unique per event on the canonical chain: handlers dedupe on it. */
    public String key() {
        return txHash + ":" + logIndex;
    }
}
