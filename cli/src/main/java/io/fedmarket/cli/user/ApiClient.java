package io.fedmarket.cli.user;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedmarket.config.ProjectPaths;
import io.fedmarket.config.StackEndpoints;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;

/**
 * The marketplace's HTTP API as a user's command sees it: where the API is, who the user is (their
 * key), and the session token that {@code mkt login} obtained by Sign-In with Ethereum.
 */
public final class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A failure the user can act on: printed as one line, exit status 1. */
    public static final class UserError extends RuntimeException {
        public UserError(String message) {
            super(message);
        }
    }

    public record Session(String api, String address, String token, JsonNode roles) {
    }

    private final String api;
    private final Path sessionFile;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public ApiClient(String api, Path sessionFile) {
        this.api = api.endsWith("/") ? api.substring(0, api.length() - 1) : api;
        this.sessionFile = sessionFile;
    }

    /** --api, else env MKT_API, else the local stack's gateway from endpoints.json. */
    static ApiClient of(String apiOption, Path sessionOption) {
        String api = apiOption != null ? apiOption : System.getenv("MKT_API");
        if (api == null) {
            StackEndpoints ep;
            try {
                ep = StackEndpoints.locate();
            } catch (RuntimeException e) {
                throw new UserError("no API given: pass --api URL (or set MKT_API), or start the local stack with ./mkt up");
            }
            if (ep.functions() == null || ep.functions().gatewayUrl() == null) {
                throw new UserError("the local stack runs without functions: restart it with ./mkt up (not --no-functions) or pass --api URL");
            }
            api = ep.functions().gatewayUrl();
        }
        return new ApiClient(api, sessionOption != null ? sessionOption : defaultSessionFile());
    }

    static Path defaultSessionFile() {
        String env = System.getenv("MKT_SESSION");
        if (env != null) {
            return Path.of(env);
        }
        return ProjectPaths.root().map(r -> ProjectPaths.home().resolve("session.json"))
                .orElse(Path.of(System.getProperty("user.home"), ".fedmarket", "session.json"));
    }

    String api() {
        return api;
    }

    /** --key-file FILE (a hex private key, one line), else env FEDMARKET_KEY. */
    static Credentials credentials(Path keyFile) {
        String hex;
        if (keyFile != null) {
            try {
                hex = Files.readString(keyFile).trim();
            } catch (IOException e) {
                throw new UserError("cannot read key file " + keyFile + ": " + e.getMessage());
            }
        } else {
            hex = System.getenv("FEDMARKET_KEY");
            if (hex == null || hex.isBlank()) {
                throw new UserError("no key: pass --key-file FILE (a file holding a hex private key) or set FEDMARKET_KEY");
            }
            hex = hex.trim();
        }
        String digits = hex.startsWith("0x") ? hex.substring(2) : hex;
        if (!digits.matches("[0-9a-fA-F]{64}")) {
            throw new UserError("the key" + (keyFile != null ? " in " + keyFile : " in FEDMARKET_KEY")
                    + " is not a private key: expected 64 hex digits (optionally 0x-prefixed)");
        }
        return Credentials.create(digits);
    }

    /** SIWE: challenge, personal_sign of the exact message, token; the session is written with mode 600. */
    public Session login(Credentials key) {
        JsonNode ch = call("POST", "/auth/challenge", JSON.createObjectNode().put("address", org.web3j.crypto.Keys.toChecksumAddress(key.getAddress())).toString(), null);
        String message = ch.path("message").asText();
        Sign.SignatureData s = Sign.signPrefixedMessage(message.getBytes(StandardCharsets.UTF_8), key.getEcKeyPair());
        byte[] sig = new byte[65];
        System.arraycopy(s.getR(), 0, sig, 0, 32);
        System.arraycopy(s.getS(), 0, sig, 32, 32);
        sig[64] = s.getV()[0];
        JsonNode tok = call("POST", "/auth/token", JSON.createObjectNode().put("message", message)
                .put("signature", Numeric.toHexString(sig)).toString(), null);
        Session session = new Session(api, tok.path("address").asText(), tok.path("token").asText(), tok.path("roles"));
        try {
            Files.createDirectories(sessionFile.toAbsolutePath().getParent());
            Path tmp = sessionFile.resolveSibling(sessionFile.getFileName() + ".tmp");
            Files.writeString(tmp, JSON.writeValueAsString(session));
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
            Files.move(tmp, sessionFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UserError("signed in, but cannot write the session to " + sessionFile + ": " + e.getMessage());
        }
        return session;
    }

    String token() {
        if (!Files.isRegularFile(sessionFile)) {
            throw new UserError("not signed in: run mkt login --key-file FILE first (no session at " + sessionFile + ")");
        }
        try {
            Session s = JSON.readValue(Files.readString(sessionFile), Session.class);
            if (!s.api().equals(api)) {
                throw new UserError("the session in " + sessionFile + " is for " + s.api() + ", not " + api + ": run mkt login again");
            }
            return s.token();
        } catch (IOException e) {
            throw new UserError("unreadable session " + sessionFile + " (" + e.getMessage() + "): run mkt login again");
        }
    }

    public JsonNode get(String path) {
        return call("GET", path, null, token());
    }

    public JsonNode post(String path, String body) {
        return call("POST", path, body, token());
    }

    /** POSTs a file as it is ({@code application/octet-stream}), e.g. a TorchScript model to {@code /models}. */
    public JsonNode postFile(String path, byte[] bytes) {
        return call("POST", path, HttpRequest.BodyPublishers.ofByteArray(bytes), "application/octet-stream", token());
    }

    /** One request; a non-2xx answer becomes a UserError carrying the API's {code, error, details}. */
    JsonNode call(String method, String path, String body, String token) {
        return call(method, path, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body), "application/json",
                token);
    }

    JsonNode call(String method, String path, HttpRequest.BodyPublisher publisher, String contentType, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(120))
                .header("content-type", contentType);
        if (token != null) {
            b.header("authorization", "Bearer " + token);
        }
        b.method(method, publisher);
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new UserError("cannot reach the API at " + api + ": is it running? (./mkt up for the local stack)");
        } catch (IOException e) {
            throw new UserError("request to " + api + path + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted");
        }
        JsonNode json;
        try {
            json = r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UserError(method + " " + path + " answered " + r.statusCode() + " with a body that is not JSON: "
                    + r.body().substring(0, Math.min(200, r.body().length())));
        }
        if (r.statusCode() / 100 != 2) {
            String details = json.path("details").isMissingNode() || json.path("details").isNull() ? "" : " " + json.path("details");
            String hint = r.statusCode() == 401 ? " (run mkt login again)" : "";
            throw new UserError(method + " " + path + ": " + r.statusCode() + " " + json.path("code").asText("error") + ": "
                    + json.path("error").asText(r.body()) + details + hint);
        }
        return json;
    }

    /** Reads a JSON request body from a file, or stdin for "-"; checks it is a JSON object. */
    static String body(Path file) {
        String text;
        try {
            text = file.toString().equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8) : Files.readString(file);
        } catch (IOException e) {
            throw new UserError("cannot read " + file + ": " + e.getMessage());
        }
        try {
            JsonNode n = JSON.readTree(text);
            if (!(n instanceof ObjectNode)) {
                throw new UserError(file + " must hold one JSON object");
            }
            return n.toString();
        } catch (IOException e) {
            throw new UserError(file + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    static String print(JsonNode n) {
        try {
            return JSON.writeValueAsString(n);
        } catch (IOException e) {
            return n.toString();
        }
    }

    static Map<String, String> env() {
        return System.getenv();
    }
}
