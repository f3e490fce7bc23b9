package io.fedmarket.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.UUID;

/**
 * On the tasks queue: one participant's local update in one round. Everything that decides the
 * trained parameters is here, so a verifier can re-execute any segment: the starting model, the
 * shard (dataset + partition + client index, checked against {@code shardCommitment}), the seed
 * (initialisation when there is no global model yet, batch order, DP noise), the optimiser and
 * the thread settings. Business key: {@code taskId}.
 *
 * @param modelSpec        the catalogue spec with input shape and classes ({@code io.fedmarket.fl.model.ModelLayouts}): {@code mlp}, {@code mlp:256,128}, {@code cnn}, {@code resnet:20}, e.g. {@code resnet:20;input=3x32x32;classes=5}
 * @param globalModelUri   S3 key of the round's global model (a worker checkpoint file), or null in round 0: initialise from {@code seed}
 * @param globalModelHash  keccak of the global parameters (0x hex); null when {@code globalModelUri} is null
 * @param dataset          {@code fashion-mnist} (Debian dataset-fashion-mnist) or {@code synthetic:N} (N generated 28×28 images, for tests)
 * @param partition        {@code iid}, {@code shards:S} (McMahan: S label-sorted shards per client) or {@code dirichlet:ALPHA}
 * @param clients          number of clients the dataset is split into
 * @param client           this task's client index, 0-based
 * @param partitionSeed    seed of the split (the same for every client of a job)
 * @param shardCommitment  expected Merkle root over the shard's sample hashes (0x hex), or null to skip the check
 * @param steps            local SGD steps; 0 = {@code epochs} × ⌊shard/batch⌋ rounded down to a multiple of {@code checkpointEvery}
 * @param checkpointEvery  k: parameters are hashed (and checkpointed) every k steps
 * @param threads          intra-op threads the worker must use (bit-exact re-execution needs the same count)
 * @param dpClip           client-side DP: L2 bound of the update, or null for no DP
 * @param dpNoiseMultiplier client-side DP: Gaussian noise σ = multiplier × clip
 * @param budgetSeconds    most GPU-seconds billed for this task
 * @param deadlineEpochSeconds round deadline (UTC epoch seconds); 0 = none
 * @param trainers         private data ({@code dataset} {@code private:SHAPE:K}): the lower-case 0x addresses of the only workers
 *                         that hold the shard and may take this task (every other worker leaves the message alone); null for
 *                         open data, which any worker of the job trains
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TrainTask(String taskId, UUID jobId, int round, String modelSpec, String globalModelUri,
                        String globalModelHash, String dataset, String partition, int clients, int client,
                        long partitionSeed, String shardCommitment, long seed, double lr, double momentum,
                        double proxMu, int batchSize, int epochs, int steps, int checkpointEvery, int threads,
                        Double dpClip, Double dpNoiseMultiplier, long budgetSeconds, long deadlineEpochSeconds,
                        @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) java.util.List<String> trainers) {

    /** A task of open data: any worker of the job may take it. */
    public TrainTask(String taskId, UUID jobId, int round, String modelSpec, String globalModelUri,
                     String globalModelHash, String dataset, String partition, int clients, int client,
                     long partitionSeed, String shardCommitment, long seed, double lr, double momentum,
                     double proxMu, int batchSize, int epochs, int steps, int checkpointEvery, int threads,
                     Double dpClip, Double dpNoiseMultiplier, long budgetSeconds, long deadlineEpochSeconds) {
        this(taskId, jobId, round, modelSpec, globalModelUri, globalModelHash, dataset, partition, clients, client, partitionSeed, shardCommitment,
                seed, lr, momentum, proxMu, batchSize, epochs, steps, checkpointEvery, threads, dpClip, dpNoiseMultiplier, budgetSeconds,
                deadlineEpochSeconds, null);
    }

    /** This task with another id and seed (a re-offer), everything else, the trainers too, the same. */
    public TrainTask reoffered(String id, long newSeed) {
        return new TrainTask(id, jobId, round, modelSpec, globalModelUri, globalModelHash, dataset, partition, clients, client, partitionSeed,
                shardCommitment, newSeed, lr, momentum, proxMu, batchSize, epochs, steps, checkpointEvery, threads, dpClip, dpNoiseMultiplier,
                budgetSeconds, deadlineEpochSeconds, trainers);
    }

    /** Whether the shard is private: only {@link #trainers} hold it. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isPrivate() {
        return DataSource.isPrivate(dataset);
    }

    /** Whether the worker {@code address} may take this task: anyone for open data, one of {@link #trainers} for private data. */
    public boolean trainableBy(String address) {
        if (trainers == null) {
            return true;
        }
        return address != null && trainers.stream().anyMatch(address::equalsIgnoreCase);
    }

    /** Throws a message naming the bad field and what to send instead. */
    public TrainTask validate() {
        require(taskId != null && !taskId.isBlank(), "taskId is missing");
        require(modelSpec != null && !modelSpec.isBlank(), "modelSpec is missing (mlp, mlp:H1,H2, cnn or resnet:D, optionally ;input=CxHxW;classes=N)");
        require(dataset != null && !dataset.isBlank(), "dataset is missing (fashion-mnist or synthetic:N)");
        require(partition != null && !partition.isBlank(), "partition is missing (iid, shards:S or dirichlet:ALPHA)");
        require(clients >= 1 && client >= 0 && client < clients, "client " + client + " must be in [0, clients=" + clients + ")");
        require(lr > 0 && Double.isFinite(lr), "lr must be a positive number, got " + lr);
        require(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), got " + momentum);
        require(proxMu >= 0, "proxMu must be >= 0, got " + proxMu);
        require(batchSize >= 1, "batchSize must be >= 1, got " + batchSize);
        require(checkpointEvery >= 1, "checkpointEvery must be >= 1, got " + checkpointEvery);
        require(steps > 0 || epochs > 0, "give steps > 0 or epochs > 0");
        require(steps == 0 || steps % checkpointEvery == 0,
                "steps (" + steps + ") must be a multiple of checkpointEvery (" + checkpointEvery + ")");
        require(threads >= 1, "threads must be >= 1, got " + threads);
        require((dpClip == null) == (dpNoiseMultiplier == null), "dpClip and dpNoiseMultiplier go together");
        require(dpClip == null || (dpClip > 0 && dpNoiseMultiplier >= 0), "dpClip must be > 0 and dpNoiseMultiplier >= 0");
        require((globalModelUri == null) == (globalModelHash == null), "globalModelUri and globalModelHash go together");
        require(!isPrivate() || (trainers != null && !trainers.isEmpty()), "a task of private data (" + dataset + ") names its trainers");
        require(!isPrivate() || (shardCommitment != null), "a task of private data names the committed root of its data set (shardCommitment)");
        require(isPrivate() || trainers == null, "only a task of private data names trainers");
        return this;
    }

    private void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalArgumentException("invalid task " + taskId + ": " + what);
        }
    }
}
