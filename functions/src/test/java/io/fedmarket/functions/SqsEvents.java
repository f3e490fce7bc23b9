package io.fedmarket.functions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import software.amazon.awssdk.services.sqs.model.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static io.restassured.RestAssured.given;

/** SQS events as the Lambda event source mapping delivers them, sent through the mock event server. */
public final class SqsEvents {
    private SqsEvents() {
    }

    public record Rec(String messageId, String body, int receiveCount) {
        public static Rec of(String body) {
            return new Rec(UUID.randomUUID().toString(), body, 1);
        }

        public static Rec of(Message m) {
            return new Rec(m.messageId(), m.body(), Integer.parseInt(m.attributesAsStrings().getOrDefault("ApproximateReceiveCount", "1")));
        }
    }

    public static String event(String queueName, List<Rec> records) {
        ObjectNode e = Api.JSON.createObjectNode();
        ArrayNode arr = e.putArray("Records");
        for (Rec r : records) {
            ObjectNode o = arr.addObject();
            o.put("messageId", r.messageId());
            o.put("receiptHandle", "rh-" + r.messageId());
            o.put("body", r.body());
            o.putObject("attributes").put("ApproximateReceiveCount", Integer.toString(r.receiveCount()))
                    .put("SentTimestamp", Long.toString(System.currentTimeMillis()));
            o.putObject("messageAttributes");
            o.put("md5OfBody", "");
            o.put("eventSource", "aws:sqs");
            o.put("eventSourceARN", "arn:aws:sqs:us-east-1:000000000000:" + queueName);
            o.put("awsRegion", "us-east-1");
        }
        return e.toString();
    }

    /** Invokes the exported consumer with one batch; returns the message ids it reported failed. */
    public static List<String> invoke(String queueName, List<Rec> records) {
        String out = given().body(event(queueName, records)).when().post().then().statusCode(200).extract().asString();
        try {
            JsonNode r = Api.JSON.readTree(out);
            List<String> failed = new ArrayList<>();
            r.path("batchItemFailures").forEach(f -> failed.add(f.get("itemIdentifier").asText()));
            return failed;
        } catch (Exception ex) {
            throw new AssertionError("not an SQS batch response: " + out, ex);
        }
    }
}
