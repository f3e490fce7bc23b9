package io.fedmarket.worker.train;

import io.fedmarket.crypto.Hashes;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.Partitions;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The shard a task trains on, rebuilt from (data set, split, client) and checked against its commitment. */
public final class ShardResolver {
    public record Shard(ImageData data, int[] indices, byte[] commitment) {
    }

    private static final Map<String, Shard> CACHE = new ConcurrentHashMap<>();

    private ShardResolver() {
    }

    public static Shard resolve(TrainTask t) {
        return resolve(t, io.fedmarket.worker.data.local.LocalShards.NONE);
    }

    /**
     * The shard of {@code t}: of open data rebuilt from (data set, split, client), of private data the worker's own held data
     * set with the task's root (never anyone else's: a worker that does not hold it refuses the task).
     */
    public static Shard resolve(TrainTask t, io.fedmarket.worker.data.local.LocalShards local) {
        if (t.isPrivate()) {
            io.fedmarket.worker.data.local.LocalShards.Held h = local.forTask(t);
            return whole(h.data(), h.set().root());
        }
        String key = t.dataset() + "|" + t.partition() + "|" + t.clients() + "|" + t.client() + "|" + t.partitionSeed();
        Shard s = CACHE.computeIfAbsent(key, k -> {
            ImageData data = Datasets.load(t.dataset());
            int[] idx = Partitions.shard(data, t.partition(), t.clients(), t.client(), t.partitionSeed());
            return new Shard(data, idx, Partitions.commitment(data, idx));
        });
        if (t.shardCommitment() != null && !Hashes.hex(s.commitment()).equalsIgnoreCase(t.shardCommitment())) {
            throw new IllegalArgumentException("task " + t.taskId() + ": the shard of client " + t.client() + " of " + t.dataset() + " "
                    + t.partition() + " commits to " + Hashes.hex(s.commitment()) + ", the task expects " + t.shardCommitment()
                    + ": this worker's copy of the data differs from the provider's");
        }
        return s;
    }

    /** A shard that is the whole of {@code data} (a private data set: positions 0..n-1, in committed order). */
    static Shard whole(ImageData data, byte[] root) {
        int[] all = new int[data.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return new Shard(data, all, root);
    }

    /** Local steps of a task: explicit, or epochs × ⌊shard/batch⌋ rounded down to a multiple of k (at least k). */
    public static int steps(TrainTask t, Shard s) {
        if (t.steps() > 0) {
            return t.steps();
        }
        long raw = (long) t.epochs() * (s.indices().length / t.batchSize());
        long k = t.checkpointEvery();
        return (int) Math.max(k, raw / k * k);
    }
}
