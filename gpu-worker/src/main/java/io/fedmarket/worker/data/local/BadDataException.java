package io.fedmarket.worker.data.local;

import java.util.List;

/**
 * A data set that cannot be committed as it is: every problem found, each naming the file (and line or column where it has
 * one) and what to do. Nothing is committed while any remains; no bad file is skipped in silence.
 */
public final class BadDataException extends IllegalArgumentException {
    /** At most this many problems are listed in the message (all are in {@link #problems()}). */
    public static final int SHOWN = 20;
    private final List<String> problems;

    public BadDataException(List<String> problems) {
        super(message(problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }

    private static String message(List<String> p) {
        StringBuilder b = new StringBuilder(p.size() == 1 ? "1 problem in the data set" : p.size() + " problems in the data set");
        b.append(" (nothing was committed; fix them and run again):");
        for (int i = 0; i < Math.min(SHOWN, p.size()); i++) {
            b.append("\n  ").append(p.get(i));
        }
        if (p.size() > SHOWN) {
            b.append("\n  … and ").append(p.size() - SHOWN).append(" more");
        }
        return b.toString();
    }
}
