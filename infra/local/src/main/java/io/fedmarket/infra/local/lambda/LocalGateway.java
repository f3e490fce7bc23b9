package io.fedmarket.infra.local.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A local API Gateway (HTTP API): matches a request against the routes of functions.json, builds
 * the payload format 2.0 event (lower-case headers, raw path and query, path parameters, body),
 * invokes the route's function and turns its {statusCode, headers, body} back into the HTTP
 * response. A request no route matches goes to the {@code $default} route's function. A function failure becomes
 * 502 {"message":"Internal Server Error"}, as on AWS.
 */
final class LocalGateway implements AutoCloseable {
    /** HTTP APIs accept payloads up to 10 MB; the functions enforce their own, smaller limit. */
    static final int MAX_PAYLOAD = 10 * 1024 * 1024;
    /** The function behind the API's {@code $default} route: a request no route matches (as terraform/modules/api wires it). */
    static final String DEFAULT_ROUTE_FUNCTION = "auth";

    private record RouteEntry(String function, String method, String template, String[] parts) {
    }

    private final HttpServer server;
    private final List<RouteEntry> routes = new ArrayList<>();
    private final LocalLambda lambda;
    private final ExecutorService executor = Executors.newFixedThreadPool(64, r -> {
        Thread t = new Thread(r, "local-gateway");
        t.setDaemon(true);
        return t;
    });

    LocalGateway(int port, FunctionsSpec spec, LocalLambda lambda) throws IOException {
        this.lambda = lambda;
        for (FunctionsSpec.Fn fn : spec.functions()) {
            if (fn.api() && fn.routes() != null) {
                for (String r : fn.routes()) {
                    String[] mt = r.split(" ", 2);
                    routes.add(new RouteEntry(fn.name(), mt[0], mt[1], mt[1].split("/")));
                }
            }
        }
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 512);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
            String path = ex.getRequestURI().getRawPath();
            byte[] body = ex.getRequestBody().readNBytes(MAX_PAYLOAD + 1);
            if (body.length > MAX_PAYLOAD) {
                send(ex, 413, Map.of("content-type", "application/json"), "{\"message\":\"Request Entity Too Large\"}");
                return;
            }
            for (RouteEntry r : routes) {
                Map<String, String> params = match(r, method, path);
                if (params != null) {
                    invoke(ex, r, params, method, path, body);
                    return;
                }
            }
            // the API's $default route (terraform/modules/api): the auth function answers 405 with the methods the path allows,
            // or 404 with the routes, as {code, error, details}
            if (routes.stream().anyMatch(r -> r.function().equals(DEFAULT_ROUTE_FUNCTION))) {
                invoke(ex, new RouteEntry(DEFAULT_ROUTE_FUNCTION, "$default", "", new String[0]), Map.of(), method, path, body);
                return;
            }
            send(ex, 404, Map.of("content-type", "application/json"), "{\"message\":\"Not Found\"}");
        }
    }

    private static Map<String, String> match(RouteEntry r, String method, String path) {
        if (!r.method().equals(method)) {
            return null;
        }
        String[] p = path.split("/");
        if (p.length != r.parts().length) {
            return null;
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < p.length; i++) {
            String t = r.parts()[i];
            if (t.startsWith("{") && t.endsWith("}")) {
                if (p[i].isEmpty()) {
                    return null;
                }
                params.put(t.substring(1, t.length() - 1), URLDecoder.decode(p[i], StandardCharsets.UTF_8));
            } else if (!t.equals(p[i])) {
                return null;
            }
        }
        return params;
    }

    private void invoke(HttpExchange ex, RouteEntry r, Map<String, String> params, String method, String path, byte[] body) throws IOException {
        ObjectNode e = LocalLambda.JSON.createObjectNode();
        e.put("version", "2.0");
        String routeKey = r.method().equals("$default") ? "$default" : r.method() + " " + r.template();
        e.put("routeKey", routeKey);
        e.put("rawPath", path);
        String rawQuery = ex.getRequestURI().getRawQuery();
        e.put("rawQueryString", rawQuery == null ? "" : rawQuery);
        ObjectNode headers = e.putObject("headers");
        ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), String.join(",", v)));
        if (rawQuery != null && !rawQuery.isEmpty()) {
            ObjectNode q = e.putObject("queryStringParameters");
            for (String kv : rawQuery.split("&")) {
                String[] p = kv.split("=", 2);
                q.put(URLDecoder.decode(p[0], StandardCharsets.UTF_8), p.length > 1 ? URLDecoder.decode(p[1], StandardCharsets.UTF_8) : "");
            }
        }
        if (!params.isEmpty()) {
            ObjectNode pp = e.putObject("pathParameters");
            params.forEach(pp::put);
        }
        ObjectNode ctx = e.putObject("requestContext");
        ctx.put("accountId", "000000000000");
        ctx.put("apiId", "local");
        ctx.put("requestId", UUID.randomUUID().toString());
        ctx.put("routeKey", routeKey);
        ctx.put("stage", "$default");
        ctx.put("timeEpoch", System.currentTimeMillis());
        ObjectNode http = ctx.putObject("http");
        http.put("method", method);
        http.put("path", path);
        http.put("protocol", "HTTP/1.1");
        http.put("sourceIp", ex.getRemoteAddress().getAddress().getHostAddress());
        http.put("userAgent", ex.getRequestHeaders().getFirst("User-Agent"));
        if (body.length > 0) {
            String text = new String(body, StandardCharsets.UTF_8);
            boolean utf8 = java.util.Arrays.equals(text.getBytes(StandardCharsets.UTF_8), body);
            e.put("body", utf8 ? text : Base64.getEncoder().encodeToString(body));
            e.put("isBase64Encoded", !utf8);
        } else {
            e.put("isBase64Encoded", false);
        }
        LambdaRuntimeApi.Result result;
        try {
            result = lambda.invoke(r.function(), e.toString());
        } catch (RuntimeException failure) {
            send(ex, 503, Map.of("content-type", "application/json"), "{\"message\":\"Service Unavailable\"}");
            return;
        }
        if (result.error()) {
            send(ex, 502, Map.of("content-type", "application/json"), "{\"message\":\"Internal Server Error\"}");
            return;
        }
        JsonNode out = LocalLambda.tree(result.body());
        if (!out.has("statusCode")) {
            // payload 2.0: a response without statusCode is a 200 JSON body
            send(ex, 200, Map.of("content-type", "application/json"), result.body());
            return;
        }
        Map<String, String> h = new LinkedHashMap<>();
        out.path("headers").fields().forEachRemaining(f -> h.put(f.getKey(), f.getValue().asText()));
        String b = out.path("body").isNull() ? "" : out.path("body").asText();
        if (out.path("isBase64Encoded").asBoolean(false)) {
            byte[] raw = Base64.getDecoder().decode(b);
            send(ex, out.get("statusCode").asInt(), h, raw);
        } else {
            send(ex, out.get("statusCode").asInt(), h, b);
        }
    }

    private static void send(HttpExchange ex, int status, Map<String, String> headers, String body) throws IOException {
        send(ex, status, headers, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, Map<String, String> headers, byte[] body) throws IOException {
        headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
