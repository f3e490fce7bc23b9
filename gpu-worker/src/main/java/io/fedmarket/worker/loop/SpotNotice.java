package io.fedmarket.worker.loop;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Watches for a spot interruption notice once a second: {@code imds} (EC2 IMDSv2
 * {@code spot/instance-action}: 200 = notice, 404 = none), {@code file:/path} (the file exists)
 * or an {@code http(s)://} URL (200 with a body). {@code none} never fires.
 */
public final class SpotNotice implements AutoCloseable {
    private static final String IMDS = "http://169.254.169.254";
    private final String source;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    private final Thread watcher;
    private volatile boolean closed;

    public SpotNotice(String source) {
        this.source = source == null || source.isBlank() ? "none" : source;
        if (!this.source.equals("none") && !this.source.equals("imds") && !this.source.startsWith("file:")
                && !this.source.startsWith("http://") && !this.source.startsWith("https://")) {
            throw new IllegalArgumentException("FEDMARKET_SPOT_NOTICE '" + source + "': use imds, file:/path, http(s)://url or none");
        }
        this.watcher = Thread.ofPlatform().daemon().name("spot-notice").unstarted(this::watch);
        if (!this.source.equals("none")) {
            watcher.start();
        }
    }

    public boolean pending() {
        return pending.get();
    }

    private void watch() {
        while (!closed && !pending.get()) {
            try {
                if (check()) {
                    pending.set(true);
                    System.err.println("spot interruption notice from " + source + ": checkpointing and releasing the task");
                    return;
                }
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                // IMDS or the URL may be briefly unreachable; a missed poll is retried a second later
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private boolean check() throws Exception {
        if (source.startsWith("file:")) {
            return Files.exists(Path.of(source.substring(5)));
        }
        if (source.equals("imds")) {
            String token = http.send(HttpRequest.newBuilder(URI.create(IMDS + "/latest/api/token"))
                    .header("X-aws-ec2-metadata-token-ttl-seconds", "60").timeout(Duration.ofSeconds(1))
                    .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).body();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(IMDS + "/latest/meta-data/spot/instance-action"))
                    .header("X-aws-ec2-metadata-token", token).timeout(Duration.ofSeconds(1)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200;
        }
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(source)).timeout(Duration.ofSeconds(1)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 && !r.body().isBlank();
    }

    @Override
    public void close() {
        closed = true;
        watcher.interrupt();
    }
}
