package io.fedmarket.infra.local;

import io.fedmarket.config.Ports;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The stack's PostgreSQL: {@code DATABASE_URL} if given; else the machine's server on 127.0.0.1:5432
 * if it answers; else an embedded PostgreSQL (binaries from Maven Central) started by the project.
 * The marketplace database is created when missing and migrated by Flyway from {@code db/migration}.
 */
final class PostgresServer implements AutoCloseable {
    enum Source { DATABASE_URL, MACHINE, EMBEDDED }

    private final Source source;
    private final String host;
    private final int port;
    private final String database;
    private final String user;
    private final String password;
    private final EmbeddedPostgres embedded;
    private final int migrationsApplied;

    PostgresServer(String databaseUrl, String databaseName, int machinePort, int embeddedPort, Path dataDir) {
        this(databaseUrl, databaseName, machinePort, embeddedPort, dataDir, false);
    }

    PostgresServer(String databaseUrl, String databaseName, int machinePort, int embeddedPort, Path dataDir, boolean fresh) {
        if (databaseUrl != null && !databaseUrl.isBlank()) {
            URI uri = URI.create(databaseUrl.replaceFirst("^jdbc:", "").replaceFirst("^postgresql:", "postgres:"));
            String[] userInfo = uri.getUserInfo() == null ? new String[] {"postgres"} : uri.getUserInfo().split(":", 2);
            source = Source.DATABASE_URL;
            host = uri.getHost();
            port = uri.getPort() > 0 ? uri.getPort() : 5432;
            database = uri.getPath() == null || uri.getPath().length() <= 1 ? databaseName : uri.getPath().substring(1);
            user = userInfo[0];
            password = userInfo.length > 1 ? userInfo[1] : "";
            embedded = null;
        } else if (Ports.answers(machinePort, 500)) {
            source = Source.MACHINE;
            host = "127.0.0.1";
            port = machinePort;
            database = databaseName;
            user = System.getenv().getOrDefault("PGUSER", "postgres");
            password = System.getenv().getOrDefault("PGPASSWORD", "");
            embedded = null;
        } else {
            source = Source.EMBEDDED;
            int p = Ports.claim("embedded PostgreSQL", embeddedPort, "--pg-port");
            try {
                embedded = EmbeddedPostgres.builder().setPort(p)
                        .setDataDirectory(dataDir.resolve("postgres")).setCleanDataDirectory(false)
                        .setServerConfig("listen_addresses", "127.0.0.1").start();
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("no PostgreSQL: nothing answers on 127.0.0.1:" + machinePort
                        + " and the embedded one failed to start (" + e.getMessage() + "). Provide one: set DATABASE_URL=postgres://user:pass@host:5432/db,"
                        + " or start the machine's server (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start),"
                        + " or install it (apt-get install -y postgresql)", e);
            }
            host = "127.0.0.1";
            port = p;
            database = databaseName;
            user = "postgres";
            password = "";
        }
        if (source != Source.DATABASE_URL) {
            if (fresh) {
                dropDatabase();
            }
            createDatabaseIfMissing();
        }
        MigrateResult result = Flyway.configure().dataSource(jdbcUrl(), user, password)
                .locations("classpath:db/migration").load().migrate();
        migrationsApplied = result.migrationsExecuted;
    }

    private void dropDatabase() {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/postgres", user, password);
             Statement st = c.createStatement()) {
            st.execute("drop database if exists \"" + database.replace("\"", "") + "\" with (force)");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop database " + database + " on " + host + ":" + port + " as " + user + ": " + e.getMessage(), e);
        }
    }

    private void createDatabaseIfMissing() {
        String adminUrl = "jdbc:postgresql://" + host + ":" + port + "/postgres";
        try (Connection c = DriverManager.getConnection(adminUrl, user, password);
             Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select 1 from pg_database where datname = '" + database.replace("'", "''") + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            st.execute("create database \"" + database.replace("\"", "") + "\"");
        } catch (SQLException e) {
            if ("42P04".equals(e.getSQLState())) {
                return; // created concurrently by another process
            }
            throw new IllegalStateException("cannot create database " + database + " on " + host + ":" + port
                    + " as " + user + ": " + e.getMessage() + " (set DATABASE_URL to a database you may use)", e);
        }
    }

    Source source() {
        return source;
    }

    int migrationsApplied() {
        return migrationsApplied;
    }

    String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    String reactiveUrl() {
        return "postgresql://" + host + ":" + port + "/" + database;
    }

    String user() {
        return user;
    }

    String password() {
        return password;
    }

    /** {@code select 1}: a health check that goes through the server. */
    boolean healthy() {
        try (Connection c = DriverManager.getConnection(jdbcUrl(), user, password);
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select 1")) {
            return rs.next() && rs.getInt(1) == 1;
        } catch (SQLException e) {
            return false;
        }
    }

    @Override
    public void close() {
        if (embedded != null) {
            try {
                embedded.close();
            } catch (IOException e) {
                throw new IllegalStateException("cannot stop the embedded PostgreSQL", e);
            }
        }
    }
}
