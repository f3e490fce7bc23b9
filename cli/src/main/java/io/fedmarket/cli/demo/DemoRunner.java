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
                          boolean baseline, int budgetTokens) {
        public Options(int workers, int rounds, int cheaters, long seed, boolean faults, int steps, Path runDir, double targetAccuracy) {
            this(workers, rounds, cheaters, seed, faults, steps, runDir, targetAccuracy, "mlp", 0, 64, 0.05, 0.5, true, 1000);
        }

        /**
         * The NIID-Bench Fashion-MNIST setup (Li et al., ICDE 2022; Flower's niid_bench baseline): 10 clients all sampled,
         * Dirichlet(0.5) labels, the CNN (conv 5×5 6 → pool → conv 5×5 16 → pool → 120 → 84 → 10), batch 64, SGD lr 0.01
         * momentum 0.9, 10 local epochs, 50 rounds, FedAvg.
         */
        public static Options anchor(int cheaters, int rounds, int epochs, long seed, Path runDir) {
            return new Options(10, rounds, cheaters, seed, cheaters > 0, 0, runDir, cheaters > 0 ? 0.864 : 0.874, "cnn", epochs, 64, 0.01, 0.9, false, 20_000);
        }

        int stepsFor(int shardSize) {
            return epochs > 0 ? epochs * (shardSize / batch) : steps;
        }
    }

    static final BigInteger TOKEN = BigInteger.TEN.pow(18);
    /** Dev accounts 2.. are the workers; the last one is the treasury. */
    public static final int MAX_WORKERS = DevAccounts.COUNT - 3;
    static final String[] CHEATS = {"free-ride", "noise", "partial:0.3"};

    private final Options o;
    private final Consumer<String> out;
    private final long t0 = System.currentTimeMillis();
    private final List<DemoRun.Event> timeline = new ArrayList<>();
    private final Map<String, Long> gas = new ConcurrentHashMap<>();

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
        int cheaters = o.faults() ? o.cheaters() : 0;
        step("stack", "starting the local stack (SQS, S3, EVM, PostgreSQL) in " + o.runDir());
        try (LocalStack stack = LocalStack.builder().dataDir(o.runDir().resolve("stack")).databaseName("fedmarket_demo")
                .progress(l -> out.accept("          " + l.strip())).start()) {
            emptyMarketplace(stack.endpoints().database());
            String rpc = stack.endpoints().evm().rpcUrl();
            Map<String, String> contracts = MarketplaceDeployer.deployLocal(rpc);
            StackEndpoints ep = stack.endpoints().withEvm(new StackEndpoints.Evm(rpc, stack.endpoints().evm().chainId(), contracts));
            Path endpointsFile = o.runDir().resolve("endpoints.json");
            ep.write(endpointsFile);
            step("chain", "contracts compiled by solc deployed: Marketplace " + contracts.get(MarketplaceDeployer.MARKETPLACE)
                    + ", test token " + contracts.get(MarketplaceDeployer.TOKEN));
            // the functions from function.zip behind the local API gateway; the demo's coordinator consumes the round
            // queues itself, so only the match and chain-events consumers are polled for their functions
            try (io.fedmarket.infra.local.lambda.LocalLambda lambda = io.fedmarket.infra.local.lambda.LocalLambda.builder()
                    .functionZip(functionZip()).endpoints(ep).workDir(o.runDir().resolve("lambda"))
                    .pollOnly(Set.of(Queues.MATCH, Queues.CHAIN_EVENTS)).progress(l -> out.accept("          " + l.strip())).start()) {
                step("functions", "functions (auth, intents, providers, jobs, match, chain-sync) behind the local API gateway "
                        + lambda.gatewayUrl());
                return runJob(ep.withFunctions(new StackEndpoints.Functions(lambda.gatewayUrl())), endpointsFile, contracts, cheaters);
            }
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
        Credentials operator = DevAccounts.account(0); // marketplace operator: coordinator + verifier roles
        Credentials builder = DevAccounts.account(1);
        MarketplaceChain.Options chainOpts = MarketplaceChain.Options.defaults();
        ExecutorService settlement = Executors.newSingleThreadExecutor(r -> new Thread(r, "settlement"));
        try (MarketplaceChain chain = MarketplaceChain.connect(ep.evm().rpcUrl(), operator, contracts, chainOpts);
             SqsClient sqs = sqs(ep); S3Client s3 = s3(ep);
             WorkerFleet fleet = new WorkerFleet(o.runDir(), endpointsFile)) {
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
                String fault = i >= o.workers() - cheaters ? CHEATS[(i - (o.workers() - cheaters)) % CHEATS.length] : "none";
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
            step("bond", o.workers() + " GPU/data providers bonded " + tokens(bond) + " tokens each on chain"
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
            BigInteger budget = TOKEN.multiply(BigInteger.valueOf(o.budgetTokens()));
            BigInteger maxPrice = TOKEN.divide(BigInteger.valueOf(10)); // 0.1 token per GPU-second
            Map<Integer, String> commitments = new HashMap<>();
            for (int c = 0; c < shards.length; c++) {
                commitments.put(c, Hashes.hex(Partitions.commitment(train, shards[c])));
            }
            ApiMatch match = matchThroughApi(ep, sqs, shards, train, specs, keys, bondTxs, builder, budget, maxPrice, bond, commitments);
            step("match", "the match function matched the intent: " + match.participants() + " participants, clearing price "
                    + tokens(match.clearingPricePerGpuSecond()) + " tokens/GPU-s (" + match.priceExplanation() + "); job " + match.jobId());
            UUID jobId = match.jobId();
            byte[] jobKey = Hashes.keccak(jobId.toString().getBytes());
            MarketplaceChain asBuilder = chain.as(builder);
            gas(asBuilder.approve(budget));
            gas(asBuilder.openJob(jobKey, budget, Instant.now().plus(Duration.ofHours(2)).getEpochSecond()));
            step("escrow", "builder escrowed " + tokens(budget) + " tokens for job " + jobId);

            for (WorkerFleet.Spec s : specs) {
                fleet.start(s);
            }
            List<String> late = fleet.awaitReady(Duration.ofSeconds(120));
            step("workers", o.workers() + " worker JVMs started (DJL PyTorch CPU, 1 thread each), pulling tasks from SQS"
                    + (late.isEmpty() ? "" : "; not ready after 120 s: " + late + " (see their logs)"));

            int[] steps = new int[shards.length];
            for (int c = 0; c < shards.length; c++) {
                steps[c] = o.stepsFor(shards[c].length);
            }
            int maxSteps = java.util.Arrays.stream(steps).max().orElse(0);
            // a round may take as long as the largest task on a fraction of a core (all workers share this machine)
            Duration roundTimeout = Duration.ofSeconds(Math.max(240, maxSteps / 4));
            RoundCoordinator.Config rc = new RoundCoordinator.Config(jobId, o.seed(), o.model(), "fashion-mnist", partition,
                    steps, 20, o.batch(), o.lr(), o.momentum(), roundTimeout, Duration.ofSeconds(Math.max(45, maxSteps / 40)));
            SubmissionSigner signer = new SubmissionSigner(chain.chainId(), contracts.get(MarketplaceDeployer.MARKETPLACE));
            Set<String> slashedAddrs = ConcurrentHashMap.newKeySet();
            UpdateVerifier verifier = new UpdateVerifier(new UpdateVerifier.Config(CheapCheckPolicy.NONE, 1, 2, new ComparisonPolicy.BitExact()));
            RoundCoordinator coordinator = new RoundCoordinator(rc, sqs, ep.sqs().queueUrl(Queues.TASKS), ep.sqs().queueUrl(Queues.REEXEC),
                    ep.sqs().queueUrl(Queues.SUBMISSIONS), store, signer,
                    addr -> !slashedAddrs.contains(addr.toLowerCase()) && chain.bondOf(addr).bonded.signum() > 0,
                    verifier, AggregationRegistry.create("fedavg"), test, commitments, l -> step("round", l), t0);

            ModelState global = TrainingSession.initialState(ModelSpec.parse(rc.modelSpec()), o.seed());
            PayoutLedger ledger = PayoutLedger.open(budget);
            List<DemoRun.Round> rounds = new ArrayList<>();
            List<DemoRun.Slash> slashes = new ArrayList<>();
            List<Future<?>> pending = new ArrayList<>();
            Map<Integer, String[]> roundTx = new ConcurrentHashMap<>();
            long trainedSteps = 0;
            long reexecSteps = 0;
            Map<String, Double> gpuSeconds = new TreeMap<>();
            for (int r = 1; r <= o.rounds(); r++) {
                final int round = r;
                Runnable tick = () -> {
                    for (String replaced : fleet.replaceExited()) {
                        step("fault", replaced + " exited; a replacement spot instance starts it again");
                    }
                    // the notice goes out while the round's tasks are being worked on
                    if (o.faults() && round == 2) {
                        interruptOnce(fleet, "gpu-1", "spot interruption notice sent to gpu-1 mid-task (it must checkpoint, release its task and exit)");
                    }
                    if (o.faults() && round == Math.min(3, o.rounds())) {
                        killOnce(fleet, "gpu-2", "gpu-2 (also a verifier) goes offline: killed without notice");
                    }
                };
                RoundCoordinator.RoundOutcome ro = coordinator.runRound(r, global, tick);
                global = ro.nextGlobal();
                trainedSteps += ro.trainedSteps();
                reexecSteps += ro.reexecSteps();
                Set<String> caught = new java.util.HashSet<>(slashedAddrs);
                ro.rejected().stream().filter(v -> v.verdict().reason() != io.fedmarket.fl.verify.ReasonCode.BAD_SIGNATURE)
                        .forEach(v -> caught.add(v.submission().worker().toLowerCase()));
                List<TaskSettlement> settle = new ArrayList<>();
                for (RoundCoordinator.Verified v : ro.verified()) {
                    if (v.verdict() == null) {
                        continue; // inconclusive verification: neither paid nor slashed
                    }
                    int client = Integer.parseInt(v.submission().taskId().replaceAll(".*-c", ""));
                    // a slashed provider is out of the job in both roles: its shard earns no data share any more
                    String dataOwner = caught.contains(specs.get(client).address()) ? null : specs.get(client).address();
                    settle.add(new TaskSettlement(v.submission().taskId(), v.submission().worker().toLowerCase(), dataOwner,
                            v.verdict().accepted(), v.verdict().accepted() ? v.submission().gpuSeconds() : 0));
                    if (v.verdict().accepted()) {
                        gpuSeconds.merge(nameOf.getOrDefault(v.submission().worker().toLowerCase(), "?"),
                                v.submission().trainMillis() / 1000.0, Double::sum);
                    }
                }
                ledger = ledger.settleRound(r, match.clearingPricePerGpuSecond(), 1000, settle).ledger();
                Map<String, BigInteger> cumulative = ledger.cumulative();
                BigInteger total = cumulative.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
                // nothing earned yet (every update rejected): the round still records its model hash, with an empty root
                byte[] payoutRoot = cumulative.isEmpty() ? new byte[32] : PayoutTree.of(cumulative).root();
                byte[] modelHash = global.paramsHash();
                // the chain is never on the round's critical path: round r settles while round r+1 trains
                pending.add(settlement.submit(() -> {
                    MarketplaceChain.TxResult tx = chain.postRound(jobKey, round, modelHash, payoutRoot, total);
                    gas(tx);
                    roundTx.put(round, new String[] {tx.txHash(), Hashes.hex(payoutRoot)});
                    return null;
                }));
                for (RoundCoordinator.Verified v : ro.rejected()) {
                    String addr = v.submission().worker().toLowerCase();
                    String name = nameOf.getOrDefault(addr, addr);
                    if (v.verdict().reason() == io.fedmarket.fl.verify.ReasonCode.BAD_SIGNATURE) {
                        // a signature that is not the named worker's (or a worker without bond) is no evidence against it
                        step("reject", name + "'s update in round " + r + " rejected (BAD_SIGNATURE): not paid, not aggregated, not slashed");
                        continue;
                    }
                    if (slashedAddrs.add(addr)) {
                        BigInteger amount = chain.bondOf(addr).bonded;
                        fleet.retire(name);
                        String evidence = v.verdict().evidenceHash();
                        Future<String> slashTx = settlement.submit(() -> {
                            MarketplaceChain.TxResult tx = chain.slash(addr, amount, jobKey, Hashes.fromHex(evidence));
                            gas(tx);
                            return tx.txHash();
                        });
                        slashes.add(new DemoRun.Slash(name, addr, r, v.verdict().reason() + ": " + v.verdict().evidence().detail(),
                                evidence, amount, slashTx.get()));
                        step("slash", name + " slashed " + tokens(amount) + " tokens on chain (" + v.verdict().reason() + ", evidence " + evidence.substring(0, 12) + "…); removed from the job");
                    }
                }
                rounds.add(new DemoRun.Round(r, ro.accuracy(), Hashes.hex(modelHash), null, null, ro.accepted().size(),
                        ro.rejected().size(), ro.droppedTasks().size() + ro.inconclusive().size(), ro.startedMs(), ro.closedMs()));
                step("round", String.format(Locale.ROOT, "round %d closed: test accuracy %.2f%%, %d accepted, %d rejected, %d dropped",
                        r, ro.accuracy() * 100, ro.accepted().size(), ro.rejected().size(), ro.droppedTasks().size() + ro.inconclusive().size()));
            }
            for (Future<?> f : pending) {
                f.get();
            }
            settlement.shutdown();
            List<DemoRun.Round> withTx = new ArrayList<>();
            for (DemoRun.Round r : rounds) {
                String[] tx = roundTx.get(r.round());
                withTx.add(new DemoRun.Round(r.round(), r.testAccuracy(), r.modelHash(), tx[1], tx[0], r.accepted(), r.rejected(),
                        r.dropped(), r.startedMs(), r.closedMs()));
            }
            gas(chain.finishJob(jobKey));
            step("chain", o.rounds() + " rounds posted on chain (model hash + cumulative payout root each)");

            // providers claim with Merkle proofs of their cumulative amount, then withdraw to their wallets
            PayoutTree finalTree = ledger.cumulative().isEmpty() ? null : PayoutTree.of(ledger.cumulative());
            List<DemoRun.Provider> providers = new ArrayList<>();
            for (WorkerFleet.Spec s : specs) {
                BigInteger owed = ledger.of(s.address());
                BigInteger before = chain.tokenBalance(s.address());
                if (owed.signum() > 0) {
                    // the claim books the payout in the contract; the withdrawal pays the wallet
                    MarketplaceChain own = chain.as(Credentials.create(s.privateKeyHex()));
                    gas(own.claim(jobKey, s.address(), owed, finalTree.proof(s.address())));
                    gas(own.withdraw(List.of(jobKey)));
                }
                BigInteger received = chain.tokenBalance(s.address()).subtract(before);
                BigInteger slashed = slashes.stream().filter(x -> x.address().equals(s.address())).map(DemoRun.Slash::amount)
                        .reduce(BigInteger.ZERO, BigInteger::add);
                providers.add(new DemoRun.Provider(s.name(), s.address(), behaviour.get(s.name()), owed, received, slashed,
                        gpuSeconds.getOrDefault(s.name(), 0.0)));
            }
            step("claim", "providers claimed and withdrew on chain; balances checked against the ledger");
            List<Double> baseline = o.baseline() ? baseline(shards, train, test, rc, o.rounds()) : List.of();
            Map<String, String> cfg = new LinkedHashMap<>();
            cfg.put("workers", Integer.toString(o.workers()));
            cfg.put("rounds", Integer.toString(o.rounds()));
            cfg.put("cheaters", Integer.toString(cheaters));
            cfg.put("seed", Long.toString(o.seed()));
            cfg.put("model", rc.modelSpec());
            cfg.put("partition", partition);
            cfg.put("localSteps", o.epochs() > 0 ? o.epochs() + " epochs (" + java.util.Arrays.stream(steps).min().orElse(0) + "–"
                    + maxSteps + " steps)" : Integer.toString(o.steps()));
            cfg.put("batch/lr/momentum", o.batch() + " / " + o.lr() + " / " + o.momentum());
            cfg.put("restarts", fleet.restarts().toString());
            double overhead = trainedSteps == 0 ? 0 : reexecSteps / (double) trainedSteps;
            return new DemoRun("fedmarket demo: Fashion-MNIST, " + o.workers() + " providers, " + o.rounds() + " rounds",
                    t0, System.currentTimeMillis(), cfg, withTx, baseline, providers, slashes, List.copyOf(timeline),
                    new TreeMap<>(gas), overhead, o.targetAccuracy());
        } finally {
            settlement.shutdownNow();
        }
    }

    private final Set<String> injected = ConcurrentHashMap.newKeySet();

    private void interruptOnce(WorkerFleet fleet, String name, String text) {
        if (injected.add("interrupt-" + name)) {
            fleet.interrupt(name);
            step("fault", text);
        }
    }

    private void killOnce(WorkerFleet fleet, String name, String text) {
        if (injected.add("kill-" + name)) {
            fleet.kill(name);
            step("fault", text);
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
    private ApiMatch matchThroughApi(StackEndpoints ep, SqsClient sqs, int[][] shards, ImageData train, List<WorkerFleet.Spec> specs,
                                     List<Credentials> keys, List<MarketplaceChain.TxResult> bondTxs, Credentials builder, BigInteger budget,
                                     BigInteger maxPrice, BigInteger bond, Map<Integer, String> commitments) throws Exception {
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
            api.post("/providers/data", json.writeValueAsString(Map.of("name", specs.get(i).name() + "-shard", "domain", "fashion-mnist",
                    "region", "eu-west-1", "sampleCount", shards[i].length, "labelHistogram", hist, "datasetRoot", commitments.get(i))));
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
        List<String> labels = new ArrayList<>();
        for (int l = 0; l < 10; l++) {
            labels.add(Integer.toString(l));
        }
        Map<String, Object> intent = new LinkedHashMap<>();
        intent.put("model", o.model().equals("cnn") ? Map.of("architecture", "CNN", "inputShape", List.of(1, 28, 28), "numClasses", 10)
                : Map.of("architecture", "MLP", "inputShape", List.of(784), "numClasses", 10));
        intent.put("dataDomain", "fashion-mnist");
        intent.put("requiredLabels", labels);
        intent.put("rounds", o.rounds());
        intent.put("localEpochs", Math.max(1, o.epochs()));
        intent.put("minParticipants", specs.size());
        intent.put("maxParticipants", specs.size());
        intent.put("budget", budget.toString());
        intent.put("maxPricePerGpuSecond", maxPrice.toString());
        intent.put("deadline", Instant.now().plus(Duration.ofHours(2)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        intent.put("privacy", Map.of("mode", "NONE"));
        intent.put("aggregation", "fedavg");
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
    private List<Double> baseline(int[][] shards, ImageData train, ImageData test, RoundCoordinator.Config rc, int rounds) {
        ModelSpec spec = ModelSpec.parse(rc.modelSpec());
        ModelState global = TrainingSession.initialState(spec, o.seed());
        List<Double> acc = new ArrayList<>();
        step("baseline", "training the all-honest baseline in-process for comparison");
        for (int r = 1; r <= rounds; r++) {
            List<float[]> updates = new ArrayList<>();
            List<Long> weights = new ArrayList<>();
            for (int c = 0; c < shards.length; c++) {
                try (TrainingSession s = TrainingSession.open(spec, rc.batch(), global.withoutVelocity(), null, rc.lr(), rc.momentum(), 0)) {
                    java.util.SplittableRandom rnd = new java.util.SplittableRandom(o.seed() * 31 + r * 7L + c);
                    for (int st = 0; st < rc.stepsOf(c); st++) {
                        int[] batch = new int[rc.batch()];
                        for (int b = 0; b < batch.length; b++) {
                            batch[b] = shards[c][rnd.nextInt(shards[c].length)];
                        }
                        s.step(train, batch);
                    }
                    updates.add(RoundCoordinator.flatten(s.snapshot(false)));
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
            global = RoundCoordinator.unflatten(avg, global);
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
