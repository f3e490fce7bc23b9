package io.fedmarket.chain;

import io.fedmarket.config.Ports;
import io.fedmarket.config.ProjectPaths;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A local EVM node: anvil from npm ({@code node_modules/.bin/anvil}), bound to 127.0.0.1.
 * Used by the local stack and by chain tests. Its state can be dumped to / loaded from a file
 * so that a restart keeps the chain ({@code --state}).
 */
public final class AnvilNode implements AutoCloseable {
    /** anvil's well-known default chain id. */
    public static final long CHAIN_ID = 31337;

    private final int port;
    private final Path stateFile;
    private final Path logFile;
    private Process process;

    private AnvilNode(int port, Path stateFile, Path logFile) {
        this.port = port;
        this.stateFile = stateFile;
        this.logFile = logFile;
    }

    /** Starts anvil on {@code port} (0 = any free port). {@code stateFile} may be null (ephemeral chain). */
    public static AnvilNode start(int port, Path stateFile, Path logFile) {
        int p = Ports.claim("anvil (EVM)", port, "--evm-port");
        AnvilNode node = new AnvilNode(p, stateFile, logFile);
        node.launch();
        return node;
    }

    private void launch() {
        Path anvil = binary();
        List<String> cmd = new ArrayList<>(List.of(anvil.toString(), "--host", "127.0.0.1", "--port", Integer.toString(port),
                "--chain-id", Long.toString(CHAIN_ID), "--accounts", Integer.toString(DevAccounts.COUNT), "--prune-history", "64", "--silent"));
        if (stateFile != null) {
            cmd.addAll(List.of("--state", stateFile.toString(), "--state-interval", "2"));
        }
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            if (logFile != null) {
                Files.createDirectories(logFile.toAbsolutePath().getParent());
                pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            } else {
                pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            }
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start anvil at " + anvil, e);
        }
        awaitReady(Duration.ofSeconds(30));
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("anvil exited with code " + process.exitValue()
                        + (logFile != null ? " (see " + logFile + ")" : ""));
            }
            try {
                if (blockNumber() >= 0) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            sleep(100);
        }
        close();
        throw new IllegalStateException("anvil did not answer on 127.0.0.1:" + port + " within " + timeout.toSeconds() + " s");
    }

    /**
     * The platform binary npm installed (node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil), so that
     * our signals reach anvil itself rather than a node wrapper; the wrapper in node_modules/.bin otherwise.
     */
    static Path binary() {
        String os = System.getProperty("os.name").toLowerCase().contains("mac") ? "darwin" : "linux";
        String arch = System.getProperty("os.arch").matches("aarch64|arm64") ? "arm64" : "amd64";
        Path direct = ProjectPaths.requireRoot().resolve("node_modules/@foundry-rs/anvil-" + os + "-" + arch + "/bin/anvil");
        return Files.isExecutable(direct) ? direct : ProjectPaths.nodeTool("anvil");
    }

    /** {@code eth_blockNumber} over JSON-RPC, as a health check. */
    public long blockNumber() {
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpRequest req = HttpRequest.newBuilder(URI.create(rpcUrl())).timeout(Duration.ofSeconds(5))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\",\"params\":[]}"))
                    .build();
            String body = client.send(req, HttpResponse.BodyHandlers.ofString()).body();
            int i = body.indexOf("\"result\":\"0x");
            if (i < 0) {
                throw new IllegalStateException("unexpected eth_blockNumber answer: " + body);
            }
            int start = i + "\"result\":\"0x".length();
            int end = body.indexOf('"', start);
            return Long.parseLong(body.substring(start, end), 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Stops anvil and starts it again on the same port and state file (tests of reconnects). */
    public void restart() {
        stop();
        launch();
    }

    public String rpcUrl() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    private void stop() {
        if (process == null) {
            return;
        }
        process.destroy(); // SIGTERM: anvil dumps its state file on exit
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    @Override
    public void close() {
        stop();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
