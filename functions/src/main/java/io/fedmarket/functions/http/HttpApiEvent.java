package io.fedmarket.functions.http;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * The API Gateway HTTP API payload format 2.0 event, the fields the API functions read. Header names
 * arrive lower-cased (API Gateway does so; the local gateway too).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record HttpApiEvent(String version, String routeKey, String rawPath, String rawQueryString,
                           Map<String, String> headers, Map<String, String> queryStringParameters,
                           Map<String, String> pathParameters, String body,
                           @JsonProperty("isBase64Encoded") boolean isBase64Encoded, RequestContext requestContext) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RequestContext(String requestId, Http http, long timeEpoch) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Http(String method, String path, String sourceIp) {
    }

    public String method() {
        if (requestContext != null && requestContext.http() != null && requestContext.http().method() != null) {
            return requestContext.http().method();
        }
        return routeKey == null ? "" : routeKey.split(" ", 2)[0];
    }

    public String path() {
        if (rawPath != null) {
            return rawPath;
        }
        return requestContext != null && requestContext.http() != null ? requestContext.http().path() : "";
    }

    public String header(String name) {
        return headers == null ? null : headers.get(name.toLowerCase(java.util.Locale.ROOT));
    }

    public String query(String name) {
        return queryStringParameters == null ? null : queryStringParameters.get(name);
    }

    /** The client's address as API Gateway saw it (null when the event has none). */
    public String sourceIp() {
        return requestContext == null || requestContext.http() == null ? null : requestContext.http().sourceIp();
    }

    public String requestId() {
        return requestContext == null ? null : requestContext.requestId();
    }

    /** The body's bytes: base64-decoded where API Gateway encoded it (a body that is not UTF-8 text), else the text's UTF-8. */
    public byte[] bodyBytes() {
        if (body() == null) {
            return new byte[0];
        }
        if (isBase64Encoded()) {
            try {
                return java.util.Base64.getDecoder().decode(body());
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("body_not_base64", "the gateway's base64 body does not decode", java.util.Map.of());
            }
        }
        return body().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
