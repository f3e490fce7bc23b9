package io.fedmarket.worker.train;

import io.fedmarket.messages.TrainTask;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * FAULT INJECTION for the demo's attrition fault, never for production: {@code FEDMARKET_FAULT_HOLD=file:/path}. While
 * that file exists and holds a round number r, a worker that has durably recorded the first checkpoint of a task of
 * round r waits there until the file is removed (at most {@link #MAX_WAIT}). A task of the demo takes well under a second,
 * so without the hold a harness that kills "the workers training round r's tasks" races the training and, on a fast
 * machine, finds nobody mid-task; with it, every worker that took such a task is provably mid-task (its progress record
 * and checkpoint are in the bucket) when the harness kills it. The hold changes nothing about what is trained or
 * proven: the worker goes on exactly where it paused.
 */
public final class CheckpointHold {
    public static final CheckpointHold NONE = new CheckpointHold(null, Duration.ZERO);
    static final Duration MAX_WAIT = Duration.ofSeconds(60);

    private final Path file;
    private final Duration maxWait;

    CheckpointHold(Path file, Duration maxWait) {
        this.file = file;
        this.maxWait = maxWait;
    }

    /** {@code none}, unset or {@code file:/path}; anything else is a configuration error that says what to write. */
    public static CheckpointHold parse(String setting) {
        if (setting == null || setting.isBlank() || setting.equals("none")) {
            return NONE;
        }
        if (!setting.startsWith("file:") || setting.length() == 5) {
            throw new IllegalArgumentException("FEDMARKET_FAULT_HOLD '" + setting + "': use file:/path (a file holding a round number) or none");
        }
        return new CheckpointHold(Path.of(setting.substring(5)), MAX_WAIT);
    }

    /** Whether a task of this round must pause at its first durable checkpoint right now. */
    boolean applies(TrainTask task) {
        if (file == null) {
            return false;
        }
        try {
            return Files.isRegularFile(file) && Files.readString(file).trim().equals(String.valueOf(task.round()));
        } catch (IOException e) {
            return false; // removed between the two calls: the hold is over
        }
    }

    /** Waits while the file is there (at most the maximum wait), then returns: the task goes on where it paused. */
    void await(TrainTask task, int step) {
        System.err.println("FAULT INJECTION hold: task " + task.taskId() + " paused at its durable checkpoint of step " + step
                + " until " + file + " is removed");
        long end = System.nanoTime() + maxWait.toNanos();
        while (Files.exists(file) && System.nanoTime() < end) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
