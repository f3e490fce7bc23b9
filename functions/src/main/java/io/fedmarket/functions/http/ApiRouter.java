package io.fedmarket.functions.http;

import io.fedmarket.functions.auth.TokenService;
import io.fedmarket.model.Role;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.Optional;

/**
 * Dispatches an API Gateway v2 event to the route it names: size limit, Content-Type, bearer token and role
 * checks, and one mapping of every failure to {@code {code, error, details}} with its status, so an
 * API client never sees the Lambda error envelope. A request no route takes (the API's {@code $default}
 * route, or a route of another function) gets 405 with the methods its path allows, or 404 with the routes.
 *
 * <p>Roles: a token's roles are an upper bound; each request also reads the account's roles from
 * {@code account_roles}, so a role an operator removes stops working at the caller's next request, not at
 * the token's expiry.
 */
@ApplicationScoped
public class ApiRouter {
    private static final Logger LOG = Logger.getLogger(ApiRouter.class);

    @Inject
    TokenService tokens;

    /** Every route of the API (functions.json), for the 404/405 answers of a request no route of this function takes. */
    static final List<String> API_ROUTES = apiRoutes();

    private static List<String> apiRoutes() {
        try (java.io.InputStream in = ApiRouter.class.getResourceAsStream("/io/fedmarket/functions.json")) {
            if (in == null) {
                return List.of();
            }
            List<String> out = new java.util.ArrayList<>();
            Json.OUT.readTree(in).path("functions").forEach(f -> f.path("routes").forEach(r -> out.add(r.asText())));
            return List.copyOf(out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read io/fedmarket/functions.json", e);
        }
    }

    public HttpApiResponse dispatch(String function, List<Route> routes, HttpApiEvent event) {
        long t0 = System.nanoTime();
        MDC.put("function", function);
        if (event.requestId() != null) {
            MDC.put("requestId", event.requestId());
        }
        HttpApiResponse response;
        try {
            response = route(routes, event);
        } catch (ApiError e) {
            response = HttpApiResponse.json(e.status(), Json.error(e.code(), e.getMessage(), e.details()));
        } catch (RuntimeException e) {
            LOG.errorf(e, "%s %s failed", event.method(), event.path());
            response = HttpApiResponse.json(500, Json.error("internal", "the marketplace failed to handle this request; retry later (request id "
                    + event.requestId() + ")", Map.of()));
        }
        LOG.infof("%s %s -> %d in %d ms", event.method(), event.path(), response.statusCode(), (System.nanoTime() - t0) / 1_000_000);
        MDC.clear();
        return response;
    }

    private HttpApiResponse route(List<Route> routes, HttpApiEvent event) {
        String body = event.body();
        boolean binary = routes.stream().anyMatch(r -> r.binary() && r.match(event.method(), event.path()).isPresent());
        if (binary) {
            return routeBinary(routes, event);
        }
        if (body != null && event.isBase64Encoded()) {
            // API Gateway base64-encodes a body that is not valid UTF-8 text: JSON must be UTF-8
            try {
                body = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(java.util.Base64.getDecoder().decode(body))).toString();
            } catch (IllegalArgumentException | java.nio.charset.CharacterCodingException e) {
                throw ApiError.badRequest("body_not_utf8", "the body is not UTF-8 text: send JSON encoded as UTF-8", Map.of("expected", "application/json; charset=utf-8"));
            }
        }
        if (body != null && body.getBytes(StandardCharsets.UTF_8).length > Json.MAX_BODY_BYTES) {
            throw new ApiError(413, "body_too_large", "the body is larger than " + Json.MAX_BODY_BYTES + " bytes (256 KiB): send less",
                    Map.of("limit", Json.MAX_BODY_BYTES));
        }
        for (Route r : routes) {
            Optional<Map<String, String>> params = r.match(event.method(), event.path());
            if (params.isEmpty()) {
                continue;
            }
            Caller caller = null;
            if (r.authenticated()) {
                Caller claimed = tokens.authenticate(event.header("authorization"));
                caller = new Caller(claimed.address(), currentRoles(claimed));
                if (r.role() != null && !caller.has(r.role())) {
                    boolean removed = claimed.has(r.role());
                    throw ApiError.forbidden(r.routeKey() + " needs the '" + r.role().wire() + "' role; "
                            + (removed ? "it was removed from your account since the token was issued"
                            : "your account has " + caller.roles().stream().map(Role::wire).sorted().toList())
                            + ". Ask an operator to grant it, then sign in again");
                }
                MDC.put("caller", caller.address());
            }
            if (r.requestType() != null && !r.binary()) {
                requireJson(r, event.header("content-type"));
            }
            HttpApiEvent withBody = new HttpApiEvent(event.version(), event.routeKey(), event.rawPath(), event.rawQueryString(),
                    event.headers(), event.queryStringParameters(), params.get(), body, false, event.requestContext());
            Object result = r.handler().apply(new Route.Request(withBody, params.get(), caller));
            return HttpApiResponse.json(r.successStatus(), Json.write(result));
        }
        throw noRoute(routes, event.method(), event.path());
    }

    /** A route that takes a file: authenticated like the others, {@code application/octet-stream}, the body passed on as sent. */
    private HttpApiResponse routeBinary(List<Route> routes, HttpApiEvent event) {
        for (Route r : routes) {
            Optional<Map<String, String>> params = r.match(event.method(), event.path());
            if (params.isEmpty() || !r.binary()) {
                continue;
            }
            Caller caller = null;
            if (r.authenticated()) {
                Caller claimed = tokens.authenticate(event.header("authorization"));
                caller = new Caller(claimed.address(), currentRoles(claimed));
                if (r.role() != null && !caller.has(r.role())) {
                    throw ApiError.forbidden(r.routeKey() + " needs the '" + r.role().wire() + "' role; your account has "
                            + caller.roles().stream().map(Role::wire).sorted().toList() + ". Ask an operator to grant it, then sign in again");
                }
                MDC.put("caller", caller.address());
            }
            String ct = event.header("content-type") == null ? "" : event.header("content-type").trim().toLowerCase(java.util.Locale.ROOT);
            if (!ct.split(";")[0].trim().equals("application/octet-stream")) {
                throw new ApiError(415, "unsupported_media_type", r.routeKey() + " takes the file itself: send the header Content-Type: "
                        + "application/octet-stream" + (ct.isEmpty() ? " (none was sent)" : " (got '" + Json.clip(ct) + "')"),
                        Map.of("expected", "application/octet-stream", "got", ct.isEmpty() ? "(none)" : Json.clip(ct)));
            }
            Object result = r.handler().apply(new Route.Request(event, params.get(), caller));
            return HttpApiResponse.json(r.successStatus(), Json.write(result));
        }
        throw noRoute(routes, event.method(), event.path());
    }

    /** 405 when the path is a route of the API with other methods, else 404; both list what exists. */
    static ApiError noRoute(List<Route> own, String method, String path) {
        List<String> all = new java.util.ArrayList<>(API_ROUTES);
        own.stream().map(Route::routeKey).filter(k -> !all.contains(k)).forEach(all::add);
        List<String> allowed = all.stream().filter(k -> {
            String[] mt = k.split(" ", 2);
            return mt.length == 2 && new Route(mt[0], mt[1], false, null, null, null, 0, null, null).match(mt[0], path).isPresent();
        }).map(k -> k.split(" ", 2)[0]).distinct().sorted().toList();
        String m = method == null || method.isEmpty() ? "(no method)" : method;
        if (!allowed.isEmpty()) {
            return new ApiError(405, "method_not_allowed", m + " is not allowed on " + path + ": use " + String.join(" or ", allowed),
                    Map.of("method", m, "path", path, "allowed", allowed));
        }
        return new ApiError(404, "no_route", "no route " + m + " " + path + ": the API's routes are " + all,
                Map.of("method", m, "path", path, "routes", all));
    }

    /** A body route takes JSON only: {@code application/json}, optionally with {@code charset=utf-8}. */
    static void requireJson(Route r, String contentType) {
        String ct = contentType == null ? "" : contentType.trim().toLowerCase(java.util.Locale.ROOT);
        String[] parts = ct.split(";");
        boolean json = parts[0].trim().equals("application/json");
        boolean charsetOk = true;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim();
            if (p.startsWith("charset=")) {
                charsetOk &= p.substring(8).replace("\"", "").equals("utf-8");
            } else if (!p.isEmpty()) {
                charsetOk = false;
            }
        }
        if (!json || !charsetOk) {
            throw new ApiError(415, "unsupported_media_type", r.routeKey() + " takes a JSON body: send the header Content-Type: application/json"
                    + (ct.isEmpty() ? " (none was sent)" : " (got '" + Json.clip(contentType) + "')"),
                    Map.of("expected", "application/json", "got", ct.isEmpty() ? "(none)" : Json.clip(contentType)));
        }
    }

    /** The token's roles the account still has now (account_roles): a removed role stops working at once. */
    Set<Role> currentRoles(Caller claimed) {
        List<String> rows = Db.session(s -> s.createNativeQuery("select role from account_roles where address = :a", String.class)
                .setParameter("a", claimed.address()).getResultList());
        Set<Role> now = EnumSet.noneOf(Role.class);
        rows.forEach(w -> Role.fromWire(w).filter(claimed::has).ifPresent(now::add));
        return now;
    }
}
