package io.fedmarket.cli.demo;

import io.fedmarket.chain.DevAccounts;
import io.fedmarket.chain.MarketplaceChain;
import io.fedmarket.chain.MarketplaceDeployer;
import io.fedmarket.cli.report.DemoRun;
import io.fedmarket.config.Queues;
import io.fedmarket.config.StackEndpoints;
import io.fedmarket.crypto.PayoutTree;
import io.fedmarket.fl.aggregation.AggregationRegistry;
import io.fedmarket.fl.payout.PayoutLedger;
import io.fedmarket.fl.payout.TaskSettlement;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.fl.verify.CheapCheckPolicy;
import io.fedmarket.fl.verify.ComparisonPolicy;
import io.fedmarket.fl.verify.UpdateVerifier;
import io.fedmarket.infra.local.LocalStack;
import io.fedmarket.pol.SubmissionSigner;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.Partitions;
import io.fedmarket.worker.model.ModelSpec;
import io.fedmarket.worker.store.ArtifactStore;
import io.fedmarket.fl.model.ModelState;
import io.fedmarket.worker.train.TrainingSession;
import org.web3j.crypto.Credentials;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.math.BigInteger;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * The main job: a whole marketplace job on the embedded local stack, with faults injected and
 * reported. Everything real: SQS/S3 stand-ins, anvil with the compiled contracts, separate worker
 * JVMs training with DJL on Fashion-MNIST shards, re-execution by other workers, robust
 * aggregation, Merkle payouts posted per round off the training critical path, slashes and claims.
 */
public final class DemoRunner {
    /**
     * @param epochs local epochs per task: each client's task runs epochs × ⌊shard/batch⌋ steps (NIID-Bench); 0 = {@code steps}
     * @param baseline also train the all-honest job in-process for the report's comparison curve
     */
    public record Options(int workers, int rounds, int cheaters, long seed, boolean faults, int steps, Path runDir,
                          double targetAccuracy, String model, int epochs, int batch, double lr, double momentum,
                          boolean baseline, int budgetTokens, double fakedFraction, Mix mix, boolean privateData) {
        /**
         * Who the providers are when not the demo's default (the last {@code cheaters} cheat): one behaviour per provider (a
         * FEDMARKET_FAULT value or {@code none}), {@code verifiers} extra bonded verifier nodes that only re-execute, and the
         * job's comparison ({@code bit-exact}, or {@code tolerance} with its threshold for non-deterministic kernels); the last
         * {@code lyingVerifiers} of the verifier nodes sign made-up end hashes (they must never get anyone slashed).
         */
        public record Mix(List<String> behaviours, int verifiers, int lyingVerifiers, String comparison, Double tolerance) {
        }

        public Options withMix(Mix m) {
            return new Options(m.behaviours().size(), rounds, (int) m.behaviours().stream().filter(DemoRunner::cheats).count(), seed, faults, steps, runDir,
                    targetAccuracy, model, epochs, batch, lr, momentum, baseline, budgetTokens, fakedFraction, m, privateData);
        }

        /** The same run with every provider's shard private: exported to its own PNG folder, committed, trained there by its own worker only. */
        public Options withPrivateData(boolean on) {
            return new Options(workers, rounds, cheaters, seed, faults, steps, runDir, targetAccuracy, model, epochs, batch, lr, momentum, baseline,
                    budgetTokens, fakedFraction, mix, on);
        }

        public Options withTraining(String model, int steps, double fakedFraction, boolean spotFaults, boolean baseline) {
            return new Options(workers, rounds, cheaters, seed, spotFaults, steps, runDir, targetAccuracy, model, epochs, batch, lr, momentum, baseline,
                    budgetTokens, fakedFraction, mix, privateData);
        }

        /**
         * The demo: an MLP, {@code steps} local steps per task; verification sized to catch, with probability 0.99 in the round
         * it happens, a worker that fakes its whole task (the demo's cheaters), re-executing at most 5% of the steps.
         */
        public Options(int workers, int rounds, int cheaters, long seed, boolean faults, int steps, Path runDir, double targetAccuracy) {
            this(workers, rounds, cheaters, seed, faults, steps, runDir, targetAccuracy, "mlp", 0, 64, 0.05, 0.5, true, 1000, 1.0, null, false);
        }

        /**
         * The NIID-Bench Fashion-MNIST setup (Li et al., ICDE 2022; Flower's niid_bench baseline): 10 clients all sampled,
         * Dirichlet(0.5) labels, the CNN (conv 5×5 6 → pool → conv 5×5 16 → pool → 120 → 84 → 10), batch 64, SGD lr 0.01
         * momentum 0.9, 10 local epochs, 50 rounds, FedAvg.
         */
        public static Options anchor(int cheaters, int rounds, int epochs, long seed, Path runDir) {
            // the anchor measures accuracy; verification is sized like the demo's (a whole faked task caught with p 0.99 per
            // round: q = 1 of 20 segments, 5% of the steps), which keeps 50 rounds of CNN checkpoints at a few GB; detection per
            // strategy at the 5% budget is the integrity benchmark's (bench integrity --marketplace)
            return new Options(10, rounds, cheaters, seed, cheaters > 0, 0, runDir, cheaters > 0 ? 0.864 : 0.874, "cnn", epochs, 64, 0.01, 0.9, false, 20_000,
                    1.0, null, false);
        }

        int stepsFor(int shardSize) {
            return epochs > 0 ? epochs * (shardSize / batch) : steps;
        }
    }

    static final BigInteger TOKEN = BigInteger.TEN.pow(18);
    /**
     * The functions' settings for a demo: a short dispute window (a slash lands seconds after the rejection instead of an
     * hour), START looks for the escrow every second, an unanswered re-execution goes to another worker after 60 s.
     */
    static final Map<String, String> FUNCTION_ENV = Map.of("FEDMARKET_DISPUTE_WINDOW", "PT5S", "FEDMARKET_SETTLE_ESCROW_POLL", "PT1S",
            "FEDMARKET_VERIFY_REEXEC_TIMEOUT", "PT60S", "FEDMARKET_VERIFY_BLOCK_POLL", "PT1S");

    /**
     * {@link #FUNCTION_ENV} plus the round-rhythm settings found in this process's environment, so that a benchmark can compare
     * them on the same machine (e.g. {@code FEDMARKET_VERIFY_BLOCK_WAIT=PT0S ./mkt bench rounds}: the draw re-queues instead of
     * waiting for its block). The workers inherit the environment, {@code FEDMARKET_IDLE_WAKEUP} with it.
     */
    static Map<String, String> functionEnv() {
        Map<String, String> env = new HashMap<>(FUNCTION_ENV);
        for (String name : List.of("FEDMARKET_VERIFY_BLOCK_WAIT", "FEDMARKET_VERIFY_BLOCK_POLL")) {
            String v = System.getenv(name);
            if (v != null && !v.isBlank()) {
                env.put(name, v);
            }
        }
        return Map.copyOf(env);
    }
    /** Dev accounts 2.. are the workers; the last one is the treasury. */
    public static final int MAX_WORKERS = DevAccounts.COUNT - 3;
    static final String[] CHEATS = {"free-ride", "noise", "partial:0.3"};

    /** Whether a FEDMARKET_FAULT value cheats (slow and nondeterministic workers are honest, only awkward). */
    static boolean cheats(String fault) {
        return !(fault == null || fault.equals("none") || fault.equals("honest") || fault.startsWith("slow:") || fault.equals("nondeterministic")
                || fault.equals("verifier") || fault.startsWith("crash-after:"));
    }

    private final Options o;
    private final Consumer<String> out;
    private final long t0 = System.currentTimeMillis();
    private final List<DemoRun.Event> timeline = new ArrayList<>();
    private final Map<String, Long> gas = new ConcurrentHashMap<>();
    /** Private data (--private-data): each provider's committed PNG folder, by provider index. */
    private final Map<Integer, io.fedmarket.worker.data.local.DataCommitter.Commitment> privateSets = new java.util.TreeMap<>();

    public DemoRunner(Options o, Consumer<String> out) {
        this.o = o;
        this.out = out;
    }

    private void step(String kind, String text) {
        long at = System.currentTimeMillis() - t0;
        synchronized (timeline) {
            timeline.add(new DemoRun.Event(at, kind, text));
        }
        out.accept(String.format(Locale.ROOT, "[%6.1fs] %s", at / 1000.0, text));
    }

    private void gas(MarketplaceChain.TxResult r) {
        gas.merge(r.operation(), r.gasUsed().longValueExact(), Long::sum);
    }

    public DemoRun run() throws Exception {
        if (o.workers() < 2 || o.workers() > MAX_WORKERS) {
            throw new IllegalArgumentException("--workers must be 2.." + MAX_WORKERS + " (the local chain funds " + DevAccounts.COUNT
                    + " dev accounts: operator, builder, workers and the treasury), got " + o.workers());
        }
        int cheaters = o.mix() != null ? o.cheaters() : o.faults() ? o.cheaters() : 0;
        step("stack", "starting the local stack (SQS, S3, EVM, PostgreSQL) in " + o.runDir());
        // a database of this run's own: a demo, a benchmark and the test suite may share the machine's PostgreSQL at once
        String database = "fedmarket_demo_" + ProcessHandle.current().pid() + "_" + Long.toString(System.nanoTime() % 1_000_000, 36);
        StackEndpoints.Database[] used = new StackEndpoints.Database[1];
        try (LocalStack stack = LocalStack.builder().dataDir(o.runDir().resolve("stack")).databaseName(database)
                .progress(l -> out.accept("          " + l.strip())).start()) {
            used[0] = stack.endpoints().database();
            emptyMarketplace(stack.endpoints().database());
            String rpc = stack.endpoints().evm().rpcUrl();
            Map<String, String> contracts = MarketplaceDeployer.deployLocal(rpc);
            StackEndpoints ep = stack.endpoints().withEvm(new StackEndpoints.Evm(rpc, stack.endpoints().evm().chainId(), contracts));
            Path endpointsFile = o.runDir().resolve("endpoints.json");
            ep.write(endpointsFile);
            step("chain", "contracts compiled by solc deployed: Marketplace " + contracts.get(MarketplaceDeployer.MARKETPLACE)
                    + ", test token " + contracts.get(MarketplaceDeployer.TOKEN));
            // the functions from function.zip behind the local API gateway and an SQS event-source poller per queue: the
            // whole job runs through them (match, settle START, verify, judge, aggregate, settle), as on AWS
            try (io.fedmarket.infra.local.lambda.LocalLambda lambda = io.fedmarket.infra.local.lambda.LocalLambda.builder()
                    .functionZip(functionZip()).endpoints(ep).workDir(o.runDir().resolve("lambda")).extraEnv(functionEnv())
                    .progress(l -> out.accept("          " + l.strip())).start()) {
                step("functions", "functions (auth, intents, providers, jobs, claims behind the local API gateway " + lambda.gatewayUrl()
                        + "; match, verify, judge, aggregate, settle, chain-sync on their queues)");
                return runJob(ep.withFunctions(new StackEndpoints.Functions(lambda.gatewayUrl())), endpointsFile, contracts, cheaters);
            }
        } finally {
            dropDatabase(used[0]);
        }
    }

    /** The run's database goes with the run (its figures are in run.json and the report); a failure to drop it is only logged. */
    static void dropDatabase(StackEndpoints.Database db) {
        if (db == null || !db.jdbcUrl().contains("/fedmarket_demo_")) {
            return;
        }
        String name = db.jdbcUrl().substring(db.jdbcUrl().lastIndexOf('/') + 1).replaceAll("\\?.*", "");
        String admin = db.jdbcUrl().substring(0, db.jdbcUrl().lastIndexOf('/') + 1) + "postgres";
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(admin, db.user(), db.password());
             java.sql.Statement st = c.createStatement()) {
            st.execute("drop database if exists \"" + name.replace("\"", "") + "\" with (force)");
        } catch (java.sql.SQLException e) {
            System.err.println("demo: could not drop its database " + name + " (" + e.getMessage() + "); drop it by hand if you like");
        }
    }

    /** Each demo starts from an empty marketplace in its own database (the chain is fresh too): no offers or bonds of earlier runs. */
    public static void emptyMarketplace(StackEndpoints.Database db) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("select string_agg(format('%I', tablename), ', ') from pg_tables "
                     + "where schemaname = current_schema() and tablename <> 'flyway_schema_history'")) {
            rs.next();
            String tables = rs.getString(1);
            if (tables != null) {
                st.execute("truncate " + tables + " cascade");
            }
        }
    }

    /** The packaged functions: system property fedmarket.functionZip (tests), else functions/target/function.zip. */
    static Path functionZip() {
        String prop = System.getProperty("fedmarket.functionZip");
        Path zip = prop != null ? Path.of(prop) : io.fedmarket.config.ProjectPaths.requireRoot().resolve("functions/target/function.zip");
        if (!java.nio.file.Files.isRegularFile(zip)) {
            throw new IllegalStateException("no function.zip at " + zip + ": build it with ./mvnw -pl functions -am package -DskipTests"
                    + " (./mkt builds it when it is missing)");
        }
        return zip;
    }

    private DemoRun runJob(StackEndpoints ep, Path endpointsFile, Map<String, String> contracts, int cheaters) throws Exception {
        Credentials operator = DevAccounts.account(0); // marketplace operator: the functions' coordinator + verifier key
        Credentials builder = DevAccounts.account(1);
        MarketplaceChain.Options chainOpts = MarketplaceChain.Options.defaults();
        try (MarketplaceChain chain = MarketplaceChain.connect(ep.evm().rpcUrl(), operator, contracts, chainOpts);
             S3Client s3 = s3(ep); WorkerFleet fleet = new WorkerFleet(o.runDir(), endpointsFile)) {
            ArtifactStore store = new ArtifactStore(s3, ep.s3().bucket());
            // providers: each worker brings a GPU and one non-IID data shard; the last `cheaters` ones cheat
            BigInteger bond = TOKEN.multiply(BigInteger.valueOf(100));
            Map<String, String> nameOf = new HashMap<>();
            Map<String, String> behaviour = new LinkedHashMap<>();
            List<WorkerFleet.Spec> specs = new ArrayList<>();
            List<Credentials> keys = new ArrayList<>();
            List<MarketplaceChain.TxResult> bondTxs = new ArrayList<>();
            for (int i = 0; i < o.workers(); i++) {
                Credentials c = DevAccounts.account(2 + i);
                String name = "gpu-" + (i + 1);
                String fault = o.mix() != null ? o.mix().behaviours().get(i)
                        : i >= o.workers() - cheaters ? CHEATS[(i - (o.workers() - cheaters)) % CHEATS.length] : "none";
                specs.add(new WorkerFleet.Spec(name, c.getEcKeyPair().getPrivateKey().toString(16), c.getAddress().toLowerCase(), fault));
                nameOf.put(c.getAddress().toLowerCase(), name);
                behaviour.put(name, fault.equals("none") ? "honest" : fault);
                MarketplaceChain w = chain.as(c);
                gas(w.approve(bond));
                MarketplaceChain.TxResult bonded = w.bond(bond);
                gas(bonded);
                keys.add(c);
                bondTxs.add(bonded);
            }
            List<WorkerFleet.Spec> verifiers = new ArrayList<>();
            List<MarketplaceChain.TxResult> verifierBonds = new ArrayList<>();
            for (int j = 0; o.mix() != null && j < o.mix().verifiers(); j++) {
                Credentials c = DevAccounts.account(2 + o.workers() + j);
                String name = "verifier-" + (j + 1);
                boolean lies = j >= o.mix().verifiers() - o.mix().lyingVerifiers();
                verifiers.add(new WorkerFleet.Spec(name, c.getEcKeyPair().getPrivateKey().toString(16), c.getAddress().toLowerCase(),
                        lies ? "verifier:lying" : "verifier"));
                behaviour.put(name, lies ? "lying verifier" : "verifier");
                nameOf.put(c.getAddress().toLowerCase(), name);
                MarketplaceChain w = chain.as(c);
                gas(w.approve(bond));
                MarketplaceChain.TxResult bonded = w.bond(bond);
                gas(bonded);
                verifierBonds.add(bonded);
            }
            step("bond", o.workers() + " GPU/data providers" + (verifiers.isEmpty() ? "" : " and " + verifiers.size() + " verifier nodes")
                    + " bonded " + tokens(bond) + " tokens each on chain"
                    + (cheaters > 0 ? " (" + cheaters + " will cheat: " + behaviour.entrySet().stream().filter(e -> !e.getValue().equals("honest")).map(e -> e.getKey() + "=" + e.getValue()).toList() + ")" : ""));

            // the intent and the match
            ImageData train = Datasets.load("fashion-mnist");
            ImageData test = Datasets.load("fashion-mnist-test");
            String partition = "dirichlet:0.5";
            int[][] shards = Partitions.split(train, partition, o.workers(), o.seed());
            for (int c = 0; c < shards.length; c++) {
                if (shards[c].length < o.batch()) {
                    throw new IllegalArgumentException("seed " + o.seed() + " gives client " + c + " only " + shards[c].length
                            + " samples under " + partition + ", fewer than one batch of " + o.batch() + ": choose another --seed");
                }
            }
            int[] steps = new int[shards.length];
            for (int c = 0; c < shards.length; c++) {
                steps[c] = o.stepsFor(shards[c].length);
            }
            int maxSteps = java.util.Arrays.stream(steps).max().orElse(0);
            // a round may take as long as the largest task on a fraction of a core (all workers share this machine)
            Duration roundTimeout = Duration.ofSeconds(Math.max(240, maxSteps / 4));
            Instant jobDeadline = Instant.now().plus(roundTimeout.multipliedBy(o.rounds())).plus(Duration.ofHours(1)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
            BigInteger budget = TOKEN.multiply(BigInteger.valueOf(o.budgetTokens()));
            BigInteger maxPrice = TOKEN.divide(BigInteger.valueOf(10)); // 0.1 token per GPU-second
            Map<Integer, String> commitments = new HashMap<>();
            for (int c = 0; c < shards.length; c++) {
                commitments.put(c, Hashes.hex(Partitions.commitment(train, shards[c])));
            }
            if (o.privateData()) {
                // each provider keeps its own shard: PNG files in its own folder, committed there as `mkt data commit` does; only
                // the commitment (root, count, histogram) and the worker key that holds it go into its offer
                List<String> classes = java.util.stream.IntStream.range(0, 10).mapToObj(Integer::toString).toList();
                long tp = System.nanoTime();
                for (int c = 0; c < shards.length; c++) {
                    Path folder = o.runDir().resolve("private-data").resolve(specs.get(c).name());
                    io.fedmarket.worker.data.local.ImageFolderExport.write(train, shards[c], folder);
                    io.fedmarket.worker.data.local.DataCommitter.Commitment cm = io.fedmarket.worker.data.local.DataCommitter.commit(
                            new io.fedmarket.worker.data.local.LocalDataSpec(io.fedmarket.worker.data.local.LocalFormat.IMAGEFOLDER, folder, List.of(1, 28, 28),
                                    null, null, classes), m -> { });
                    privateSets.put(c, cm);
                    commitments.put(c, cm.datasetRoot());
                    fleet.localData(specs.get(c).name(), folder);
                }
                step("data", String.format(Locale.ROOT, "%d providers exported their shards as PNG folders under %s and committed them there "
                        + "(Merkle root, count, label histogram) in %.1f s; each offers its shard as private data held by its own worker key",
                        shards.length, o.runDir().resolve("private-data"), (System.nanoTime() - tp) / 1e9));
            }
            ApiMatch match = matchThroughApi(ep, shards, train, specs, keys, bondTxs, builder, budget, maxPrice, bond, commitments, partition, jobDeadline);
            forwardBonds(ep, verifiers, verifierBonds, bond);
            step("match", "the match function matched the intent: " + match.participants() + " participants, clearing price "
                    + tokens(match.clearingPricePerGpuSecond()) + " tokens/GPU-s (" + match.priceExplanation() + "); job " + match.jobId());
            UUID jobId = match.jobId();
            byte[] jobKey = Hashes.keccak(jobId.toString().getBytes());

            if (o.faults()) {
                // attrition: round 3's tasks pause at their first durable checkpoint until the workers holding them are
                // killed, so the kill lands mid-task however fast the machine trains (a task takes well under a second)
                fleet.holdAtFirstCheckpoint(Math.min(3, o.rounds()));
            }
            for (WorkerFleet.Spec s : specs) {
                fleet.start(s);
            }
            for (WorkerFleet.Spec s : verifiers) {
                fleet.start(s);
            }
            List<String> late = fleet.awaitReady(Duration.ofSeconds(120));
            step("workers", o.workers() + " worker JVMs started (DJL PyTorch CPU, 1 thread each), pulling tasks from SQS"
                    + (verifiers.isEmpty() ? "" : ", and " + verifiers.size() + " verifier nodes taking re-executions only")
                    + (late.isEmpty() ? "" : "; not ready after 120 s: " + late + " (see their logs)"));

            // the escrow goes on chain once the fleet is ready: settle's START sees it and publishes round 1, so the first
            // tasks spread over every worker
            MarketplaceChain asBuilder = chain.as(builder);
            gas(asBuilder.approve(budget));
            gas(asBuilder.openJob(jobKey, budget, jobDeadline.getEpochSecond()));
            step("escrow", "builder escrowed " + tokens(budget) + " tokens for job " + jobId + " on chain; round 1 starts when settle sees it");

            Map<Integer, Double> accuracy = new TreeMap<>();
            ModelSpec spec = ModelSpec.parse(o.model());
            Set<String> retired = new java.util.HashSet<>();
            Instant giveUp = Instant.now().plus(roundTimeout.multipliedBy(o.rounds() + 1L));
            try (JobWatcher watch = new JobWatcher(ep.database(), jobId, a -> nameOf.getOrDefault(a == null ? "" : a.toLowerCase(), a),
                    (kind, text) -> step(kind, text))) {
                long publishedAt = 0;
                int seenRound = 0;
                while (true) {
                    watch.poll();
                    String status = watch.jobStatus();
                    if (status.startsWith("FAILED") || status.startsWith("CANCELLED")) {
                        throw new IllegalStateException("the job " + jobId + " " + status + " (function logs: " + o.runDir().resolve("lambda/logs") + ")");
                    }
                    int current = watch.currentRound();
                    if (current != seenRound) {
                        seenRound = current;
                        publishedAt = System.currentTimeMillis();
                    }
                    for (String replaced : fleet.replaceExited()) {
                        step("fault", replaced + " exited; a replacement spot instance starts it again");
                    }
                    // faults while a round's tasks are being worked on
                    if (o.faults() && current == 2 && System.currentTimeMillis() - publishedAt > 1500) {
                        interruptOnce(fleet, "gpu-1", "spot interruption notice sent to gpu-1 mid-task (it must checkpoint, release its task and exit)");
                    }
                    if (o.faults() && current == Math.min(3, o.rounds()) && System.currentTimeMillis() - publishedAt > 1500) {
                        killMidTask(fleet, store, ep, jobId, current, nameOf, retired, System.currentTimeMillis() - publishedAt > 25_000);
                    }
                    // a provider removed from the job for cheating is slashed: its spot instance is not replaced
                    for (String addr : watch.removed()) {
                        String name = nameOf.get(addr);
                        if (name != null && retired.add(name)) {
                            fleet.retire(name);
                            step("slash", name + " removed from the job" + (o.privateData() ? " (its private shard goes untrained: nobody else holds it)" : " (its shard keeps being trained by the others, without a data share)"));
                        }
                    }
                    for (JobWatcher.RoundRow r : watch.rounds().values()) {
                        if (r.modelUri() != null && !accuracy.containsKey(r.round())) {
                            double acc = accuracy(spec, store, r.modelUri(), test);
                            accuracy.put(r.round(), acc);
                            step("round", String.format(Locale.ROOT, "round %d closed: test accuracy %.2f%%, %d accepted, %d rejected, %d dropped", r.round(),
                                    acc * 100, r.accepted(), r.rejected(), r.dropped()));
                        }
                    }
                    boolean settled = watch.rounds().size() == o.rounds() && watch.rounds().values().stream().allMatch(r -> r.txHash() != null);
                    boolean slashed = watch.slashes().stream().noneMatch(x -> x.status().equals("PENDING"));
                    if (status.startsWith("COMPLETED") && settled && slashed && accuracy.size() == o.rounds() && watch.finishedTx() != null) {
                        break;
                    }
                    if (Instant.now().isAfter(giveUp)) {
                        throw new IllegalStateException("the job " + jobId + " is " + status + " after " + Duration.between(Instant.ofEpochMilli(t0), Instant.now()).toSeconds()
                                + " s with " + watch.rounds().size() + " of " + o.rounds() + " rounds (function logs: " + o.runDir().resolve("lambda/logs") + ")");
                    }
                    Thread.sleep(500);
                }
                step("chain", o.rounds() + " rounds posted on chain by the settle function (model hash + cumulative payout root each); job finished there");
                if (watch.answersBySubmitter() != 0) {
                    throw new IllegalStateException("a worker re-executed a segment of its own update: the verification is broken");
                }
                if (watch.answersByOthersThanTheDrawn() != 0) {
                    throw new IllegalStateException("an answer counted that was not the drawn re-executor's: the verification is broken: "
                            + watch.answersByOthersThanTheDrawnRows());
                }
                DemoRun.Privacy privacy = o.privateData() ? privacy(store, ep.database(), specs, watch, nameOf, train, shards) : null;
                return withPrivacy(finish(ep, chain, watch, jobId, jobKey, specs, nameOf, behaviour, accuracy, shards, train, test, steps, maxSteps, partition,
                        cheaters, fleet), privacy);
            }
        }
    }

    static DemoRun withPrivacy(DemoRun r, DemoRun.Privacy p) {
        return new DemoRun(r.title(), r.startedAtEpochMs(), r.finishedAtEpochMs(), r.config(), r.rounds(), r.baselineAccuracy(), r.providers(), r.slashes(),
                r.timeline(), r.gasByOperation(), r.verificationOverhead(), r.targetAccuracy(), r.tasks(), r.phases(), r.verificationTimeShare(), p);
    }

    /**
     * The privacy cost of verifying private shards, as the owners' workers recorded it beside each seal (what they revealed,
     * of which update, to whom): samples revealed per provider and per update, and the rounds that went without a shard.
     */
    private DemoRun.Privacy privacy(ArtifactStore store, StackEndpoints.Database dbEndpoint, List<WorkerFleet.Spec> specs, JobWatcher watch,
                                    Map<String, String> nameOf, ImageData train, int[][] shards) throws Exception {
        List<DemoRun.ProviderPrivacy> providers = new ArrayList<>();
        Map<String, Long> perUpdate = new TreeMap<>();
        long total = 0;
        long reveals = 0;
        long shared = 0;
        for (int i = 0; i < specs.size(); i++) {
            WorkerFleet.Spec sp = specs.get(i);
            long mine = 0;
            long n = 0;
            java.util.Set<String> to = new java.util.TreeSet<>();
            for (String key : store.list(io.fedmarket.messages.RevealRequest.recordsPrefix(sp.address()))) {
                if (!key.endsWith(".json")) {
                    continue;
                }
                io.fedmarket.messages.RevealRequest.Served r = store.getJson(key, io.fedmarket.messages.RevealRequest.Served.class).orElseThrow();
                mine += r.samples();
                n++;
                to.add(nameOf.getOrDefault(r.recipient(), r.recipient()));
                perUpdate.merge(r.taskId(), (long) r.samples(), Long::sum);
            }
            long size = privateSets.containsKey(i) ? privateSets.get(i).sampleCount() : 0;
            shared += size;
            total += mine;
            reveals += n;
            providers.add(new DemoRun.ProviderPrivacy(sp.name(), sp.address(), size, mine, n, List.copyOf(to)));
        }
        long max = perUpdate.values().stream().mapToLong(Long::longValue).max().orElse(0);
        double mean = perUpdate.isEmpty() ? 0 : perUpdate.values().stream().mapToLong(Long::longValue).average().orElse(0);
        List<String> missing = watch.missingShards(a -> nameOf.getOrDefault(a, a));
        // the shard stays home: look for any sample's bytes or leaf hash in the bucket, the database and every log
        // the samples in the owners' folders are the training set's samples of their shards (exported losslessly)
        List<byte[]> samples = new ArrayList<>();
        List<Path> leafFiles = new ArrayList<>();
        for (int c = 0; c < specs.size(); c++) {
            Path folder = o.runDir().resolve("private-data").resolve(specs.get(c).name());
            leafFiles.add(io.fedmarket.worker.data.local.DataCommitter.stateDir(folder).resolve("leaves.bin"));
            int per = train.pixelsPerImage();
            for (int i : shards[c]) {
                samples.add(java.util.Arrays.copyOfRange(train.pixels(), i * per, i * per + per));
            }
        }
        PrivacyAudit.Result audit;
        long ta = System.nanoTime();
        try (java.sql.Connection db = java.sql.DriverManager.getConnection(dbEndpoint.jdbcUrl(), dbEndpoint.user(), dbEndpoint.password())) {
            audit = new PrivacyAudit(samples, leafFiles).run(store, db, List.of(o.runDir().resolve("logs"), o.runDir().resolve("lambda/logs")));
        }
        String auditText = String.format(Locale.ROOT, "%d bucket objects (%.1f MB), %d database rows, %d log files scanned for any sample's bytes or "
                + "leaf hash in %.1f s: %s", audit.objects(), audit.objectBytes() / 1e6, audit.rows(), audit.logFiles(), (System.nanoTime() - ta) / 1e9,
                audit.findings().isEmpty() ? "none found" : audit.findings().size() + " found: " + audit.findings());
        step("privacy", "audit: " + auditText);
        step("privacy", String.format(Locale.ROOT, "private data: %d of %d samples (%.2f%%) were revealed, each sealed to the one drawn re-executor, in %d reveals "
                + "for %d updates (at most %d, on average %.1f per update); no other sample left its owner's folder%s", total, shared,
                shared == 0 ? 0 : 100.0 * total / shared, reveals, perUpdate.size(), max, mean, missing.isEmpty() ? "" : "; rounds without a shard: " + missing));
        return new DemoRun.Privacy("private", total, reveals, perUpdate.size(), max, mean, shared, providers, missing, null, auditText, audit.findings());
    }

    private DemoRun finish(StackEndpoints ep, MarketplaceChain chain, JobWatcher watch, UUID jobId, byte[] jobKey, List<WorkerFleet.Spec> specs,
                           Map<String, String> nameOf, Map<String, String> behaviour, Map<Integer, Double> accuracy, int[][] shards, ImageData train,
                           ImageData test, int[] steps, int maxSteps, String partition, int cheaters, WorkerFleet fleet) throws Exception {
        // the transactions the functions sent: their gas from the receipts
        for (JobWatcher.RoundRow r : watch.rounds().values()) {
            receiptGas(chain, "postRound", r.txHash());
        }
        for (JobWatcher.SlashRow x : watch.slashes()) {
            receiptGas(chain, "slash", x.txHash());
        }
        receiptGas(chain, "finishJob", watch.finishedTx());
        List<DemoRun.Round> rounds = new ArrayList<>();
        for (JobWatcher.RoundRow r : watch.rounds().values()) {
            rounds.add(new DemoRun.Round(r.round(), accuracy.get(r.round()), r.modelHash(), r.payoutRoot(), r.txHash(), r.accepted(), r.rejected(),
                    r.dropped(), ms(r.startedAt()), ms(r.closedAt())));
        }
        List<DemoRun.Slash> slashes = new ArrayList<>();
        for (JobWatcher.SlashRow x : watch.slashes()) {
            slashes.add(new DemoRun.Slash(nameOf.getOrDefault(x.address(), x.address()), x.address(), x.round(), String.valueOf(x.reason()), x.evidenceHash(),
                    x.amount(), x.txHash()));
        }
        // providers claim with the API's Merkle proof of their cumulative amount, then withdraw to their wallets
        Map<String, Double> seconds = watch.acceptedTrainSeconds();
        List<DemoRun.Provider> providers = new ArrayList<>();
        String gw = ep.functions().gatewayUrl();
        for (WorkerFleet.Spec s : specs) {
            io.fedmarket.cli.user.ApiClient api = new io.fedmarket.cli.user.ApiClient(gw, o.runDir().resolve("sessions").resolve(s.name() + ".json"));
            // the session from the start of the job may have expired during a long one (the anchor runs over an hour): sign in again
            api.login(Credentials.create(s.privateKeyHex()));
            BigInteger owed = BigInteger.ZERO;
            BigInteger before = chain.tokenBalance(s.address());
            com.fasterxml.jackson.databind.JsonNode claim = null;
            try {
                claim = api.get("/claims/" + jobId);
            } catch (io.fedmarket.cli.user.ApiClient.UserError e) {
                if (!e.getMessage().contains("404") && !e.getMessage().contains("not_found") && !e.getMessage().contains("nothing has been settled")) {
                    throw e;
                }
            }
            if (claim != null) {
                owed = new BigInteger(claim.path("cumulative").asText("0"));
                List<byte[]> proof = new ArrayList<>();
                claim.path("proof").forEach(p -> proof.add(io.fedmarket.crypto.Hashes.fromHex32(p.asText())));
                MarketplaceChain own = chain.as(Credentials.create(s.privateKeyHex()));
                gas(own.claim(jobKey, s.address(), owed, proof));
                gas(own.withdraw(List.of(jobKey)));
            }
            BigInteger received = chain.tokenBalance(s.address()).subtract(before);
            BigInteger slashed = slashes.stream().filter(x -> x.address().equals(s.address())).map(DemoRun.Slash::amount).reduce(BigInteger.ZERO, BigInteger::add);
            providers.add(new DemoRun.Provider(s.name(), s.address(), behaviour.get(s.name()), owed, received, slashed, seconds.getOrDefault(s.address(), 0.0)));
        }
        step("claim", "providers claimed with the API's Merkle proofs and withdrew on chain; balances checked against the settled payouts");
        List<Double> baseline = o.baseline() ? baseline(shards, train, test, steps, o.rounds()) : List.of();
        Map<String, String> cfg = new LinkedHashMap<>();
        cfg.put("workers", Integer.toString(o.workers()));
        cfg.put("rounds", Integer.toString(o.rounds()));
        cfg.put("cheaters", Integer.toString(cheaters));
        cfg.put("seed", Long.toString(o.seed()));
        cfg.put("model", o.model());
        cfg.put("model parameters", String.valueOf(io.fedmarket.fl.model.ModelLayouts.layout(o.model()).parameterCount()));
        io.fedmarket.fl.model.ModelProvenance.modelFile(o.model()).ifPresent(f -> cfg.put("model file sha256", f));
        cfg.put("partition", partition);
        cfg.put("localSteps", o.epochs() > 0 ? o.epochs() + " epochs (" + java.util.Arrays.stream(steps).min().orElse(0) + "–"
                + maxSteps + " steps)" : Integer.toString(o.steps()));
        cfg.put("batch/lr/momentum", o.batch() + " / " + o.lr() + " / " + o.momentum());
        cfg.put("verification", "catch a worker faking " + (int) Math.round(100 * o.fakedFraction()) + "% of a task with p 0.99, at most 5% of steps re-executed");
        cfg.put("restarts", fleet.restarts().toString());
        return new DemoRun("fedmarket demo: Fashion-MNIST, " + o.workers() + " providers, " + o.rounds() + " rounds",
                t0, System.currentTimeMillis(), cfg, rounds, baseline, providers, slashes, List.copyOf(timeline),
                new TreeMap<>(gas), watch.verificationOverhead(), o.targetAccuracy(),
                watch.tasks(a -> nameOf.getOrDefault(a, a), n -> behaviour.getOrDefault(n, "?")),
                io.fedmarket.cli.report.RoundPhases.report(watch.phaseInstants()), watch.verificationTimeShare());
    }

    private long ms(Instant at) {
        return at == null ? 0 : at.toEpochMilli() - t0;
    }

    private void receiptGas(MarketplaceChain chain, String operation, String txHash) {
        if (txHash == null || !txHash.startsWith("0x")) {
            return;
        }
        try {
            chain.web3j().ethGetTransactionReceipt(txHash).send().getTransactionReceipt()
                    .ifPresent(r -> gas.merge(operation, r.getGasUsed().longValueExact(), Long::sum));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The intent's model for a catalogue spec: its architecture, the spec where it is not the architecture's default, shape and classes. */
    static Map<String, Object> intentModel(String specText) {
        io.fedmarket.fl.model.ModelLayouts.Layout l = io.fedmarket.fl.model.ModelLayouts.layout(specText);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architecture", l.architecture().name());
        String family = l.spec().split(";")[0];
        if (family.contains(":")) {
            m.put("spec", family);
        }
        m.put("inputShape", l.input());
        m.put("numClasses", l.classes());
        return m;
    }

    /** Test images a round's model is scored on: all 10,000 for the plain-Java-sized models, the first 2,000 for a ResNet (CPU time). */
    static ImageData testSet(ModelSpec spec, ImageData test) {
        boolean large = spec.kind() == ModelSpec.Kind.RESNET || spec.isTorchScript() && spec.layout().parameterCount() > 100_000;
        if (!large || test.size() <= 2000) {
            return test;
        }
        int n = 2000;
        int p = test.pixelsPerImage();
        return new ImageData(test.name() + "[0:2000]", java.util.Arrays.copyOf(test.pixels(), n * p), java.util.Arrays.copyOf(test.labels(), n),
                test.rows(), test.cols());
    }

    /** Test accuracy of a round's model as the aggregate function stored it. */
    static double accuracy(ModelSpec spec, ArtifactStore store, String uri, ImageData test) {
        ModelState m = ModelState.decode(store.get(uri), uri);
        try (TrainingSession s = TrainingSession.open(spec, 500, m.withoutVelocity(), null, 0.01, 0, 0)) {
            return s.accuracy(testSet(spec, test), 500);
        }
    }

    private final Set<String> injected = ConcurrentHashMap.newKeySet();

    private void interruptOnce(WorkerFleet fleet, String name, String text) {
        if (injected.add("interrupt-" + name)) {
            fleet.interrupt(name);
            step("fault", text);
        }
    }

    /**
     * Attrition: every worker that is training a task of {@code round} right now (its checkpoint progress is in the bucket
     * and the task has no submission yet) is killed without notice, once at least 30% of the round's tasks are in such
     * hands (or, after {@code force}, whatever is in progress). Their task messages reappear after the visibility timeout
     * and are resumed from the last checkpoint by whoever takes them; the fleet replaces the killed instances.
     */
    private void killMidTask(WorkerFleet fleet, ArtifactStore store, StackEndpoints ep, UUID jobId, int round, Map<String, String> nameOf,
                             Set<String> retired, boolean force) throws java.sql.SQLException {
        if (injected.contains("kill-round-" + round)) {
            return;
        }
        List<String> open = new ArrayList<>();
        int total = 0;
        StackEndpoints.Database db = ep.database();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             java.sql.PreparedStatement ps = c.prepareStatement("select t.id, (select count(*) from submissions s where s.task_id = t.id) from tasks t "
                     + "where t.job_id = ? and t.round_no = ?")) {
            ps.setObject(1, jobId);
            ps.setInt(2, round);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    total++;
                    if (rs.getLong(2) == 0) {
                        open.add(rs.getString(1));
                    }
                }
            }
        }
        Map<String, String> holder = new LinkedHashMap<>(); // task -> worker name
        for (String t : open) {
            store.getJson(ArtifactStore.progressKey(t), io.fedmarket.worker.store.TaskProgress.class)
                    .filter(p -> p.worker() != null && !retired.contains(p.worker()))
                    .ifPresent(p -> holder.put(t, p.worker()));
        }
        if (holder.isEmpty() || (!force && holder.size() < Math.ceil(0.3 * total))) {
            return;
        }
        injected.add("kill-round-" + round);
        Set<String> victims = new java.util.TreeSet<>(holder.values());
        for (String v : victims) {
            fleet.kill(v);
        }
        fleet.release(); // whoever resumes these tasks, and every other task of the round, trains on without pausing
        step("fault", String.format(Locale.ROOT, "%s killed without notice mid-task, holding %d of the %d tasks of round %d (%.0f%%): their "
                        + "messages reappear after the visibility timeout and are resumed from the last checkpoint", String.join(", ", victims),
                holder.size(), total, round, 100.0 * holder.size() / total));
    }

    private void killOnce(WorkerFleet fleet, String name, String text) {
        if (injected.add("kill-" + name)) {
            fleet.kill(name);
            step("fault", text);
        }
    }

    /**
     * Bond events of keys that offer nothing through the API (verifier nodes), as the chain watcher forwards them to chain-sync;
     * and the marketplace operator's grant of the {@code verifier} role to each, which makes a bonded verifier node eligible
     * for the verify function's random draw of re-executors.
     */
    private static void forwardBonds(StackEndpoints ep, List<WorkerFleet.Spec> who, List<MarketplaceChain.TxResult> txs, BigInteger bond) throws Exception {
        if (who.isEmpty()) {
            return;
        }
        StackEndpoints.Database db = ep.database();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             java.sql.PreparedStatement acc = c.prepareStatement("insert into accounts (address) values (?) on conflict do nothing");
             java.sql.PreparedStatement role = c.prepareStatement("insert into account_roles (address, role) values (?, 'verifier') on conflict do nothing")) {
            for (WorkerFleet.Spec v : who) {
                acc.setString(1, v.address().toLowerCase());
                acc.executeUpdate();
                role.setString(1, v.address().toLowerCase());
                role.executeUpdate();
            }
        }
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        try (SqsClient sqs = sqs(ep)) {
            for (int i = 0; i < who.size(); i++) {
                MarketplaceChain.TxResult tx = txs.get(i);
                int logIndex = tx.logs().isEmpty() ? 0 : tx.logs().get(tx.logs().size() - 1).getLogIndex().intValueExact();
                String event = json.writeValueAsString(new io.fedmarket.messages.ChainEvent(io.fedmarket.messages.ChainEvent.Kind.BONDED,
                        who.get(i).address(), bond, tx.blockNumber(), tx.blockHash(), tx.txHash(), logIndex, Instant.now().getEpochSecond()));
                sqs.sendMessage(b -> b.queueUrl(ep.sqs().queueUrl(Queues.CHAIN_EVENTS)).messageBody(event));
            }
        }
    }

    record ApiMatch(UUID jobId, int participants, BigInteger clearingPricePerGpuSecond, String priceExplanation) {
    }

    /**
     * The marketplace's front door, as a builder and providers use it: every provider signs in (SIWE → JWT) and offers
     * its GPU (with its measured speed) and its data shard (label histogram, commitment root) through the HTTP API; the
     * bond transactions' events reach the chain-sync function through the chain-events queue; the builder submits the
     * intent; the match function picks participants and the clearing price and opens the job.
     */
    private ApiMatch matchThroughApi(StackEndpoints ep, int[][] shards, ImageData train, List<WorkerFleet.Spec> specs,
                                     List<Credentials> keys, List<MarketplaceChain.TxResult> bondTxs, Credentials builder, BigInteger budget,
                                     BigInteger maxPrice, BigInteger bond, Map<Integer, String> commitments, String partition,
                                     Instant deadline) throws Exception {
        try (SqsClient sqs = sqs(ep)) {
            return matchThroughApi(ep, sqs, shards, train, specs, keys, bondTxs, builder, budget, maxPrice, bond, commitments, partition, deadline);
        }
    }

    private ApiMatch matchThroughApi(StackEndpoints ep, SqsClient sqs, int[][] shards, ImageData train, List<WorkerFleet.Spec> specs,
                                     List<Credentials> keys, List<MarketplaceChain.TxResult> bondTxs, Credentials builder, BigInteger budget,
                                     BigInteger maxPrice, BigInteger bond, Map<Integer, String> commitments, String partition,
                                     Instant deadline) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        String gw = ep.functions().gatewayUrl();
        Path sessions = o.runDir().resolve("sessions");
        String chainEvents = ep.sqs().queueUrl(Queues.CHAIN_EVENTS);
        java.util.Random rnd = new java.util.Random(o.seed());
        List<io.fedmarket.cli.user.ApiClient> apis = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            io.fedmarket.cli.user.ApiClient api = new io.fedmarket.cli.user.ApiClient(gw, sessions.resolve(specs.get(i).name() + ".json"));
            api.login(keys.get(i));
            BigInteger ask = TOKEN.divide(BigInteger.valueOf(100)).multiply(BigInteger.valueOf(1 + rnd.nextInt(4))); // 0.01–0.04 token/GPU-s
            api.post("/providers/gpu", json.writeValueAsString(Map.of("name", specs.get(i).name(), "gpuModel", "cpu-djl", "gpuCount", 1,
                    "gpuMemoryGib", 1, "askPerGpuSecond", ask.toString(), "region", "eu-west-1", "samplesPerSecond", 2000)));
            Map<String, Long> hist = new TreeMap<>();
            for (int idx : shards[i]) {
                hist.merge(Integer.toString(train.labels()[idx]), 1L, Long::sum);
            }
            // the shard is part i of Debian's Fashion-MNIST split Dirichlet(0.5) with the run's seed: the worker resolves it and checks it
            // hashes to the offer's datasetRoot before it trains
            Map<String, Object> source = Map.of("dataset", "fashion-mnist", "partition", partition, "clients", shards.length, "client", i,
                    "partitionSeed", o.seed());
            Object histogram = hist;
            long samples = shards[i].length;
            if (privateSets.containsKey(i)) {
                // private: the provider's own committed folder, held by its own worker key; nothing else of the data is in the offer
                source = Map.of("dataset", "private:1x28x28:10", "workers", List.of(keys.get(i).getAddress().toLowerCase()));
                histogram = privateSets.get(i).labelHistogram();
                samples = privateSets.get(i).sampleCount();
            }
            api.post("/providers/data", json.writeValueAsString(Map.of("name", specs.get(i).name() + "-shard", "domain", "fashion-mnist",
                    "region", "eu-west-1", "sampleCount", samples, "labelHistogram", histogram, "datasetRoot", commitments.get(i), "source", source)));
            // the bond's event as the chain watcher forwards it to the chain-sync function
            MarketplaceChain.TxResult tx = bondTxs.get(i);
            int logIndex = tx.logs().isEmpty() ? 0 : tx.logs().get(tx.logs().size() - 1).getLogIndex().intValueExact();
            String event = json.writeValueAsString(new io.fedmarket.messages.ChainEvent(io.fedmarket.messages.ChainEvent.Kind.BONDED,
                    keys.get(i).getAddress(), bond, tx.blockNumber(), tx.blockHash(), tx.txHash(), logIndex, Instant.now().getEpochSecond()));
            sqs.sendMessage(b -> b.queueUrl(chainEvents).messageBody(event));
            apis.add(api);
        }
        step("api", specs.size() + " providers signed in (SIWE → JWT) and offered a GPU and a data shard through the API; "
                + "their bond events went to the chain-sync function");
        for (int i = 0; i < apis.size(); i++) {
            long until = System.nanoTime() + 120_000_000_000L;
            while (!apis.get(i).get("/providers/me").path("bond").path("amount").asText().equals(bond.toString())) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException(specs.get(i).name() + "'s bond was not mirrored by chain-sync within 120 s (see "
                            + o.runDir().resolve("lambda/logs") + ")");
                }
                Thread.sleep(250);
            }
        }
        io.fedmarket.cli.user.ApiClient asBuilder = new io.fedmarket.cli.user.ApiClient(gw, sessions.resolve("builder.json"));
        asBuilder.login(builder);
        java.util.Optional<String> modelFile = io.fedmarket.fl.model.ModelProvenance.modelFile(o.model());
        if (modelFile.isPresent()) {
            // the builder's own TorchScript file goes to the marketplace first; the intent names it by its hash
            com.fasterxml.jackson.databind.JsonNode up = asBuilder.postFile("/models",
                    io.fedmarket.fl.model.TorchScriptModels.archive(modelFile.get()).bytes());
            step("model", "builder uploaded its TorchScript model through POST /models: sha256 " + up.path("sha256").asText() + ", "
                    + up.path("parameters").asLong() + " parameters, buffers " + up.path("buffers").size() + ", stored at " + up.path("key").asText());
        }
        List<String> labels = new ArrayList<>();
        for (int l = 0; l < 10; l++) {
            labels.add(Integer.toString(l));
        }
        Map<String, Object> intent = new LinkedHashMap<>();
        intent.put("model", intentModel(o.model()));
        intent.put("dataDomain", "fashion-mnist");
        intent.put("requiredLabels", labels);
        intent.put("rounds", o.rounds());
        intent.put("localEpochs", Math.max(1, o.epochs()));
        intent.put("minParticipants", specs.size());
        intent.put("maxParticipants", specs.size());
        intent.put("budget", budget.toString());
        intent.put("maxPricePerGpuSecond", maxPrice.toString());
        intent.put("deadline", deadline.toString());
        intent.put("privacy", Map.of("mode", "NONE"));
        intent.put("aggregation", "fedavg");
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("batchSize", o.batch());
        training.put("learningRate", o.lr());
        training.put("momentum", o.momentum());
        if (o.epochs() == 0) {
            training.put("localSteps", o.steps());
        }
        intent.put("training", training);
        Map<String, Object> verification = new LinkedHashMap<>();
        verification.put("targetDetection", 0.99);
        verification.put("fakedFraction", o.fakedFraction());
        verification.put("maxReexecShare", 0.05);
        // the builder's validation split: 512 Fashion-MNIST test images the verify function measures every update's loss on
        verification.put("validation", Map.of("dataset", "fashion-mnist-test", "samples", 512, "seed", 1));
        if (o.mix() != null && "tolerance".equals(o.mix().comparison())) {
            verification.put("comparison", "tolerance");
            if (o.mix().tolerance() != null) {
                verification.put("tolerance", o.mix().tolerance()); // else the model's shipped calibration
            }
        }
        intent.put("verification", verification);
        String intentId = asBuilder.post("/intents", json.writeValueAsString(intent)).path("id").asText();
        step("intent", "builder " + builder.getAddress() + " submitted intent " + intentId + " (Fashion-MNIST, non-IID, " + o.rounds()
                + " rounds, budget " + tokens(budget) + " tokens) through the API; it waits on the match queue");
        long until = System.nanoTime() + 120_000_000_000L;
        com.fasterxml.jackson.databind.JsonNode view = asBuilder.get("/intents/" + intentId);
        while (view.path("status").asText().matches("SUBMITTED|MATCHING") && System.nanoTime() < until) {
            Thread.sleep(250);
            view = asBuilder.get("/intents/" + intentId);
        }
        if (!view.path("status").asText().equals("MATCHED")) {
            throw new IllegalStateException("the demo intent was not matched: " + view.path("status").asText() + " "
                    + view.path("statusReason").asText());
        }
        UUID jobId;
        StackEndpoints.Database db = ep.database();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
             java.sql.PreparedStatement ps = c.prepareStatement("select id from jobs where intent_id = ?")) {
            ps.setObject(1, UUID.fromString(intentId));
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("intent " + intentId + " is MATCHED but has no job");
                }
                jobId = (UUID) rs.getObject(1);
            }
        }
        com.fasterxml.jackson.databind.JsonNode job = asBuilder.get("/jobs/" + jobId);
        Set<String> who = new java.util.TreeSet<>();
        job.path("participants").forEach(p -> who.add(p.path("address").asText().toLowerCase()));
        String explanation = job.path("explanation").asText();
        try {
            explanation = json.readTree(explanation).path("price").asText(explanation); // the match's explanation is JSON
        } catch (com.fasterxml.jackson.core.JsonProcessingException notJson) {
            // a plain text explanation is shown as it is
        }
        return new ApiMatch(jobId, who.size(), new BigInteger(job.path("clearingPricePerGpuSecond").asText()), explanation);
    }

    /** The same job with every participant honest, trained in this process: the curve the report compares to. */
    private List<Double> baseline(int[][] shards, ImageData train, ImageData test, int[] steps, int rounds) {
        ModelSpec spec = ModelSpec.parse(o.model());
        ModelState global = TrainingSession.initialState(spec, o.seed());
        List<Double> acc = new ArrayList<>();
        step("baseline", "training the all-honest baseline in-process for comparison");
        for (int r = 1; r <= rounds; r++) {
            List<float[]> updates = new ArrayList<>();
            List<Long> weights = new ArrayList<>();
            for (int c = 0; c < shards.length; c++) {
                try (TrainingSession s = TrainingSession.open(spec, o.batch(), global.withoutVelocity(), null, o.lr(), o.momentum(), 0)) {
                    java.util.SplittableRandom rnd = new java.util.SplittableRandom(o.seed() * 31 + r * 7L + c);
                    for (int st = 0; st < steps[c]; st++) {
                        int[] batch = new int[o.batch()];
                        for (int b = 0; b < batch.length; b++) {
                            batch[b] = shards[c][rnd.nextInt(shards[c].length)];
                        }
                        s.step(train, batch);
                    }
                    updates.add(s.snapshot(false).flat());
                    weights.add((long) shards[c].length);
                }
            }
            float[] avg = new float[updates.get(0).length];
            long total = weights.stream().mapToLong(Long::longValue).sum();
            for (int c = 0; c < updates.size(); c++) {
                double w = weights.get(c) / (double) total;
                float[] u = updates.get(c);
                for (int i = 0; i < avg.length; i++) {
                    avg[i] += (float) (w * u[i]);
                }
            }
            global = global.withFlat(avg);
            try (TrainingSession s = TrainingSession.open(spec, 500, global, null, 0.01, 0, 0)) {
                acc.add(s.accuracy(test, 500));
            }
        }
        return acc;
    }

    static String tokens(BigInteger units) {
        return new java.math.BigDecimal(units).movePointLeft(18).stripTrailingZeros().toPlainString();
    }

    private static SqsClient sqs(StackEndpoints ep) {
        return SqsClient.builder().endpointOverride(URI.create(ep.sqs().endpoint())).region(Region.of(ep.sqs().region()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ep.sqs().accessKey(), ep.sqs().secretKey())))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    private static S3Client s3(StackEndpoints ep) {
        return S3Client.builder().endpointOverride(URI.create(ep.s3().endpoint())).region(Region.of(ep.s3().region())).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ep.s3().accessKey(), ep.s3().secretKey())))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }
}
