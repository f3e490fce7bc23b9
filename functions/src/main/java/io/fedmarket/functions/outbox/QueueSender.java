package io.fedmarket.functions.outbox;

import io.fedmarket.config.Queues;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsClientBuilder;

import java.net.URI;
import java.util.Optional;

/** The SQS client (endpoint and queue URLs from configuration: ElasticMQ locally, SQS on AWS). */
@ApplicationScoped
public class QueueSender {
    @ConfigProperty(name = "fedmarket.sqs.endpoint")
    Optional<String> endpoint;

    @ConfigProperty(name = "fedmarket.sqs.region")
    String region;

    @ConfigProperty(name = "fedmarket.queue-url-prefix")
    String queueUrlPrefix;

    private volatile SqsClient client;

    public SqsClient client() {
        SqsClient c = client;
        if (c == null) {
            synchronized (this) {
                if (client == null) {
                    SqsClientBuilder b = SqsClient.builder().region(Region.of(region)).httpClient(UrlConnectionHttpClient.create());
                    if (endpoint.filter(e -> !e.isBlank()).isPresent()) {
                        // a local stand-in (ElasticMQ) accepts any key; never walk the default chain (IMDS waits seconds)
                        b.endpointOverride(URI.create(endpoint.get())).credentialsProvider(
                                StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")));
                    } else {
                        // on Lambda the execution role's credentials are in the environment
                        b.credentialsProvider(EnvironmentVariableCredentialsProvider.create());
                    }
                    client = b.build();
                }
                c = client;
            }
        }
        return c;
    }

    public String queueUrl(String key) {
        String prefix = queueUrlPrefix.endsWith("/") ? queueUrlPrefix : queueUrlPrefix + "/";
        return prefix + Queues.get().byKey(key).name();
    }

    public String send(String queueKey, String body) {
        return client().sendMessage(b -> b.queueUrl(queueUrl(queueKey)).messageBody(body)).messageId();
    }

    /** Sends with an SQS delay of {@code delaySeconds} (0..900): the message becomes visible only then. */
    public String send(String queueKey, String body, int delaySeconds) {
        if (delaySeconds < 0 || delaySeconds > 900) {
            throw new IllegalArgumentException("SQS delay must be 0..900 s, got " + delaySeconds);
        }
        return client().sendMessage(b -> b.queueUrl(queueUrl(queueKey)).messageBody(body).delaySeconds(delaySeconds)).messageId();
    }

    @PreDestroy
    void close() {
        if (client != null) {
            client.close();
        }
    }
}
