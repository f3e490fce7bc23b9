package io.fedmarket.functions.http;

import io.fedmarket.model.Role;

import java.util.Set;

/** The authenticated caller: lower-case address (the JWT subject) and its roles. */
public record Caller(String address, Set<Role> roles) {
    public boolean has(Role role) {
        return roles.contains(role);
    }
}
