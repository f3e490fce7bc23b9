package io.fedmarket.functions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedmarket.model.Role;
import io.smallrye.jwt.build.Jwt;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import static io.restassured.RestAssured.given;

/** Calls a function through the Lambda mock event server with an API Gateway HTTP API v2 event, as API Gateway would. */
public final class Api {
    static final ObjectMapper JSON = new ObjectMapper();

    private Api() {
    }

    public record Response(int status, JsonNode body) {
        public String code() {
            return body.path("code").asText();
        }
    }

    public static String event(String method, String path, String body, String token) {
        return event(method, path, body, token, Map.of(), "127.0.0.1");
    }

    /** As above with {@code headers} over the defaults (a null value removes one, e.g. content-type) and the client's IP. */
    public static String event(String method, String path, String body, String token, Map<String, String> extraHeaders, String sourceIp) {
        ObjectNode e = JSON.createObjectNode();
        e.put("version", "2.0");
        e.put("routeKey", "$default");
        String raw = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        e.put("rawPath", raw);
        ObjectNode headers = e.putObject("headers");
        headers.put("content-type", "application/json");
        if (token != null) {
            headers.put("authorization", "Bearer " + token);
        }
        extraHeaders.forEach((k, v) -> {
            if (v == null) {
                headers.remove(k);
            } else {
                headers.put(k, v);
            }
        });
        if (path.contains("?")) {
            ObjectNode q = e.putObject("queryStringParameters");
            for (String kv : path.substring(path.indexOf('?') + 1).split("&")) {
                String[] p = kv.split("=", 2);
                q.put(p[0], p.length > 1 ? p[1] : "");
            }
        }
        ObjectNode http = e.putObject("requestContext").put("requestId", UUID.randomUUID().toString()).putObject("http");
        http.put("method", method).put("path", raw).put("sourceIp", sourceIp);
        if (body != null) {
            e.put("body", body);
        }
        e.put("isBase64Encoded", false);
        return e.toString();
    }

    public static Response call(String method, String path, String body, String token) {
        return call(method, path, body, token, Map.of(), "127.0.0.1");
    }

    public static Response call(String method, String path, String body, String token, Map<String, String> headers, String sourceIp) {
        String out = given().body(event(method, path, body, token, headers, sourceIp)).when().post().then().statusCode(200).extract().asString();
        try {
            JsonNode r = JSON.readTree(out);
            String b = r.path("body").asText();
            return new Response(r.path("statusCode").asInt(), b.isEmpty() ? JSON.createObjectNode() : JSON.readTree(b));
        } catch (Exception e) {
            throw new AssertionError("not an HTTP API response: " + out, e);
        }
    }

    /**
     * A token as the auth function mints it (same dev key), for tests of the other functions. The account and its roles are
     * stored too, as a sign-in leaves them: every request checks that the account still has the token's roles.
     */
    public static String token(String addressLower, Role... roles) {
        grant(addressLower, roles);
        return unrecordedToken(addressLower, roles);
    }

    /** A token whose roles the database does not back (the account was never opened, or lost them since). */
    public static String unrecordedToken(String addressLower, Role... roles) {
        return Jwt.issuer("https://fedmarket.local").subject(addressLower).upn(addressLower)
                .groups(Arrays.stream(roles).map(Role::wire).collect(Collectors.toSet())).expiresIn(600).sign();
    }

    /** Opens the account (when it is a well-formed address) and grants it {@code roles}. */
    public static void grant(String addressLower, Role... roles) {
        if (addressLower == null || !addressLower.matches("^0x[0-9a-f]{40}$")) {
            return;
        }
        try (java.sql.Connection c = TestStack.jdbc(); java.sql.Statement st = c.createStatement()) {
            st.execute("insert into accounts (address) values ('" + addressLower + "') on conflict do nothing");
            for (Role r : roles) {
                st.execute("insert into account_roles (address, role) values ('" + addressLower + "', '" + r.wire() + "') on conflict do nothing");
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot grant " + java.util.Arrays.toString(roles) + " to " + addressLower + ": " + e.getMessage(), e);
        }
    }

    /** Removes {@code role} from the account, as an operator does. */
    public static void revoke(String addressLower, Role role) {
        try (java.sql.Connection c = TestStack.jdbc(); java.sql.Statement st = c.createStatement()) {
            st.execute("delete from account_roles where address = '" + addressLower + "' and role = '" + role.wire() + "'");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static ECKeyPair newKey() {
        try {
            return Keys.createEcKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static String address(ECKeyPair k) {
        return Keys.toChecksumAddress("0x" + Keys.getAddress(k));
    }

    /** personal_sign as a wallet does it: 65 bytes r, s, v. */
    public static String personalSign(String message, ECKeyPair k) {
        Sign.SignatureData s = Sign.signPrefixedMessage(message.getBytes(StandardCharsets.UTF_8), k);
        byte[] out = new byte[65];
        System.arraycopy(s.getR(), 0, out, 0, 32);
        System.arraycopy(s.getS(), 0, out, 32, 32);
        out[64] = s.getV()[0];
        return Numeric.toHexString(out);
    }

    public static Map<String, Object> validIntent() {
        Map<String, Object> m = new HashMap<>();
        m.put("model", Map.of("architecture", "CNN", "inputShape", java.util.List.of(1, 28, 28), "numClasses", 10));
        m.put("dataDomain", "fashion-mnist");
        m.put("requiredLabels", java.util.List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));
        m.put("rounds", 40);
        m.put("localEpochs", 2);
        m.put("minParticipants", 3);
        m.put("maxParticipants", 10);
        m.put("budget", "500000000");
        m.put("maxPricePerGpuSecond", "1000");
        m.put("deadline", java.time.Instant.now().plusSeconds(86400 * 3).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        m.put("privacy", Map.of("mode", "NONE"));
        m.put("aggregation", "fedavg");
        return m;
    }

    public static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Set<String> set(String... s) {
        return Set.of(s);
    }
}
