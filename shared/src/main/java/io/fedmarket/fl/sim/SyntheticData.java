package io.fedmarket.fl.sim;

import io.fedmarket.fl.proof.Hashes;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generated classification data for the plain-Java simulator: one Gaussian blob per class
 * (means drawn once from the seed, unit noise), and the NIID-Bench label-skew partition
 * Dirichlet(α) across clients. Everything is a function of the seed.
 */
public final class SyntheticData {
    private SyntheticData() {
    }

    public record Split(Dataset train, Dataset test) {
    }

    public static Split gaussianClasses(int nTrain, int nTest, int dim, int classes, double separation, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] means = new double[classes][dim];
        for (double[] m : means) {
            for (int d = 0; d < dim; d++) {
                m[d] = separation * gaussian(r);
            }
        }
        return new Split(sample(nTrain, means, r), sample(nTest, means, r));
    }

    private static Dataset sample(int n, double[][] means, SplittableRandom r) {
        int classes = means.length;
        int dim = means[0].length;
        float[][] x = new float[n][dim];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(classes);
            y[i] = c;
            for (int d = 0; d < dim; d++) {
                x[i][d] = (float) (means[c][d] + gaussian(r));
            }
        }
        return new Dataset(x, y, classes);
    }

    /**
     * Label-skew partition of NIID-Bench (Li et al. 2022): for each class, split its samples
     * among clients in Dirichlet(α) proportions; redraw until every client has at least
     * {@code minSize} samples.
     */
    public static List<int[]> dirichletPartition(int[] labels, int classes, int clients, double alpha, int minSize,
                                                 long seed) {
        if (clients <= 0 || alpha <= 0) {
            throw new IllegalArgumentException("need clients > 0 and alpha > 0, got " + clients + ", " + alpha);
        }
        if ((long) clients * minSize > labels.length) {
            throw new IllegalArgumentException(clients + " clients x " + minSize + " samples exceed the " + labels.length
                    + " available; lower minSize or the client count");
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int attempt = 0; attempt < 1000; attempt++) {
            List<List<Integer>> parts = new ArrayList<>();
            for (int k = 0; k < clients; k++) {
                parts.add(new ArrayList<>());
            }
            for (int c = 0; c < classes; c++) {
                List<Integer> idx = new ArrayList<>();
                for (int i = 0; i < labels.length; i++) {
                    if (labels[i] == c) {
                        idx.add(i);
                    }
                }
                shuffle(idx, r);
                double[] p = dirichlet(clients, alpha, r);
                int start = 0;
                double acc = 0;
                for (int k = 0; k < clients; k++) {
                    acc += p[k];
                    int end = k == clients - 1 ? idx.size() : (int) Math.round(acc * idx.size());
                    parts.get(k).addAll(idx.subList(start, Math.max(start, end)));
                    start = Math.max(start, end);
                }
            }
            if (parts.stream().allMatch(l -> l.size() >= minSize)) {
                List<int[]> out = new ArrayList<>();
                for (List<Integer> l : parts) {
                    out.add(l.stream().mapToInt(Integer::intValue).sorted().toArray());
                }
                return out;
            }
        }
        throw new IllegalStateException("no Dirichlet(" + alpha + ") partition gave every client " + minSize
                + " samples in 1000 draws; raise alpha or lower minSize");
    }

    /** The data provider's commitment: Merkle root over keccak(features as float32 LE ‖ label). */
    public static byte[] shardCommitment(Dataset data, int[] indices) {
        List<byte[]> leaves = new ArrayList<>(indices.length);
        for (int i : indices) {
            ByteBuffer b = ByteBuffer.allocate(4);
            b.putInt(data.y()[i]);
            leaves.add(Hashes.keccak(Hashes.paramsHash(data.x()[i]), b.array()));
        }
        return io.fedmarket.crypto.MerkleTree.of(leaves).root();
    }

    static double gaussian(SplittableRandom r) {
        // Box-Muller over SplittableRandom keeps the whole simulator on one seedable generator family
        double u1 = r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static double[] dirichlet(int k, double alpha, SplittableRandom r) {
        double[] g = new double[k];
        double s = 0;
        for (int i = 0; i < k; i++) {
            g[i] = gamma(alpha, r);
            s += g[i];
        }
        for (int i = 0; i < k; i++) {
            g[i] /= s;
        }
        return g;
    }

    /** Marsaglia-Tsang; α &lt; 1 via the boost Gamma(α) = Gamma(α+1)·U^{1/α}. */
    private static double gamma(double alpha, SplittableRandom r) {
        if (alpha < 1) {
            return gamma(alpha + 1, r) * Math.pow(r.nextDouble(), 1 / alpha);
        }
        double d = alpha - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = gaussian(r);
            double v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = r.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                return d * v;
            }
        }
    }

    private static void shuffle(List<Integer> l, SplittableRandom r) {
        for (int i = l.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            Integer t = l.get(i);
            l.set(i, l.get(j));
            l.set(j, t);
        }
    }
}
