package io.fedmarket.model;

/** NONE: plain updates; DP: client-side DP-FedAvg with the intent's (epsilon, delta). */
public enum PrivacyMode {
    NONE, DP
}
