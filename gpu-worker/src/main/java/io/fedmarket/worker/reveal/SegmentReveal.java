package io.fedmarket.worker.reveal;

import io.fedmarket.crypto.Ecies;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.MerkleTree;
import io.fedmarket.worker.data.local.DataCommitter;
import io.fedmarket.worker.data.local.LocalCommittedSet;
import io.fedmarket.worker.data.local.LocalSample;
import io.fedmarket.worker.train.BatchPlan;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The samples of one drawn segment of a private shard, handed by the data owner's worker to the drawn re-executor and to
 * nobody else: exactly the samples the segment's batches use (positions from the batch plan of seed and step, as the
 * trainer drew them), each with its Merkle proof against the committed root, sealed with {@link Ecies} to the
 * re-executor's key, the header (task, segment, steps, plan, root, recipient) bound as associated data. The re-executor
 * opens it, checks every position and proof, re-executes, and {@link Opened#wipe() wipes} the samples; nothing else of the
 * shard leaves its owner. The count of samples revealed, and to whom, is {@link #revealCount} before anything is sent.
 */
public final class SegmentReveal {
    /**
     * What a reveal is for. {@code recipient}: the re-executor's public key (hex of the 64 bytes x ‖ y); {@code sampleBytes}
     * the size of one sample (C·H·W for images, 4 × features for tabular data).
     */
    public record Header(String taskId, int segment, int fromStep, int toStep, int batch, long seed, String datasetRoot, int sampleCount,
                         int classes, int sampleBytes, String recipient) {
        public Header {
            if (fromStep < 0 || toStep <= fromStep || batch < 1 || sampleCount < batch || classes < 1 || sampleBytes < 1) {
                throw new IllegalArgumentException("reveal header: steps [" + fromStep + ", " + toStep + "), batch " + batch + ", "
                        + sampleCount + " samples, " + classes + " classes, " + sampleBytes + " bytes a sample do not make a segment");
            }
        }

        /** The associated data of the seal: a change of any field makes it fail to open. */
        byte[] associatedData() {
            String text = String.join("|", "fedmarket-reveal-v1", taskId, Integer.toString(segment), Integer.toString(fromStep),
                    Integer.toString(toStep), Integer.toString(batch), Long.toString(seed), datasetRoot.toLowerCase(java.util.Locale.ROOT),
                    Integer.toString(sampleCount), Integer.toString(classes), Integer.toString(sampleBytes), recipient.toLowerCase(java.util.Locale.ROOT));
            return Hashes.keccak256(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** A reveal the re-executor refuses: it does not open, is malformed, or a position or proof is wrong. */
    public static final class Rejected extends Exception {
        public Rejected(String m) {
            super(m);
        }
    }

    /** The opened samples by position, for the re-execution; {@link #wipe} when done. */
    public static final class Opened {
        private final Header header;
        private final Map<Integer, LocalSample> samples;

        Opened(Header header, Map<Integer, LocalSample> samples) {
            this.header = header;
            this.samples = samples;
        }

        public Header header() {
            return header;
        }

        public LocalSample sample(int position) {
            LocalSample s = samples.get(position);
            if (s == null) {
                throw new IllegalArgumentException("position " + position + " was not revealed for segment " + header.segment());
            }
            return s;
        }

        /** The revealed sample at {@code position}, or null when that position was not revealed. */
        public LocalSample revealedAt(int position) {
            return samples.get(position);
        }

        public int revealed() {
            return samples.size();
        }

        /** Overwrites every revealed sample's bytes and forgets them. */
        public void wipe() {
            for (LocalSample s : samples.values()) {
                Arrays.fill(s.bytes(), (byte) 0);
            }
            samples.clear();
        }
    }

    private SegmentReveal() {
    }

    /** The shard positions the batches of steps [from, to) use, ascending, each once. */
    public static int[] positions(Header h) {
        int[] all = new int[h.sampleCount()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        BatchPlan plan = new BatchPlan(all, h.batch(), h.seed());
        TreeSet<Integer> out = new TreeSet<>();
        for (int s = h.fromStep(); s < h.toStep(); s++) {
            for (int p : plan.batch(s)) {
                out.add(p);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** How many samples a reveal of this segment shows its recipient (at most segment length × batch, at most the shard). */
    public static int revealCount(Header h) {
        return positions(h).length;
    }

    /** The owner's side: seals exactly the segment's samples, with their proofs, to the header's recipient. */
    public static byte[] seal(Header h, LocalCommittedSet data) {
        if (!data.commitment().datasetRoot().equalsIgnoreCase(h.datasetRoot()) || data.size() != h.sampleCount()) {
            throw new IllegalArgumentException("the reveal names root " + h.datasetRoot() + " of " + h.sampleCount() + " samples, this worker holds "
                    + data.commitment().datasetRoot() + " of " + data.size());
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buf)) {
            int[] pos = positions(h);
            out.writeInt(pos.length);
            for (int p : pos) {
                LocalSample s = data.sample(p);
                List<byte[]> proof = data.proof(p);
                out.writeInt(p);
                out.writeInt(s.label());
                out.writeInt(s.bytes().length);
                out.write(s.bytes());
                out.writeShort(proof.size());
                for (byte[] node : proof) {
                    out.write(node);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        byte[] plain = buf.toByteArray();
        try {
            return Ecies.encrypt(new BigInteger(1, Hashes.fromHex(h.recipient())), plain, h.associatedData());
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
    }

    /** The re-executor's side: opens with its private key and checks every position and proof against the header. */
    public static Opened open(byte[] sealed, Header h, BigInteger privateKey) throws Rejected {
        byte[] plain;
        try {
            plain = Ecies.decrypt(privateKey, sealed, h.associatedData());
        } catch (Ecies.DecryptionFailed e) {
            throw new Rejected("the reveal of segment " + h.segment() + " of " + h.taskId() + " does not open: " + e.getMessage());
        }
        byte[] root = Hashes.fromHex32(h.datasetRoot());
        int[] expected = positions(h);
        Map<Integer, LocalSample> got = new TreeMap<>();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(plain))) {
            int n = in.readInt();
            if (n != expected.length) {
                throw new Rejected("the reveal of segment " + h.segment() + " holds " + n + " samples, its batches use " + expected.length);
            }
            for (int k = 0; k < n; k++) {
                int p = in.readInt();
                int label = in.readInt();
                int len = in.readInt();
                if (p != expected[k]) {
                    throw new Rejected("sample " + k + " of the reveal is at position " + p + ", the segment's batches use position " + expected[k]
                            + " there (positions follow from seed " + h.seed() + " and the steps)");
                }
                if (label < 0 || label >= h.classes() || len != h.sampleBytes()) {
                    throw new Rejected("the sample at position " + p + " has label " + label + " and " + len + " bytes; the shard has "
                            + h.classes() + " classes and " + h.sampleBytes() + " bytes a sample");
                }
                byte[] bytes = in.readNBytes(len);
                int depth = in.readUnsignedShort();
                if (bytes.length != len || depth > 64) {
                    throw new Rejected("the reveal is truncated or malformed at position " + p);
                }
                List<byte[]> proof = new ArrayList<>(depth);
                for (int d = 0; d < depth; d++) {
                    byte[] node = in.readNBytes(32);
                    if (node.length != 32) {
                        throw new Rejected("the reveal is truncated at the proof of position " + p);
                    }
                    proof.add(node);
                }
                if (!MerkleTree.verify(proof, root, DataCommitter.leaf(p, label, h.classes(), bytes))) {
                    throw new Rejected("the sample at position " + p + " does not prove against the committed root " + h.datasetRoot()
                            + ": it is not the committed sample of that position");
                }
                got.put(p, new io.fedmarket.worker.data.local.LocalSample(label, h.classes(), bytes, "revealed position " + p));
            }
            if (in.available() > 0) {
                throw new Rejected("the reveal holds " + in.available() + " bytes after its last sample");
            }
        } catch (IOException e) {
            throw new Rejected("the reveal is truncated or malformed: " + e.getMessage());
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
        return new Opened(h, got);
    }
}
