package io.fedmarket.functions;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** One Quarkus start per exported function, as each Lambda exports exactly one. */
public final class Profiles {
    private Profiles() {
    }

    public static class Auth implements QuarkusTestProfile {
        public Map<String, String> getConfigOverrides() { return Map.of("quarkus.funqy.export", "auth"); }
    }

    public static class Intents implements QuarkusTestProfile {
        public Map<String, String> getConfigOverrides() { return Map.of("quarkus.funqy.export", "intents"); }
    }

    public static class Providers implements QuarkusTestProfile {
        public Map<String, String> getConfigOverrides() { return Map.of("quarkus.funqy.export", "providers"); }
    }

    public static class Jobs implements QuarkusTestProfile {
        public Map<String, String> getConfigOverrides() { return Map.of("quarkus.funqy.export", "jobs"); }
    }

    public static class Match implements QuarkusTestProfile {
        public Map<String, String> getConfigOverrides() { return Map.of("quarkus.funqy.export", "match"); }
    }

    public static class ChainSync implements QuarkusTestProfile {
        public Map<String, String> getConfigOverrides() { return Map.of("quarkus.funqy.export", "chainSync"); }
    }

    public static class Verify implements QuarkusTestProfile {
        /** Any address works as the EIP-712 verifying contract of the signatures the test makes. */
        public static final String MARKETPLACE = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

        public Map<String, String> getConfigOverrides() {
            // the test's anvil mines only when told: a short in-function wait for the draw's block, then the re-queue
            return Map.of("quarkus.funqy.export", "verify", "fedmarket.marketplace-address", MARKETPLACE, "fedmarket.verify.block-wait", "PT1S");
        }
    }

    public static class Judge implements QuarkusTestProfile {
        /** The EIP-712 verifying contract of the re-execution signatures the test makes (judge refuses to run without one). */
        public static final String MARKETPLACE = Verify.MARKETPLACE;

        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.funqy.export", "judge", "fedmarket.marketplace-address", MARKETPLACE);
        }
    }

    public static class Aggregate implements QuarkusTestProfile {
        public Map<String, String> getConfigOverrides() { return Map.of("quarkus.funqy.export", "aggregate"); }
    }

    public static class Settle implements QuarkusTestProfile {
        public Map<String, String> getConfigOverrides() { return Map.of("quarkus.funqy.export", "settle"); }
    }

    public static class Claims implements QuarkusTestProfile {
        public Map<String, String> getConfigOverrides() { return Map.of("quarkus.funqy.export", "claims"); }
    }
}
