package io.fedmarket.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** What an account may do; granted per address in the database and carried as JWT groups. */
public enum Role {
    BUILDER, PROVIDER, VERIFIER, OPERATOR;

    /** The lower-case name used in tokens and the database. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Role> fromWire(String s) {
        return Arrays.stream(values()).filter(r -> r.wire().equals(s)).findFirst();
    }
}
