package io.fedmarket.cli.user;

import com.fasterxml.jackson.databind.JsonNode;
import io.fedmarket.chain.MarketplaceChain;
import io.fedmarket.config.StackEndpoints;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.worker.WorkerMain;
import io.fedmarket.worker.loop.WorkerConfig;
import org.web3j.crypto.Credentials;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The commands a builder or provider uses against a running marketplace (local or deployed): sign in,
 * intents, provider offers, bonds, jobs, claims, and running a GPU worker. Each prints JSON (or one
 * line per on-chain transaction) and exits non-zero with one clear line on failure.
 */
public final class UserCommands {
    private UserCommands() {
    }

    /** Where the API is and where the session lives. */
    public static final class ApiOptions {
        @Option(names = "--api", paramLabel = "URL", description = "the marketplace API (default: env MKT_API, else the local stack's gateway)")
        String api;

        @Option(names = "--session", paramLabel = "FILE", description = "session file written by login (default: env MKT_SESSION, else .mkt/session.json)")
        Path session;

        ApiClient client() {
            return ApiClient.of(api, session);
        }
    }

    /** The user's key: a file holding a hex private key, or env FEDMARKET_KEY. */
    public static final class KeyOptions {
        @Option(names = "--key-file", paramLabel = "FILE", description = "a file holding your hex private key (default: env FEDMARKET_KEY)")
        Path keyFile;

        Credentials credentials() {
            return ApiClient.credentials(keyFile);
        }
    }

    /** Where the chain is: --rpc and --marketplace/--token, else the local stack's endpoints.json. */
    public static final class ChainOptions {
        @Option(names = "--rpc", paramLabel = "URL", description = "EVM JSON-RPC URL (default: the local stack's anvil)")
        String rpc;

        @Option(names = "--marketplace", paramLabel = "ADDRESS", description = "Marketplace contract (default: from the local stack)")
        String marketplace;

        @Option(names = "--token", paramLabel = "ADDRESS", description = "payment token contract (default: from the local stack)")
        String token;

        MarketplaceChain connect(Credentials key) {
            String url = rpc;
            Map<String, String> contracts = new HashMap<>();
            if (url == null || marketplace == null || token == null) {
                StackEndpoints ep;
                try {
                    ep = StackEndpoints.locate();
                } catch (RuntimeException e) {
                    throw new ApiClient.UserError("no chain given: pass --rpc, --marketplace and --token, or start the local stack with ./mkt up");
                }
                if (ep.evm() == null || ep.evm().contracts() == null || ep.evm().contracts().isEmpty()) {
                    throw new ApiClient.UserError("the local stack has no deployed contracts: restart it with ./mkt up");
                }
                url = url != null ? url : ep.evm().rpcUrl();
                contracts.putAll(ep.evm().contracts());
            }
            if (marketplace != null) {
                contracts.put("marketplace", marketplace);
            }
            if (token != null) {
                contracts.put("token", token);
            }
            return MarketplaceChain.connect(url, key, contracts, MarketplaceChain.Options.defaults());
        }
    }

    static BigInteger amount(String text, String what) {
        if (text == null || !text.matches("[0-9]{1,78}")) {
            throw new ApiClient.UserError(what + " must be a whole number of base units (digits only), got '" + text + "'");
        }
        BigInteger v = new BigInteger(text);
        if (v.signum() <= 0) {
            throw new ApiClient.UserError(what + " must be above 0");
        }
        return v;
    }

    static String tx(MarketplaceChain.TxResult r) {
        return r.operation() + " " + r.txHash() + " (block " + r.blockNumber() + ", gas " + r.gasUsed() + ")";
    }

    abstract static class Base implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        void out(JsonNode n) {
            spec.commandLine().getOut().println(ApiClient.print(n));
        }

        void out(String line) {
            spec.commandLine().getOut().println(line);
        }
    }

    /** A command that only groups subcommands: without one it prints its usage. */
    abstract static class Group implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }
    }

    /** POSTs a JSON object read from FILE ('-' = stdin) to one route and prints the answer. */
    abstract static class PostFile extends Base {
        @Mixin
        ApiOptions api;
        @Parameters(paramLabel = "FILE", description = "a JSON object ('-' = stdin)")
        Path file;

        abstract String route();

        @Override
        public Integer call() {
            out(api.client().post(route(), ApiClient.body(file)));
            return 0;
        }
    }

    @Command(name = "login", mixinStandardHelpOptions = true,
            description = "Sign in with Ethereum (EIP-4361): sign the API's challenge with your key and keep the session token.")
    public static final class Login extends Base {
        @Mixin
        ApiOptions api;
        @Mixin
        KeyOptions key;

        @Override
        public Integer call() {
            ApiClient.Session s = api.client().login(key.credentials());
            out("signed in as " + s.address() + " with roles " + s.roles() + " at " + s.api());
            return 0;
        }
    }

    @Command(name = "intents", mixinStandardHelpOptions = true, description = "Submit, list, show and cancel your training intents.",
            subcommands = {Intents.Submit.class, Intents.ListMine.class, Intents.Show.class, Intents.Cancel.class})
    public static final class Intents extends Group {
        @Command(name = "submit", mixinStandardHelpOptions = true,
                description = "Submit an intent from a JSON file ('-' = stdin); see functions/openapi.json for the fields.")
        static final class Submit extends PostFile {
            @Override
            String route() {
                return "/intents";
            }
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "List your intents, newest first.")
        static final class ListMine extends Base {
            @Mixin
            ApiOptions api;
            @Option(names = "--limit", defaultValue = "20", description = "at most this many (1-100, default ${DEFAULT-VALUE})")
            int limit;

            @Override
            public Integer call() {
                if (limit < 1 || limit > 100) {
                    throw new ApiClient.UserError("--limit must be 1..100");
                }
                out(api.client().get("/intents?limit=" + limit));
                return 0;
            }
        }

        @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one of your intents.")
        static final class Show extends Base {
            @Mixin
            ApiOptions api;
            @Parameters(paramLabel = "ID")
            String id;

            @Override
            public Integer call() {
                out(api.client().get("/intents/" + uuid(id)));
                return 0;
            }
        }

        @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel an intent that has not been matched yet.")
        static final class Cancel extends Base {
            @Mixin
            ApiOptions api;
            @Parameters(paramLabel = "ID")
            String id;

            @Override
            public Integer call() {
                out(api.client().post("/intents/" + uuid(id) + "/cancel", null));
                return 0;
            }
        }
    }

    static String uuid(String id) {
        try {
            return java.util.UUID.fromString(id).toString();
        } catch (IllegalArgumentException e) {
            throw new ApiClient.UserError("'" + id + "' is not an id: ids are UUIDs such as 3f1c…-…; list yours with mkt intents list");
        }
    }

    @Command(name = "providers", mixinStandardHelpOptions = true, description = "Offer GPUs or a data set, and see your offers and bond.",
            subcommands = {Providers.Gpu.class, Providers.Data.class, Providers.Me.class})
    public static final class Providers extends Group {
        @Command(name = "gpu", mixinStandardHelpOptions = true,
                description = "Register or update a GPU offer from a JSON file: name, gpuModel, gpuCount, gpuMemoryGib, askPerGpuSecond, region, samplesPerSecond (from ./mkt bench train).")
        static final class Gpu extends PostFile {
            @Override
            String route() {
                return "/providers/gpu";
            }
        }

        @Command(name = "data", mixinStandardHelpOptions = true,
                description = "Register or update a data set from a JSON file: name, domain, region, sampleCount, labelHistogram, datasetRoot (mkt data commit writes it for a data set you keep).")
        static final class Data extends PostFile {
            @Override
            String route() {
                return "/providers/data";
            }
        }

        @Command(name = "show", mixinStandardHelpOptions = true, description = "Your GPU offers, data sets and bond (as mirrored from the chain).")
        static final class Me extends Base {
            @Mixin
            ApiOptions api;

            @Override
            public Integer call() {
                out(api.client().get("/providers/me"));
                return 0;
            }
        }
    }

    @Command(name = "job", mixinStandardHelpOptions = true,
            description = "A job's status: rounds, participants, verdicts, slashes and cost so far (for its builder, participants and verifiers).")
    public static final class Job extends Base {
        @Mixin
        ApiOptions api;
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            out(api.client().get("/jobs/" + uuid(id)));
            return 0;
        }
    }

    @Command(name = "bond", mixinStandardHelpOptions = true,
            description = "Stake AMOUNT base units of the payment token as a provider bond (approve + bond on chain).")
    public static final class Bond extends Base {
        @Mixin
        KeyOptions key;
        @Mixin
        ChainOptions chain;
        @Parameters(paramLabel = "AMOUNT")
        String amount;

        @Override
        public Integer call() {
            BigInteger a = amount(amount, "AMOUNT");
            Credentials k = key.credentials();
            try (MarketplaceChain c = chain.connect(k)) {
                BigInteger balance = c.tokenBalance(k.getAddress());
                if (balance.compareTo(a) < 0) {
                    throw new ApiClient.UserError(k.getAddress() + " holds " + balance + " base units of the token, less than the bond " + a
                            + ": fund the account first");
                }
                out(tx(c.approve(a)));
                out(tx(c.bond(a)));
                out("bonded: " + c.bondOf(k.getAddress()).bonded + " base units");
            }
            return 0;
        }
    }

    @Command(name = "escrow", mixinStandardHelpOptions = true,
            description = "As the builder of a matched job: escrow its budget on chain (approve + openJob) until the intent's deadline. "
                    + "Round 1 starts when the marketplace sees the escrow; what no round commits is refundable after the job ends.")
    public static final class Escrow extends Base {
        @Mixin
        ApiOptions api;
        @Mixin
        KeyOptions key;
        @Mixin
        ChainOptions chain;
        @Parameters(paramLabel = "JOB_ID")
        String jobId;
        @Option(names = "--amount", description = "base units to escrow (default: the intent's budget)")
        String amount;

        @Override
        public Integer call() {
            JsonNode job = api.client().get("/jobs/" + uuid(jobId));
            JsonNode intent = api.client().get("/intents/" + job.path("intentId").asText());
            Credentials k = key.credentials();
            if (!job.path("builder").asText().equalsIgnoreCase(k.getAddress())) {
                throw new ApiClient.UserError("job " + jobId + " belongs to builder " + job.path("builder").asText() + ", not to " + k.getAddress()
                        + ": only its builder escrows it");
            }
            BigInteger a = amount != null ? amount(amount, "--amount") : new BigInteger(intent.path("budget").asText());
            long deadline = java.time.Instant.parse(intent.path("deadline").asText()).getEpochSecond();
            byte[] onChainJob = Hashes.keccak(uuid(jobId).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            try (MarketplaceChain c = chain.connect(k)) {
                if (c.jobState(onChainJob).exists()) {
                    throw new ApiClient.UserError("job " + jobId + " is escrowed on chain already (" + c.jobState(onChainJob).deposited() + " base units)");
                }
                BigInteger balance = c.tokenBalance(k.getAddress());
                if (balance.compareTo(a) < 0) {
                    throw new ApiClient.UserError(k.getAddress() + " holds " + balance + " base units of the token, less than the budget " + a
                            + ": fund the account first, or escrow less with --amount");
                }
                out(tx(c.approve(a)));
                out(tx(c.openJob(onChainJob, a, deadline)));
                out("escrowed " + a + " base units for job " + jobId + " until " + intent.path("deadline").asText() + "; round 1 starts when the marketplace sees it");
            }
            return 0;
        }
    }

    @Command(name = "unbond", mixinStandardHelpOptions = true,
            description = "Start unbonding AMOUNT base units (withdrawable after the unbonding delay with --withdraw).")
    public static final class Unbond extends Base {
        @Mixin
        KeyOptions key;
        @Mixin
        ChainOptions chain;
        @Parameters(paramLabel = "AMOUNT", arity = "0..1")
        String amount;
        @Option(names = "--withdraw", description = "withdraw what has finished unbonding instead")
        boolean withdraw;

        @Override
        public Integer call() {
            if (withdraw == (amount != null)) {
                throw new ApiClient.UserError("give either AMOUNT (start unbonding) or --withdraw (collect what finished unbonding)");
            }
            try (MarketplaceChain c = chain.connect(key.credentials())) {
                out(tx(withdraw ? c.withdrawUnbonded() : c.requestUnbond(amount(amount, "AMOUNT"))));
            }
            return 0;
        }
    }

    @Command(name = "claim", mixinStandardHelpOptions = true,
            description = "Claim your cumulative payout of a job on chain with the Merkle proof the API serves (one claim covers every round so far), "
                    + "then withdraw it to your wallet (--no-withdraw leaves it booked, to withdraw several jobs in one transfer later).")
    public static final class Claim extends Base {
        @Mixin
        ApiOptions api;
        @Mixin
        KeyOptions key;
        @Mixin
        ChainOptions chain;
        @Parameters(paramLabel = "JOB_ID")
        String jobId;
        @Option(names = "--dry-run", description = "only show the proof and the amount")
        boolean dryRun;
        @Option(names = "--no-withdraw", description = "only book the claim in the contract; by default what is booked in this job is "
                + "then withdrawn to the wallet")
        boolean noWithdraw;

        @Override
        public Integer call() {
            JsonNode claim = api.client().get("/claims/" + uuid(jobId));
            out(claim);
            if (dryRun) {
                return 0;
            }
            Credentials k = key.credentials();
            if (!claim.path("account").asText().equalsIgnoreCase(k.getAddress())) {
                throw new ApiClient.UserError("the session is for " + claim.path("account").asText() + " but the key is " + k.getAddress()
                        + ": sign in with the same key");
            }
            List<byte[]> proof = new ArrayList<>();
            claim.path("proof").forEach(p -> proof.add(io.fedmarket.crypto.Hashes.fromHex32(p.asText())));
            // the job's on-chain id is keccak256 of its id string
            byte[] onChainJob = Hashes.keccak(uuid(jobId).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            try (MarketplaceChain c = chain.connect(k)) {
                BigInteger before = c.claimed(onChainJob, k.getAddress());
                BigInteger cumulative = new BigInteger(claim.path("cumulative").asText());
                if (cumulative.compareTo(before) <= 0) {
                    out("nothing new to claim: " + before + " base units already claimed of " + cumulative);
                } else {
                    out(tx(c.claim(onChainJob, k.getAddress(), cumulative, proof)));
                    out("claimed " + cumulative.subtract(before) + " base units (cumulative " + cumulative + ")");
                }
                // also collects what an earlier --no-withdraw claim left booked
                BigInteger booked = c.unwithdrawn(onChainJob, k.getAddress());
                if (noWithdraw || booked.signum() == 0) {
                    out(booked + " base units booked in this job, not withdrawn" + (booked.signum() > 0 ? " (run again without --no-withdraw)" : ""));
                    return 0;
                }
                out(tx(c.withdraw(List.of(onChainJob))));
                out("withdrew " + booked + " base units to " + k.getAddress());
            }
            return 0;
        }
    }

    @Command(name = "worker", mixinStandardHelpOptions = true,
            description = "Run a GPU worker: pull training and re-execution tasks from the queues, train with DJL, prove and submit. "
                    + "Other settings come from the FEDMARKET_* environment (see gpu-worker/README.md).")
    public static final class Worker extends Base {
        @Mixin
        KeyOptions key;
        @Option(names = "--id", defaultValue = "worker-1", description = "a name for logs (default ${DEFAULT-VALUE})")
        String id;
        @Option(names = "--max-tasks", defaultValue = "0", description = "stop after this many tasks (0 = no limit)")
        int maxTasks;
        @Option(names = "--idle-exit", defaultValue = "0", description = "stop after this many idle seconds (0 = never)")
        int idleExit;

        @Override
        public Integer call() {
            Credentials k = key.credentials();
            Map<String, String> overlay = new HashMap<>(Map.of("FEDMARKET_WORKER_KEY", org.web3j.utils.Numeric.toHexStringNoPrefixZeroPadded(k.getEcKeyPair().getPrivateKey(), 64),
                    "FEDMARKET_WORKER_ID", id, "FEDMARKET_MAX_TASKS", Integer.toString(maxTasks),
                    "FEDMARKET_IDLE_EXIT_SECONDS", Integer.toString(idleExit)));
            WorkerConfig cfg;
            try {
                cfg = WorkerConfig.from(name -> overlay.containsKey(name) ? overlay.get(name) : System.getenv(name));
            } catch (RuntimeException e) {
                throw new ApiClient.UserError("worker configuration: " + e.getMessage());
            }
            return WorkerMain.run(cfg);
        }
    }
}
