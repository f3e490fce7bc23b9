package io.fedmarket.chain;

import java.util.Optional;

/**
 * Where {@link EventSync} keeps its cursor. A store that saves the cursor in the same transaction as
 * the handler's own writes (e.g. PostgreSQL) makes event handling exactly-once; the others give
 * at-least-once across a crash between handling and saving, so handlers dedupe on {@link MarketEvent#key()}.
 */
public interface CursorStore {
    Optional<EventCursor> load(String name);

    void save(String name, EventCursor cursor);
}
