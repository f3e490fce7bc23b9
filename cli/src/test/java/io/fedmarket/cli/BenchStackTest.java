package io.fedmarket.cli;

import io.fedmarket.config.StackEndpoints;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** A benchmark that needs the stack and finds none starts one of its own, and leaves nothing behind when it ends. */
class BenchStackTest {

    static boolean answers(String endpoint) {
        URI u = URI.create(endpoint);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(u.getHost(), u.getPort()), 1000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void withNoStackRunningABenchmarkGetsItsOwnAndItIsGoneAfterwards() {
        assumeThat(BenchStack.runningStack()).as("a stack of ./mkt up is running here; the benchmark would use it").isEmpty();
        Set<Long> childrenBefore = ProcessHandle.current().children().map(ProcessHandle::pid).collect(Collectors.toSet());
        List<String> progress = new ArrayList<>();
        Path file;
        StackEndpoints ep;
        try (BenchStack stack = BenchStack.acquire(progress::add)) {
            assertThat(stack.ownStack()).isTrue();
            // what the benchmark (and the worker inside it) finds: this stack's endpoints
            file = StackEndpoints.findFile().orElseThrow();
            assertThat(file).isRegularFile();
            ep = StackEndpoints.locate();
            assertThat(answers(ep.sqs().endpoint())).as("SQS of the benchmark's stack answers").isTrue();
            assertThat(answers(ep.s3().endpoint())).as("S3 of the benchmark's stack answers").isTrue();
        }
        assertThat(progress.getFirst()).contains("no local stack is running").contains("starting one of its own");
        assertThat(answers(ep.sqs().endpoint())).as("SQS stopped").isFalse();
        assertThat(answers(ep.s3().endpoint())).as("S3 stopped").isFalse();
        assertThat(Files.exists(file.getParent())).as("its folder removed").isFalse();
        assertThat(System.getProperty("mkt.endpoints")).isNull();
        Set<Long> childrenAfter = ProcessHandle.current().children().filter(ProcessHandle::isAlive).map(ProcessHandle::pid)
                .collect(Collectors.toSet());
        assertThat(childrenAfter).as("no process left behind").isSubsetOf(childrenBefore);
    }
}
