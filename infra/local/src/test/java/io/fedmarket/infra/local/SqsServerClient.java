package io.fedmarket.infra.local;

import io.fedmarket.config.StackEndpoints;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.net.URI;

/** Test clients built only from the endpoints file, as every other process builds them. */
record SqsServerClient(StackEndpoints.Sqs ep) {
    SqsClient client() {
        return SqsClient.builder().endpointOverride(URI.create(ep.endpoint())).region(Region.of(ep.region()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ep.accessKey(), ep.secretKey())))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    S3Client s3(StackEndpoints.S3 s3) {
        return S3Client.builder().endpointOverride(URI.create(s3.endpoint())).region(Region.of(s3.region())).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }
}
