package io.fedmarket.infra.local;

import io.fedmarket.config.Ports;
import io.fedmarket.config.Queues;
import io.fedmarket.config.StackEndpoints;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Starts the whole local stack and checks every component with a real request. */
class LocalStackTest {
    @TempDir
    static Path dir;
    static LocalStack stack;

    @BeforeAll
    static void start() {
        stack = LocalStack.builder().dataDir(dir).databaseName("fedmarket_stack_test").freshDatabase(true).start();
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @Test
    void everyComponentIsHealthy() {
        assertThat(stack.health()).containsExactlyInAnyOrderEntriesOf(
                Map.of("sqs", true, "s3", true, "evm", true, "postgres", true));
        assertThat(StackStatus.check(stack.endpoints()).values()).allMatch(v -> v.startsWith("healthy"));
    }

    @Test
    void sqsRedrivesAPoisonMessageToItsDlqAfterMaxReceives() throws Exception {
        StackEndpoints.Sqs ep = stack.endpoints().sqs();
        Queues.QueueSpec match = Queues.get().byKey(Queues.MATCH);
        try (SqsClient sqs = new SqsServerClient(ep).client()) {
            String url = ep.queueUrl(Queues.MATCH);
            sqs.sendMessage(b -> b.queueUrl(url).messageBody("{\"poison\":true}"));
            for (int i = 0; i < match.maxReceiveCount(); i++) {
                List<Message> got = sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(2).visibilityTimeout(1)).messages();
                assertThat(got).as("receive %d", i + 1).hasSize(1);
                Thread.sleep(1100); // let the visibility timeout lapse without deleting: a failed processing
            }
            List<Message> afterMax = sqs.receiveMessage(b -> b.queueUrl(url).waitTimeSeconds(1)).messages();
            assertThat(afterMax).as("gone from the work queue after maxReceiveCount").isEmpty();
            List<Message> dead = sqs.receiveMessage(b -> b.queueUrl(ep.dlqUrl(Queues.MATCH)).waitTimeSeconds(2)).messages();
            assertThat(dead).extracting(Message::body).containsExactly("{\"poison\":true}");
        }
    }

    @Test
    void s3PutThenGet() {
        StackEndpoints.S3 ep = stack.endpoints().s3();
        try (S3Client s3 = new SqsServerClient(stack.endpoints().sqs()).s3(ep)) {
            s3.putObject(b -> b.bucket(ep.bucket()).key("models/abc"), RequestBody.fromString("weights"));
            assertThat(s3.getObjectAsBytes(b -> b.bucket(ep.bucket()).key("models/abc")).asUtf8String()).isEqualTo("weights");
        }
    }

    @Test
    void evmAnswersBlockNumber() {
        assertThat(stack.anvil().blockNumber()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void postgresAnswersAndMigrationsAreApplied() throws Exception {
        StackEndpoints.Database db = stack.endpoints().database();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password())) {
            ResultSet one = c.createStatement().executeQuery("select 1");
            assertThat(one.next()).isTrue();
            assertThat(one.getInt(1)).isEqualTo(1);
            ResultSet info = c.createStatement().executeQuery("select value from marketplace_info where key = 'schema'");
            assertThat(info.next()).isTrue();
            assertThat(info.getString(1)).isEqualTo("fedmarket");
            ResultSet hist = c.createStatement().executeQuery("select count(*) from flyway_schema_history where success");
            hist.next();
            assertThat(hist.getInt(1)).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void withoutAServerOn5432AnEmbeddedPostgresIsStartedAndMigrated() throws Exception {
        int nothingThere = Ports.free();
        try (LocalStack embedded = LocalStack.builder().dataDir(dir.resolve("embedded")).sqs(false).s3(false).evm(false)
                .databaseUrl(null).pgMachinePort(nothingThere).start()) {
            StackEndpoints.Database db = embedded.endpoints().database();
            assertThat(db.embedded()).isTrue();
            try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password())) {
                ResultSet rs = c.createStatement().executeQuery("select count(*) from marketplace_info");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
        }
    }

    @Test
    void aBusyPortIsAClearErrorNamingThePortAndTheOption() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = busy.getLocalPort();
            assertThatThrownBy(() -> LocalStack.builder().dataDir(dir.resolve("second")).sqsPort(port)
                    .s3(false).evm(false).postgres(false).start())
                    .isInstanceOf(Ports.PortInUseException.class)
                    .hasMessageContaining("port " + port)
                    .hasMessageContaining("SQS")
                    .hasMessageContaining("--sqs-port");
        }
    }
}
