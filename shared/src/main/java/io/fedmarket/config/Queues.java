package io.fedmarket.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The queues of the marketplace, read from {@code io/fedmarket/queues.json}: the one source of
 * truth shared with the local stack and Terraform (modules/queues reads the same file).
 */
public record Queues(String namePrefix, String dlqSuffix, String bucket, List<QueueSpec> queues) {

    /** One work queue; its dead-letter queue is {@link #dlqName()}. */
    public record QueueSpec(String key, String name, String consumer, int visibilityTimeoutSeconds,
                            int maxReceiveCount, String description) {
        public String dlqName() {
            return name + "-dlq";
        }
    }

    public static final String MATCH = "match";
    public static final String TASKS = "tasks";
    public static final String SUBMISSIONS = "submissions";
    public static final String REEXEC = "reexec";
    public static final String REEXEC_RESULTS = "reexec-results";
    public static final String VERDICTS = "verdicts";
    public static final String SETTLE = "settle";
    public static final String CHAIN_EVENTS = "chain-events";

    private static final Queues DEFAULT = load();

    public static Queues get() {
        return DEFAULT;
    }

    public QueueSpec byKey(String key) {
        return queues.stream().filter(q -> q.key().equals(key)).findFirst()
                .orElseThrow(() -> new NoSuchElementException("no queue with key '" + key
                        + "' in io/fedmarket/queues.json; known keys: "
                        + queues.stream().map(QueueSpec::key).toList()));
    }

    private static Queues load() {
        try (InputStream in = Queues.class.getResourceAsStream("/io/fedmarket/queues.json")) {
            if (in == null) {
                throw new IllegalStateException("io/fedmarket/queues.json is missing from the classpath");
            }
            return new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                    .readValue(in, Queues.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read io/fedmarket/queues.json", e);
        }
    }
}
