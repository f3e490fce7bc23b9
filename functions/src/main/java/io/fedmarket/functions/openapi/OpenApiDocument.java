package io.fedmarket.functions.openapi;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedmarket.functions.auth.AuthFunction;
import io.fedmarket.functions.http.Route;
import io.fedmarket.functions.intents.IntentsFunction;
import io.fedmarket.functions.jobs.ClaimsFunction;
import io.fedmarket.functions.jobs.JobsFunction;
import io.fedmarket.functions.providers.ProvidersFunction;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the routes the API functions actually
 * dispatch (method, path, role, request and response records), so it cannot drift from the code.
 * {@code main} writes functions/openapi.json; a test checks the checked-in copy is current and
 * matches functions.json.
 */
public final class OpenApiDocument {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private OpenApiDocument() {
    }

    /** Function name → its routes, in functions.json order. */
    public static Map<String, List<Route>> routes() {
        Map<String, List<Route>> m = new LinkedHashMap<>();
        m.put("auth", new AuthFunction().routes());
        m.put("intents", new IntentsFunction().routes());
        m.put("providers", new ProvidersFunction().routes());
        m.put("jobs", new JobsFunction().routes());
        m.put("claims", new ClaimsFunction().routes());
        return m;
    }

    public static String generate() {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("openapi", "3.1.0");
        ObjectNode info = doc.putObject("info");
        info.put("title", "fedmarket API");
        info.put("version", "0.1.0");
        info.put("description", "Proof-of-useful-work marketplace for federated learning. Money fields are decimal strings of token base units; "
                + "times are ISO-8601 UTC strings ending in Z (2030-01-31T12:00:00Z; no offsets, no epoch numbers). Errors are {code, error, details} "
                + "with a 4xx status; error says what to fix. A request body must be sent with Content-Type: application/json (charset utf-8 "
                + "if any; else 415) and be exactly one JSON object: no duplicate keys, nothing after it, no NaN or Infinity, no unknown fields "
                + "(also inside nested objects), no NUL or other control characters in strings (400). A method a path does not take answers 405 "
                + "with the allowed methods, an unknown path 404 with the routes. Roles are checked against the account on every request: a role "
                + "an operator removes stops working at once, whatever the token says. POST /auth/challenge issues at most 5 challenges per "
                + "address and 60 per client IP a minute per auth instance (429); expired challenges are deleted 10 minutes after their expiry.");
        ObjectNode schemas = JSON.createObjectNode();
        ObjectNode paths = doc.putObject("paths");
        Map<String, ObjectNode> byPath = new TreeMap<>();
        routes().forEach((fn, list) -> {
            for (Route r : list) {
                ObjectNode item = byPath.computeIfAbsent(r.template(), k -> JSON.createObjectNode());
                ObjectNode op = item.putObject(r.method().toLowerCase());
                op.put("operationId", fn + "_" + r.method().toLowerCase() + r.template().replaceAll("[^A-Za-z]+", "_"));
                op.put("summary", r.summary());
                op.putArray("tags").add(fn);
                op.put("x-fedmarket-function", fn);
                if (r.authenticated()) {
                    op.putArray("security").addObject().putArray("bearer");
                    op.put("x-fedmarket-role", r.role() == null ? "any signed-in account" : r.role().wire());
                    op.put("x-fedmarket-role-check", "the token's roles that the account still has in account_roles, read on every request");
                }
                ArrayNode params = JSON.createArrayNode();
                for (String seg : r.template().split("/")) {
                    if (seg.startsWith("{")) {
                        ObjectNode p = params.addObject();
                        p.put("name", seg.substring(1, seg.length() - 1));
                        p.put("in", "path");
                        p.put("required", true);
                        if (seg.equals("{sha256}")) {
                            p.putObject("schema").put("type", "string").put("pattern", "^[0-9a-f]{64}$");
                        } else {
                            p.putObject("schema").put("type", "string").put("format", "uuid");
                        }
                    }
                }
                if (r.template().equals("/intents") && r.method().equals("GET")) {
                    params.addObject().put("name", "status").put("in", "query").put("required", false).putObject("schema").put("type", "string");
                    params.addObject().put("name", "limit").put("in", "query").put("required", false).putObject("schema").put("type", "integer")
                            .put("minimum", 1).put("maximum", 200);
                }
                if (!params.isEmpty()) {
                    op.set("parameters", params);
                }
                if (r.binary()) {
                    ObjectNode body = op.putObject("requestBody");
                    body.put("required", true);
                    body.putObject("content").putObject("application/octet-stream").putObject("schema").put("type", "string")
                            .put("format", "binary").put("maxLength", io.fedmarket.fl.model.TorchScriptArchive.MAX_BYTES);
                } else if (r.requestType() != null) {
                    ObjectNode body = op.putObject("requestBody");
                    body.put("required", true);
                    body.putObject("content").putObject("application/json").putObject("schema").put("$ref", ref(r.requestType(), schemas));
                }
                ObjectNode responses = op.putObject("responses");
                responses.putObject(Integer.toString(r.successStatus())).put("description", "success").putObject("content")
                        .putObject("application/json").putObject("schema").put("$ref", ref(r.responseType(), schemas));
                List<Integer> errors = new ArrayList<>(List.of(400, 413));
                if (r.authenticated()) {
                    errors.addAll(List.of(401, 403));
                }
                if (r.template().contains("{")) {
                    errors.add(404);
                }
                if (r.requestType() != null) {
                    errors.add(415);
                    errors.add(422);
                }
                if (r.template().equals("/auth/challenge")) {
                    errors.add(429);
                }
                if (r.template().equals("/intents") && r.method().equals("POST")) {
                    errors.add(503);
                }
                if (r.template().endsWith("/cancel")) {
                    errors.add(409);
                }
                for (int e : errors) {
                    responses.putObject(Integer.toString(e)).put("description", r.binary() ? describeFile(e) : describe(e)).putObject("content")
                            .putObject("application/json").putObject("schema").put("$ref", "#/components/schemas/Error");
                }
            }
        });
        byPath.forEach(paths::set);
        ObjectNode err = schemas.putObject("Error");
        err.put("type", "object");
        err.putArray("required").add("code").add("error").add("details");
        ObjectNode ep = err.putObject("properties");
        ep.putObject("code").put("type", "string").put("description", "stable machine-readable code, e.g. missing_field, unknown_field, wrong_type, invalid_intent");
        ep.putObject("error").put("type", "string").put("description", "what was wrong and what to do");
        ep.putObject("details").put("type", "object");
        ObjectNode components = doc.putObject("components");
        components.set("schemas", schemas);
        components.putObject("securitySchemes").putObject("bearer").put("type", "http").put("scheme", "bearer").put("bearerFormat", "JWT (RS256, from POST /auth/token)");
        try {
            return JSON.writeValueAsString(JSON.readTree(doc.toString())) + "\n";
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The errors of a route that takes a file ({@code POST /models}). */
    private static String describeFile(int status) {
        return switch (status) {
            case 400 -> "a body the gateway encoded wrongly";
            case 413 -> "model file larger than 4 MiB";
            case 415 -> "Content-Type is not application/octet-stream";
            case 422 -> "not a TorchScript archive, no parameters, a non-deterministic op (dropout, random sampling), tensors that are not "
                    + "float32";
            default -> describe(status);
        };
    }

    private static String describe(int status) {
        return switch (status) {
            case 400 -> "malformed JSON, a body that is not one object, duplicate keys, trailing content, NaN/Infinity, control characters, "
                    + "missing/unknown fields, wrong types, unknown enum values, timestamps not in ISO-8601 UTC with Z";
            case 401 -> "no, expired, forged or alg-none token";
            case 403 -> "the account does not (or no longer) have the route's role";
            case 415 -> "Content-Type is not application/json";
            case 429 -> "too many sign-in challenges for this address or client in the last minute: wait, or sign one already issued";
            case 503 -> "a dependency (the artifact bucket) cannot be asked now: retry";
            case 404 -> "does not exist or is not the caller's";
            case 409 -> "the state does not allow it";
            case 413 -> "body larger than 256 KiB";
            case 422 -> "valid JSON that breaks a rule (ranges, checksums, deadlines, label sums, terms no job could run under)";
            default -> "error";
        };
    }

    private static String ref(Class<?> type, ObjectNode schemas) {
        String name = type.getSimpleName();
        if (!schemas.has(name)) {
            ObjectNode s = schemas.putObject(name);
            s.put("type", "object");
            ObjectNode props = s.putObject("properties");
            for (RecordComponent c : type.getRecordComponents()) {
                props.set(c.getName(), schema(c.getType(), c.getGenericType(), schemas));
            }
            s.put("additionalProperties", false);
        }
        return "#/components/schemas/" + name;
    }

    private static ObjectNode schema(Class<?> t, Type generic, ObjectNode schemas) {
        ObjectNode s = JSON.createObjectNode();
        if (t == String.class) {
            s.put("type", "string");
        } else if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            s.put("type", "integer");
        } else if (t == double.class || t == Double.class) {
            s.put("type", "number");
        } else if (t == boolean.class || t == Boolean.class) {
            s.put("type", "boolean");
        } else if (t == BigInteger.class) {
            s.put("type", "string").put("pattern", "^[0-9]{1,78}$");
        } else if (t == Instant.class) {
            s.put("type", "string").put("format", "date-time").put("pattern", "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$")
                    .put("description", "ISO-8601 in UTC with Z, e.g. 2030-01-31T12:00:00Z");
        } else if (t.isEnum()) {
            s.put("type", "string");
            ArrayNode e = s.putArray("enum");
            for (Object o : t.getEnumConstants()) {
                e.add(o.toString());
            }
        } else if (Collection.class.isAssignableFrom(t)) {
            s.put("type", "array");
            Type arg = ((ParameterizedType) generic).getActualTypeArguments()[0];
            s.set("items", schema((Class<?>) arg, arg, schemas));
        } else if (Map.class.isAssignableFrom(t)) {
            s.put("type", "object");
            Type arg = ((ParameterizedType) generic).getActualTypeArguments()[1];
            s.set("additionalProperties", schema((Class<?>) arg, arg, schemas));
        } else if (t.isRecord()) {
            s.put("$ref", ref(t, schemas));
        } else {
            s.put("type", "object");
        }
        return s;
    }

    /** Writes the document: {@code OpenApiDocument [path]} (default functions/openapi.json). */
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "functions/openapi.json");
        Files.writeString(out, generate());
        System.out.println("wrote " + out.toAbsolutePath());
    }
}
