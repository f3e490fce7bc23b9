package io.fedmarket.chain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/** One small file per cursor ({@code <dir>/<name>.cursor}: "number hash"), replaced atomically. */
public final class FileCursorStore implements CursorStore {
    private final Path dir;

    public FileCursorStore(Path dir) {
        this.dir = dir;
    }

    private Path file(String name) {
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("cursor name may use letters, digits, '.', '_' and '-' only: " + name);
        }
        return dir.resolve(name + ".cursor");
    }

    @Override
    public Optional<EventCursor> load(String name) {
        Path f = file(name);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            String[] parts = Files.readString(f, StandardCharsets.US_ASCII).trim().split("\\s+");
            if (parts.length != 2) {
                throw new IllegalStateException("corrupt cursor file " + f + " (expected 'blockNumber blockHash'): delete it to resync from the start");
            }
            return Optional.of(new EventCursor(Long.parseLong(parts[0]), parts[1]));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read cursor " + f, e);
        }
    }

    @Override
    public void save(String name, EventCursor cursor) {
        Path f = file(name);
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, name, ".tmp");
            Files.writeString(tmp, cursor.blockNumber() + " " + cursor.blockHash() + "\n", StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write cursor " + f, e);
        }
    }
}
