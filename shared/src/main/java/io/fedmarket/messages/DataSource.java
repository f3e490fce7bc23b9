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
 * @param dataset       {@code fashion-mnist} or {@code synthetic:N}
 * @param partition     {@code iid}, {@code shards:S} or {@code dirichlet:ALPHA}
 * @param clients       how many parts the data set is split into
 * @param client        this offer's part, 0-based
 * @param partitionSeed seed of the split
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DataSource(String dataset, String partition, Integer clients, Integer client, Long partitionSeed) {
    /** Far past near-IID (α = 100 is already indistinguishable from iid); bounds the parse (400 nines are Infinity). */
    public static final double MAX_DIRICHLET_ALPHA = 1000;
    private static final Pattern DATASET = Pattern.compile("^(fashion-mnist|synthetic:[1-9][0-9]{0,7})$");
    private static final Pattern PARTITION = Pattern.compile("^(iid|shards:[1-9][0-9]{0,3}|dirichlet:[0-9]*\\.?[0-9]+)$");

    /** What is wrong, as (field, message) pairs under {@code prefix}; empty when usable. */
    public List<String[]> problems(String prefix) {
        List<String[]> p = new ArrayList<>();
        if (dataset == null || !DATASET.matcher(dataset).matches()) {
            p.add(new String[] {prefix + ".dataset", "must be \"fashion-mnist\" or \"synthetic:N\""});
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
