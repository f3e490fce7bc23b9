package io.fedmarket.functions.auth;

import io.fedmarket.functions.http.ApiError;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An EIP-4361 (Sign-In with Ethereum) message: the fields the marketplace issues and checks. */
public record SiweMessage(String domain, String address, String statement, String uri, long chainId, String nonce,
                          Instant issuedAt, Instant expirationTime) {

    private static final Pattern FORMAT = Pattern.compile(
            "^(?<domain>[^\\s]+) wants you to sign in with your Ethereum account:\\n"
                    + "(?<address>0x[0-9a-fA-F]{40})\\n\\n"
                    + "(?<statement>[^\\n]*)\\n\\n"
                    + "URI: (?<uri>[^\\n]+)\\n"
                    + "Version: 1\\n"
                    + "Chain ID: (?<chain>[0-9]{1,18})\\n"
                    + "Nonce: (?<nonce>[A-Za-z0-9]{8,64})\\n"
                    + "Issued At: (?<issued>[^\\n]+)\\n"
                    + "Expiration Time: (?<expires>[^\\n]+)$");

    public String format() {
        return domain + " wants you to sign in with your Ethereum account:\n"
                + address + "\n\n"
                + statement + "\n\n"
                + "URI: " + uri + "\n"
                + "Version: 1\n"
                + "Chain ID: " + chainId + "\n"
                + "Nonce: " + nonce + "\n"
                + "Issued At: " + issuedAt + "\n"
                + "Expiration Time: " + expirationTime;
    }

    /** Parses a message as issued by {@link #format()}, or a 400 saying it is not one. */
    public static SiweMessage parse(String text) {
        Matcher m = FORMAT.matcher(text == null ? "" : text);
        if (!m.matches()) {
            throw ApiError.badRequest("bad_siwe_message", "message is not an EIP-4361 sign-in message issued by POST /auth/challenge:"
                    + " sign the challenge message exactly as returned", Map.of("field", "message"));
        }
        try {
            return new SiweMessage(m.group("domain"), m.group("address"), m.group("statement"), m.group("uri"),
                    Long.parseLong(m.group("chain")), m.group("nonce"), Instant.parse(m.group("issued")), Instant.parse(m.group("expires")));
        } catch (DateTimeParseException e) {
            throw ApiError.badRequest("bad_siwe_message", "message has a timestamp that is not ISO-8601: " + e.getParsedString(),
                    Map.of("field", "message"));
        }
    }
}
