package io.fedmarket.functions.http;

import io.fedmarket.model.Role;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * One HTTP API route of a function: method, path template ({name} segments), the role it needs
 * (null: public), request/response types for the OpenAPI document, and the handler.
 */
public record Route(String method, String template, boolean authenticated, Role role, Class<?> requestType, Class<?> responseType,
                    int successStatus, String summary, Function<Request, Object> handler) {

    /** What a handler receives: the event, path parameters and the authenticated caller (null on public routes). */
    public record Request(HttpApiEvent event, Map<String, String> pathParams, Caller caller) {
        public String path(String name) {
            return pathParams.get(name);
        }
    }

    /**
     * The request type of a route whose body is a file, not JSON ({@code Content-Type: application/octet-stream}; API Gateway
     * hands it over base64-encoded): the handler reads it with {@link HttpApiEvent#bodyBytes()}; its size limit is the handler's.
     */
    public static final class Binary {
        private Binary() {
        }
    }

    public boolean binary() {
        return requestType == Binary.class;
    }

    public String routeKey() {
        return method + " " + template;
    }

    /** Path parameters when the method and path match this route. */
    public Optional<Map<String, String>> match(String m, String path) {
        if (!method.equalsIgnoreCase(m)) {
            return Optional.empty();
        }
        String[] t = template.split("/");
        String[] p = path.split("/");
        if (t.length != p.length) {
            return Optional.empty();
        }
        Map<String, String> params = new HashMap<>();
        for (int i = 0; i < t.length; i++) {
            if (t[i].startsWith("{") && t[i].endsWith("}")) {
                if (p[i].isEmpty()) {
                    return Optional.empty();
                }
                params.put(t[i].substring(1, t[i].length() - 1), p[i]);
            } else if (!t[i].equals(p[i])) {
                return Optional.empty();
            }
        }
        return Optional.of(params);
    }

    /** role null: public route. */
    public static Route of(String method, String template, Role role, Class<?> req, Class<?> resp, int status,
                           String summary, Function<Request, Object> handler) {
        return new Route(method, template, role != null, role, req, resp, status, summary, handler);
    }

    /** Any signed-in caller; the handler decides what it may see. */
    public static Route signedIn(String method, String template, Class<?> resp, String summary, Function<Request, Object> handler) {
        return new Route(method, template, true, null, null, resp, 200, summary, handler);
    }
}
