package io.fedmarket.worker.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.crypto.Hashes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The worker's view of the artifact bucket: content-addressed blobs (checkpoints, updates: the
 * key carries the keccak of the bytes, so a key never changes meaning and a re-upload is
 * harmless) and small JSON records keyed by task (progress, submission, re-execution result).
 */
public final class ArtifactStore {
    public static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final S3Client s3;
    private final String bucket;

    public ArtifactStore(S3Client s3, String bucket) {
        this.s3 = s3;
        this.bucket = bucket;
    }

    public String bucket() {
        return bucket;
    }

    /** Stores {@code bytes} at {@code <prefix>/<keccak(bytes)>.<ext>} and returns that key. */
    public String putContent(String prefix, String ext, byte[] bytes) {
        String key = prefix + "/" + Hashes.hex(Hashes.keccak256(bytes)).substring(2) + "." + ext;
        put(key, bytes, "application/octet-stream");
        return key;
    }

    public void put(String key, byte[] bytes, String contentType) {
        s3.putObject(b -> b.bucket(bucket).key(key).contentType(contentType), RequestBody.fromBytes(bytes));
    }

    public byte[] get(String key) {
        try {
            return s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
        } catch (NoSuchKeyException e) {
            throw new IllegalStateException("artifact s3://" + bucket + "/" + key + " does not exist", e);
        }
    }

    /** The object at {@code key}, or empty when there is none. */
    public Optional<byte[]> find(String key) {
        try {
            return Optional.of(s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** A content-addressed blob, checked against the keccak in its key. */
    public byte[] getVerified(String key) {
        byte[] b = get(key);
        String name = key.substring(key.lastIndexOf('/') + 1);
        String expected = name.contains(".") ? name.substring(0, name.indexOf('.')) : name;
        String actual = Hashes.hex(Hashes.keccak256(b)).substring(2);
        if (expected.length() == 64 && !expected.equals(actual)) {
            throw new IllegalStateException("artifact " + key + " is corrupt: its bytes hash to " + actual);
        }
        return b;
    }

    /** Every key under {@code prefix} (e.g. {@code submissions/}), in the bucket's (lexicographic) order. */
    public List<String> list(String prefix) {
        List<String> keys = new ArrayList<>();
        s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().forEach(o -> keys.add(o.key()));
        return keys;
    }

    /** Every key under {@code prefix} with its ETag (which changes when the object is rewritten), in the bucket's order. */
    public java.util.Map<String, String> listWithTags(String prefix) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().forEach(o -> out.put(o.key(), o.eTag()));
        return out;
    }

    public void putJson(String key, Object value) {
        try {
            put(key, JSON.writeValueAsBytes(value), "application/json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public <T> Optional<T> getJson(String key, Class<T> type) {
        Optional<byte[]> b = find(key);
        if (b.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(b.get(), type));
        } catch (IOException e) {
            throw new UncheckedIOException("s3://" + bucket + "/" + key + " is not valid " + type.getSimpleName() + " JSON", e);
        }
    }

    public static String progressKey(String taskId) {
        return "tasks/" + taskId + "/progress.json";
    }

    public static String submissionKey(String taskId) {
        return "submissions/" + taskId + ".json";
    }

    /** The trail manifest of a task as {@code worker} signs it: under the worker's own prefix, {@code workers/<address>/tasks/<taskId>/trail.json}. */
    public static String trailKey(String worker, String taskId) {
        return io.fedmarket.pol.SubmissionSigner.workerPrefix(worker) + "tasks/" + taskId + "/trail.json";
    }

    public static String reexecKey(String reexecId) {
        return "reexec/" + reexecId + ".json";
    }
}
