package io.fedmarket.functions.http;

import io.fedmarket.functions.auth.TokenService;
import io.fedmarket.model.Role;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Dispatches an API Gateway v2 event to the route it names: size limit, bearer token and role
 * checks, and one mapping of every failure to {@code {code, error, details}} with its status, so an
 * API client never sees the Lambda error envelope.
 */
@ApplicationScoped
public class ApiRouter {
    private static final Logger LOG = Logger.getLogger(ApiRouter.class);

    @Inject
    TokenService tokens;

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
        if (body != null && event.isBase64Encoded()) {
            body = new String(java.util.Base64.getDecoder().decode(body), StandardCharsets.UTF_8);
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
                caller = tokens.authenticate(event.header("authorization"));
                if (r.role() != null && !caller.has(r.role())) {
                    throw ApiError.forbidden(r.routeKey() + " needs the '" + r.role().wire() + "' role; your token has "
                            + caller.roles().stream().map(Role::wire).sorted().toList() + ". Ask an operator to grant it, then sign in again");
                }
                MDC.put("caller", caller.address());
            }
            HttpApiEvent withBody = new HttpApiEvent(event.version(), event.routeKey(), event.rawPath(), event.rawQueryString(),
                    event.headers(), event.queryStringParameters(), params.get(), body, false, event.requestContext());
            Object result = r.handler().apply(new Route.Request(withBody, params.get(), caller));
            return HttpApiResponse.json(r.successStatus(), Json.write(result));
        }
        throw new ApiError(404, "no_route", "no route " + event.method() + " " + event.path() + " here; routes: "
                + routes.stream().map(Route::routeKey).toList(), Map.of());
    }
}
