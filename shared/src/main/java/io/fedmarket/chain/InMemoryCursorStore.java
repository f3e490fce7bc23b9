package io.fedmarket.chain;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

public final class InMemoryCursorStore implements CursorStore {
    private final Map<String, EventCursor> cursors = new ConcurrentHashMap<>();

    @Override
    public Optional<EventCursor> load(String name) {
        return Optional.ofNullable(cursors.get(name));
    }

    @Override
    public void save(String name, EventCursor cursor) {
        cursors.put(name, cursor);
    }
}
