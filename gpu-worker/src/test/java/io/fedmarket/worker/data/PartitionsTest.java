package io.fedmarket.worker.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PartitionsTest {
    static final ImageData DATA = Datasets.synthetic("s", 2000, 3);

    static void assertDisjointCover(int[][] parts, int n) {
        Set<Integer> seen = new HashSet<>();
        for (int[] p : parts) {
            for (int i : p) {
                assertThat(seen.add(i)).as("sample " + i + " in two shards").isTrue();
            }
        }
        assertThat(seen).hasSize(n);
    }

    @Test
    void iidSplitsEvenlyAndIsSeeded() {
        int[][] a = Partitions.split(DATA, "iid", 7, 1);
        assertDisjointCover(a, 2000);
        assertThat(Arrays.stream(a).mapToInt(p -> p.length)).allMatch(l -> l == 285 || l == 286);
        assertThat(Partitions.split(DATA, "iid", 7, 1)).isDeepEqualTo(a);
        assertThat(Partitions.split(DATA, "iid", 7, 2)).isNotEqualTo(a);
    }

    @Test
    void mcMahanShardsGiveFewLabelsPerClient() {
        int[][] a = Partitions.split(DATA, "shards:2", 10, 1);
        assertDisjointCover(a, 2000);
        for (int[] p : a) {
            assertThat(Arrays.stream(p).map(i -> DATA.labels()[i]).distinct().count()).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void dirichletSkewsLabelsAndCoversEverything() {
        int[][] a = Partitions.split(DATA, "dirichlet:0.1", 5, 4);
        assertDisjointCover(a, 2000);
        long skewed = Arrays.stream(a).filter(p -> Arrays.stream(p).map(i -> DATA.labels()[i]).distinct().count() < 10).count();
        assertThat(skewed).isGreaterThan(0);
        assertThat(Arrays.stream(a).mapToInt(p -> p.length)).allMatch(l -> l >= 10);
    }

    @Test
    void commitmentChangesWithAnyPixel() {
        int[] shard = Partitions.shard(DATA, "iid", 4, 0, 1);
        byte[] c = Partitions.commitment(DATA, shard);
        byte[] px = DATA.pixels().clone();
        px[shard[3] * 784 + 100] ^= 1;
        ImageData tampered = new ImageData("t", px, DATA.labels(), 28, 28);
        assertThat(Partitions.commitment(tampered, shard)).isNotEqualTo(c);
        assertThat(Partitions.commitment(DATA, shard)).isEqualTo(c);
    }

    @Test
    void badPartitionsSayWhatToUse() {
        assertThatThrownBy(() -> Partitions.split(DATA, "zipf", 3, 1)).hasMessageContaining("iid, shards:S or dirichlet:ALPHA");
        assertThatThrownBy(() -> Partitions.split(DATA, "dirichlet:x", 3, 1)).hasMessageContaining("dirichlet:0.5");
    }
}
