package io.fedmarket.chain;

/** The last block whose events were fully handled, with its hash so that a reorg below it is noticed. */
public record EventCursor(long blockNumber, String blockHash) {
}
