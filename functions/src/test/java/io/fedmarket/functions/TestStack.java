package io.fedmarket.functions;

import io.fedmarket.config.Queues;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.flywaydb.core.Flyway;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.net.URI;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * The real stand-ins the function tests run against: ElasticMQ (every queue of queues.json with its
 * DLQ and redrive policy) and the machine's PostgreSQL (database fedmarket_fn_test, Flyway-migrated
 * from shared's db/migration). Started once per Quarkus start.
 */
public class TestStack implements QuarkusTestResourceLifecycleManager {
    /** FEDMARKET_FN_TEST_DB lets two checkouts run their function tests side by side on one PostgreSQL. */
    public static final String DB = System.getenv().getOrDefault("FEDMARKET_FN_TEST_DB", "fedmarket_fn_test");
    static final String PG_HOST = System.getenv().getOrDefault("PGHOST", "127.0.0.1");
    static final String PG_PORT = System.getenv().getOrDefault("PGPORT", "5432");
    static final String PG_USER = System.getenv().getOrDefault("PGUSER", "postgres");
    static final String PG_PASSWORD = System.getenv().getOrDefault("PGPASSWORD", "");

    static volatile String sqsEndpoint;
    private SQSRestServer sqs;

    public static String jdbcUrl() {
        return "jdbc:postgresql://" + PG_HOST + ":" + PG_PORT + "/" + DB;
    }

    /** A data source, not DriverManager: the latter refuses drivers of another class loader after a Quarkus restart. */
    static org.postgresql.ds.PGSimpleDataSource dataSource(String db) {
        org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
        ds.setUrl("jdbc:postgresql://" + PG_HOST + ":" + PG_PORT + "/" + db);
        ds.setUser(PG_USER);
        ds.setPassword(PG_PASSWORD);
        return ds;
    }

    public static Connection jdbc() throws Exception {
        return dataSource(DB).getConnection();
    }

    public static SqsClient sqs() {
        return SqsClient.builder().endpointOverride(URI.create(sqsEndpoint)).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    public static String queueUrl(String key) {
        return sqsEndpoint + "/000000000000/" + Queues.get().byKey(key).name();
    }

    public static String dlqUrl(String key) {
        return sqsEndpoint + "/000000000000/" + Queues.get().byKey(key).dlqName();
    }

    @Override
    public Map<String, String> start() {
        sqs = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().withAWSRegion("us-east-1").start();
        int port = sqs.waitUntilStarted().localAddress().getPort();
        sqsEndpoint = "http://127.0.0.1:" + port;
        try (SqsClient c = sqs()) {
            for (Queues.QueueSpec q : Queues.get().queues()) {
                String dlq = c.createQueue(b -> b.queueName(q.dlqName())).queueUrl();
                String arn = c.getQueueAttributes(b -> b.queueUrl(dlq).attributeNames(QueueAttributeName.QUEUE_ARN))
                        .attributes().get(QueueAttributeName.QUEUE_ARN);
                c.createQueue(b -> b.queueName(q.name()).attributes(Map.of(
                        QueueAttributeName.VISIBILITY_TIMEOUT, Integer.toString(q.visibilityTimeoutSeconds()),
                        QueueAttributeName.REDRIVE_POLICY, "{\"deadLetterTargetArn\":\"" + arn + "\",\"maxReceiveCount\":\"" + q.maxReceiveCount() + "\"}")));
            }
        }
        try (Connection c = dataSource("postgres").getConnection();
             Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select 1 from pg_database where datname = '" + DB + "'")) {
                if (!rs.next()) {
                    st.execute("create database " + DB);
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("the function tests need PostgreSQL on " + PG_HOST + ":" + PG_PORT
                    + " (start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start): " + e.getMessage(), e);
        }
        // Flyway's classpath scan under the Quarkus test class loader sees only part of db/migration, so
        // migrate from shared's own artifact (classes folder or jar) as a file-system location.
        try {
            Flyway.configure().dataSource(dataSource(DB)).locations("filesystem:" + migrationsDir().toAbsolutePath()).load().migrate();
        } catch (org.flywaydb.core.api.exception.FlywayValidateException edited) {
            // a migration changed since this test database was migrated (while it was being written): the database only ever
            // holds test data, so it is made anew rather than failing every function test on this machine from now on
            try (Connection c = dataSource("postgres").getConnection(); Statement st = c.createStatement()) {
                st.execute("drop database if exists " + DB + " with (force)");
                st.execute("create database " + DB);
            } catch (Exception e) {
                throw new IllegalStateException("cannot recreate the test database " + DB + ": " + e.getMessage(), e);
            }
            Flyway.configure().dataSource(dataSource(DB)).locations("filesystem:" + migrationsDir().toAbsolutePath()).load().migrate();
        }
        // every test class (each its own Quarkus start) begins with an empty marketplace: offers, bonds or jobs left by
        // another class or an earlier run would take part in its matching
        try (Connection c = dataSource(DB).getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select string_agg(format('%I', tablename), ', ') from pg_tables "
                     + "where schemaname = current_schema() and tablename <> 'flyway_schema_history'")) {
            rs.next();
            if (rs.getString(1) != null) {
                st.execute("truncate " + rs.getString(1) + " cascade");
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot empty the test database " + DB + ": " + e.getMessage(), e);
        }
        Map<String, String> cfg = new HashMap<>();
        cfg.put("quarkus.datasource.reactive.url", "postgresql://" + PG_HOST + ":" + PG_PORT + "/" + DB);
        cfg.put("quarkus.datasource.username", PG_USER);
        cfg.put("quarkus.datasource.password", PG_PASSWORD);
        // a key pair of this test run (none is packaged)
        io.fedmarket.crypto.JwtKeyFiles keys = io.fedmarket.crypto.JwtKeyFiles.in(
                java.nio.file.Path.of(System.getProperty("mkt.target", "target"), "test-jwt"));
        cfg.put("smallrye.jwt.sign.key.location", keys.signingKey().toAbsolutePath().toString());
        cfg.put("fedmarket.jwt.public-key-location", keys.publicKey().toAbsolutePath().toString());
        cfg.put("fedmarket.sqs.endpoint", sqsEndpoint);
        cfg.put("fedmarket.queue-url-prefix", sqsEndpoint + "/000000000000/");
        return cfg;
    }

    static java.nio.file.Path migrationsDir() {
        java.nio.file.Path source = java.nio.file.Path.of("../shared/src/main/resources/db/migration");
        if (java.nio.file.Files.isDirectory(source)) {
            return source; // the checkout's migrations: the source of truth, whatever any build folder holds
        }
        try {
            java.nio.file.Path src = java.nio.file.Path.of(Queues.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (java.nio.file.Files.isDirectory(src)) {
                return src.resolve("db/migration");
            }
            java.nio.file.Path out = java.nio.file.Files.createTempDirectory("fedmarket-migrations");
            try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(src.toFile())) {
                for (java.util.zip.ZipEntry e : java.util.Collections.list(zip.entries())) {
                    if (e.getName().startsWith("db/migration/") && e.getName().endsWith(".sql")) {
                        java.nio.file.Files.copy(zip.getInputStream(e), out.resolve(e.getName().substring("db/migration/".length())));
                    }
                }
            }
            return out;
        } catch (Exception e) {
            throw new IllegalStateException("cannot locate shared's db/migration: " + e.getMessage(), e);
        }
    }

    @Override
    public void stop() {
        if (sqs != null) {
            sqs.stopAndWait();
        }
    }
}
