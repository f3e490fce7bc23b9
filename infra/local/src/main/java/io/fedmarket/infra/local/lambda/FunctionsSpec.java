package io.fedmarket.infra.local.lambda;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/** io/fedmarket/functions.json: the Lambdas of function.zip, their triggers and routes (the source of truth Terraform reads too). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record FunctionsSpec(String handler, List<String> environment, List<Fn> functions) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Fn(String name, String trigger, List<String> routes, String queueKey, Integer batchSize, int memoryMb, int timeoutSeconds) {
        public boolean api() {
            return "api".equals(trigger);
        }

        public boolean sqs() {
            return "sqs".equals(trigger);
        }
    }

    public static FunctionsSpec load() {
        try (InputStream in = FunctionsSpec.class.getResourceAsStream("/io/fedmarket/functions.json")) {
            if (in == null) {
                throw new IllegalStateException("io/fedmarket/functions.json is missing from the classpath (it lives in shared)");
            }
            return new ObjectMapper().readValue(in, FunctionsSpec.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read io/fedmarket/functions.json", e);
        }
    }
}
