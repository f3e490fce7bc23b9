package io.fedmarket.infra.local;

import io.fedmarket.config.Ports;
import io.fedmarket.config.Queues;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/** ElasticMQ embedded (SQS API) with every queue of queues.json and its DLQ + redrive policy. */
final class SqsServer implements AutoCloseable {
    static final String REGION = "us-east-1";
    static final String ACCESS_KEY = "local";
    static final String SECRET_KEY = "local";

    private final SQSRestServer server;
    private final int port;
    private final Map<String, String> queueUrls = new LinkedHashMap<>();
    private final Map<String, String> dlqUrls = new LinkedHashMap<>();

    SqsServer(int requestedPort) {
        this.port = Ports.claim("SQS (ElasticMQ)", requestedPort, "--sqs-port");
        this.server = SQSRestServerBuilder.withInterface("127.0.0.1").withPort(port).withAWSRegion(REGION).start();
        server.waitUntilStarted();
        createQueues();
    }

    String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    Map<String, String> queueUrls() {
        return queueUrls;
    }

    Map<String, String> dlqUrls() {
        return dlqUrls;
    }

    SqsClient client() {
        return SqsClient.builder().endpointOverride(URI.create(endpoint())).region(Region.of(REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    private void createQueues() {
        try (SqsClient sqs = client()) {
            for (Queues.QueueSpec q : Queues.get().queues()) {
                String dlqUrl = sqs.createQueue(b -> b.queueName(q.dlqName())
                        .attributes(Map.of(QueueAttributeName.MESSAGE_RETENTION_PERIOD, "1209600"))).queueUrl();
                String dlqArn = sqs.getQueueAttributes(b -> b.queueUrl(dlqUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                        .attributes().get(QueueAttributeName.QUEUE_ARN);
                String redrive = "{\"deadLetterTargetArn\":\"" + dlqArn + "\",\"maxReceiveCount\":\"" + q.maxReceiveCount() + "\"}";
                String url = sqs.createQueue(b -> b.queueName(q.name()).attributes(Map.of(
                        QueueAttributeName.VISIBILITY_TIMEOUT, Integer.toString(q.visibilityTimeoutSeconds()),
                        QueueAttributeName.REDRIVE_POLICY, redrive))).queueUrl();
                queueUrls.put(q.key(), url);
                dlqUrls.put(q.key(), dlqUrl);
            }
        }
    }

    @Override
    public void close() {
        server.stopAndWait();
    }
}
