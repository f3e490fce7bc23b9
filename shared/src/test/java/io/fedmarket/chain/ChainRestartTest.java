package io.fedmarket.chain;

import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.PayoutTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The facade and its event sync survive an anvil restart (state kept in --state), without duplicate events. */
class ChainRestartTest {
    @TempDir
    Path tmp;

    /** Waits until the node stops answering (the restart has begun). */
    private static void awaitDown(AnvilNode anvil) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                anvil.blockNumber();
            } catch (RuntimeException down) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("anvil never went down during restart");
    }

    @Test
    void facadeReconnectsAndResyncsFromItsCursorWithoutDuplicates() throws InterruptedException {
        try (AnvilNode anvil = AnvilNode.start(0, tmp.resolve("state.json"), tmp.resolve("anvil.log"))) {
            Map<String, String> contracts = MarketplaceDeployer.deployLocal(anvil.rpcUrl());
            long deployBlock = Long.parseLong(contracts.get(MarketplaceDeployer.DEPLOY_BLOCK));
            FileCursorStore store = new FileCursorStore(tmp.resolve("cursors"));
            List<MarketEvent> seen = new ArrayList<>();
            try (MarketplaceChain chain = MarketplaceChain.connect(anvil.rpcUrl(), DevAccounts.account(0), contracts,
                    MarketplaceChain.Options.defaults())) {
                byte[] job = Hashes.keccak256("restart-job".getBytes(StandardCharsets.UTF_8));
                String p = DevAccounts.account(2).getAddress();
                chain.approve(BigInteger.valueOf(1_000_000));
                chain.openJob(job, BigInteger.valueOf(1_000_000), chain.latestTimestamp() + 3600);
                chain.postRound(job, 1, job, PayoutTree.of(Map.of(p, BigInteger.TEN)).root(), BigInteger.TEN);
                EventSync sync = new EventSync(chain, store, "settle", 1, deployBlock);
                sync.syncOnce(seen::add);
                int before = seen.size();
                assertThat(seen).extracting(MarketEvent::name).contains("JobOpened", "RoundPosted");

                Thread restarter = new Thread(anvil::restart, "anvil-restart");
                restarter.start();
                awaitDown(anvil);
                // issued while anvil is down: the facade retries until the node answers again, and its
                // nonces continue from the restored state
                PayoutTree r2 = PayoutTree.of(Map.of(p, BigInteger.valueOf(30)));
                chain.postRound(job, 2, job, r2.root(), BigInteger.valueOf(30));
                restarter.join(30_000);
                chain.claim(job, p, BigInteger.valueOf(30), r2.proof(p));
                // a fresh sync object (as after a process restart) resumes from the file cursor
                EventSync resumed = new EventSync(chain, new FileCursorStore(tmp.resolve("cursors")), "settle", 1, deployBlock);
                int added = resumed.syncOnce(seen::add);
                assertThat(added).isEqualTo(2);
                assertThat(seen.subList(before, seen.size())).extracting(MarketEvent::name).containsExactly("RoundPosted", "Claimed");
                assertThat(seen.stream().map(MarketEvent::key).distinct().count()).isEqualTo(seen.size());
                assertThat(chain.claimed(job, p)).isEqualTo(BigInteger.valueOf(30));
            }
        }
    }
}
