package io.fedmarket.functions.auth;

import io.fedmarket.functions.http.ApiRouter;
import io.fedmarket.functions.http.HttpApiEvent;
import io.fedmarket.functions.http.HttpApiResponse;
import io.fedmarket.functions.http.Json;
import io.fedmarket.functions.http.Route;
import io.quarkus.funqy.Funq;
import jakarta.inject.Inject;

import java.util.List;

/** Lambda {@code auth}: Sign-In with Ethereum challenge and token. */
public class AuthFunction {
    public record ChallengeRequest(String address) {
    }

    public record ChallengeResponse(String message, String nonce, String issuedAt, String expiresAt) {
    }

    public record TokenRequest(String message, String signature) {
    }

    public record TokenResponse(String token, String tokenType, long expiresIn, String address, List<String> roles) {
    }

    @Inject
    ApiRouter router;

    @Inject
    AuthService auth;

    public List<Route> routes() {
        return List.of(
                Route.of("POST", "/auth/challenge", null, ChallengeRequest.class, ChallengeResponse.class, 201,
                        "Issue a Sign-In with Ethereum (EIP-4361) message with a fresh single-use nonce",
                        r -> auth.challenge(Json.read(r.event().body(), ChallengeRequest.class), r.event().sourceIp())),
                Route.of("POST", "/auth/token", null, TokenRequest.class, TokenResponse.class, 200,
                        "Exchange the signed challenge for an RS256 JWT carrying the account's roles",
                        r -> auth.token(Json.read(r.event().body(), TokenRequest.class))));
    }

    @Funq("auth")
    public HttpApiResponse handle(HttpApiEvent event) {
        return router.dispatch("auth", routes(), event);
    }
}
