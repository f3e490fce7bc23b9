package io.fedmarket.functions.http;

import java.util.Map;

/**
 * A client-visible failure: status, a stable machine code, a sentence saying what was wrong and what
 * to do, and details (field names, allowed values). Thrown anywhere below a function; the router turns
 * it into {@code {code, error, details}} with the status, before anything was changed.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String code;
    private final Map<String, Object> details;

    public ApiError(int status, String code, String message, Map<String, Object> details) {
        super(message);
        this.status = status;
        this.code = code;
        this.details = details == null ? Map.of() : details;
    }

    public ApiError(int status, String code, String message) {
        this(status, code, message, Map.of());
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public Map<String, Object> details() {
        return details;
    }

    public static ApiError badRequest(String code, String message, Map<String, Object> details) {
        return new ApiError(400, code, message, details);
    }

    public static ApiError unprocessable(String code, String message, Map<String, Object> details) {
        return new ApiError(422, code, message, details);
    }

    public static ApiError unauthorized(String message) {
        return new ApiError(401, "unauthenticated", message);
    }

    public static ApiError forbidden(String message) {
        return new ApiError(403, "forbidden", message);
    }

    public static ApiError notFound(String what) {
        return new ApiError(404, "not_found", what + " does not exist or is not yours");
    }

    public static ApiError conflict(String code, String message) {
        return new ApiError(409, code, message);
    }
}
