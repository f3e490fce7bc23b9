package io.fedmarket.infra.local.lambda;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The AWS Lambda Runtime API (2018-06-01) that a function process polls, served for every function
 * under its own prefix: a process started with {@code AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT/fn/NAME}
 * long-polls {@code /fn/NAME/2018-06-01/runtime/invocation/next}, and posts the result to
 * {@code .../invocation/{requestId}/response} or {@code /error}. The same contract as on AWS, so the
 * packaged function.zip runs unchanged.
 */
final class LambdaRuntimeApi implements AutoCloseable {
    private static final String PREFIX = "/2018-06-01/runtime/";

    /** The outcome of an invocation: the function's response body, or its error document. */
    record Result(boolean error, String body) {
    }

    private record Invocation(String requestId, String event, long deadlineMs, CompletableFuture<Result> result) {
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "lambda-runtime-api");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, BlockingQueue<Invocation>> pending = new ConcurrentHashMap<>();
    private final Map<String, Invocation> inFlight = new ConcurrentHashMap<>();
    private final Map<String, String> initErrors = new ConcurrentHashMap<>();

    LambdaRuntimeApi(int port) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 256);
        server.setExecutor(executor);
        server.createContext("/fn/", this::handle);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** The value of AWS_LAMBDA_RUNTIME_API for a function process. */
    String runtimeApiFor(String function) {
        return "127.0.0.1:" + port() + "/fn/" + function;
    }

    /** Invocations waiting for a free instance of the function. */
    int backlog(String function) {
        return queue(function).size();
    }

    String initError(String function) {
        return initErrors.get(function);
    }

    CompletableFuture<Result> invoke(String function, String event, long timeoutMs) {
        Invocation inv = new Invocation(UUID.randomUUID().toString(), event, System.currentTimeMillis() + timeoutMs, new CompletableFuture<>());
        queue(function).add(inv);
        return inv.result().orTimeout(timeoutMs, TimeUnit.MILLISECONDS);
    }

    private BlockingQueue<Invocation> queue(String function) {
        return pending.computeIfAbsent(function, f -> new LinkedBlockingQueue<>());
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            int p = path.indexOf(PREFIX);
            if (p < 0) {
                send(ex, 404, "{\"errorMessage\":\"unknown runtime API path " + path + "\"}");
                return;
            }
            String function = path.substring("/fn/".length(), p);
            String rest = path.substring(p + PREFIX.length());
            if (rest.equals("invocation/next") && ex.getRequestMethod().equals("GET")) {
                Invocation inv;
                try {
                    inv = queue(function).take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    send(ex, 500, "{}");
                    return;
                }
                if (inv.result().isDone()) { // timed out while queued: never deliver
                    handle(ex);
                    return;
                }
                inFlight.put(inv.requestId(), inv);
                ex.getResponseHeaders().add("Lambda-Runtime-Aws-Request-Id", inv.requestId());
                ex.getResponseHeaders().add("Lambda-Runtime-Deadline-Ms", Long.toString(inv.deadlineMs()));
                ex.getResponseHeaders().add("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:fedmarket-" + function);
                ex.getResponseHeaders().add("Lambda-Runtime-Trace-Id", "Root=1-" + inv.requestId());
                send(ex, 200, inv.event());
                return;
            }
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            if (rest.equals("init/error")) {
                initErrors.put(function, body);
                send(ex, 202, "{\"status\":\"OK\"}");
                return;
            }
            if (rest.startsWith("invocation/")) {
                String[] parts = rest.split("/");
                Invocation inv = parts.length == 3 ? inFlight.remove(parts[1]) : null;
                if (inv == null) {
                    send(ex, 400, "{\"errorMessage\":\"unknown request id\"}");
                    return;
                }
                inv.result().complete(new Result(parts[2].equals("error"), body));
                send(ex, 202, "{\"status\":\"OK\"}");
                return;
            }
            send(ex, 404, "{\"errorMessage\":\"unknown runtime API path " + path + "\"}");
        }
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
