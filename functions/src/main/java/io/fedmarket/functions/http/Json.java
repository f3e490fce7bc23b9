package io.fedmarket.functions.http;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Strict JSON for request bodies: unknown fields, wrong types, strings where numbers belong, floats
 * where integers belong and unknown enum values are refused with an {@link ApiError} naming the field.
 */
public final class Json {
    public static final int MAX_BODY_BYTES = 256 * 1024;

    public static final ObjectMapper STRICT = strict();
    public static final ObjectMapper OUT = JsonMapper.builder().addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build();

    private Json() {
    }

    private static ObjectMapper strict() {
        JsonMapper m = JsonMapper.builder().addModule(new JavaTimeModule())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        for (LogicalType t : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean, LogicalType.Textual, LogicalType.Enum}) {
            m.coercionConfigFor(t).setCoercion(CoercionInputShape.String, t == LogicalType.Textual || t == LogicalType.Enum ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Integer, t == LogicalType.Integer || t == LogicalType.Float ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, t == LogicalType.Float ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, t == LogicalType.Boolean ? CoercionAction.TryConvert : CoercionAction.Fail);
        }
        return m;
    }

    /** Parses a request body into {@code type}, or throws a 400/413 ApiError that says what to fix. */
    public static <T> T read(String body, Class<T> type) {
        if (body == null || body.isBlank()) {
            throw ApiError.badRequest("missing_body", "the request needs a JSON body", Map.of("expected", type.getSimpleName()));
        }
        try {
            return STRICT.readValue(body, type);
        } catch (UnrecognizedPropertyException e) {
            throw ApiError.badRequest("unknown_field", "field '" + fieldPath(e) + "' is not part of " + type.getSimpleName()
                    + ": remove it", Map.of("field", fieldPath(e), "allowed", e.getKnownPropertyIds().stream().map(Object::toString).sorted().toList()));
        } catch (InvalidFormatException e) {
            if (e.getTargetType() != null && e.getTargetType().isEnum()) {
                Object[] allowed = e.getTargetType().getEnumConstants();
                throw ApiError.badRequest("unknown_value", "field '" + fieldPath(e) + "' has unknown value '" + e.getValue()
                        + "': use one of " + Arrays.toString(allowed), Map.of("field", fieldPath(e),
                        "allowed", Arrays.stream(allowed).map(Object::toString).toList()));
            }
            throw wrongType(e);
        } catch (InputCoercionException e) {
            throw ApiError.badRequest("number_out_of_range", "a number is too large for its field: " + e.getOriginalMessage()
                    + "; send a value in the documented range", Map.of());
        } catch (MismatchedInputException e) {
            throw wrongType(e);
        } catch (JsonParseException e) {
            throw ApiError.badRequest("malformed_json", "the body is not valid JSON (" + e.getOriginalMessage()
                    + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + "): fix the syntax",
                    Map.of("line", e.getLocation().getLineNr(), "column", e.getLocation().getColumnNr()));
        } catch (JsonMappingException e) {
            if (e.getCause() instanceof InputCoercionException || String.valueOf(e.getOriginalMessage()).contains("out of range")) {
                throw ApiError.badRequest("number_out_of_range", "field '" + fieldPath(e) + "' is out of range: "
                        + e.getOriginalMessage() + "; send a value in the documented range", Map.of("field", fieldPath(e)));
            }
            throw ApiError.badRequest("invalid_body", "the body does not match " + type.getSimpleName() + ": " + e.getOriginalMessage(),
                    Map.of("field", fieldPath(e)));
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("malformed_json", "the body is not valid JSON: " + e.getOriginalMessage(), Map.of());
        }
    }

    private static ApiError wrongType(MismatchedInputException e) {
        String expected = e.getTargetType() == null ? "another type" : describe(e.getTargetType());
        String field = fieldPath(e);
        return ApiError.badRequest("wrong_type", "field '" + field + "' must be " + expected, Map.of("field", field, "expected", expected));
    }

    private static String describe(Class<?> t) {
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            return "an integer";
        }
        if (t == double.class || t == Double.class) {
            return "a number";
        }
        if (t == String.class) {
            return "a string";
        }
        if (t == boolean.class || t == Boolean.class) {
            return "true or false";
        }
        if (java.util.Collection.class.isAssignableFrom(t)) {
            return "an array";
        }
        if (t == java.time.Instant.class) {
            return "an ISO-8601 UTC timestamp such as 2030-01-31T12:00:00Z";
        }
        return "an object (" + t.getSimpleName() + ")";
    }

    private static String fieldPath(JsonMappingException e) {
        String p = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
        return p.isEmpty() ? "(body)" : p;
    }

    public static String write(Object value) {
        try {
            return OUT.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }

    public static <T> T parse(String json, Class<T> type) {
        try {
            return OUT.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot parse " + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }

    public static String error(String code, String message, Map<String, Object> details) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("code", code);
        m.put("error", message);
        m.put("details", details);
        return write(m);
    }
}
