package io.fedmarket.messages;

import java.time.Instant;
import java.util.UUID;

/** On the match queue: an intent was stored and waits for the solver. The intent id is the business key. */
public record IntentSubmitted(UUID intentId, String builder, Instant submittedAt) {
}
