package io.fedmarket.worker.data.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.MerkleTree;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A data owner's commitment to a local data set, computed on the owner's machine: one leaf per sample,
 * {@code keccak256(position:uint32 ‖ label ‖ sample bytes)} (the position in the reader's order, 0-based; the label one byte
 * when there are at most 256 classes, else two bytes big-endian), the Merkle root over the leaves in that order (the tree
 * of {@link MerkleTree#of}), the count and the label histogram. The position is inside the leaf because the tree hashes
 * sorted pairs, so a proof alone shows membership, not place: when the owner later reveals the samples of a drawn
 * segment, each must be the sample at the position the batch plan (seed, step) names, not any committed one. Only these (and the shape and class names) go into a data offer;
 * the samples and the leaves stay where they are. The leaves are kept next to the data ({@code .fedmarket/leaves.bin},
 * 32 bytes each, in order; beside a data file: {@code .fedmarket/FILE/}) so that the owner's worker can later prove any sample against the root without hashing the
 * data set again.
 */
public final class DataCommitter {
    /** The folder, next to the data (inside an image or IDX folder, beside a CSV file), that keeps the commitment and leaves. */
    public static final String STATE_DIR = ".fedmarket";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** What leaves the owner's machine (in a data offer), and how it was computed. */
    public record Commitment(String format, List<Integer> shape, List<String> classes, long sampleCount, Map<String, Long> labelHistogram,
                             String datasetRoot, String leafRule, String committedAt, List<String> notes, String labelColumn, List<String> features) {
        /** How to read the data set again exactly as it was committed. */
        public LocalDataSpec spec(Path path) {
            return new LocalDataSpec(LocalFormat.parse(format), path, format.equals("csv") ? null : shape, labelColumn, features, classes);
        }
    }

    private DataCommitter() {
    }

    public static byte[] leaf(int position, int label, int classes, byte[] bytes) {
        byte[] p = {(byte) (position >>> 24), (byte) (position >>> 16), (byte) (position >>> 8), (byte) position};
        byte[] l = classes <= 256 ? new byte[] {(byte) label} : new byte[] {(byte) (label >>> 8), (byte) label};
        return Hashes.keccak256(p, l, bytes);
    }

    /** Reads the data set, commits to it and writes the commitment and leaves under {@link #stateDir}; nothing is written on a problem. */
    public static Commitment commit(LocalDataSpec spec, Consumer<String> progress) {
        List<byte[]> leaves = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        LocalDataReader.Result r = LocalDataReader.read(spec, s -> {
            leaves.add(leaf(leaves.size(), s.label(), s.classes(), s.bytes()));
            labels.add(s.label());
        }, progress);
        int k = r.classes().size();
        long[] hist = new long[k];
        for (int y : labels) {
            hist[y]++;
        }
        byte[] root = MerkleTree.of(leaves).root();
        Map<String, Long> histogram = new LinkedHashMap<>();
        for (int i = 0; i < k; i++) {
            histogram.put(r.classes().get(i), hist[i]);
        }
        Commitment c = new Commitment(r.format().name().toLowerCase(java.util.Locale.ROOT), r.shape(), r.classes(), r.count(), histogram,
                Hashes.hex(root), k <= 256 ? "keccak256(position:uint32 ‖ label:uint8 ‖ sample bytes)" : "keccak256(position:uint32 ‖ label:uint16 ‖ sample bytes)",
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), r.notes(), spec.labelColumn(),
                r.format() == LocalFormat.CSV ? r.featureNames() : null);
        write(spec, c, leaves);
        return c;
    }

    /** Where the commitment of {@code spec}'s data set is kept. */
    public static Path stateDir(LocalDataSpec spec) {
        return stateDir(spec.path());
    }

    /** {@code DIR/.fedmarket} for a folder, {@code DIR/.fedmarket/FILE} for a file (two CSV files side by side keep apart). */
    public static Path stateDir(Path p) {
        return Files.isDirectory(p) ? p.resolve(STATE_DIR) : p.toAbsolutePath().getParent().resolve(STATE_DIR).resolve(p.getFileName().toString());
    }

    private static void write(LocalDataSpec spec, Commitment c, List<byte[]> leaves) {
        Path dir = stateDir(spec);
        try {
            Files.createDirectories(dir);
            Path tmpLeaves = Files.createTempFile(dir, "leaves", ".tmp");
            byte[] all = new byte[32 * leaves.size()];
            for (int i = 0; i < leaves.size(); i++) {
                System.arraycopy(leaves.get(i), 0, all, 32 * i, 32);
            }
            Files.write(tmpLeaves, all);
            Path tmpJson = Files.createTempFile(dir, "commitment", ".tmp");
            JSON.writeValue(tmpJson.toFile(), c);
            // leaves first: a commitment on disk always has its leaves
            Files.move(tmpLeaves, dir.resolve("leaves.bin"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmpJson, dir.resolve("commitment.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the commitment under " + dir + " (" + e.getMessage() + "); is the folder writable?", e);
        }
    }
}
