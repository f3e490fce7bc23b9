package io.fedmarket.worker.loop;

import io.fedmarket.config.Queues;
import io.fedmarket.config.StackEndpoints;
import io.fedmarket.worker.train.CheckpointHold;
import io.fedmarket.worker.train.Fault;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * Everything the worker is told, from the environment or system properties only
 * ({@code FEDMARKET_TASKS_QUEUE_URL} or {@code -Dfedmarket.tasks.queue.url}):
 * <pre>
 * FEDMARKET_TASKS_QUEUE_URL, FEDMARKET_REEXEC_QUEUE_URL, FEDMARKET_SUBMISSIONS_QUEUE_URL, FEDMARKET_REEXEC_RESULTS_QUEUE_URL,
 * FEDMARKET_BUCKET, FEDMARKET_REGION      on AWS (default credentials chain); when unset, the local
 *                                         stack's endpoints (MKT_ENDPOINTS / .mkt/endpoints.json)
 * FEDMARKET_WORKER_KEY / _KEY_FILE        the bonded key (hex); unset: an ephemeral key, logged
 * FEDMARKET_CHAIN_ID, FEDMARKET_MARKETPLACE  EIP-712 domain (default: the local stack's chain)
 * FEDMARKET_SPOT_NOTICE                   imds | file:/path | http(s)://url | none
 * FEDMARKET_WORKER_ID                     name in logs and progress records
 * FEDMARKET_POLL_SECONDS (5: each long poll's WaitTimeSeconds), FEDMARKET_VISIBILITY_SECONDS (queue's), FEDMARKET_MAX_TASKS
 * (0 = no limit), FEDMARKET_IDLE_EXIT_SECONDS (0 = never)
 * FEDMARKET_IDLE_WAKEUP                   listen (default: the task and re-execution queues long-polled at once, a worker wakes
 *                                         when either has work) | poll (one queue at a time: a request may wait out the other
 *                                         queue's long poll)
 * FEDMARKET_WORKER_ROLE                   trainer (default: trains tasks and re-executes others' segments) | verifier
 *                                         (re-executions only: a bonded verifier node that never takes a training task)
 * FEDMARKET_FAULT                         FAULT INJECTION for demos: free-ride | noise | partial:F | scaled-copy |
 *                                         forged-trail | wrong-shard | slow:MS | nondeterministic | crash-after:N
 * FEDMARKET_LOCAL_DATA                    private data sets this worker holds (paths committed with mkt data commit, separated
 *                                         by ':'): it trains the private tasks of their roots, and reveals a drawn segment's
 *                                         samples, sealed, to the drawn re-executor only
 * FEDMARKET_REVEAL_WAIT_SECONDS (60)     how long a re-executor waits for a private segment's reveal before it answers that
 *                                         the owner did not serve it
 * FEDMARKET_FAULT_HOLD                    FAULT INJECTION for the demo's attrition fault: file:/path (a file holding a round
 *                                         number: tasks of that round pause at their first durable checkpoint while it
 *                                         exists) | none
 * </pre>
 */
public record WorkerConfig(String workerId, Endpoints endpoints, Credentials key, long chainId, String marketplace,
                           String spotNotice, int pollSeconds, int visibilitySeconds, int maxTasks, int idleExitSeconds,
                           Fault fault, boolean verifierOnly, CheckpointHold hold, boolean listen, java.util.List<Path> localData,
                           int revealWaitSeconds) {

    /** The configuration before FEDMARKET_IDLE_WAKEUP and private data: listening on both queues at once, no local data. */
    public WorkerConfig(String workerId, Endpoints endpoints, Credentials key, long chainId, String marketplace, String spotNotice, int pollSeconds,
                        int visibilitySeconds, int maxTasks, int idleExitSeconds, Fault fault, boolean verifierOnly, CheckpointHold hold) {
        this(workerId, endpoints, key, chainId, marketplace, spotNotice, pollSeconds, visibilitySeconds, maxTasks, idleExitSeconds, fault,
                verifierOnly, hold, true, java.util.List.of(), 60);
    }

    /** Where the worker talks to: AWS (endpoint null) or the local stand-ins. */
    public record Endpoints(String tasksQueueUrl, String reexecQueueUrl, String submissionsQueueUrl, Map<String, String> queueUrls,
                            String bucket, String region, URI sqsEndpoint, URI s3Endpoint, String accessKey, String secretKey) {
    }

    public static WorkerConfig fromEnvironment() {
        return from(name -> {
            String p = System.getProperty(name.toLowerCase().replace('_', '.'));
            return p != null ? p : System.getenv(name);
        });
    }

    public static WorkerConfig from(Function<String, String> settings) {
        String tasks = settings.apply("FEDMARKET_TASKS_QUEUE_URL");
        Endpoints ep;
        if (tasks != null && !tasks.isBlank()) {
            // the queue re-execution answers go to (ReexecTask.replyQueueKey), by its key in queues.json
            String results = settings.apply("FEDMARKET_REEXEC_RESULTS_QUEUE_URL");
            ep = new Endpoints(tasks, required(settings, "FEDMARKET_REEXEC_QUEUE_URL"), required(settings, "FEDMARKET_SUBMISSIONS_QUEUE_URL"),
                    results == null || results.isBlank() ? Map.of() : Map.of(Queues.REEXEC_RESULTS, results), required(settings, "FEDMARKET_BUCKET"), orDefault(settings, "FEDMARKET_REGION", "us-east-1"),
                    null, null, null, null);
        } else {
            StackEndpoints s = StackEndpoints.locate();
            ep = new Endpoints(s.sqs().queueUrl(Queues.TASKS), s.sqs().queueUrl(Queues.REEXEC), s.sqs().queueUrl(Queues.SUBMISSIONS),
                    s.sqs().queueUrls(), s.s3().bucket(), s.sqs().region(), URI.create(s.sqs().endpoint()), URI.create(s.s3().endpoint()),
                    s.s3().accessKey(), s.s3().secretKey());
        }
        Credentials key = key(settings);
        long chainId = 31337;
        String market = "0x0000000000000000000000000000000000000000";
        if (settings.apply("FEDMARKET_CHAIN_ID") != null) {
            chainId = Long.parseLong(settings.apply("FEDMARKET_CHAIN_ID"));
            market = required(settings, "FEDMARKET_MARKETPLACE");
        } else if (ep.sqsEndpoint() != null) {
            try {
                StackEndpoints s = StackEndpoints.locate();
                if (s.evm() != null) {
                    chainId = s.evm().chainId();
                    if (s.evm().contracts() != null && s.evm().contracts().get(io.fedmarket.chain.MarketplaceDeployer.MARKETPLACE) != null) {
                        market = s.evm().contracts().get(io.fedmarket.chain.MarketplaceDeployer.MARKETPLACE);
                    }
                }
            } catch (RuntimeException e) {
                // no chain in the local stack: the zero address keeps signatures well-formed
            }
        }
        String id = orDefault(settings, "FEDMARKET_WORKER_ID", "worker-" + ProcessHandle.current().pid());
        int visibility = Integer.parseInt(orDefault(settings, "FEDMARKET_VISIBILITY_SECONDS",
                String.valueOf(Queues.get().byKey(Queues.TASKS).visibilityTimeoutSeconds())));
        return new WorkerConfig(id, ep, key, chainId, market, orDefault(settings, "FEDMARKET_SPOT_NOTICE", "none"),
                Integer.parseInt(orDefault(settings, "FEDMARKET_POLL_SECONDS", "5")), visibility,
                Integer.parseInt(orDefault(settings, "FEDMARKET_MAX_TASKS", "0")),
                Integer.parseInt(orDefault(settings, "FEDMARKET_IDLE_EXIT_SECONDS", "0")),
                Fault.parse(settings.apply("FEDMARKET_FAULT")), role(orDefault(settings, "FEDMARKET_WORKER_ROLE", "trainer")),
                CheckpointHold.parse(settings.apply("FEDMARKET_FAULT_HOLD")), wakeup(orDefault(settings, "FEDMARKET_IDLE_WAKEUP", "listen")),
                io.fedmarket.worker.data.local.LocalShards.parsePaths(settings.apply("FEDMARKET_LOCAL_DATA")),
                Integer.parseInt(orDefault(settings, "FEDMARKET_REVEAL_WAIT_SECONDS", "60")));
    }

    private static boolean wakeup(String w) {
        return switch (w) {
            case "listen" -> true;
            case "poll" -> false;
            default -> throw new IllegalArgumentException("FEDMARKET_IDLE_WAKEUP must be listen or poll, not '" + w + "'");
        };
    }

    private static boolean role(String r) {
        return switch (r) {
            case "trainer" -> false;
            case "verifier" -> true;
            default -> throw new IllegalArgumentException("FEDMARKET_WORKER_ROLE must be trainer or verifier, not '" + r + "'");
        };
    }

    private static Credentials key(Function<String, String> settings) {
        try {
            String hex = settings.apply("FEDMARKET_WORKER_KEY");
            String file = settings.apply("FEDMARKET_WORKER_KEY_FILE");
            if (file != null && !file.isBlank()) {
                hex = Files.readString(Path.of(file)).trim();
            }
            if (hex != null && !hex.isBlank()) {
                return Credentials.create(hex);
            }
            Credentials c = Credentials.create(Keys.createEcKeyPair());
            System.err.println("no FEDMARKET_WORKER_KEY: using an ephemeral, unbonded key " + c.getAddress());
            return c;
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot load the worker key (FEDMARKET_WORKER_KEY hex or FEDMARKET_WORKER_KEY_FILE): "
                    + e.getMessage(), e);
        }
    }

    private static String required(Function<String, String> s, String name) {
        String v = s.apply(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(name + " is not set: on AWS set all FEDMARKET_* queue URLs and the bucket, "
                    + "or unset FEDMARKET_TASKS_QUEUE_URL to use the local stack");
        }
        return v;
    }

    private static String orDefault(Function<String, String> s, String name, String def) {
        String v = s.apply(name);
        return v == null || v.isBlank() ? def : v;
    }
}
