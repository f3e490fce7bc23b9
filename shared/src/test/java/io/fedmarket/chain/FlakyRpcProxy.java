package io.fedmarket.chain;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JSON-RPC proxy in front of a node that misbehaves on demand, for tests of the facade's retries: it answers
 * queued requests with an HTTP error status or a JSON-RPC rate-limit error instead of forwarding them, or forwards a
 * request and then loses the node's answer (what a load balancer timing out does). Everything else is forwarded.
 */
final class FlakyRpcProxy implements AutoCloseable {
    private static final Pattern METHOD = Pattern.compile("\"method\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\"[^\"]*\"|[0-9]+)");

    /** What to do with one request: answer {@code status} (200 = a JSON-RPC -32005 error), forwarded first or not. */
    private record Fault(String method, int status, boolean forwardFirst) {
    }

    private final String upstream;
    private final HttpServer server;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Deque<Fault> faults = new ArrayDeque<>(); // guarded by itself
    private final List<String> methods = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger faultsServed = new AtomicInteger();
    private final AtomicInteger forwarded = new AtomicInteger();

    FlakyRpcProxy(String upstreamUrl) throws IOException {
        this.upstream = upstreamUrl;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The next {@code n} requests (any method) get HTTP {@code status} without reaching the node. */
    FlakyRpcProxy failNext(int n, int status) {
        return failNext(null, n, status);
    }

    /** The next {@code n} requests for {@code method} (null: any) get HTTP {@code status} without reaching the node. */
    FlakyRpcProxy failNext(String method, int n, int status) {
        synchronized (faults) {
            for (int i = 0; i < n; i++) {
                faults.add(new Fault(method, status, false));
            }
        }
        return this;
    }

    /** The next {@code n} requests get HTTP 200 with the JSON-RPC error -32005 "rate limit exceeded" (as Infura and Alchemy answer). */
    FlakyRpcProxy rateLimitNext(int n) {
        return failNext(n, 200);
    }

    /** The next request for {@code method} reaches the node, but its answer is replaced by HTTP {@code status}. */
    FlakyRpcProxy loseAnswerOfNext(String method, int status) {
        synchronized (faults) {
            faults.add(new Fault(method, status, true));
        }
        return this;
    }

    int faultsServed() {
        return faultsServed.get();
    }

    int forwarded() {
        return forwarded.get();
    }

    /** Every request's JSON-RPC method, in arrival order. */
    List<String> methods() {
        synchronized (methods) {
            return List.copyOf(methods);
        }
    }

    void reset() {
        synchronized (faults) {
            faults.clear();
        }
        methods.clear();
        faultsServed.set(0);
        forwarded.set(0);
    }

    private Fault nextFault(String method) {
        synchronized (faults) {
            Fault f = faults.peekFirst();
            if (f != null && (f.method() == null || f.method().equals(method))) {
                return faults.pollFirst();
            }
            return null;
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = METHOD.matcher(body);
            String method = m.find() ? m.group(1) : "?";
            methods.add(method);
            Fault fault = nextFault(method);
            if (fault != null && !fault.forwardFirst()) {
                faultsServed.incrementAndGet();
                answerFault(ex, fault, body);
                return;
            }
            HttpResponse<byte[]> r;
            try {
                r = client.send(HttpRequest.newBuilder(URI.create(upstream)).timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            forwarded.incrementAndGet();
            if (fault != null) {
                faultsServed.incrementAndGet();
                answerFault(ex, fault, body);
                return;
            }
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(r.body());
            }
        }
    }

    private static void answerFault(HttpExchange ex, Fault fault, String request) throws IOException {
        byte[] out;
        if (fault.status() == 200) {
            Matcher id = ID.matcher(request);
            out = ("{\"jsonrpc\":\"2.0\",\"id\":" + (id.find() ? id.group(1) : "1")
                    + ",\"error\":{\"code\":-32005,\"message\":\"rate limit exceeded, try again later\"}}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
        } else {
            out = ("proxy says " + fault.status()).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/plain");
            if (fault.status() == 429) {
                ex.getResponseHeaders().add("Retry-After", "0");
            }
        }
        ex.sendResponseHeaders(fault.status(), out.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(out);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
