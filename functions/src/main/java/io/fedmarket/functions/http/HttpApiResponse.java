package io.fedmarket.functions.http;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/** The payload format 2.0 response: API Gateway turns it into the HTTP response as is. */
public record HttpApiResponse(int statusCode, Map<String, String> headers, String body,
                              @JsonProperty("isBase64Encoded") boolean isBase64Encoded) {

    public static HttpApiResponse json(int status, String body) {
        return new HttpApiResponse(status, Map.of("content-type", "application/json"), body, false);
    }
}
