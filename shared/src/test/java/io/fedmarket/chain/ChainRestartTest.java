package io.fedmarket.chain;

import io.fedmarket.config.Ports;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.PayoutTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The facade and its event sync survive an anvil restart (state kept in --state), without duplicate events. */
class ChainRestartTest {
    @TempDir
    Path tmp;

    /**
     * The default retry budget (8 attempts, 0.1 s doubling to 3.2 s: ~9.5 s) covers a restart on an idle machine
     * (~1 s); a loaded machine can take longer (stop: up to 10 s for SIGTERM and the state dump, 5 s more if killed;
     * start: up to 30 s until it answers). 16 attempts wait ~35 s in all before the facade gives up.
     */
    private static final MarketplaceChain.Options RESTART_TOLERANT = new MarketplaceChain.Options(1, BigInteger.valueOf(3_000_000), 16,
            Duration.ofMillis(100), Duration.ofSeconds(60), Duration.ofMillis(20));
    /** AnvilNode.restart's own worst case (15 s to stop, 30 s to answer) and some. */
    private static final long RESTART_JOIN_MS = 60_000;

    /**
     * Waits until the node stops accepting connections (the restart has begun): true then, false when the restart
     * finished before a probe saw it down. The probe is a bare TCP connect (cheap), every millisecond: the window
     * between the old process's exit and the new one's listening is short, and the former probe (a JSON-RPC call
     * with a new HttpClient every 5 ms) could miss it on a loaded machine and then wait for a downtime that never came.
     */
    private static boolean awaitDown(AnvilNode anvil, Thread restarter) throws InterruptedException {
        long deadline = System.nanoTime() + RESTART_JOIN_MS * 1_000_000L;
        while (System.nanoTime() < deadline) {
            if (!Ports.answers(anvil.port(), 200)) {
                return true;
            }
            if (!restarter.isAlive()) {
                return false;
            }
            Thread.sleep(1);
        }
        throw new AssertionError("anvil neither went down nor finished restarting within " + RESTART_JOIN_MS + " ms");
    }

    @Test
    void facadeReconnectsAndResyncsFromItsCursorWithoutDuplicates() throws InterruptedException {
        try (AnvilNode anvil = AnvilNode.start(0, tmp.resolve("state.json"), tmp.resolve("anvil.log"))) {
            Map<String, String> contracts = MarketplaceDeployer.deployLocal(anvil.rpcUrl());
            long deployBlock = Long.parseLong(contracts.get(MarketplaceDeployer.DEPLOY_BLOCK));
            FileCursorStore store = new FileCursorStore(tmp.resolve("cursors"));
            List<MarketEvent> seen = new ArrayList<>();
            try (MarketplaceChain chain = MarketplaceChain.connect(anvil.rpcUrl(), DevAccounts.account(0), contracts, RESTART_TOLERANT)) {
                byte[] job = Hashes.keccak256("restart-job".getBytes(StandardCharsets.UTF_8));
                String p = DevAccounts.account(2).getAddress();
                chain.approve(BigInteger.valueOf(1_000_000));
                chain.openJob(job, BigInteger.valueOf(1_000_000), chain.latestTimestamp() + 3600);
                chain.postRound(job, 1, job, PayoutTree.of(Map.of(p, BigInteger.TEN)).root(), BigInteger.TEN);
                EventSync sync = new EventSync(chain, store, "settle", 1, deployBlock);
                sync.syncOnce(seen::add);
                int before = seen.size();
                assertThat(seen).extracting(MarketEvent::name).contains("JobOpened", "RoundPosted");

                AtomicReference<Throwable> restartFailure = new AtomicReference<>();
                Thread restarter = new Thread(() -> {
                    try {
                        anvil.restart();
                    } catch (Throwable t) {
                        restartFailure.set(t);
                    }
                }, "anvil-restart");
                restarter.start();
                boolean down = awaitDown(anvil, restarter);
                // issued while anvil is down (when the probe saw it down; else just after the restart): the facade
                // retries until the node answers again, and its nonces continue from the restored state
                PayoutTree r2 = PayoutTree.of(Map.of(p, BigInteger.valueOf(30)));
                chain.postRound(job, 2, job, r2.root(), BigInteger.valueOf(30));
                restarter.join(RESTART_JOIN_MS);
                assertThat(restarter.isAlive()).as("anvil restart still running after %d ms", RESTART_JOIN_MS).isFalse();
                assertThat(restartFailure.get()).as("anvil restart failed").isNull();
                assertThat(anvil.isAlive()).isTrue();
                if (!down) {
                    System.err.println("ChainRestartTest: the restart finished between two probes; postRound was sent after it");
                }
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
