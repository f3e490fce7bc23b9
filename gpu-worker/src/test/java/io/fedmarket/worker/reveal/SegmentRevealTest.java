package io.fedmarket.worker.reveal;

import io.fedmarket.crypto.Ecies;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.worker.data.local.DataCommitter;
import io.fedmarket.worker.data.local.LocalCommittedSet;
import io.fedmarket.worker.data.local.LocalDataSpec;
import io.fedmarket.worker.train.BatchPlan;
import org.bouncycastle.util.BigIntegers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A private shard's segment revealed to its drawn re-executor only, sample by sample provably the committed ones. */
class SegmentRevealTest {
    static Path csv(Path dir, int rows) throws Exception {
        Path f = dir.resolve("private.csv");
        StringBuilder b = new StringBuilder("f0,f1,f2,label\n");
        for (int i = 0; i < rows; i++) {
            b.append(i).append(',').append(i * 0.5).append(',').append(100 - i).append(',').append(i % 4).append('\n');
        }
        Files.writeString(f, b);
        return f;
    }

    static String hex(ECKeyPair k) {
        return Hashes.hex(BigIntegers.asUnsignedByteArray(64, k.getPublicKey()));
    }

    static SegmentReveal.Header header(LocalCommittedSet data, int segment, int from, int to, ECKeyPair recipient) {
        return new SegmentReveal.Header("task-1", segment, from, to, 5, 42L, data.commitment().datasetRoot(), data.size(), 4, 12, hex(recipient));
    }

    @Test
    void theDrawnReExecutorGetsExactlyTheSegmentsCommittedSamplesAndNobodyElseOpensThem(@TempDir Path dir) throws Exception {
        Path f = csv(dir, 60);
        DataCommitter.commit(LocalDataSpec.csv(f, "label"), m -> { });
        LocalCommittedSet data = LocalCommittedSet.load(f);
        ECKeyPair reexecutor = Keys.createEcKeyPair();
        ECKeyPair other = Keys.createEcKeyPair();
        SegmentReveal.Header h = header(data, 1, 4, 8, reexecutor);

        int[] all = java.util.stream.IntStream.range(0, 60).toArray();
        BatchPlan plan = new BatchPlan(all, 5, 42L);
        TreeSet<Integer> used = new TreeSet<>();
        for (int s = 4; s < 8; s++) {
            for (int p : plan.batch(s)) {
                used.add(p);
            }
        }
        assertThat(SegmentReveal.positions(h)).containsExactly(used.stream().mapToInt(Integer::intValue).toArray());
        assertThat(SegmentReveal.revealCount(h)).isEqualTo(used.size()).isLessThanOrEqualTo(4 * 5);

        byte[] sealed = SegmentReveal.seal(h, data);
        SegmentReveal.Opened opened = SegmentReveal.open(sealed, h, reexecutor.getPrivateKey());
        assertThat(opened.revealed()).isEqualTo(used.size());
        for (int p : used) {
            assertThat(opened.sample(p).bytes()).isEqualTo(data.sample(p).bytes());
            assertThat(opened.sample(p).label()).isEqualTo(data.sample(p).label());
        }
        int notUsed = java.util.stream.IntStream.range(0, 60).filter(p -> !used.contains(p)).findFirst().orElseThrow();
        assertThatThrownBy(() -> opened.sample(notUsed)).hasMessageContaining("was not revealed");
        byte[] kept = opened.sample(used.first()).bytes();
        opened.wipe();
        assertThat(kept).containsOnly((byte) 0);
        assertThat(opened.revealed()).isZero();

        // not for anyone else, and not for another segment or step range
        assertThatThrownBy(() -> SegmentReveal.open(sealed, h, other.getPrivateKey())).isInstanceOf(SegmentReveal.Rejected.class)
                .hasMessageContaining("does not open");
        assertThatThrownBy(() -> SegmentReveal.open(sealed, header(data, 2, 4, 8, reexecutor), reexecutor.getPrivateKey()))
                .isInstanceOf(SegmentReveal.Rejected.class);
        assertThatThrownBy(() -> SegmentReveal.open(sealed, header(data, 1, 4, 9, reexecutor), reexecutor.getPrivateKey()))
                .isInstanceOf(SegmentReveal.Rejected.class);
    }

    /** What a lying owner could send: chosen items under a valid seal. */
    static byte[] forged(SegmentReveal.Header h, ECKeyPair to, List<int[]> positionsAndSources, LocalCommittedSet data, boolean dropLast) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buf)) {
            int n = positionsAndSources.size() - (dropLast ? 1 : 0);
            out.writeInt(n);
            for (int k = 0; k < n; k++) {
                int p = positionsAndSources.get(k)[0];
                int src = positionsAndSources.get(k)[1];
                out.writeInt(p);
                out.writeInt(data.sample(src).label());
                out.writeInt(data.sample(src).bytes().length);
                out.write(data.sample(src).bytes());
                List<byte[]> proof = data.proof(src);
                out.writeShort(proof.size());
                for (byte[] node : proof) {
                    out.write(node);
                }
            }
        }
        return Ecies.encrypt(to.getPublicKey(), buf.toByteArray(), h.associatedData());
    }

    @Test
    void anOwnerWhoRevealsOtherSamplesFewerSamplesOrChangedDataIsRefused(@TempDir Path dir) throws Exception {
        Path f = csv(dir, 60);
        DataCommitter.commit(LocalDataSpec.csv(f, "label"), m -> { });
        LocalCommittedSet data = LocalCommittedSet.load(f);
        ECKeyPair reexecutor = Keys.createEcKeyPair();
        SegmentReveal.Header h = header(data, 0, 0, 3, reexecutor);
        int[] pos = SegmentReveal.positions(h);
        List<int[]> honest = java.util.Arrays.stream(pos).mapToObj(p -> new int[] {p, p}).toList();
        assertThat(SegmentReveal.open(forged(h, reexecutor, honest, data, false), h, reexecutor.getPrivateKey()).revealed()).isEqualTo(pos.length);

        // another committed sample (with its own valid proof) in place of the drawn one: the position is in the leaf
        int other = java.util.stream.IntStream.range(0, 60).filter(p -> java.util.Arrays.stream(pos).noneMatch(q -> q == p)).findFirst().orElseThrow();
        List<int[]> swapped = new java.util.ArrayList<>(honest);
        swapped.set(0, new int[] {pos[0], other});
        assertThatThrownBy(() -> SegmentReveal.open(forged(h, reexecutor, swapped, data, false), h, reexecutor.getPrivateKey()))
                .isInstanceOf(SegmentReveal.Rejected.class).hasMessageContaining("does not prove against the committed root");
        // the other sample under its own position: not one the batches use
        List<int[]> wrongPlace = new java.util.ArrayList<>(honest);
        wrongPlace.set(0, new int[] {other, other});
        assertThatThrownBy(() -> SegmentReveal.open(forged(h, reexecutor, wrongPlace, data, false), h, reexecutor.getPrivateKey()))
                .isInstanceOf(SegmentReveal.Rejected.class).hasMessageContaining("the segment's batches use position");
        assertThatThrownBy(() -> SegmentReveal.open(forged(h, reexecutor, honest, data, true), h, reexecutor.getPrivateKey()))
                .isInstanceOf(SegmentReveal.Rejected.class).hasMessageContaining("holds " + (pos.length - 1) + " samples, its batches use " + pos.length);

        // the owner's worker refuses data that changed since the commitment
        Files.writeString(f, Files.readString(f).replace("\n7,3.5,93,3\n", "\n7,3.5,94,3\n"));
        assertThatThrownBy(() -> LocalCommittedSet.load(f)).hasMessageContaining("changed since it was committed: sample 7");
        assertThatThrownBy(() -> LocalCommittedSet.load(dir.resolve("nowhere.csv"))).hasMessageContaining("commit it first");
    }
}
