package io.fedmarket.functions.auth;

import io.fedmarket.functions.http.ApiError;
import io.fedmarket.functions.http.Db;
import io.fedmarket.model.Addresses;
import io.fedmarket.model.Role;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.SignatureException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sign-In with Ethereum. A challenge stores its exact message under a single-use nonce; a token is
 * minted only for that message, signed (personal_sign) by its address, before its expiry, on this
 * domain, once. Roles come from account_roles; a first sign-in opens the account with the
 * self-service roles builder and provider (verifier and operator are granted by an operator).
 */
@ApplicationScoped
public class AuthService {
    private static final Logger LOG = Logger.getLogger(AuthService.class);
    private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    @ConfigProperty(name = "fedmarket.siwe.domain")
    String domain;

    @ConfigProperty(name = "fedmarket.chain-id")
    long chainId;

    @ConfigProperty(name = "fedmarket.siwe.challenge-seconds", defaultValue = "300")
    long challengeSeconds;

    @Inject
    TokenService tokens;

    /** Challenges one address may be issued per {@link #THROTTLE_WINDOW} (counted in siwe_nonces: across all instances). */
    @ConfigProperty(name = "fedmarket.siwe.challenges-per-address", defaultValue = "5")
    int perAddress;

    /**
     * Challenges one client IP may be issued per {@link #THROTTLE_WINDOW} by this instance (a NAT'd office signs in many
     * wallets). Counted in memory: exact on the local stack (one instance per function); on AWS each instance counts its own
     * and the API stage's throttling of the auth routes caps the total.
     */
    @ConfigProperty(name = "fedmarket.siwe.challenges-per-ip", defaultValue = "60")
    int perIp;

    /** An expired challenge is deleted this long after its expiry (until then a late sign-in is told it expired). */
    static final java.time.Duration PRUNE_AFTER = java.time.Duration.ofMinutes(10);
    static final java.time.Duration THROTTLE_WINDOW = java.time.Duration.ofSeconds(60);

    /** Issue times (ms) of the challenges of the last window, per client IP. */
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.ArrayDeque<Long>> issuedByIp = new java.util.concurrent.ConcurrentHashMap<>();

    /** How many challenges {@code ip} was issued within the window ending at {@code nowMs} (old entries dropped). */
    private int recentForIp(String ip, long nowMs) {
        java.util.ArrayDeque<Long> q = issuedByIp.get(ip);
        if (q == null) {
            return 0;
        }
        synchronized (q) {
            while (!q.isEmpty() && q.peekFirst() <= nowMs - THROTTLE_WINDOW.toMillis()) {
                q.pollFirst();
            }
            return q.size();
        }
    }

    private void recordIp(String ip, long nowMs) {
        if (issuedByIp.size() > 10_000) {
            issuedByIp.entrySet().removeIf(e -> {
                synchronized (e.getValue()) {
                    return e.getValue().isEmpty() || e.getValue().peekLast() <= nowMs - THROTTLE_WINDOW.toMillis();
                }
            });
        }
        java.util.ArrayDeque<Long> q = issuedByIp.computeIfAbsent(ip, k -> new java.util.ArrayDeque<>());
        synchronized (q) {
            q.addLast(nowMs);
        }
    }

    public AuthFunction.ChallengeResponse challenge(AuthFunction.ChallengeRequest req) {
        return challenge(req, null);
    }

    /**
     * A fresh challenge for {@code req.address()}, requested from {@code sourceIp} (null: unknown). In the same transaction
     * challenges that expired more than {@link #PRUNE_AFTER} ago are deleted; a 429 is answered (nothing stored) when the
     * address or the IP was issued its limit of challenges within the last minute.
     */
    public AuthFunction.ChallengeResponse challenge(AuthFunction.ChallengeRequest req, String sourceIp) {
        String problem = Addresses.problem(req.address());
        if (problem != null) {
            throw ApiError.unprocessable("bad_address", "address " + problem, Map.of("field", "address"));
        }
        String ip = sourceIp == null || sourceIp.isBlank() ? null : sourceIp.trim();
        long nowMs = System.currentTimeMillis();
        if (ip != null) {
            int byIp = recentForIp(ip, nowMs);
            if (byIp >= perIp) {
                throw tooMany("this client (" + ip + ") was issued " + byIp + " sign-in challenges", perIp, "ip");
            }
        }
        StringBuilder nonce = new StringBuilder(24);
        for (int i = 0; i < 24; i++) {
            nonce.append(ALNUM.charAt(RANDOM.nextInt(ALNUM.length())));
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        SiweMessage msg = new SiweMessage(domain, req.address(), "Sign in to the fedmarket federated learning marketplace.",
                "https://" + domain, chainId, nonce.toString(), now, now.plusSeconds(challengeSeconds));
        String text = msg.format();
        String address = Addresses.normalize(req.address());
        Instant since = Instant.now().minus(THROTTLE_WINDOW);
        Db.session(s -> s.createNativeQuery("delete from siwe_nonces where expires_at < :cutoff")
                .setParameter("cutoff", Instant.now().minus(PRUNE_AFTER)).executeUpdate()
                .chain(pruned -> {
                    if (pruned > 0) {
                        LOG.infof("pruned %d expired sign-in challenges", pruned);
                    }
                    return s.createNativeQuery("select count(*) from siwe_nonces where address = :a and issued_at > :since", Long.class)
                            .setParameter("a", address).setParameter("since", since).getSingleResult();
                })
                .chain(byAddress -> {
                    if (byAddress >= perAddress) {
                        return Uni.createFrom().failure(tooMany("address " + req.address() + " was issued " + byAddress + " sign-in challenges",
                                perAddress, "address"));
                    }
                    return s.createNativeQuery("insert into siwe_nonces (nonce, address, message, issued_at, expires_at) values (:n, :a, :m, :i, :e)")
                            .setParameter("n", msg.nonce()).setParameter("a", address).setParameter("m", text)
                            .setParameter("i", msg.issuedAt()).setParameter("e", msg.expirationTime()).executeUpdate();
                }));
        if (ip != null) {
            recordIp(ip, nowMs);
        }
        return new AuthFunction.ChallengeResponse(text, msg.nonce(), msg.issuedAt().toString(), msg.expirationTime().toString());
    }

    private static ApiError tooMany(String what, int limit, String per) {
        return new ApiError(429, "too_many_challenges", what + " in the last " + THROTTLE_WINDOW.toSeconds() + " s (limit " + limit
                + "): sign one of them, or wait a minute before asking again",
                Map.of("limit", limit, "windowSeconds", THROTTLE_WINDOW.toSeconds(), "retryAfterSeconds", THROTTLE_WINDOW.toSeconds(), "per", per));
    }

    public AuthFunction.TokenResponse token(AuthFunction.TokenRequest req) {
        if (req.message() == null || req.signature() == null) {
            List<String> missing = new java.util.ArrayList<>();
            if (req.message() == null) {
                missing.add("message");
            }
            if (req.signature() == null) {
                missing.add("signature");
            }
            throw ApiError.badRequest("missing_field", "send both 'message' (the challenge exactly as issued) and 'signature' (its personal_sign); missing "
                    + missing, Map.of("missing", missing));
        }
        SiweMessage msg = SiweMessage.parse(req.message());
        if (!msg.domain().equals(domain)) {
            throw ApiError.unauthorized("the message is for domain '" + msg.domain() + "', not " + domain + ": request a new challenge here");
        }
        if (msg.chainId() != chainId) {
            throw ApiError.unauthorized("the message is for chain " + msg.chainId() + ", this marketplace runs on " + chainId);
        }
        String signer = recover(req.message(), req.signature());
        String address = Addresses.normalize(msg.address());
        if (!signer.equals(address)) {
            throw ApiError.unauthorized("the signature was not made by " + msg.address() + ": sign the challenge with that account");
        }
        Instant now = Instant.now();
        Set<Role> roles = Db.session(s -> s.createNativeQuery(
                        "select message, expires_at, used_at from siwe_nonces where nonce = :n for update", Object[].class)
                .setParameter("n", msg.nonce()).getResultList()
                .chain(rows -> {
                    if (rows.isEmpty()) {
                        return Uni.createFrom().failure(ApiError.unauthorized("unknown nonce: request a challenge with POST /auth/challenge"));
                    }
                    Object[] row = rows.get(0);
                    if (!req.message().equals(row[0])) {
                        return Uni.createFrom().failure(ApiError.unauthorized("the message differs from the issued challenge: sign it unchanged"));
                    }
                    if (row[2] != null) {
                        return Uni.createFrom().failure(ApiError.unauthorized("this challenge was already used: request a new one"));
                    }
                    if (toInstant(row[1]).isBefore(now)) {
                        return Uni.createFrom().failure(ApiError.unauthorized("this challenge expired at " + toInstant(row[1]) + ": request a new one"));
                    }
                    return s.createNativeQuery("update siwe_nonces set used_at = :now where nonce = :n and used_at is null")
                            .setParameter("now", now).setParameter("n", msg.nonce()).executeUpdate()
                            .chain(() -> s.createNativeQuery("insert into accounts (address) values (:a) on conflict do nothing")
                                    .setParameter("a", address).executeUpdate())
                            .chain(created -> created == 0 ? Uni.createFrom().item(0)
                                    : s.createNativeQuery("insert into account_roles (address, role) values (:a, 'builder'), (:a, 'provider') on conflict do nothing")
                                    .setParameter("a", address).executeUpdate())
                            .chain(() -> s.createNativeQuery("select role from account_roles where address = :a", String.class)
                                    .setParameter("a", address).getResultList())
                            .map(list -> {
                                Set<Role> r = EnumSet.noneOf(Role.class);
                                list.forEach(w -> Role.fromWire(w).ifPresent(r::add));
                                return r;
                            });
                }));
        LOG.infof("signed in %s with roles %s", address, roles);
        List<String> wire = roles.stream().map(Role::wire).sorted().toList();
        return new AuthFunction.TokenResponse(tokens.mint(address, roles), "Bearer", tokens.lifetimeSeconds(), Addresses.checksummed(address), wire);
    }

    static Instant toInstant(Object v) {
        if (v instanceof Instant i) {
            return i;
        }
        if (v instanceof java.time.OffsetDateTime o) {
            return o.toInstant();
        }
        if (v instanceof java.time.LocalDateTime l) {
            return l.toInstant(java.time.ZoneOffset.UTC);
        }
        if (v instanceof java.sql.Timestamp t) {
            return t.toInstant();
        }
        throw new IllegalStateException("unexpected timestamp type " + v.getClass());
    }

    /** The lower-case address that personal_sign-ed {@code message}, or a 401. */
    static String recover(String message, String signatureHex) {
        byte[] sig;
        try {
            sig = Numeric.hexStringToByteArray(signatureHex);
        } catch (RuntimeException e) {
            sig = new byte[0];
        }
        if (sig.length != 65 || !signatureHex.startsWith("0x")) {
            throw ApiError.unauthorized("signature must be a 0x-prefixed 65-byte hex string (r, s, v) from personal_sign");
        }
        byte v = sig[64];
        if (v < 27) {
            v += 27;
        }
        Sign.SignatureData data = new Sign.SignatureData(v, Arrays.copyOfRange(sig, 0, 32), Arrays.copyOfRange(sig, 32, 64));
        try {
            BigInteger key = Sign.signedPrefixedMessageToKey(message.getBytes(StandardCharsets.UTF_8), data);
            return "0x" + Keys.getAddress(key);
        } catch (SignatureException | RuntimeException e) {
            throw ApiError.unauthorized("the signature does not recover to any address: sign the challenge with personal_sign");
        }
    }
}
