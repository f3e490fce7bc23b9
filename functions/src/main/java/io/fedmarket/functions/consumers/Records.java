package io.fedmarket.functions.consumers;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import java.util.function.Consumer;

/**
 * Per-record plumbing of the SQS consumers. Funqy calls a consumer once per record of the batch; a
 * record that throws is reported in batchItemFailures (only its id), stays on the queue, and after
 * the queue's maxReceiveCount lands in the DLQ. Each record is logged with its message id, receive
 * count and the business ids the handler puts in MDC.
 */
public final class Records {
    private static final Logger LOG = Logger.getLogger(Records.class);
    static final ObjectMapper JSON = JsonMapper.builder().addModule(new JavaTimeModule())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    private Records() {
    }

    public static <T> void handle(String consumer, SQSEvent.SQSMessage record, Class<T> type, Consumer<T> handler) {
        long t0 = System.nanoTime();
        MDC.put("function", consumer);
        MDC.put("messageId", record.getMessageId());
        String receives = record.getAttributes() == null ? null : record.getAttributes().get("ApproximateReceiveCount");
        if (receives != null) {
            MDC.put("receiveCount", receives);
        }
        try {
            T message;
            try {
                message = JSON.readValue(record.getBody(), type);
            } catch (Exception e) {
                throw new PoisonRecord("record " + record.getMessageId() + " is not a " + type.getSimpleName() + ": " + e.getMessage());
            }
            handler.accept(message);
            LOG.infof("processed %s in %d ms", type.getSimpleName(), (System.nanoTime() - t0) / 1_000_000);
        } catch (RuntimeException e) {
            LOG.errorf("failed %s (receive %s): %s", type.getSimpleName(), receives, e.getMessage());
            throw e;
        } finally {
            MDC.clear();
        }
    }

    /** A record that can never succeed: it is failed (not dropped) so the DLQ keeps it for inspection. */
    public static final class PoisonRecord extends RuntimeException {
        public PoisonRecord(String message) {
            super(message);
        }
    }
}
