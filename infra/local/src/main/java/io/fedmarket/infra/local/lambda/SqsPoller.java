package io.fedmarket.infra.local.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedmarket.config.Queues;
import io.fedmarket.config.StackEndpoints;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The SQS event source mapping, locally: long-polls the function's queue, delivers up to batchSize
 * messages as one SQS event, and (ReportBatchItemFailures) deletes every record except those the
 * function listed in batchItemFailures. A failed invocation deletes nothing. Records left on the
 * queue come back after the visibility timeout and, past maxReceiveCount, ElasticMQ's redrive moves
 * them to the DLQ.
 */
final class SqsPoller {
    private final FunctionsSpec.Fn fn;
    private final StackEndpoints ep;
    private final LocalLambda lambda;
    private final String queueUrl;
    private final String queueArn;
    private volatile boolean running = true;
    private Thread thread;

    SqsPoller(FunctionsSpec.Fn fn, StackEndpoints ep, LocalLambda lambda) {
        this.fn = fn;
        this.ep = ep;
        this.lambda = lambda;
        this.queueUrl = ep.sqs().queueUrl(fn.queueKey());
        this.queueArn = "arn:aws:sqs:" + region() + ":000000000000:" + Queues.get().byKey(fn.queueKey()).name();
    }

    private String region() {
        return ep.sqs().region() == null ? "us-east-1" : ep.sqs().region();
    }

    void start() {
        thread = new Thread(this::loop, "sqs-poller-" + fn.name());
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        try (SqsClient sqs = SqsClient.builder().endpointOverride(URI.create(ep.sqs().endpoint())).region(Region.of(region()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        ep.sqs().accessKey() == null ? "local" : ep.sqs().accessKey(), ep.sqs().secretKey() == null ? "local" : ep.sqs().secretKey())))
                .httpClient(UrlConnectionHttpClient.create()).build()) {
            while (running) {
                try {
                    pollOnce(sqs);
                } catch (RuntimeException e) {
                    if (running) {
                        System.err.println("sqs poller " + fn.name() + ": " + e.getMessage());
                        sleep(1000);
                    }
                }
            }
        }
    }

    /** One receive → invoke → delete cycle; returns how many records were deleted. */
    int pollOnce(SqsClient sqs) {
        int batch = fn.batchSize() == null ? 10 : Math.min(10, fn.batchSize());
        List<Message> msgs = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(batch).waitTimeSeconds(5)
                .messageSystemAttributeNames(MessageSystemAttributeName.ALL).messageAttributeNames("All")).messages();
        if (msgs.isEmpty()) {
            return 0;
        }
        LambdaRuntimeApi.Result result;
        try {
            result = lambda.invoke(fn.name(), event(msgs));
        } catch (RuntimeException e) {
            System.err.println("sqs poller " + fn.name() + ": invocation failed, " + msgs.size() + " records stay on the queue: " + e.getMessage());
            return 0;
        }
        if (result.error()) {
            return 0; // the whole batch failed: every record returns after its visibility timeout
        }
        Set<String> failed = new HashSet<>();
        JsonNode out = LocalLambda.tree(result.body().isBlank() ? "{}" : result.body());
        out.path("batchItemFailures").forEach(f -> failed.add(f.path("itemIdentifier").asText()));
        List<DeleteMessageBatchRequestEntry> done = msgs.stream().filter(m -> !failed.contains(m.messageId()))
                .map(m -> DeleteMessageBatchRequestEntry.builder().id(m.messageId()).receiptHandle(m.receiptHandle()).build()).toList();
        if (!done.isEmpty()) {
            sqs.deleteMessageBatch(b -> b.queueUrl(queueUrl).entries(done));
        }
        return done.size();
    }

    String event(List<Message> msgs) {
        ObjectNode e = LocalLambda.JSON.createObjectNode();
        ArrayNode records = e.putArray("Records");
        for (Message m : msgs) {
            ObjectNode r = records.addObject();
            r.put("messageId", m.messageId());
            r.put("receiptHandle", m.receiptHandle());
            r.put("body", m.body());
            ObjectNode attrs = r.putObject("attributes");
            m.attributesAsStrings().forEach(attrs::put);
            ObjectNode ma = r.putObject("messageAttributes");
            m.messageAttributes().forEach((k, v) -> ma.putObject(k).put("stringValue", v.stringValue()).put("dataType", v.dataType()));
            r.put("md5OfBody", m.md5OfBody());
            r.put("eventSource", "aws:sqs");
            r.put("eventSourceARN", queueArn);
            r.put("awsRegion", region());
        }
        return e.toString();
    }

    void stop() {
        running = false;
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(7000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
