package io.fedmarket.fl.verify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.fedmarket.fl.proof.Hashes;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The verifier's decision on one submission. Its canonical JSON (keys sorted, no
 * whitespace, UTF-8) hashes with keccak-256 to the evidence hash posted on chain with a
 * slash, so the off-chain record and the on-chain slash are bound to each other.
 *
 * @param comparison  "bit-exact" or "relative-l2"
 * @param calibration set when comparison is relative-l2
 * @param evidence    null when accepted
 */
public record Verdict(String taskId, String submissionHash, boolean accepted, ReasonCode reason,
                      List<ReasonCode> flags, List<Integer> sampledSegments, int reexecutedSegments,
                      String comparison, ToleranceCalibration calibration, Evidence evidence,
                      long decidedAtEpochSecond) {
    private static final ObjectMapper CANONICAL = JsonMapper.builder()
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            // records are all creator properties: without this they keep declaration order
            .disable(MapperFeature.SORT_CREATOR_PROPERTIES_FIRST)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    public Verdict {
        flags = List.copyOf(flags);
        sampledSegments = List.copyOf(sampledSegments);
        if (accepted != (reason == ReasonCode.ACCEPTED)) {
            throw new IllegalArgumentException("verdict for task " + taskId + ": accepted=" + accepted
                    + " contradicts reason " + reason);
        }
        if (!accepted && evidence == null) {
            throw new IllegalArgumentException("a rejection of task " + taskId + " needs evidence");
        }
    }

    public String canonicalJson() {
        try {
            return CANONICAL.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("verdict could not be serialised", e);
        }
    }

    /** keccak256(canonical JSON), 0x-hex: the evidence hash for the chain. */
    public String evidenceHash() {
        return Hashes.hex(Hashes.keccak(canonicalJson().getBytes(StandardCharsets.UTF_8)));
    }

    public static Verdict fromJson(String json) {
        try {
            return CANONICAL.readValue(json, Verdict.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a verdict: " + e.getOriginalMessage(), e);
        }
    }
}
