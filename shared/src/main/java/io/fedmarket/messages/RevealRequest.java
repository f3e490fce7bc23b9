package io.fedmarket.messages;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.fedmarket.pol.SubmissionSigner;

import java.util.Locale;

/**
 * The marketplace's word that one drawn segment of a private shard is to be shown to one re-executor: written by the verify
 * function (only the functions write under {@code reveal-requests/}; IAM), read by the data owner's workers, which seal
 * exactly that segment's samples to the drawn re-executor ({@code reexec.assignee()}) and nobody else, and by the
 * re-executor, which opens them. Keyed by the shard's committed root, so an owner's worker lists only its own shards'
 * requests. No sample, and no sample hash, is in it.
 *
 * @param reexec      the re-execution request as drawn (segment, steps, assignee, expiry; the task names the root and trainers)
 * @param sampleCount the shard's committed sample count (the batch plan's positions are 0..sampleCount-1)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RevealRequest(ReexecTask reexec, int sampleCount) {
    /** Where the functions write the request for {@code reexecId} of the shard committed to {@code root}. */
    public static String key(String root, String reexecId) {
        return prefix(root) + reexecId + ".json";
    }

    /** Every request of the shard committed to {@code root}. */
    public static String prefix(String root) {
        return "reveal-requests/" + root.toLowerCase(Locale.ROOT) + "/";
    }

    /**
     * Where the owner's worker {@code owner} puts the samples of {@code reexecId} sealed to {@code recipient} (under its own
     * prefix: only it writes there; a redraw's new recipient gets its own object).
     */
    public static String sealedKey(String owner, String reexecId, String recipient) {
        return SubmissionSigner.workerPrefix(owner) + "reveals/" + reexecId + "/" + recipient.toLowerCase(Locale.ROOT) + ".bin";
    }

    /** Where the owner's worker records what it revealed for {@code reexecId} to {@code recipient} (counts only, no sample). */
    public static String recordKey(String owner, String reexecId, String recipient) {
        return SubmissionSigner.workerPrefix(owner) + "reveals/" + reexecId + "/" + recipient.toLowerCase(Locale.ROOT) + ".json";
    }

    /** Every reveal record {@code owner}'s worker wrote (the privacy cost, counted). */
    public static String recordsPrefix(String owner) {
        return SubmissionSigner.workerPrefix(owner) + "reveals/";
    }

    /** Where a worker publishes its public key (hex of the 64 bytes x ‖ y), which its address is the hash of: a reveal is sealed to it. */
    public static String publicKeyKey(String worker) {
        return SubmissionSigner.workerPrefix(worker) + "public-key.json";
    }

    /** What the owner's worker records beside a sealed reveal: the privacy cost of one segment's verification. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Served(String reexecId, String taskId, int segment, int fromStep, int toStep, int samples, String recipient, long sealedBytes,
                         long servedAtEpochMillis) {
    }

    /** A worker's public key as it publishes it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record PublicKey(String address, String publicKey) {
    }
}
