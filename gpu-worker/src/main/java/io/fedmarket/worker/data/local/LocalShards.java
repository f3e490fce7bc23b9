package io.fedmarket.worker.data.local;

import io.fedmarket.messages.DataSource;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.worker.data.ImageData;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The private data sets this worker holds ({@code FEDMARKET_LOCAL_DATA}), each loaded once and checked sample by sample
 * against its commitment ({@link LocalCommittedSet#load}), by committed root. A task of private data names its root; the
 * worker trains it from here, and only from here: the samples never go to the bucket, a queue or a log. Only a drawn
 * segment's samples leave, sealed to the drawn re-executor ({@link io.fedmarket.worker.reveal.SegmentReveal}).
 */
public final class LocalShards {
    /** A worker that holds no private data. */
    public static final LocalShards NONE = new LocalShards(Map.of());

    private final Map<String, Held> byRoot;

    /** One data set: its committed set and the samples as the trainer reads them. */
    public record Held(Path path, LocalCommittedSet set, ImageData data) {
    }

    private LocalShards(Map<String, Held> byRoot) {
        this.byRoot = byRoot;
    }

    /** Loads and checks every data set; a data set that is not committed, or changed since, stops the worker with what to do. */
    public static LocalShards load(List<Path> paths, Consumer<String> log) {
        if (paths == null || paths.isEmpty()) {
            return NONE;
        }
        Map<String, Held> m = new LinkedHashMap<>();
        for (Path p : paths) {
            LocalCommittedSet set = LocalCommittedSet.load(p);
            String root = set.commitment().datasetRoot().toLowerCase(Locale.ROOT);
            if (m.containsKey(root)) {
                throw new IllegalArgumentException("FEDMARKET_LOCAL_DATA names two data sets with the same root " + root + ": " + m.get(root).path() + " and " + p);
            }
            m.put(root, new Held(p, set, imageData(p, set)));
            log.accept("holds private data set " + p + ": " + set.size() + " samples, root " + root);
        }
        return new LocalShards(Map.copyOf(m));
    }

    /** Paths from {@code FEDMARKET_LOCAL_DATA}: separated by the platform's path separator ({@code :}). */
    public static List<Path> parsePaths(String setting) {
        List<Path> out = new ArrayList<>();
        if (setting == null || setting.isBlank()) {
            return out;
        }
        for (String s : setting.split(java.io.File.pathSeparator)) {
            if (!s.isBlank()) {
                out.add(Path.of(s.trim()));
            }
        }
        return out;
    }

    public Set<String> roots() {
        return byRoot.keySet();
    }

    public Optional<Held> get(String root) {
        return root == null ? Optional.empty() : Optional.ofNullable(byRoot.get(root.toLowerCase(Locale.ROOT)));
    }

    /** Whether this worker can train {@code t}: open data always, private data when it holds the root. */
    public boolean holds(TrainTask t) {
        return !t.isPrivate() || get(t.shardCommitment()).isPresent();
    }

    /**
     * The held data set of private task {@code t}, checked to be what the task's dataset names (shape and classes): the
     * samples in committed order, as {@link ImageData} (8-bit images, or float32 features for tabular data).
     */
    public Held forTask(TrainTask t) {
        Held h = get(t.shardCommitment()).orElseThrow(() -> new IllegalStateException("task " + t.taskId() + " trains the private data set with root "
                + t.shardCommitment() + ", and this worker holds no data set with that root (it holds " + roots() + "; FEDMARKET_LOCAL_DATA names them)"));
        List<Integer> shape = DataSource.sampleShape(t.dataset()).orElseThrow(() -> new IllegalArgumentException("task " + t.taskId() + ": dataset "
                + t.dataset() + " is not private:SHAPE:K"));
        int classes = DataSource.classes(t.dataset()).getAsInt();
        DataCommitter.Commitment c = h.set().commitment();
        if (!c.shape().equals(shape) || c.classes().size() != classes) {
            throw new IllegalArgumentException("task " + t.taskId() + " names " + t.dataset() + ", the held data set " + h.path() + " is "
                    + c.shape() + " with " + c.classes().size() + " classes");
        }
        return h;
    }

    /** The samples of a committed set as the trainer reads them. */
    static ImageData imageData(Path p, LocalCommittedSet set) {
        return imageData("private:" + p.getFileName(), set.commitment().shape(), set.size(), set::sample);
    }

    /**
     * {@code n} samples of {@code shape} (CxHxW: 8-bit values; F: float32 features) as the trainer reads them, sample {@code i}
     * from {@code at} (null: left zero, a position a re-executor was not shown and never reads).
     */
    public static ImageData imageData(String name, List<Integer> shape, int n, java.util.function.IntFunction<LocalSample> at) {
        boolean floats = shape.size() == 1;
        int rows = floats ? 1 : shape.get(0) * shape.get(1);
        int cols = floats ? shape.get(0) : shape.get(2);
        int per = rows * cols * (floats ? 4 : 1);
        byte[] all = new byte[per * n];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            LocalSample s = at.apply(i);
            if (s != null) {
                System.arraycopy(s.bytes(), 0, all, i * per, per);
                labels[i] = s.label();
            }
        }
        return new ImageData(name, all, labels, rows, cols, floats);
    }
}
