package io.fedmarket.functions.rounds;

import io.fedmarket.fl.data.IdxImages;
import io.fedmarket.fl.job.JobPlan;
import io.fedmarket.functions.artifacts.Artifacts;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The builder's validation split, read from the marketplace's bucket: a data set {@code name} is the IDX pair
 * {@code datasets/<name>/images-idx3-ubyte.gz} and {@code datasets/<name>/labels-idx1-ubyte.gz} (what the local stack
 * uploads from Debian's Fashion-MNIST, and what an operator puts there on AWS); the split is {@code samples} of its
 * images drawn without replacement by {@code seed}. Kept per Lambda container: a warm verify reads it once.
 */
@ApplicationScoped
public class ValidationSets {
    /** A split ready for {@link io.fedmarket.fl.model.Inference}: images scaled to [0, 1], row-major, and their labels. */
    public record Split(String name, float[] images, int[] labels) {
        public int size() {
            return labels.length;
        }

        /** Values per sample (784 for a 28×28 IDX image). */
        public int inputSize() {
            return labels.length == 0 ? 0 : images.length / labels.length;
        }
    }

    @Inject
    Artifacts artifacts;

    private final Map<String, IdxImages.Labelled> sets = new ConcurrentHashMap<>();
    private final Map<JobPlan.ValidationSplit, Split> splits = new ConcurrentHashMap<>();

    public static String imagesKey(String dataset) {
        return "datasets/" + dataset + "/images-idx3-ubyte.gz";
    }

    public static String labelsKey(String dataset) {
        return "datasets/" + dataset + "/labels-idx1-ubyte.gz";
    }

    /**
     * Whether the bucket holds the data set {@code name} (its image and label files), as intake checks a builder's
     * validation split; a bucket that cannot be asked is a 503 (retry), never a guess.
     */
    public boolean exists(String name) {
        if (sets.containsKey(name)) {
            return true;
        }
        try {
            return artifacts.exists(imagesKey(name)) && artifacts.exists(labelsKey(name));
        } catch (RuntimeException e) {
            org.jboss.logging.Logger.getLogger(ValidationSets.class).warnf("cannot look up validation data set %s: %s", name, e.toString());
            throw new io.fedmarket.functions.http.ApiError(503, "bucket_unavailable", "the marketplace cannot check the validation data set '"
                    + name + "' right now: retry later", java.util.Map.of("field", "verification.validation.dataset"));
        }
    }

    /** The split, or empty when the bucket does not hold the data set (the check is then skipped and the verdict says so). */
    public Optional<Split> split(JobPlan.ValidationSplit spec) {
        Split cached = splits.get(spec);
        if (cached != null) {
            return Optional.of(cached);
        }
        IdxImages.Labelled set = sets.get(spec.dataset());
        if (set == null) {
            Optional<byte[]> images = artifacts.find(imagesKey(spec.dataset()));
            Optional<byte[]> labels = artifacts.find(labelsKey(spec.dataset()));
            if (images.isEmpty() || labels.isEmpty()) {
                return Optional.empty();
            }
            try {
                set = IdxImages.read(new ByteArrayInputStream(images.get()), new ByteArrayInputStream(labels.get()));
            } catch (IOException e) {
                throw new UncheckedIOException("validation data set " + spec.dataset() + " in the bucket is not an IDX image/label pair: " + e.getMessage(), e);
            }
            sets.put(spec.dataset(), set);
        }
        int[] idx = pick(set.labels().length, spec.sampleCount(), spec.seedOrDefault());
        int[] labels = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            labels[i] = set.labels()[idx[i]];
        }
        Split s = new Split(spec.dataset(), set.scaled(idx), labels);
        splits.put(spec, s);
        return Optional.of(s);
    }

    /** {@code k} distinct indices of {@code n} (all of them when k ≥ n), a partial Fisher-Yates shuffle seeded by {@code seed}. */
    static int[] pick(int n, int k, long seed) {
        int m = Math.min(n, k);
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < m; i++) {
            int j = i + rnd.nextInt(n - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        int[] out = new int[m];
        System.arraycopy(all, 0, out, 0, m);
        return out;
    }
}
