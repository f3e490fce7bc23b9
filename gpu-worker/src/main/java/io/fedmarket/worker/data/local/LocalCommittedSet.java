package io.fedmarket.worker.data.local;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.MerkleTree;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A committed local data set as its owner's worker holds it: the samples read again from the data and checked, one by one,
 * against the leaves kept at commit time, and those against the committed root. A data set that changed since it was
 * committed (a file edited, added or removed) is refused, naming the first sample that differs: the owner's worker never
 * trains on, or reveals, data other than what its offer commits to.
 */
public final class LocalCommittedSet {
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final DataCommitter.Commitment commitment;
    private final List<LocalSample> samples;
    private final MerkleTree tree;

    private LocalCommittedSet(DataCommitter.Commitment commitment, List<LocalSample> samples, MerkleTree tree) {
        this.commitment = commitment;
        this.samples = samples;
        this.tree = tree;
    }

    /** Loads the data set at {@code path} (as given to {@code mkt data commit}) and checks it against its commitment. */
    public static LocalCommittedSet load(Path path) {
        Path state = DataCommitter.stateDir(path);
        DataCommitter.Commitment c;
        byte[] raw;
        try {
            c = JSON.readValue(state.resolve("commitment.json").toFile(), DataCommitter.Commitment.class);
            raw = Files.readAllBytes(state.resolve("leaves.bin"));
        } catch (IOException e) {
            throw new IllegalStateException(path + " has no readable commitment under " + state + " (" + e.getMessage()
                    + "): commit it first with mkt data commit " + path + " --format …", e);
        }
        if (raw.length != 32L * c.sampleCount()) {
            throw new IllegalStateException(state.resolve("leaves.bin") + " holds " + raw.length / 32 + " leaves, the commitment counts "
                    + c.sampleCount() + ": commit the data set again");
        }
        List<byte[]> leaves = new ArrayList<>((int) c.sampleCount());
        for (int i = 0; i < c.sampleCount(); i++) {
            leaves.add(Arrays.copyOfRange(raw, 32 * i, 32 * i + 32));
        }
        MerkleTree tree = MerkleTree.of(leaves);
        if (!tree.rootHex().equalsIgnoreCase(c.datasetRoot())) {
            throw new IllegalStateException(state + ": the kept leaves make root " + tree.rootHex() + ", the commitment says " + c.datasetRoot()
                    + ": commit the data set again");
        }
        List<LocalSample> samples = new ArrayList<>((int) c.sampleCount());
        int classes = c.classes().size();
        LocalDataReader.read(c.spec(path), s -> {
            int i = samples.size();
            if (i >= leaves.size() || !Arrays.equals(DataCommitter.leaf(i, s.label(), classes, s.bytes()), leaves.get(i))) {
                throw new IllegalStateException(path + " changed since it was committed: sample " + i + " (" + s.origin() + ") "
                        + (i >= leaves.size() ? "is new" : "differs from the committed one")
                        + "; train and reveal only committed data: restore it, or commit again and offer the new root");
            }
            samples.add(s);
        }, m -> { });
        if (samples.size() != c.sampleCount()) {
            throw new IllegalStateException(path + " changed since it was committed: " + samples.size() + " samples now, " + c.sampleCount()
                    + " committed; restore it, or commit again and offer the new root");
        }
        return new LocalCommittedSet(c, List.copyOf(samples), tree);
    }

    public DataCommitter.Commitment commitment() {
        return commitment;
    }

    public int size() {
        return samples.size();
    }

    public LocalSample sample(int position) {
        return samples.get(position);
    }

    public List<byte[]> proof(int position) {
        return tree.proof(position);
    }

    public byte[] root() {
        return Hashes.fromHex32(commitment.datasetRoot());
    }
}
