package io.fedmarket.worker.bench;

import io.fedmarket.infra.local.LocalStack;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs {@link TrainBenchmark} against a throw-away local stack (ElasticMQ + s3proxy) started in
 * this JVM, for measuring without {@code ./mkt up}. Same arguments as TrainBenchmark.
 */
public final class TrainBenchmarkOnLocalStack {
    private TrainBenchmarkOnLocalStack() {
    }

    public static void main(String[] args) throws Exception {
        TrainBenchmark.timeToFirstStep(); // before the stack starts, so it is not counted
        Path dir = Files.createTempDirectory("train-bench-stack");
        try (LocalStack stack = LocalStack.builder().dataDir(dir).sqs(true).s3(true).evm(false).postgres(false)
                .progress(s -> { }).start()) {
            Path file = dir.resolve("endpoints.json");
            stack.endpoints().write(file);
            System.setProperty("mkt.endpoints", file.toString());
            TrainBenchmark.run(args);
        }
    }
}
