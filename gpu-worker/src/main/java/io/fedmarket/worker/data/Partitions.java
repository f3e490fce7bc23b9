package io.fedmarket.worker.data;

import io.fedmarket.crypto.MerkleTree;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded splits of a data set over clients: IID, McMahan's label shards ({@code shards:S}: sort
 * by label, cut into clients×S shards, give each client S random shards) and Dirichlet(α) over
 * labels (NIID-Bench: per class, proportions ~ Dir(α); re-drawn until every client has at least
 * 10 samples). Every client's index list is ascending, so a shard's commitment is a function of
 * the data set, the split and the client only.
 */
public final class Partitions {
    private Partitions() {
    }

    public static int[] shard(ImageData data, String partition, int clients, int client, long seed) {
        return split(data, partition, clients, seed)[client];
    }

    public static int[][] split(ImageData data, String partition, int clients, long seed) {
        if (clients < 1 || clients > data.size()) {
            throw new IllegalArgumentException("cannot split " + data.size() + " samples over " + clients + " clients");
        }
        int[][] out;
        if (partition.equals("iid")) {
            out = iid(data.size(), clients, seed);
        } else if (partition.startsWith("shards:")) {
            out = shards(data.labels(), clients, parseInt(partition, "shards:"), seed);
        } else if (partition.startsWith("dirichlet:")) {
            double alpha;
            try {
                alpha = Double.parseDouble(partition.substring("dirichlet:".length()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("partition '" + partition + "': dirichlet:ALPHA needs a number, e.g. dirichlet:0.5");
            }
            if (!(alpha > 0)) {
                throw new IllegalArgumentException("partition '" + partition + "': α must be > 0");
            }
            out = dirichlet(data.labels(), clients, alpha, seed);
        } else {
            throw new IllegalArgumentException("unknown partition '" + partition + "': use iid, shards:S or dirichlet:ALPHA");
        }
        for (int[] s : out) {
            Arrays.sort(s);
        }
        return out;
    }

    /** Merkle root (OpenZeppelin-compatible) over the shard's sample hashes in index order. */
    public static byte[] commitment(ImageData data, int[] shard) {
        if (shard.length == 0) {
            throw new IllegalArgumentException("an empty shard has no commitment");
        }
        List<byte[]> leaves = new ArrayList<>(shard.length);
        for (int i : shard) {
            leaves.add(data.sampleHash(i));
        }
        return MerkleTree.of(leaves).root();
    }

    private static int parseInt(String p, String prefix) {
        try {
            int v = Integer.parseInt(p.substring(prefix.length()));
            if (v < 1) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("partition '" + p + "': " + prefix + "S needs a positive integer");
        }
    }

    static int[][] iid(int n, int clients, long seed) {
        int[] perm = permutation(n, new SplittableRandom(seed));
        int[][] out = new int[clients][];
        for (int c = 0; c < clients; c++) {
            int from = (int) ((long) n * c / clients);
            int to = (int) ((long) n * (c + 1) / clients);
            out[c] = Arrays.copyOfRange(perm, from, to);
        }
        return out;
    }

    static int[][] shards(int[] labels, int clients, int perClient, long seed) {
        int n = labels.length;
        Integer[] byLabel = new Integer[n];
        for (int i = 0; i < n; i++) {
            byLabel[i] = i;
        }
        Arrays.sort(byLabel, (a, b) -> labels[a] != labels[b] ? Integer.compare(labels[a], labels[b]) : Integer.compare(a, b));
        int shardCount = clients * perClient;
        if (shardCount > n) {
            throw new IllegalArgumentException(clients + " clients × " + perClient + " shards exceed " + n + " samples");
        }
        int[] shardOrder = permutation(shardCount, new SplittableRandom(seed));
        int[][] out = new int[clients][];
        for (int c = 0; c < clients; c++) {
            List<Integer> idx = new ArrayList<>();
            for (int j = 0; j < perClient; j++) {
                int s = shardOrder[c * perClient + j];
                int from = (int) ((long) n * s / shardCount);
                int to = (int) ((long) n * (s + 1) / shardCount);
                for (int k = from; k < to; k++) {
                    idx.add(byLabel[k]);
                }
            }
            out[c] = idx.stream().mapToInt(Integer::intValue).toArray();
        }
        return out;
    }

    static int[][] dirichlet(int[] labels, int clients, double alpha, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int minSize = Math.min(10, labels.length / clients);
        int classes = 10; // at least 0..9 (as always for Fashion-MNIST), more where the data has more labels
        for (int y : labels) {
            classes = Math.max(classes, y + 1);
        }
        for (int attempt = 0; attempt < 1000; attempt++) {
            List<List<Integer>> parts = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                parts.add(new ArrayList<>());
            }
            for (int k = 0; k < classes; k++) {
                List<Integer> ofClass = new ArrayList<>();
                for (int i = 0; i < labels.length; i++) {
                    if (labels[i] == k) {
                        ofClass.add(i);
                    }
                }
                int[] perm = permutation(ofClass.size(), rnd);
                double[] p = new double[clients];
                double sum = 0;
                for (int c = 0; c < clients; c++) {
                    p[c] = gamma(alpha, rnd);
                    sum += p[c];
                }
                int start = 0;
                double cum = 0;
                for (int c = 0; c < clients; c++) {
                    cum += p[c] / sum;
                    int end = c == clients - 1 ? perm.length : (int) Math.round(cum * perm.length);
                    for (int j = start; j < end; j++) {
                        parts.get(c).add(ofClass.get(perm[j]));
                    }
                    start = Math.max(start, end);
                }
            }
            if (parts.stream().allMatch(l -> l.size() >= minSize)) {
                int[][] out = new int[clients][];
                for (int c = 0; c < clients; c++) {
                    out[c] = parts.get(c).stream().mapToInt(Integer::intValue).toArray();
                }
                return out;
            }
        }
        throw new IllegalArgumentException("Dirichlet(" + alpha + ") over " + clients + " clients left some client with fewer than "
                + minSize + " samples after 1000 draws: use fewer clients or a larger α");
    }

    static int[] permutation(int n, SplittableRandom rnd) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Marsaglia–Tsang; for α < 1 uses Γ(α+1)·U^{1/α}. */
    static double gamma(double alpha, SplittableRandom rnd) {
        if (alpha < 1) {
            return gamma(alpha + 1, rnd) * Math.pow(rnd.nextDouble(), 1 / alpha);
        }
        double d = alpha - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x;
            double v;
            do {
                x = gaussian(rnd);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = rnd.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    static double gaussian(SplittableRandom rnd) {
        double u1 = rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
