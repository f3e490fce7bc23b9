package io.fedmarket.infra.local;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Mines an empty block on the local chain every interval ({@code evm_mine}), as a public chain produces blocks whether
 * or not anyone sends a transaction. anvil's automine mines only on transactions; the verify function draws each
 * submission's segments from the hash of the block after the one it was recorded in, which must come on its own.
 * Transactions are still mined at once (automine stays on).
 */
final class BlockTicker implements AutoCloseable {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("block-ticker").unstarted(r));
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    BlockTicker(String rpcUrl, Duration every) {
        HttpRequest mine = HttpRequest.newBuilder(URI.create(rpcUrl)).timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"evm_mine\",\"params\":[]}")).build();
        long ms = Math.max(100, every.toMillis());
        timer.scheduleWithFixedDelay(() -> {
            try {
                http.send(mine, HttpResponse.BodyHandlers.discarding());
            } catch (Exception e) {
                // anvil restarting or stopping: the next tick tries again
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
