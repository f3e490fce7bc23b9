package io.fedmarket.functions;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.ECKeyPair;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

@QuarkusTest
@TestProfile(Profiles.Auth.class)
@WithTestResource(TestStack.class)
class AuthFunctionTest {

    private Api.Response challenge(String address) {
        return Api.call("POST", "/auth/challenge", Api.json(Map.of("address", address)), null);
    }

    @Test
    void siweSignInMintsTokenWithRolesAndRefusesReplay() throws Exception {
        ECKeyPair key = Api.newKey();
        String address = Api.address(key);
        Api.Response ch = challenge(address);
        assertThat(ch.status()).isEqualTo(201);
        String message = ch.body().get("message").asText();
        assertThat(message).startsWith("fedmarket.local wants you to sign in with your Ethereum account:\n" + address)
                .contains("Nonce: " + ch.body().get("nonce").asText()).contains("Chain ID: 31337");

        String sig = Api.personalSign(message, key);
        Api.Response tok = Api.call("POST", "/auth/token", Api.json(Map.of("message", message, "signature", sig)), null);
        assertThat(tok.status()).isEqualTo(200);
        assertThat(tok.body().get("address").asText()).isEqualTo(address);
        assertThat(tok.body().get("roles").toString()).isEqualTo("[\"builder\",\"provider\"]");
        String[] parts = tok.body().get("token").asText().split("\\.");
        String header = new String(java.util.Base64.getUrlDecoder().decode(parts[0]));
        String claims = new String(java.util.Base64.getUrlDecoder().decode(parts[1]));
        assertThat(header).contains("\"alg\":\"RS256\"");
        assertThat(claims).contains("\"sub\":\"" + address.toLowerCase() + "\"").contains("builder").contains("provider");

        Api.Response replay = Api.call("POST", "/auth/token", Api.json(Map.of("message", message, "signature", sig)), null);
        assertThat(replay.status()).isEqualTo(401);
        assertThat(replay.body().get("error").asText()).contains("already used");
    }

    @Test
    void rolesComeFromTheDatabase() throws Exception {
        ECKeyPair key = Api.newKey();
        String address = Api.address(key);
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement()) {
            st.execute("insert into accounts (address) values ('" + address.toLowerCase() + "')");
            st.execute("insert into account_roles (address, role) values ('" + address.toLowerCase() + "', 'verifier')");
        }
        String message = challenge(address).body().get("message").asText();
        Api.Response tok = Api.call("POST", "/auth/token", Api.json(Map.of("message", message, "signature", Api.personalSign(message, key))), null);
        assertThat(tok.status()).isEqualTo(200);
        assertThat(tok.body().get("roles").toString()).isEqualTo("[\"verifier\"]");
    }

    @Test
    void signatureByAnotherKeyIsRefused() {
        ECKeyPair key = Api.newKey();
        String message = challenge(Api.address(key)).body().get("message").asText();
        Api.Response r = Api.call("POST", "/auth/token", Api.json(Map.of("message", message, "signature", Api.personalSign(message, Api.newKey()))), null);
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.body().get("error").asText()).contains("not made by");
    }

    @Test
    void alteredMessageIsRefused() {
        ECKeyPair key = Api.newKey();
        String message = challenge(Api.address(key)).body().get("message").asText();
        String altered = message.replaceFirst("Expiration Time: .*", "Expiration Time: 2099-01-01T00:00:00Z");
        Api.Response r = Api.call("POST", "/auth/token", Api.json(Map.of("message", altered, "signature", Api.personalSign(altered, key))), null);
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.body().get("error").asText()).contains("differs");
    }

    @Test
    void expiredChallengeIsRefused() throws Exception {
        ECKeyPair key = Api.newKey();
        Api.Response ch = challenge(Api.address(key));
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement()) {
            st.execute("update siwe_nonces set expires_at = now() - interval '1 second' where nonce = '" + ch.body().get("nonce").asText() + "'");
        }
        String message = ch.body().get("message").asText();
        Api.Response r = Api.call("POST", "/auth/token", Api.json(Map.of("message", message, "signature", Api.personalSign(message, key))), null);
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.body().get("error").asText()).contains("expired");
    }

    @Test
    void badInputGets4xxAndStoresNothing() throws Exception {
        long before = count();
        String lower = Api.address(Api.newKey()).toLowerCase();
        String badChecksum = "0x" + flipCase(Api.address(Api.newKey()).substring(2));
        assertThat(challenge(badChecksum).status()).isEqualTo(422);
        assertThat(challenge(badChecksum).code()).isEqualTo("bad_address");
        assertThat(challenge("0x1234").code()).isEqualTo("bad_address");
        assertThat(Api.call("POST", "/auth/challenge", "{\"address\":", null).code()).isEqualTo("malformed_json");
        assertThat(Api.call("POST", "/auth/challenge", "{\"address\":\"" + lower + "\",\"admin\":true}", null).code()).isEqualTo("unknown_field");
        assertThat(Api.call("POST", "/auth/challenge", "{\"address\":42}", null).code()).isEqualTo("wrong_type");
        assertThat(Api.call("POST", "/auth/challenge", "x".repeat(300 * 1024), null).status()).isEqualTo(413);
        assertThat(Api.call("POST", "/auth/token", "{\"message\":\"hello\",\"signature\":\"0x00\"}", null).code()).isEqualTo("bad_siwe_message");
        Api.Response r = Api.call("POST", "/auth/challenge", "[]", null);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body().has("error")).isTrue();
        assertThat(r.body().has("details")).isTrue();
        assertThat(count()).isEqualTo(before);
    }

    @Test
    void aNullBodyIsA400NotAServerError() {
        for (String path : new String[] {"/auth/challenge", "/auth/token"}) {
            Api.Response r = Api.call("POST", path, "null", null);
            assertThat(r.status()).as(path).isEqualTo(400);
            assertThat(r.code()).isEqualTo("body_not_object");
            assertThat(r.body().get("error").asText()).contains("JSON object");
        }
    }

    @Test
    void expiredChallengesArePrunedWhenNewOnesAreIssued() throws Exception {
        String stale = "stale" + System.nanoTime();
        String recent = "recent" + System.nanoTime();
        String a = Api.address(Api.newKey()).toLowerCase();
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement()) {
            // expired 11 minutes ago (past the 10-minute grace in which a late sign-in is still told "expired"), and 1 minute ago
            st.execute("insert into siwe_nonces (nonce, address, message, issued_at, expires_at) values ('" + stale + "', '" + a
                    + "', 'm', now() - interval '16 minutes', now() - interval '11 minutes'), ('" + recent + "', '" + a
                    + "', 'm', now() - interval '6 minutes', now() - interval '1 minute')");
        }
        assertThat(challenge(Api.address(Api.newKey())).status()).isEqualTo(201);
        assertThat(Seed.one("select count(*) from siwe_nonces where nonce = '" + stale + "'")).as("pruned").isEqualTo("0");
        assertThat(Seed.one("select count(*) from siwe_nonces where nonce = '" + recent + "'")).as("still within its grace").isEqualTo("1");
        assertThat(Seed.one("select count(*) from siwe_nonces where expires_at < now() - interval '10 minutes'")).isEqualTo("0");
    }

    @Test
    void challengeIssuanceIsThrottledPerAddressAndPerIp() throws Exception {
        String address = Api.address(Api.newKey());
        for (int i = 0; i < 5; i++) {
            assertThat(challenge(address).status()).isEqualTo(201);
        }
        long before = count();
        Api.Response r = challenge(address);
        assertThat(r.status()).isEqualTo(429);
        assertThat(r.code()).isEqualTo("too_many_challenges");
        assertThat(r.body().get("error").asText()).contains("limit 5").contains("wait a minute");
        assertThat(r.body().get("details").get("per").asText()).isEqualTo("address");
        assertThat(count()).as("a refused challenge stores nothing").isEqualTo(before);

        String ip = "198.51.100." + (1 + new java.util.Random().nextInt(250));
        String body;
        for (int i = 0; i < 60; i++) {
            body = Api.json(Map.of("address", Api.address(Api.newKey())));
            assertThat(Api.call("POST", "/auth/challenge", body, null, Map.of(), ip).status()).as("challenge %d from %s", i, ip).isEqualTo(201);
        }
        body = Api.json(Map.of("address", Api.address(Api.newKey())));
        Api.Response byIp = Api.call("POST", "/auth/challenge", body, null, Map.of(), ip);
        assertThat(byIp.status()).isEqualTo(429);
        assertThat(byIp.body().get("details").get("per").asText()).isEqualTo("ip");
        // another client is not held back
        assertThat(Api.call("POST", "/auth/challenge", body, null, Map.of(), "192.0.2.1").status()).isEqualTo(201);
    }

    private static String flipCase(String hex) {
        StringBuilder b = new StringBuilder();
        boolean flipped = false;
        for (char c : hex.toCharArray()) {
            if (!flipped && Character.isLetter(c)) {
                b.append(Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c));
                flipped = true;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static long count() throws Exception {
        try (Connection c = TestStack.jdbc(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select count(*) from siwe_nonces")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
