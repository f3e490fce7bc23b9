package io.fedmarket.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where a worker finds a data offer's shard: the data set, how it is split, and which part is this offer's. The task
 * of a round carries these fields ({@link TrainTask}); the worker resolves the shard locally and refuses to train when
 * it does not hash to the offer's {@code datasetRoot}.
 *
 * <p>Open data ({@code fashion-mnist}, {@code synthetic:…}): any participant of the job may train the shard, resume it or
 * retrain it after a rejection. Private data ({@code private:SHAPE:K}): the shard is the owner's own committed data set
 * ({@code mkt data commit}), kept on the owner's machine; only the workers named in {@code workers} hold it, so only they
 * train its tasks, and verification sees only the drawn segments' samples, sealed to the drawn re-executor. One code path:
 * {@link #trainers()} is the policy (null: anyone).
 *
 * @param dataset       {@code fashion-mnist}, {@code synthetic:N}, {@code synthetic:N:SHAPE:K} (generated samples of shape CxHxW or F, K classes)
 *                      or {@code private:SHAPE:K} (the owner's own data set, K classes, samples of shape CxHxW or F features)
 * @param partition     {@code iid}, {@code shards:S} or {@code dirichlet:ALPHA}; a private data set is one whole shard (left out, or iid)
 * @param clients       how many parts the data set is split into (private: 1)
 * @param client        this offer's part, 0-based (private: 0)
 * @param partitionSeed seed of the split (private: 0)
 * @param workers       private data only: the lower-case 0x addresses of the worker keys that hold the data set (1 to
 *                      {@link #MAX_PRIVATE_WORKERS}); its tasks are taken by these workers only
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DataSource(String dataset, String partition, Integer clients, Integer client, Long partitionSeed,
                         @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) List<String> workers) {
    /** Most worker keys one private offer may name. */
    public static final int MAX_PRIVATE_WORKERS = 16;
    private static final Pattern PRIVATE = Pattern.compile("^private:([1-9][0-9]{0,3}x[1-9][0-9]{0,3}x[1-9][0-9]{0,3}|[1-9][0-9]{0,6}):([1-9][0-9]{0,4})$");
    private static final Pattern ADDRESS = Pattern.compile("^0x[0-9a-fA-F]{40}$");

    /** An open-data source (no worker list): anyone of the job trains it. */
    public DataSource(String dataset, String partition, Integer clients, Integer client, Long partitionSeed) {
        this(dataset, partition, clients, client, partitionSeed, null);
    }

    /** A private data set of samples of {@code shape} (CxHxW) and {@code classes} classes, held by {@code workers}. */
    public static DataSource privateData(List<Integer> shape, int classes, List<String> workers) {
        return new DataSource("private:" + String.join("x", shape.stream().map(String::valueOf).toList()) + ":" + classes, "iid", 1, 0, 0L,
                workers.stream().map(w -> w.toLowerCase(java.util.Locale.ROOT)).toList());
    }

    /** Whether {@code dataset} names a private data set ({@code private:SHAPE:K}). */
    public static boolean isPrivate(String dataset) {
        return dataset != null && dataset.startsWith("private:");
    }

    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isPrivate() {
        return isPrivate(dataset);
    }

    /** Who may train this source's tasks: its workers when private, null (anyone of the job) when open. */
    public List<String> trainers() {
        return isPrivate() ? workers : null;
    }

    /** The source as stored and carried in tasks: a private one with its split fields filled in (iid, 1 part, part 0, seed 0). */
    public DataSource normalized() {
        if (!isPrivate()) {
            return this;
        }
        return new DataSource(dataset, "iid", 1, 0, 0L, workers == null ? null : workers.stream().map(w -> w.toLowerCase(java.util.Locale.ROOT)).toList());
    }
    /** Far past near-IID (α = 100 is already indistinguishable from iid); bounds the parse (400 nines are Infinity). */
    public static final double MAX_DIRICHLET_ALPHA = 1000;
    private static final Pattern DATASET = Pattern.compile(
            "^(fashion-mnist|synthetic:[1-9][0-9]{0,7}(:([1-9][0-9]{0,3}x[1-9][0-9]{0,3}x[1-9][0-9]{0,3}|[1-9][0-9]{0,6}):[1-9][0-9]{0,2})?)$");

    /**
     * The shape of one sample of a data set a worker knows: {@code [1, 28, 28]} for Fashion-MNIST and {@code synthetic:N}, the
     * declared {@code CxHxW} (or {@code [F]} features) of {@code synthetic:N:SHAPE:K}; empty for a name it does not know.
     */
    public static java.util.Optional<List<Integer>> sampleShape(String dataset) {
        if (dataset != null && PRIVATE.matcher(dataset).matches()) {
            java.util.regex.Matcher m = PRIVATE.matcher(dataset);
            m.matches();
            return java.util.Optional.of(java.util.Arrays.stream(m.group(1).split("x")).map(Integer::parseInt).toList());
        }
        if (dataset == null || !DATASET.matcher(dataset).matches()) {
            return java.util.Optional.empty();
        }
        String[] parts = dataset.split(":");
        if (parts.length < 4) {
            return java.util.Optional.of(List.of(1, 28, 28));
        }
        List<Integer> out = new ArrayList<>();
        for (String d : parts[2].split("x")) {
            out.add(Integer.parseInt(d));
        }
        return java.util.Optional.of(List.copyOf(out));
    }

    /** Number of classes of a data set a worker knows (labels 0..K-1): 10, or the K of {@code synthetic:N:SHAPE:K}. */
    public static java.util.OptionalInt classes(String dataset) {
        if (dataset != null && PRIVATE.matcher(dataset).matches()) {
            java.util.regex.Matcher m = PRIVATE.matcher(dataset);
            m.matches();
            return java.util.OptionalInt.of(Integer.parseInt(m.group(2)));
        }
        if (dataset == null || !DATASET.matcher(dataset).matches()) {
            return java.util.OptionalInt.empty();
        }
        String[] parts = dataset.split(":");
        return java.util.OptionalInt.of(parts.length < 4 ? 10 : Integer.parseInt(parts[3]));
    }
    private static final Pattern PARTITION = Pattern.compile("^(iid|shards:[1-9][0-9]{0,3}|dirichlet:[0-9]*\\.?[0-9]+)$");

    /** What is wrong, as (field, message) pairs under {@code prefix}; empty when usable. */
    public List<String[]> problems(String prefix) {
        List<String[]> p = new ArrayList<>();
        if (isPrivate(dataset)) {
            if (!PRIVATE.matcher(dataset).matches()) {
                p.add(new String[] {prefix + ".dataset", "a private data set is \"private:CxHxW:K\" (the shape, CxHxW or a feature count, and classes of its "
                        + "samples as mkt data commit printed them, e.g. private:1x28x28:10)"});
            } else if (classes(dataset).getAsInt() < 2) {
                p.add(new String[] {prefix + ".dataset", "a private data set needs at least 2 classes"});
            }
            if (workers == null || workers.isEmpty() || workers.size() > MAX_PRIVATE_WORKERS) {
                p.add(new String[] {prefix + ".workers", "a private data set names the 1 to " + MAX_PRIVATE_WORKERS + " worker keys (0x addresses) that hold it: "
                        + "only they train it"});
            } else if (!workers.stream().allMatch(w -> w != null && ADDRESS.matcher(w).matches())) {
                p.add(new String[] {prefix + ".workers", "each worker is a 0x-prefixed 20-byte address (the worker key's address, as the worker prints at start)"});
            } else if (workers.stream().map(w -> w.toLowerCase(java.util.Locale.ROOT)).distinct().count() != workers.size()) {
                p.add(new String[] {prefix + ".workers", "names a worker twice"});
            }
            if ((partition != null && !partition.equals("iid")) || (clients != null && clients != 1) || (client != null && client != 0)) {
                p.add(new String[] {prefix + ".partition", "a private data set is one whole shard: leave out partition, clients and client (or iid, 1, 0)"});
            }
            return p;
        }
        if (workers != null) {
            p.add(new String[] {prefix + ".workers", "only a private data set (private:CxHxW:K) names workers: open data is trained by any worker of the job"});
        }
        if (dataset == null || !DATASET.matcher(dataset).matches()) {
            p.add(new String[] {prefix + ".dataset", "must be \"fashion-mnist\", \"synthetic:N\", \"synthetic:N:SHAPE:K\" (SHAPE CxHxW or a feature count, K classes, e.g. synthetic:600:3x16x16:5) "
                    + "or \"private:CxHxW:K\" (your own data set, committed with mkt data commit)"});
        }
        if (partition == null || !PARTITION.matcher(partition).matches()) {
            p.add(new String[] {prefix + ".partition", "must be \"iid\", \"shards:S\" or \"dirichlet:ALPHA\" (e.g. dirichlet:0.5)"});
        } else if (partition.startsWith("dirichlet:") && !(partition.length() <= 30 && Double.parseDouble(partition.substring(10)) > 0
                && Double.parseDouble(partition.substring(10)) <= MAX_DIRICHLET_ALPHA)) {
            p.add(new String[] {prefix + ".partition", "dirichlet's alpha must be a number in (0, " + (int) MAX_DIRICHLET_ALPHA
                    + "] with at most 20 characters (e.g. dirichlet:0.5; large alphas are near-IID: use iid)"});
        }
        if (clients == null || clients < 1 || clients > 100_000) {
            p.add(new String[] {prefix + ".clients", "must be 1 to 100000"});
        }
        if (client == null || client < 0 || (clients != null && client >= clients)) {
            p.add(new String[] {prefix + ".client", "must be in [0, clients)"});
        }
        if (partitionSeed == null) {
            p.add(new String[] {prefix + ".partitionSeed", "is required (the seed of the split)"});
        }
        return p;
    }
}
