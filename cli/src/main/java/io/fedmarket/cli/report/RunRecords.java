package io.fedmarket.cli.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The run's records as JSON next to the report, for tests and for anyone re-plotting. */
public final class RunRecords {
    private RunRecords() {
    }

    public static void write(DemoRun run, Path file) {
        try {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), run);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static DemoRun read(Path file) {
        try {
            return new ObjectMapper().readValue(file.toFile(), DemoRun.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
