package io.fedmarket.model;

/** Class labels as intents, data offers and data owners' folders and columns name them. */
public final class Labels {
    public static final String RULE = "labels must be 1 to 64 characters, not blank, without control characters or leading/trailing spaces";

    private Labels() {
    }

    /** 1-64 printable characters, no padding. */
    public static boolean valid(String l) {
        return l != null && !l.isBlank() && l.length() <= 64 && l.strip().equals(l)
                && l.codePoints().noneMatch(c -> Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
                || Character.getType(c) == Character.SURROGATE);
    }
}
