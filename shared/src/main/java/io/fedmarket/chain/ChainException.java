package io.fedmarket.chain;

/** A chain operation failed; the message says what was attempted and what to do. */
public class ChainException extends RuntimeException {
    public ChainException(String message) {
        super(message);
    }

    public ChainException(String message, Throwable cause) {
        super(message, cause);
    }
}
