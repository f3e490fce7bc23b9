package io.fedmarket.chain;

import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.PayoutTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.methods.response.VoidResponse;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.ReadonlyTransactionManager;
import org.web3j.tx.gas.DefaultGasProvider;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real reorgs (anvil_reorg: the last N blocks are replaced by new ones, holding only the transactions given) under
 * {@link EventSync}: a reorg below the cursor is refused with a clear error rather than skipped or repeated, and a
 * consumer that resumes from a cursor at a safe depth ends with exactly the canonical chain's events, none twice.
 */
class EventSyncReorgTest {
    private static final String PROVIDER = DevAccounts.account(2).getAddress();

    @TempDir
    Path tmp;

    static byte[] id(String s) {
        return Hashes.keccak256(s.getBytes(StandardCharsets.UTF_8));
    }

    static PayoutTree tree(long round) {
        return PayoutTree.of(Map.of(PROVIDER, BigInteger.valueOf(10 * round)));
    }

    /** Opens {@code job} and posts rounds 1..n, one block each (anvil mines a block per transaction). */
    static void openAndPost(MarketplaceChain chain, byte[] job, int n) {
        chain.approve(BigInteger.valueOf(1_000_000));
        chain.openJob(job, BigInteger.valueOf(1_000_000), chain.latestTimestamp() + 3600);
        for (int r = 1; r <= n; r++) {
            chain.postRound(job, r, id("model-" + r), tree(r).root(), BigInteger.valueOf(10L * r));
        }
    }

    /**
     * anvil_reorg: replaces the last {@code depth} blocks; the new ones hold only {@code postRound(job, round, model)}
     * from the admin (in the first new block), or nothing when {@code round} is 0.
     */
    static void reorg(AnvilNode anvil, MarketplaceChain chain, int depth, byte[] job, long round, String model) throws Exception {
        List<Object> txs = new ArrayList<>();
        if (round > 0) {
            var market = io.fedmarket.chain.generated.Marketplace.load(chain.marketplaceAddress(), chain.web3j(),
                    new ReadonlyTransactionManager(chain.web3j(), chain.address()), new DefaultGasProvider());
            String data = market.postRound(job, BigInteger.valueOf(round), id(model), tree(round).root(), BigInteger.valueOf(10 * round))
                    .encodeFunctionCall();
            txs.add(List.of(Map.of("from", chain.address(), "to", chain.marketplaceAddress(), "data", data, "gas", "0x100000"), 0));
        }
        VoidResponse r = new Request<>("anvil_reorg", List.of(depth, txs), new HttpService(anvil.rpcUrl()), VoidResponse.class).send();
        assertThat(r.hasError()).as("anvil_reorg: %s", r.hasError() ? r.getError().getMessage() : "").isFalse();
    }

    static void mine(AnvilNode anvil, int blocks) throws Exception {
        new Request<>("anvil_mine", List.of("0x" + Integer.toHexString(blocks)), new HttpService(anvil.rpcUrl()), VoidResponse.class).send();
    }

    static String hashAt(MarketplaceChain chain, long block) {
        return chain.block(DefaultBlockParameter.valueOf(BigInteger.valueOf(block))).getHash();
    }

    /** What a consumer starting now from {@code fromBlock} would get: the canonical chain's events. */
    static List<MarketEvent> fromScratch(MarketplaceChain chain, long fromBlock, int confirmations) {
        List<MarketEvent> all = new ArrayList<>();
        new EventSync(chain, new InMemoryCursorStore(), "scratch", confirmations, fromBlock).syncOnce(all::add);
        return all;
    }

    static List<String> roundsAndModels(List<MarketEvent> events) {
        return events.stream().filter(e -> e.name().equals("RoundPosted"))
                .map(e -> e.args().get("round") + ":" + e.args().get("modelHash")).toList();
    }

    @Test
    void aReorgBelowTheCursorIsRefusedAndAResyncFromASafeDepthHasNoDuplicates() throws Exception {
        try (AnvilNode anvil = AnvilNode.start(0, null, tmp.resolve("anvil.log"))) {
            Map<String, String> contracts = MarketplaceDeployer.deployLocal(anvil.rpcUrl());
            long deployBlock = Long.parseLong(contracts.get(MarketplaceDeployer.DEPLOY_BLOCK));
            byte[] job = id("reorg-below-cursor");
            try (MarketplaceChain chain = MarketplaceChain.connect(anvil.rpcUrl(), DevAccounts.account(0), contracts,
                    MarketplaceChain.Options.defaults())) {
                openAndPost(chain, job, 6);
                InMemoryCursorStore store = new InMemoryCursorStore();
                EventSync sync = new EventSync(chain, store, "settle", 1, deployBlock);
                List<MarketEvent> seen = new ArrayList<>();
                sync.syncOnce(seen::add);
                long head = chain.blockNumber();
                EventCursor cursor = store.load("settle").orElseThrow();
                assertThat(cursor.blockNumber()).isEqualTo(head);
                assertThat(roundsAndModels(seen)).hasSize(6);
                String below = hashAt(chain, head - 3);

                // rounds 4-6 (the last 3 blocks) are replaced by one other round 4
                reorg(anvil, chain, 3, job, 4, "model-4b");
                assertThat(chain.blockNumber()).isEqualTo(head);
                assertThat(hashAt(chain, head)).isNotEqualTo(cursor.blockHash());
                assertThat(hashAt(chain, head - 3)).isEqualTo(below);

                int before = seen.size();
                assertThatThrownBy(() -> sync.syncOnce(seen::add))
                        .isInstanceOf(ChainException.class)
                        .hasMessageContaining("event cursor 'settle' is at block " + head + " (" + cursor.blockHash() + ")")
                        .hasMessageContaining("has " + hashAt(chain, head) + " there")
                        .hasMessageContaining("a reorg deeper than 1 confirmations");
                assertThat(seen).hasSize(before); // nothing delivered
                assertThat(store.load("settle")).contains(cursor); // nor the cursor moved past it

                // the consumer drops what it built from the blocks above the last common one and resumes from there
                seen.removeIf(e -> e.blockNumber() > head - 3);
                store.save("settle", new EventCursor(head - 3, below));
                assertThat(sync.syncOnce(seen::add)).isEqualTo(1);
                assertThat(roundsAndModels(seen)).containsExactly("1:" + Hashes.hex(id("model-1")), "2:" + Hashes.hex(id("model-2")),
                        "3:" + Hashes.hex(id("model-3")), "4:" + Hashes.hex(id("model-4b")));
                assertThat(seen.stream().map(MarketEvent::key).distinct().count()).isEqualTo(seen.size());
                assertThat(seen).isEqualTo(fromScratch(chain, deployBlock, 1));
                assertThat(chain.jobState(job).lastRound()).isEqualTo(4);
            }
        }
    }

    @Test
    void aReorgShallowerThanTheConfirmationsNeverReachesTheHandler() throws Exception {
        try (AnvilNode anvil = AnvilNode.start(0, null, tmp.resolve("anvil.log"))) {
            Map<String, String> contracts = MarketplaceDeployer.deployLocal(anvil.rpcUrl());
            long deployBlock = Long.parseLong(contracts.get(MarketplaceDeployer.DEPLOY_BLOCK));
            byte[] job = id("reorg-shallow");
            try (MarketplaceChain chain = MarketplaceChain.connect(anvil.rpcUrl(), DevAccounts.account(0), contracts,
                    MarketplaceChain.Options.defaults())) {
                openAndPost(chain, job, 5);
                InMemoryCursorStore store = new InMemoryCursorStore();
                EventSync sync = new EventSync(chain, store, "safe", 4, deployBlock);
                List<MarketEvent> seen = new ArrayList<>();
                sync.syncOnce(seen::add);
                long head = chain.blockNumber();
                assertThat(store.load("safe").orElseThrow().blockNumber()).isEqualTo(head - 3);
                assertThat(roundsAndModels(seen)).hasSize(2); // rounds 3-5 are not buried under 4 blocks yet

                // rounds 3-5 are replaced by one other round 3: all above the cursor, so nothing to refuse
                reorg(anvil, chain, 3, job, 3, "model-3b");
                assertThat(sync.syncOnce(seen::add)).isZero();
                mine(anvil, 3);
                assertThat(sync.syncOnce(seen::add)).isEqualTo(1);
                assertThat(roundsAndModels(seen)).containsExactly("1:" + Hashes.hex(id("model-1")), "2:" + Hashes.hex(id("model-2")),
                        "3:" + Hashes.hex(id("model-3b")));
                assertThat(seen.stream().map(MarketEvent::key).distinct().count()).isEqualTo(seen.size());
                assertThat(seen).isEqualTo(fromScratch(chain, deployBlock, 4));
            }
        }
    }
}
