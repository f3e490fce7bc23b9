package io.fedmarket.infra.local;

import io.fedmarket.chain.MarketplaceDeployer;
import io.fedmarket.config.StackEndpoints;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The process behind {@code ./mkt up}: starts the local stack, writes {@code <data-dir>/endpoints.json}
 * and {@code stack.pid}, prints one progress line per component and a final {@code READY} line, then
 * runs until SIGTERM/SIGINT (Ctrl-C or {@code ./mkt down}), when it stops everything it started and
 * removes the endpoints file. Data under the data directory is kept.
 */
public final class StackMain {
    public static final int DEFAULT_SQS_PORT = 9324;
    public static final int DEFAULT_S3_PORT = 9444;
    public static final int DEFAULT_EVM_PORT = 8545;
    public static final int DEFAULT_PG_EMBEDDED_PORT = 5433;
    public static final int DEFAULT_GATEWAY_PORT = 8080;

    /** The single function.zip of the build, if built: env FEDMARKET_FUNCTION_ZIP or functions/target/function.zip. */
    static Path functionZip() {
        String env = System.getenv("FEDMARKET_FUNCTION_ZIP");
        Path zip = env != null && !env.isBlank() ? Path.of(env)
                : io.fedmarket.config.ProjectPaths.root().map(r -> r.resolve("functions/target/function.zip")).orElse(null);
        return zip != null && Files.isRegularFile(zip) ? zip : null;
    }

    private StackMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = null;
        int sqsPort = DEFAULT_SQS_PORT, s3Port = DEFAULT_S3_PORT, evmPort = DEFAULT_EVM_PORT, pgPort = DEFAULT_PG_EMBEDDED_PORT;
        int gatewayPort = DEFAULT_GATEWAY_PORT;
        boolean withFunctions = true;
        List<String> rest = new ArrayList<>(List.of(args));
        for (int i = 0; i < rest.size(); i++) {
            String a = rest.get(i);
            String v = i + 1 < rest.size() ? rest.get(i + 1) : null;
            switch (a) {
                case "--data-dir" -> { dataDir = Path.of(need(a, v)); i++; }
                case "--sqs-port" -> { sqsPort = port(a, v); i++; }
                case "--s3-port" -> { s3Port = port(a, v); i++; }
                case "--evm-port" -> { evmPort = port(a, v); i++; }
                case "--pg-port" -> { pgPort = port(a, v); i++; }
                case "--gateway-port" -> { gatewayPort = port(a, v); i++; }
                case "--no-functions" -> withFunctions = false;
                case "-h", "--help" -> {
                    System.out.println("usage: mkt up [--data-dir DIR] [--sqs-port N] [--s3-port N] [--evm-port N] [--pg-port N] [--gateway-port N] [--no-functions]  (0 = any free port)");
                    return;
                }
                default -> fail("unknown option '" + a + "': see ./mkt up --help");
            }
        }
        if (dataDir == null) {
            dataDir = io.fedmarket.config.ProjectPaths.home();
        }
        Files.createDirectories(dataDir);
        Path endpointsFile = dataDir.resolve(StackEndpoints.FILE_NAME);
        Path pidFile = dataDir.resolve("stack.pid");

        long t0 = System.nanoTime();
        System.out.println("starting the local marketplace stack (data in " + dataDir + ")");
        LocalStack stack;
        try {
            stack = LocalStack.builder().dataDir(dataDir).sqsPort(sqsPort).s3Port(s3Port).evmPort(evmPort)
                    .pgEmbeddedPort(pgPort).persistentChain(true).progress(System.out::println).start();
        } catch (RuntimeException e) {
            fail(e.getMessage());
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("stopping the local stack …");
            try {
                Files.deleteIfExists(endpointsFile);
                stack.close();
                Files.deleteIfExists(pidFile);
                System.out.println("stopped; data kept in " + stack.dataDir());
            } catch (IOException | RuntimeException e) {
                System.out.println("error while stopping: " + e.getMessage());
            } finally {
                stopped.countDown();
            }
        }, "stack-shutdown"));
        Files.writeString(pidFile, Long.toString(ProcessHandle.current().pid()) + (stack.anvil() != null ? "\n" + stack.anvil().pid() : "") + "\n");
        StackEndpoints endpoints = stack.endpoints();
        if (endpoints.evm() != null) {
            try {
                Map<String, String> contracts = Contracts.deployedOrDeploy(endpoints.evm().rpcUrl(), dataDir.resolve("contracts.json"));
                endpoints = endpoints.withEvm(new StackEndpoints.Evm(endpoints.evm().rpcUrl(), endpoints.evm().chainId(), contracts));
                System.out.println("  ✔ contracts        Marketplace " + contracts.get(MarketplaceDeployer.MARKETPLACE) + ", token "
                        + contracts.get(MarketplaceDeployer.TOKEN));
            } catch (RuntimeException | LinkageError e) {
                fail("the contracts could not be deployed to the local chain: " + e);
            }
        }
        Path zip = functionZip();
        io.fedmarket.infra.local.lambda.LocalLambda lambda = null;
        if (withFunctions && zip != null && endpoints.database() != null && endpoints.sqs() != null) {
            try {
                lambda = io.fedmarket.infra.local.lambda.LocalLambda.builder().functionZip(zip).endpoints(endpoints)
                        .gatewayPort(gatewayPort).workDir(dataDir.resolve("lambda")).progress(System.out::println).start();
                endpoints = endpoints.withFunctions(lambda.endpoint());
                System.out.println("  ✔ functions        API gateway " + lambda.gatewayUrl() + " → Lambda runtime (" + zip.getFileName()
                        + "), SQS pollers for the queue consumers");
            } catch (RuntimeException | LinkageError e) {
                fail("the functions could not start: " + e);
            }
        } else if (withFunctions) {
            System.out.println("  - functions        not started: functions/target/function.zip is missing (build it with ./mvnw package)");
        }
        final io.fedmarket.infra.local.lambda.LocalLambda functions = lambda;
        if (functions != null) {
            Runtime.getRuntime().addShutdownHook(new Thread(functions::close, "functions-shutdown"));
        }
        endpoints.write(endpointsFile);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long rssKb = rssKb();
        System.out.printf("READY in %.1f s: endpoints in %s (stack JVM heap used %d MiB%s)%n", seconds, endpointsFile,
                (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20,
                rssKb > 0 ? ", resident " + (rssKb >> 10) + " MiB" : "");
        System.out.flush();
        Thread.currentThread().join(); // until a signal runs the shutdown hook
    }

    /** Resident set size of this JVM from /proc (Linux), 0 elsewhere. */
    static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return 0;
    }

    private static String need(String option, String value) {
        if (value == null) {
            fail(option + " needs a value");
        }
        return value;
    }

    private static int port(String option, String value) {
        try {
            int p = Integer.parseInt(need(option, value));
            if (p < 0 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            fail(option + " takes a port number 0-65535 (0 = any free port), not '" + value + "'");
            return -1;
        }
    }

    private static void fail(String message) {
        System.err.println("mkt up: " + message);
        System.exit(2);
    }

}
