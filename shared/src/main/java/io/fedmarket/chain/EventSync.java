package io.fedmarket.chain;

import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.response.EthBlock;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.Log;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Pulls Marketplace events from a stored cursor. Reorg safety: only blocks buried under
 * {@code confirmations} blocks are read, so a shallow reorg never reaches a handler; the cursor keeps
 * the hash of its block, and if the chain no longer has that block (a deeper reorg, or a node that
 * lost its state) {@link #syncOnce} refuses with a clear {@link ChainException} instead of silently
 * skipping or repeating events. Events go to the handler in chain order, then the cursor is saved:
 * delivery is exactly-once while the process lives and at-least-once across a crash between the two
 * (handlers dedupe on {@link MarketEvent#key()}, or the store saves the cursor in the handler's transaction).
 */
public final class EventSync {
    private final MarketplaceChain chain;
    private final CursorStore store;
    private final String name;
    private final int confirmations;
    private final long fromBlock;
    private final int chunk;

    /**
     * @param name      the cursor's name in the store (one per consumer)
     * @param fromBlock where to start when the store has no cursor yet (the deployment block)
     */
    public EventSync(MarketplaceChain chain, CursorStore store, String name, int confirmations, long fromBlock) {
        if (confirmations < 1) {
            throw new IllegalArgumentException("confirmations must be ≥ 1 (1 = the latest mined block counts), got " + confirmations);
        }
        this.chain = chain;
        this.store = store;
        this.name = name;
        this.confirmations = confirmations;
        this.fromBlock = fromBlock;
        this.chunk = 2_000;
    }

    public Optional<EventCursor> cursor() {
        return store.load(name);
    }

    /** Delivers every event of confirmed blocks after the cursor; returns how many. */
    public int syncOnce(Consumer<MarketEvent> handler) {
        long head = chain.blockNumber();
        long safe = head - confirmations + 1;
        Optional<EventCursor> cursor = store.load(name);
        long start;
        if (cursor.isPresent()) {
            EventCursor c = cursor.get();
            EthBlock.Block b;
            try {
                b = chain.block(DefaultBlockParameter.valueOf(BigInteger.valueOf(c.blockNumber())));
            } catch (ChainException e) {
                b = null;
            }
            if (b == null || !b.getHash().equalsIgnoreCase(c.blockHash())) {
                throw new ChainException("event cursor '" + name + "' is at block " + c.blockNumber() + " (" + c.blockHash()
                        + ") but the chain " + (b == null ? "has no such block" : "has " + b.getHash() + " there")
                        + ": a reorg deeper than " + confirmations + " confirmations or a node reset; raise confirmations,"
                        + " or reset the cursor (and the state built from it) to resync from the deployment block");
            }
            start = c.blockNumber() + 1;
        } else {
            start = fromBlock;
        }
        int delivered = 0;
        for (long from = start; from <= safe; from += chunk) {
            long to = Math.min(safe, from + chunk - 1);
            EthFilter filter = new EthFilter(DefaultBlockParameter.valueOf(BigInteger.valueOf(from)),
                    DefaultBlockParameter.valueOf(BigInteger.valueOf(to)), chain.marketplaceAddress());
            EthLog logs = MarketplaceChain.retrying("eth_getLogs", chain.options(), () -> chain.web3j().ethGetLogs(filter).send());
            List<Log> ordered = new ArrayList<>();
            for (EthLog.LogResult<?> r : logs.getLogs()) {
                Log log = (Log) r.get();
                if (!log.isRemoved()) {
                    ordered.add(log);
                }
            }
            ordered.sort((a, b) -> a.getBlockNumber().equals(b.getBlockNumber())
                    ? a.getLogIndex().compareTo(b.getLogIndex()) : a.getBlockNumber().compareTo(b.getBlockNumber()));
            for (Log log : ordered) {
                Optional<Map.Entry<String, Map<String, Object>>> ev = chain.decode(log);
                if (ev.isEmpty()) {
                    continue;
                }
                handler.accept(new MarketEvent(ev.get().getKey(), ev.get().getValue(), log.getBlockNumber().longValueExact(),
                        log.getBlockHash(), log.getTransactionHash(), log.getLogIndex().longValueExact()));
                delivered++;
            }
            EthBlock.Block last = chain.block(DefaultBlockParameter.valueOf(BigInteger.valueOf(to)));
            store.save(name, new EventCursor(to, last.getHash()));
        }
        return delivered;
    }
}
