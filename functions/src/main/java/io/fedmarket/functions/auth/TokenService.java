package io.fedmarket.functions.auth;

import io.fedmarket.functions.http.ApiError;
import io.fedmarket.functions.http.Caller;
import io.fedmarket.model.Role;
import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.ParseException;
import io.smallrye.jwt.build.Jwt;
import io.smallrye.jwt.util.KeyUtils;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.jwt.JsonWebToken;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.EnumSet;
import java.util.Set;

/**
 * RS256 tokens: minted by the auth function (subject = lower-case address, groups = roles from the
 * database) and verified by every API function with the public key only. Verification pins RS256,
 * so alg=none and HS256-with-the-public-key forgeries are refused.
 */
@ApplicationScoped
public class TokenService {
    @ConfigProperty(name = "fedmarket.jwt.issuer")
    String issuer;

    @ConfigProperty(name = "fedmarket.jwt.public-key-location")
    String publicKeyLocation;

    @ConfigProperty(name = "fedmarket.jwt.lifetime-seconds", defaultValue = "3600")
    long lifetimeSeconds;

    private DefaultJWTParser parser;

    @PostConstruct
    void init() {
        try {
            PublicKey key = KeyUtils.decodePublicKey(readKey(publicKeyLocation), SignatureAlgorithm.RS256);
            JWTAuthContextInfo info = new JWTAuthContextInfo(key, issuer);
            info.setSignatureAlgorithm(Set.of(SignatureAlgorithm.RS256));
            info.setMaxTimeToLiveSecs(lifetimeSeconds + 60);
            parser = new DefaultJWTParser(info);
        } catch (Exception e) {
            throw new IllegalStateException("cannot load the JWT public key from " + publicKeyLocation
                    + " (set fedmarket.jwt.public-key-location / FEDMARKET_JWT_PUBLIC_KEY_LOCATION): " + e.getMessage(), e);
        }
    }

    static String readKey(String location) throws IOException {
        String loc = location.startsWith("classpath:") ? location.substring("classpath:".length()) : location;
        try (InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream(loc)) {
            if (in != null) {
                return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            }
        }
        return Files.readString(Path.of(loc.replaceFirst("^file:", "")));
    }

    public String mint(String address, Set<Role> roles) {
        return Jwt.issuer(issuer).subject(address).upn(address)
                .groups(roles.stream().map(Role::wire).collect(java.util.stream.Collectors.toSet()))
                .expiresIn(lifetimeSeconds).sign();
    }

    public long lifetimeSeconds() {
        return lifetimeSeconds;
    }

    /** The caller of an {@code Authorization: Bearer ...} header, or a 401 saying why not. */
    public Caller authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw ApiError.unauthorized("this route needs a token: sign in (POST /auth/challenge, then POST /auth/token) and send Authorization: Bearer <token>");
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiError.unauthorized("the Authorization header must be 'Bearer <token>'");
        }
        JsonWebToken jwt;
        try {
            jwt = parser.parse(authorization.substring(7).trim());
        } catch (ParseException e) {
            throw ApiError.unauthorized("the token is invalid, expired or not signed by this marketplace: sign in again");
        }
        String sub = jwt.getSubject();
        if (sub == null || !sub.matches("^0x[0-9a-f]{40}$")) {
            throw ApiError.unauthorized("the token has no address subject: sign in again");
        }
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (String g : jwt.getGroups()) {
            Role.fromWire(g).ifPresent(roles::add);
        }
        return new Caller(sub, roles);
    }
}
