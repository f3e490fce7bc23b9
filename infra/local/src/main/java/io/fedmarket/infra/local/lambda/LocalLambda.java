package io.fedmarket.infra.local.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.config.Queues;
import io.fedmarket.config.StackEndpoints;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The local Lambda path: the packaged function.zip runs as one process per function against a local
 * Runtime API; a local API gateway turns HTTP requests into API Gateway HTTP API v2 events for the
 * API functions; an SQS event-source poller feeds the queue consumers batches as SQS events and
 * deletes only the records that succeeded. Functions start on first use (cold start).
 *
 * <pre>
 * try (LocalLambda lambda = LocalLambda.builder().functionZip(Path.of("functions/target/function.zip"))
 *         .endpoints(stack.endpoints()).workDir(dataDir.resolve("lambda")).start()) {
 *     String url = lambda.gatewayUrl();   // e.g. http://127.0.0.1:PORT, routes of functions.json
 * }
 * </pre>
 */
public final class LocalLambda implements AutoCloseable {

    public static final class Builder {
        private Path functionZip;
        private StackEndpoints endpoints;
        private Path workDir;
        private int gatewayPort;
        private int runtimeApiPort;
        private boolean pollers = true;
        private int maxInstances = 1;
        private String siweDomain = "fedmarket.local";
        private String jwtIssuer = "https://fedmarket.local";
        private Map<String, String> extraEnv = Map.of();
        private Consumer<String> progress = line -> { };

        public Builder functionZip(Path zip) { this.functionZip = zip; return this; }
        public Builder endpoints(StackEndpoints ep) { this.endpoints = ep; return this; }
        /** Where the zip is unpacked and function logs go (logs/NAME.log). */
        public Builder workDir(Path dir) { this.workDir = dir; return this; }
        public Builder gatewayPort(int port) { this.gatewayPort = port; return this; }
        public Builder runtimeApiPort(int port) { this.runtimeApiPort = port; return this; }
        /** Off: no SQS pollers (API only). */
        public Builder pollers(boolean on) { this.pollers = on; return this; }
        private java.util.Set<String> pollOnly;
        /** Pollers only for these queue keys (others are consumed by someone else, e.g. the demo's coordinator). */
        public Builder pollOnly(java.util.Set<String> queueKeys) { this.pollOnly = java.util.Set.copyOf(queueKeys); return this; }
        /**
         * Instances per function (default 1). Like Lambda's scaling, a new instance (cold start) is
         * started when an invocation arrives while every running instance is busy, up to this many.
         */
        public Builder maxInstances(int n) { this.maxInstances = Math.max(1, n); return this; }
        public Builder siweDomain(String d) { this.siweDomain = d; return this; }
        public Builder jwtIssuer(String i) { this.jwtIssuer = i; return this; }
        public Builder extraEnv(Map<String, String> env) { this.extraEnv = Map.copyOf(env); return this; }
        public Builder progress(Consumer<String> p) { this.progress = p; return this; }

        public LocalLambda start() {
            if (functionZip == null || !Files.isRegularFile(functionZip)) {
                throw new IllegalArgumentException("no function.zip at " + functionZip
                        + ": build it first (./mvnw -pl functions -am package -DskipTests)");
            }
            if (endpoints == null || endpoints.sqs() == null || endpoints.database() == null) {
                throw new IllegalArgumentException("LocalLambda needs stack endpoints with SQS and PostgreSQL");
            }
            if (workDir == null) {
                throw new IllegalArgumentException("LocalLambda needs a work directory: call workDir(path)");
            }
            return new LocalLambda(this);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    static final ObjectMapper JSON = new ObjectMapper();

    private final FunctionsSpec spec = FunctionsSpec.load();
    private final LambdaRuntimeApi runtime;
    private final LocalGateway gateway;
    private final List<SqsPoller> pollers = new ArrayList<>();
    private final Map<String, List<FunctionProcess>> processes = new LinkedHashMap<>();
    private final Map<String, java.util.function.Supplier<FunctionProcess>> factories = new LinkedHashMap<>();
    private final int maxInstances;
    private final Consumer<String> progress;

    private LocalLambda(Builder b) {
        this.progress = b.progress;
        this.maxInstances = b.maxInstances;
        Path app = unpack(b.functionZip, b.workDir.resolve("app"));
        try {
            runtime = new LambdaRuntimeApi(b.runtimeApiPort);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the local Lambda Runtime API", e);
        }
        StackEndpoints ep = b.endpoints;
        String anyQueue = ep.sqs().queueUrl(Queues.MATCH);
        String prefix = anyQueue.substring(0, anyQueue.length() - Queues.get().byKey(Queues.MATCH).name().length());
        // the token key pair of this local marketplace (kept in the work directory, reused on restart)
        Map<String, String> jwtKeys = io.fedmarket.crypto.JwtKeyFiles.in(b.workDir.resolve("jwt")).environment();
        for (FunctionsSpec.Fn fn : spec.functions()) {
            Map<String, String> env = new HashMap<>();
            env.put("QUARKUS_FUNQY_EXPORT", fn.name());
            env.put("QUARKUS_DATASOURCE_REACTIVE_URL", ep.database().reactiveUrl());
            env.put("QUARKUS_DATASOURCE_USERNAME", ep.database().user());
            env.put("QUARKUS_DATASOURCE_PASSWORD", ep.database().password() == null ? "" : ep.database().password());
            env.put("FEDMARKET_SQS_ENDPOINT", ep.sqs().endpoint());
            env.put("FEDMARKET_QUEUE_URL_PREFIX", prefix);
            env.put("FEDMARKET_BUCKET", ep.s3() != null ? ep.s3().bucket() : Queues.get().bucket());
            env.put("FEDMARKET_S3_ENDPOINT", ep.s3() != null ? ep.s3().endpoint() : "");
            env.put("FEDMARKET_RPC_URL", ep.evm() != null ? ep.evm().rpcUrl() : "");
            env.put("FEDMARKET_CHAIN_ID", ep.evm() != null ? Long.toString(ep.evm().chainId()) : "31337");
            String marketplace = ep.evm() != null && ep.evm().contracts() != null ? ep.evm().contracts().get("marketplace") : null;
            env.put("FEDMARKET_MARKETPLACE_ADDRESS", marketplace == null ? "" : marketplace);
            // local chains only: the operator's public anvil dev key (account 0, COORDINATOR_ROLE from MarketplaceDeployer)
            env.put("FEDMARKET_COORDINATOR_KEY", marketplace == null ? "" : org.web3j.utils.Numeric.toHexStringNoPrefixZeroPadded(io.fedmarket.chain.DevAccounts.account(0).getEcKeyPair().getPrivateKey(), 64));
            env.put("FEDMARKET_DISPUTE_WINDOW", "PT2M"); // short on the local stack, so that a rejection is slashed within the session
            env.put("FEDMARKET_JWT_ISSUER", b.jwtIssuer);
            env.put("FEDMARKET_SIWE_DOMAIN", b.siweDomain);
            env.putAll(jwtKeys);
            env.put("AWS_LAMBDA_RUNTIME_API", runtime.runtimeApiFor(fn.name()));
            env.put("AWS_LAMBDA_FUNCTION_NAME", "fedmarket-" + fn.name());
            env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(fn.memoryMb()));
            env.put("AWS_REGION", ep.sqs().region() == null ? "us-east-1" : ep.sqs().region());
            // the role's credentials on AWS; here s3proxy's identity when it runs (ElasticMQ takes any key)
            env.put("AWS_ACCESS_KEY_ID", ep.s3() != null ? ep.s3().accessKey() : ep.sqs().accessKey() == null ? "local" : ep.sqs().accessKey());
            env.put("AWS_SECRET_ACCESS_KEY", ep.s3() != null ? ep.s3().secretKey() : ep.sqs().secretKey() == null ? "local" : ep.sqs().secretKey());
            env.putAll(b.extraEnv);
            java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
            factories.put(fn.name(), () -> {
                int i = n.getAndIncrement();
                return new FunctionProcess(fn, spec.handler(), app, env, b.workDir.resolve("logs").resolve(fn.name() + (i == 0 ? "" : "-" + i) + ".log"));
            });
            List<FunctionProcess> list = new ArrayList<>();
            list.add(factories.get(fn.name()).get());
            processes.put(fn.name(), list);
        }
        try {
            gateway = new LocalGateway(b.gatewayPort, spec, this);
        } catch (IOException e) {
            runtime.close();
            throw new UncheckedIOException("cannot start the local API gateway", e);
        }
        if (b.pollers) {
            for (FunctionsSpec.Fn fn : spec.functions()) {
                if (fn.sqs() && (b.pollOnly == null || b.pollOnly.contains(fn.queueKey()))) {
                    SqsPoller p = new SqsPoller(fn, ep, this);
                    pollers.add(p);
                    p.start();
                }
            }
        }
        progress.accept("  ✔ Lambda runtime API 127.0.0.1:" + runtime.port() + ", API gateway " + gatewayUrl() + ", "
                + pollers.size() + " SQS pollers; functions start on first use (logs in " + b.workDir.resolve("logs") + ")");
    }

    public String gatewayUrl() {
        return "http://127.0.0.1:" + gateway.port();
    }

    public StackEndpoints.Functions endpoint() {
        return new StackEndpoints.Functions(gatewayUrl());
    }

    /**
     * Invokes a function with an event, as the Lambda service does: starts its process on first use and
     * waits for the response up to the function's timeout plus the cold start allowance.
     */
    public LambdaRuntimeApi.Result invoke(String function, String event) {
        List<FunctionProcess> instances = processes.get(function);
        if (instances == null) {
            throw new IllegalArgumentException("no function '" + function + "' in functions.json; known: " + processes.keySet());
        }
        FunctionsSpec.Fn fn = spec.functions().stream().filter(f -> f.name().equals(function)).findFirst().orElseThrow();
        boolean cold;
        FunctionProcess p;
        synchronized (instances) {
            p = instances.get(0);
            cold = p.ensureStarted();
            if (!cold && runtime.backlog(function) > 0 && instances.size() < maxInstances) {
                p = factories.get(function).get();
                p.ensureStarted();
                instances.add(p);
                cold = true;
            }
        }
        long timeoutMs = fn.timeoutSeconds() * 1000L + (cold ? 60_000 : 0);
        CompletableFuture<LambdaRuntimeApi.Result> f = runtime.invoke(function, event, timeoutMs);
        try {
            return f.get(timeoutMs + 1000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            String init = runtime.initError(function);
            throw new IllegalStateException("function " + function + " did not answer within " + timeoutMs + " ms"
                    + (init != null ? " (init error: " + init + ")" : "") + (p.alive() ? "" : "; its process exited, see " + p.log()), e);
        }
    }

    /** Starts every function process now (instead of on first use), e.g. before a latency measurement. */
    public void warmAll() {
        processes.values().forEach(list -> list.get(0).ensureStarted());
    }

    private static Path unpack(Path zip, Path dir) {
        try {
            Path stamp = dir.resolve(".source");
            String id = zip.toAbsolutePath() + "@" + Files.getLastModifiedTime(zip).toMillis() + ":" + Files.size(zip);
            if (Files.isRegularFile(stamp) && Files.readString(stamp).equals(id)) {
                return dir;
            }
            if (Files.exists(dir)) {
                try (var walk = Files.walk(dir)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
            Files.createDirectories(dir);
            try (ZipFile z = new ZipFile(zip.toFile())) {
                for (ZipEntry e : java.util.Collections.list(z.entries())) {
                    Path out = dir.resolve(e.getName()).normalize();
                    if (!out.startsWith(dir)) {
                        throw new IOException("zip entry outside the target: " + e.getName());
                    }
                    if (e.isDirectory()) {
                        Files.createDirectories(out);
                    } else {
                        Files.createDirectories(out.getParent());
                        try (InputStream in = z.getInputStream(e)) {
                            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            }
            Files.writeString(stamp, id);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack " + zip + " into " + dir, e);
        }
    }

    static JsonNode tree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        pollers.forEach(SqsPoller::stop);
        gateway.close();
        processes.values().forEach(list -> list.forEach(FunctionProcess::close));
        runtime.close();
    }
}
