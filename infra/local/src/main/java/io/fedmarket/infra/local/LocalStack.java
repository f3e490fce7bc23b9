package io.fedmarket.infra.local;

import io.fedmarket.chain.AnvilNode;
import io.fedmarket.config.StackEndpoints;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The marketplace's local stand-ins, started in this JVM (SQS, S3) or as child processes (anvil),
 * all bound to 127.0.0.1: the same code that runs on AWS runs against these. Closing stops everything
 * it started, in reverse order; data under the data directory is kept.
 *
 * <pre>
 * try (LocalStack stack = LocalStack.builder().dataDir(dir).sqs(true).s3(true).start()) {
 *     StackEndpoints ep = stack.endpoints();
 * }
 * </pre>
 */
public final class LocalStack implements AutoCloseable {

    /** Options; ports 0 mean "any free port". */
    public static final class Builder {
        private Path dataDir;
        private boolean sqs = true;
        private boolean s3 = true;
        private boolean evm = true;
        private boolean postgres = true;
        private int sqsPort;
        private int s3Port;
        private int evmPort;
        private int pgMachinePort = 5432;
        private int pgEmbeddedPort;
        private String databaseUrl = System.getenv("DATABASE_URL");
        private String databaseName = "fedmarket";
        private boolean freshDatabase;
        private boolean persistentChain;
        private Consumer<String> progress = line -> { };

        public Builder dataDir(Path dir) { this.dataDir = dir; return this; }
        public Builder sqs(boolean on) { this.sqs = on; return this; }
        public Builder s3(boolean on) { this.s3 = on; return this; }
        public Builder evm(boolean on) { this.evm = on; return this; }
        public Builder postgres(boolean on) { this.postgres = on; return this; }
        public Builder sqsPort(int port) { this.sqsPort = port; return this; }
        public Builder s3Port(int port) { this.s3Port = port; return this; }
        public Builder evmPort(int port) { this.evmPort = port; return this; }
        /** Where the machine's PostgreSQL is looked for (default 5432). */
        public Builder pgMachinePort(int port) { this.pgMachinePort = port; return this; }
        /** Port for an embedded PostgreSQL when no server answers (default: any free port). */
        public Builder pgEmbeddedPort(int port) { this.pgEmbeddedPort = port; return this; }
        /** postgres://user:pass@host:port/db; default: env DATABASE_URL. */
        public Builder databaseUrl(String url) { this.databaseUrl = url; return this; }
        public Builder databaseName(String name) { this.databaseName = name; return this; }
        /** Drop the named database first (a test's own database on the machine's server: made anew each run). */
        public Builder freshDatabase(boolean on) { this.freshDatabase = on; return this; }
        private java.time.Duration blockTime = java.time.Duration.ofSeconds(1);
        /** An empty block every {@code every} besides the transactions' own (like a public chain); null or zero: none. */
        public Builder blockTime(java.time.Duration every) { this.blockTime = every; return this; }
        /** Keep the chain in the data directory across restarts (anvil --state). */
        public Builder persistentChain(boolean on) { this.persistentChain = on; return this; }
        public Builder progress(Consumer<String> listener) { this.progress = listener; return this; }

        public LocalStack start() {
            if (dataDir == null) {
                throw new IllegalArgumentException("LocalStack needs a data directory: call dataDir(path)");
            }
            return new LocalStack(this);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final Map<String, Long> startMillis = new LinkedHashMap<>();
    private final Path dataDir;
    private SqsServer sqs;
    private S3Server s3;
    private AnvilNode anvil;
    private PostgresServer postgres;
    private final StackEndpoints endpoints;

    private LocalStack(Builder b) {
        this.dataDir = b.dataDir.toAbsolutePath();
        try {
            if (b.sqs) {
                sqs = timed("SQS (ElasticMQ)", b.progress, () -> new SqsServer(b.sqsPort), s -> s.endpoint()
                        + ", " + s.queueUrls().size() + " queues + DLQs");
                started.push(sqs);
            }
            if (b.s3) {
                s3 = timed("S3 (s3proxy)", b.progress, () -> new S3Server(b.s3Port, dataDir.resolve("s3")),
                        s -> s.endpoint() + ", bucket " + s.bucket());
                started.push(s3);
            }
            if (b.evm) {
                Path state = b.persistentChain ? dataDir.resolve("anvil-state.json") : null;
                anvil = timed("EVM (anvil)", b.progress, () -> AnvilNode.start(b.evmPort, state, dataDir.resolve("logs/anvil.log")),
                        a -> a.rpcUrl() + ", block " + a.blockNumber());
                started.push(anvil);
                if (b.blockTime != null && !b.blockTime.isZero()) {
                    started.push(new BlockTicker(anvil.rpcUrl(), b.blockTime));
                }
            }
            if (b.postgres) {
                postgres = timed("PostgreSQL", b.progress,
                        () -> new PostgresServer(b.databaseUrl, b.databaseName, b.pgMachinePort, b.pgEmbeddedPort, dataDir, b.freshDatabase),
                        p -> p.jdbcUrl() + " (" + p.source().name().toLowerCase().replace('_', ' ') + "), "
                                + p.migrationsApplied() + " migrations applied now");
                started.push(postgres);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        endpoints = new StackEndpoints(
                sqs == null ? null : new StackEndpoints.Sqs(sqs.endpoint(), SqsServer.REGION, SqsServer.ACCESS_KEY,
                        SqsServer.SECRET_KEY, Map.copyOf(sqs.queueUrls()), Map.copyOf(sqs.dlqUrls())),
                s3 == null ? null : new StackEndpoints.S3(s3.endpoint(), "us-east-1", S3Server.ACCESS_KEY,
                        S3Server.SECRET_KEY, s3.bucket(), true),
                anvil == null ? null : new StackEndpoints.Evm(anvil.rpcUrl(), AnvilNode.CHAIN_ID, Map.of()),
                postgres == null ? null : new StackEndpoints.Database(postgres.jdbcUrl(), postgres.reactiveUrl(),
                        postgres.user(), postgres.password(), postgres.source() == PostgresServer.Source.EMBEDDED),
                null, Map.of("dataDir", dataDir.toString()));
    }

    private <T> T timed(String name, Consumer<String> progress, Supplier<T> start, java.util.function.Function<T, String> describe) {
        progress.accept("  … starting " + name);
        long t0 = System.nanoTime();
        T component = start.get();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        startMillis.put(name, ms);
        progress.accept(String.format("  ✔ %-16s healthy in %5.1f s  %s", name, ms / 1000.0, describe.apply(component)));
        return component;
    }

    public StackEndpoints endpoints() {
        return endpoints;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Milliseconds each component took to become healthy, in start order. */
    public Map<String, Long> startMillis() {
        return Map.copyOf(startMillis);
    }

    /** The anvil process, for chain tests that restart it; null when the stack runs without EVM. */
    public AnvilNode anvil() {
        return anvil;
    }

    /** Health of every component, checked for real (a request to each). */
    public Map<String, Boolean> health() {
        Map<String, Boolean> h = new LinkedHashMap<>();
        if (sqs != null) {
            try (SqsClient c = sqs.client()) {
                h.put("sqs", c.listQueues().queueUrls().size() >= sqs.queueUrls().size() * 2);
            } catch (RuntimeException e) {
                h.put("sqs", false);
            }
        }
        if (s3 != null) {
            try (S3Client c = s3.client()) {
                c.headBucket(r -> r.bucket(s3.bucket()));
                h.put("s3", true);
            } catch (RuntimeException e) {
                h.put("s3", false);
            }
        }
        if (anvil != null) {
            try {
                h.put("evm", anvil.blockNumber() >= 0);
            } catch (RuntimeException e) {
                h.put("evm", false);
            }
        }
        if (postgres != null) {
            h.put("postgres", postgres.healthy());
        }
        return h;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = new IllegalStateException("stopping the local stack: " + e.getMessage(), e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
