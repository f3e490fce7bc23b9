package io.fedmarket.fl.verify;

import java.util.List;

/**
 * What a rejection rests on, enough for anyone to re-run the check: the segment (or trail
 * position; −1 when the whole update is at fault), the hash re-execution or recomputation
 * expected, the hash the worker committed ({@code gotHash}), and the artifacts involved.
 * Distances are strings (Java's shortest round-trip decimal) so the canonical JSON does not
 * depend on how a reader prints floating point.
 */
public record Evidence(int segmentIndex, String expectedHash, String gotHash, List<String> artifactUris,
                       String distance, String threshold, String detail) {
    public Evidence {
        artifactUris = artifactUris == null ? List.of() : List.copyOf(artifactUris);
    }
}
