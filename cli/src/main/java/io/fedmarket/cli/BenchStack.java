package io.fedmarket.cli;

import io.fedmarket.config.StackEndpoints;
import io.fedmarket.infra.local.LocalStack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The stack a benchmark runs against: the running one (./mkt up, or MKT_ENDPOINTS), else one of its own (SQS and S3 in
 * this process, in a temporary folder), which {@link #close()} stops and removes, like the demo's: no process is left
 * behind either way.
 */
final class BenchStack implements AutoCloseable {
    private static final String ENDPOINTS_PROPERTY = "mkt.endpoints";

    private final LocalStack own;
    private final Path dir;
    private final String previousProperty;

    private BenchStack(LocalStack own, Path dir, String previousProperty) {
        this.own = own;
        this.dir = dir;
        this.previousProperty = previousProperty;
    }

    /** True when this benchmark run brought its own stack (none was running). */
    boolean ownStack() {
        return own != null;
    }

    /** The running stack, or a new one of this process's own when none runs. */
    static BenchStack acquire(Consumer<String> progress) {
        if (runningStack().isPresent()) {
            return new BenchStack(null, null, null);
        }
        progress.accept("bench: no local stack is running: starting one of its own (SQS, S3); it stops when the benchmark ends");
        Path dir;
        try {
            dir = Files.createTempDirectory("mkt-bench-stack-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a folder for the benchmark's stack", e);
        }
        LocalStack stack = LocalStack.builder().dataDir(dir).evm(false).postgres(false)
                .progress(l -> progress.accept("          " + l.strip())).start();
        Path file = dir.resolve(StackEndpoints.FILE_NAME);
        stack.endpoints().write(file);
        String previous = System.getProperty(ENDPOINTS_PROPERTY);
        System.setProperty(ENDPOINTS_PROPERTY, file.toString());
        return new BenchStack(stack, dir, previous);
    }

    /**
     * The endpoints file of a stack that is running now: MKT_ENDPOINTS as given (the user says so), else ./mkt up's
     * file when the process in its stack.pid is alive (a stack that died leaves its file behind).
     */
    static Optional<Path> runningStack() {
        String env = System.getenv("MKT_ENDPOINTS");
        if (env != null && !env.isBlank()) {
            return Optional.of(Path.of(env)).filter(Files::isRegularFile);
        }
        Optional<Path> file = StackEndpoints.findFile().filter(Files::isRegularFile);
        if (file.isEmpty()) {
            return file;
        }
        Path pid = file.get().resolveSibling("stack.pid");
        if (!Files.isRegularFile(pid)) {
            return Optional.empty();
        }
        try (Stream<String> lines = Files.lines(pid)) {
            long main = Long.parseLong(lines.findFirst().orElse("").strip());
            return ProcessHandle.of(main).filter(ProcessHandle::isAlive).isPresent() ? file : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        if (own == null) {
            return;
        }
        try {
            own.close();
        } finally {
            if (previousProperty == null) {
                System.clearProperty(ENDPOINTS_PROPERTY);
            } else {
                System.setProperty(ENDPOINTS_PROPERTY, previousProperty);
            }
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                System.err.println("bench: could not remove " + dir + " (" + e.getMessage() + ")");
            }
        }
    }
}
