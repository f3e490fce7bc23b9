package io.fedmarket.functions.http;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
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
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Strict JSON for request bodies: unknown fields, wrong types, strings where numbers belong, floats
 * where integers belong, unknown enum values, duplicate keys, anything after the object, a body that is not an object
 * and timestamps that are not ISO-8601 UTC ({@code 2030-01-31T12:00:00Z}) are refused with an {@link ApiError} naming the field.
 */
public final class Json {
    public static final int MAX_BODY_BYTES = 256 * 1024;

    /** The only timestamp form a request may use: ISO-8601 in UTC with a {@code Z}, seconds, optional fraction. */
    static final Pattern UTC_TIMESTAMP = Pattern.compile("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$");
    static final String TIMESTAMP_RULE = "an ISO-8601 UTC timestamp string ending in Z, such as 2030-01-31T12:00:00Z (no offset, no epoch number)";

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
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .addModule(new SimpleModule("strict-instant").addDeserializer(Instant.class, new UtcInstant()))
                // shared's records tolerate unknown fields in messages; a request naming one gets told instead
                .addMixIn(io.fedmarket.messages.DataSource.class, StrictFields.class)
                .build();
        for (LogicalType t : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean, LogicalType.Textual, LogicalType.Enum}) {
            m.coercionConfigFor(t).setCoercion(CoercionInputShape.String, t == LogicalType.Textual || t == LogicalType.Enum ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Integer, t == LogicalType.Integer || t == LogicalType.Float ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, t == LogicalType.Float ? CoercionAction.TryConvert : CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, t == LogicalType.Boolean ? CoercionAction.TryConvert : CoercionAction.Fail);
        }
        return m;
    }

    @com.fasterxml.jackson.annotation.JsonIgnoreProperties(ignoreUnknown = false)
    private interface StrictFields {
    }

    /** Request timestamps: a JSON string in ISO-8601 UTC with Z; numbers, offsets and local times are refused. */
    static final class UtcInstant extends JsonDeserializer<Instant> {
        @Override
        public Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                return (Instant) ctxt.handleUnexpectedToken(Instant.class, p);
            }
            String text = p.getText();
            if (UTC_TIMESTAMP.matcher(text).matches()) {
                try {
                    return Instant.parse(text);
                } catch (java.time.DateTimeException e) {
                    // a well-formed string with an impossible date (2030-02-31): refused below
                }
            }
            return (Instant) ctxt.handleWeirdStringValue(Instant.class, text, "not an ISO-8601 UTC timestamp");
        }
    }

    /** Parses a request body into {@code type}, or throws a 400 ApiError that says what to fix. */
    public static <T> T read(String body, Class<T> type) {
        if (body == null || body.isBlank()) {
            throw ApiError.badRequest("missing_body", "the request needs a JSON object body (" + type.getSimpleName() + ")",
                    Map.of("expected", type.getSimpleName()));
        }
        com.fasterxml.jackson.databind.JsonNode tree;
        try {
            tree = STRICT.readTree(body);
        } catch (JsonParseException e) {
            throw parseError(e);
        } catch (MismatchedInputException e) {
            if (String.valueOf(e.getOriginalMessage()).startsWith("Trailing token")) {
                throw trailing(e);
            }
            throw ApiError.badRequest("malformed_json", "the body is not valid JSON: fix the syntax" + at(e), location(e));
        } catch (JsonProcessingException e) {
            // also nesting deeper than the parser allows (StreamConstraintsException)
            throw ApiError.badRequest("malformed_json", "the body is not valid JSON or nests too deeply: fix the syntax" + at(e), location(e));
        }
        if (tree == null || !tree.isObject()) {
            String got = tree == null || tree.isMissingNode() ? "nothing" : tree.isNull() ? "null" : tree.isArray() ? "an array"
                    : tree.isTextual() ? "a string" : tree.isNumber() ? "a number" : tree.isBoolean() ? "a boolean" : tree.getNodeType().name();
            throw ApiError.badRequest("body_not_object", "the body must be one JSON object (" + type.getSimpleName() + "), not " + got
                    + ": send {\"field\": value, ...}", Map.of("expected", type.getSimpleName(), "got", got));
        }
        String bad = badText(tree, "");
        if (bad != null) {
            throw ApiError.badRequest("bad_character", "field '" + bad + "' holds a NUL, another control character or an unpaired surrogate"
                    + ": send printable text (a line break only where a field documents it)", Map.of("field", bad));
        }
        T value;
        try {
            value = STRICT.readValue(body, type);
        } catch (UnrecognizedPropertyException e) {
            throw ApiError.badRequest("unknown_field", "field '" + fieldPath(e) + "' is not part of " + type.getSimpleName()
                    + ": remove it", Map.of("field", fieldPath(e), "allowed", e.getKnownPropertyIds().stream().map(Object::toString).sorted().toList()));
        } catch (InvalidFormatException e) {
            if (e.getTargetType() != null && e.getTargetType().isEnum()) {
                Object[] allowed = e.getTargetType().getEnumConstants();
                throw ApiError.badRequest("unknown_value", "field '" + fieldPath(e) + "' has unknown value '" + clip(String.valueOf(e.getValue()))
                        + "': use one of " + Arrays.toString(allowed), Map.of("field", fieldPath(e),
                        "allowed", Arrays.stream(allowed).map(Object::toString).toList()));
            }
            throw wrongType(e);
        } catch (InputCoercionException e) {
            throw ApiError.badRequest("number_out_of_range", "a number is too large for its field (" + clean(e.getOriginalMessage())
                    + ")" + at(e) + ": send a value in the documented range", location(e));
        } catch (MismatchedInputException e) {
            if (String.valueOf(e.getOriginalMessage()).startsWith("Trailing token")) {
                throw trailing(e);
            }
            throw wrongType(e);
        } catch (JsonParseException e) {
            throw parseError(e);
        } catch (JsonMappingException e) {
            if (e.getCause() instanceof InputCoercionException || String.valueOf(e.getOriginalMessage()).contains("out of range")) {
                throw ApiError.badRequest("number_out_of_range", "field '" + fieldPath(e) + "' is out of range ("
                        + clean(e.getOriginalMessage()) + "): send a value in the documented range", Map.of("field", fieldPath(e)));
            }
            throw ApiError.badRequest("invalid_body", "field '" + fieldPath(e) + "' does not fit " + type.getSimpleName() + " ("
                    + clean(e.getOriginalMessage()) + "): see the request schema in openapi.json", Map.of("field", fieldPath(e)));
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("malformed_json", "the body is not valid JSON: fix the syntax" + at(e), location(e));
        }
        if (value == null) {
            throw ApiError.badRequest("body_not_object", "the body must be one JSON object (" + type.getSimpleName() + ")",
                    Map.of("expected", type.getSimpleName()));
        }
        return value;
    }

    private static ApiError trailing(JsonProcessingException e) {
        return ApiError.badRequest("trailing_content", "the body must be exactly one JSON object: remove what follows its closing '}'"
                + at(e), location(e));
    }

    /**
     * The path of the first string or key holding a character no field takes: NUL (PostgreSQL cannot store it), another C0/C1
     * control character except the line feed (the sign-in message has lines), or an unpaired surrogate; null when none.
     */
    static String badText(com.fasterxml.jackson.databind.JsonNode n, String path) {
        if (n.isTextual()) {
            return badChars(n.textValue()) ? (path.isEmpty() ? "(body)" : path) : null;
        }
        if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                String b = badText(n.get(i), path + "[" + i + "]");
                if (b != null) {
                    return b;
                }
            }
        }
        if (n.isObject()) {
            for (var it = n.fields(); it.hasNext(); ) {
                var f = it.next();
                String p = path.isEmpty() ? f.getKey() : path + "." + f.getKey();
                if (badChars(f.getKey())) {
                    return p;
                }
                String b = badText(f.getValue(), p);
                if (b != null) {
                    return b;
                }
            }
        }
        return null;
    }

    static boolean badChars(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n') {
                continue;
            }
            if (Character.isISOControl(c)) {
                return true;
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return true;
            }
            if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    /** A syntax error: duplicate keys, NaN/Infinity and other non-JSON tokens each get their own sentence. */
    private static ApiError parseError(JsonParseException e) {
        String m = String.valueOf(e.getOriginalMessage());
        java.util.regex.Matcher dup = Pattern.compile("^Duplicate field '(.*)'").matcher(m);
        if (dup.find()) {
            Map<String, Object> d = new LinkedHashMap<>(location(e));
            d.put("field", dup.group(1));
            throw ApiError.badRequest("duplicate_field", "field '" + dup.group(1) + "' appears more than once in the same object" + at(e)
                    + ": send each field once", d);
        }
        if (m.contains("Non-standard token") || m.contains("'NaN'") || m.contains("Infinity")) {
            return ApiError.badRequest("non_finite_number", "the body holds NaN or Infinity" + at(e)
                    + ", which JSON does not allow: send a finite number in the documented range", location(e));
        }
        String reason = m.replaceAll("(?s)\\s*\\(?(at \\[Source|for \\[|: (enable|was expecting)).*$", "")
                .replaceAll("`[A-Za-z.]*JsonReadFeature[^`]*`", "").trim();
        if (reason.length() > 120) {
            reason = reason.substring(0, 120) + "…";
        }
        return ApiError.badRequest("malformed_json", "the body is not valid JSON (" + reason + ")" + at(e) + ": fix the syntax", location(e));
    }

    /** A Jackson sentence without Java class names, quoting or source excerpts: what a client can act on. */
    static String clean(String m) {
        String s = String.valueOf(m).replaceAll("(?s)\\s*(\\(through reference chain|at \\[Source).*$", "");
        s = s.replaceAll("`(?:[a-z][a-z0-9_]*\\.)+(?:[A-Za-z0-9_]+\\$)*([A-Za-z0-9_]+)(?:<[^`]*>)?`", "$1").replace("`", "'");
        return clip(s.trim());
    }

    static String clip(String v) {
        return v.length() > 120 ? v.substring(0, 120) + "…" : v;
    }

    private static String at(JsonProcessingException e) {
        return e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    private static Map<String, Object> location(JsonProcessingException e) {
        return e.getLocation() == null ? Map.of() : Map.of("line", e.getLocation().getLineNr(), "column", e.getLocation().getColumnNr());
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
            return TIMESTAMP_RULE;
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
