package io.fedmarket.fl.verify;

import io.fedmarket.fl.Vectors;
import io.fedmarket.fl.proof.Hashes;
import io.fedmarket.fl.proof.ProofTrail;
import io.fedmarket.fl.proof.TrailHeader;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The verification policy for one submission, engine-independent: the caller supplies the
 * artifacts ({@link CheckpointStore}) and a re-executor ({@link SegmentExecutor}, DJL in the
 * worker, plain Java in the simulator). Order of checks, cheapest first:
 * <ol>
 *   <li>the update is finite; the trail is for this task (header), has steps/k + 1
 *       checkpoints, starts at the global model, chains, and ends at the submitted update;</li>
 *   <li>cheap statistical checks; any flag raises the number of segments from q to the
 *       escalated q (flags never reject on their own);</li>
 *   <li>segments drawn by {@link SegmentSampler} from the submission hash and a later block
 *       hash are re-executed in draw order, each from the worker's own committed checkpoint;
 *       the first mismatch rejects with evidence and stops (no more compute is spent).</li>
 * </ol>
 * Rejections in step 1 and 3 are reproducible by anyone from the committed artifacts.
 */
public final class UpdateVerifier {
    /** Committed checkpoint artifacts of a trail; {@code load} returns null when missing. */
    public interface CheckpointStore {
        float[] load(int checkpointIndex);

        String uri(int checkpointIndex);

        /**
         * The hash checkpoint 0 of the trail must have when it is the round's model {@code global}: its parameters' hash
         * by default (a plain parameter trail); a store whose trail commits whole states (parameters, momentum, step, see
         * {@code ModelState.stateHash}) gives that state's hash.
         */
        default byte[] startHash(float[] global) {
            return Hashes.paramsHash(global);
        }

        /**
         * Whether {@code update} is what the trail's last checkpoint ({@code committedLast}) commits: by default its
         * parameters hash to it; a store whose trail commits whole states compares with the parameters of the stored last
         * state (which it checked hashes to {@code committedLast}).
         */
        default boolean isLast(float[] update, byte[] committedLast) {
            return Arrays.equals(Hashes.paramsHash(update), committedLast);
        }

        /** The hash checkpoint {@code i} as stored ({@code loaded}: its parameters) has in the trail's terms (default: its parameters' hash). */
        default byte[] hashOf(int i, float[] loaded) {
            return Hashes.paramsHash(loaded);
        }
    }

    /** Re-runs segment i (steps i·k … (i+1)·k − 1 of the task) from {@code start}. */
    public interface SegmentExecutor {
        float[] run(float[] start, int segmentIndex);

        /** The hash, in the trail's terms, of the end state the last {@link #run} of segment {@code i} reached (default: its parameters' hash). */
        default byte[] hashOf(int segmentIndex, float[] end) {
            return Hashes.paramsHash(end);
        }
    }

    public record Config(CheapCheckPolicy cheapChecks, int q, int escalatedQ, ComparisonPolicy comparison) {
        public Config {
            Objects.requireNonNull(cheapChecks, "cheapChecks");
            Objects.requireNonNull(comparison, "comparison");
            if (q < 1 || escalatedQ < q) {
                throw new IllegalArgumentException("need 1 <= q <= escalatedQ but q=" + q + ", escalatedQ=" + escalatedQ
                        + "; choose q with DetectionPlanner.segmentsFor");
            }
        }
    }

    /**
     * @param submissionHash 32-byte hash of the signed submission as recorded
     * @param updateUri      where the submitted update lives (for evidence)
     */
    public record Submission(TrailHeader task, byte[] submissionHash, float[] update, String updateUri,
                             ProofTrail trail, CheckpointStore checkpoints) {
    }

    public record Outcome(Verdict verdict, int reexecutedSegments, long reexecutedSteps) {
    }

    private final Config config;

    public UpdateVerifier(Config config) {
        this.config = config;
    }

    public Config config() {
        return config;
    }

    /** What phase 1 decided: a reproducible rejection, or the segments to re-execute (in draw order) and the flags that sized q. */
    public sealed interface Plan permits Rejected, Draw {
    }

    public record Rejected(Verdict verdict) implements Plan {
    }

    public record Draw(List<ReasonCode> flags, int[] segments) implements Plan {
    }

    /**
     * Phase 1, everything but re-execution: the structural checks (step 1 above), the cheap statistical checks and the
     * draw of segments from the submission hash and a block hash the worker could not know. Asynchronous verifiers (the
     * verify function) run this, send the segments out for re-execution and judge the answers with
     * {@link #checkArtifact} and the comparison policy; {@link #verify} runs all of it in one call.
     */
    public Plan plan(Submission s, float[] global, float[] centre, Double validationLoss, byte[] laterBlockHash, Instant now) {
        return plan(s, global, config.cheapChecks().flags(s.update(), global, centre, validationLoss), laterBlockHash, now);
    }

    /**
     * As above, with the cheap checks' flags measured by the caller (the verify function measures the update that would be
     * aggregated, which under client-side DP is not the trained state the trail ends at).
     */
    public Plan plan(Submission s, float[] global, List<ReasonCode> flags, byte[] laterBlockHash, Instant now) {
        Ctx c = new Ctx(s, now);
        Outcome rejected = structural(c, s, global);
        if (rejected != null) {
            return new Rejected(rejected.verdict());
        }
        int n = s.task().segments();
        int q = Math.min(n, flags.isEmpty() ? config.q() : config.escalatedQ());
        int[] segments = SegmentSampler.sample(SegmentSampler.seed(s.submissionHash(), laterBlockHash), n, q);
        return new Draw(List.copyOf(flags), segments);
    }

    /**
     * The committed artifact of checkpoint {@code index} ({@code params}: what the store holds, null when missing) must
     * hash to what the trail commits; otherwise the evidence of a CHECKPOINT_ARTIFACT_MISMATCH.
     */
    public static Evidence checkArtifact(Submission s, int index, float[] params) {
        return artifactCheck(s, index, params);
    }

    private Outcome structural(Ctx c, Submission s, float[] global) {
        if (!Vectors.allFinite(s.update())) {
            return c.reject(ReasonCode.NON_FINITE_UPDATE, new Evidence(-1, null, null, List.of(s.updateUri()), null, null,
                    "update contains NaN or infinity"), List.of());
        }
        ProofTrail t = s.trail();
        if (!s.task().sameAs(t.header())) {
            return c.reject(ReasonCode.HEADER_MISMATCH, new Evidence(-1, Hashes.hex(s.task().hash()),
                    Hashes.hex(t.header().hash()), List.of(), null, null,
                    "trail header does not match the task (task, model, shard, seed, steps or k differ)"), List.of());
        }
        int n = s.task().segments();
        if (t.checkpointHashes().size() != n + 1 || t.links().size() != n + 1) {
            return c.reject(ReasonCode.TRAIL_LENGTH_MISMATCH, new Evidence(-1, null, null, List.of(), null, null,
                    "expected " + (n + 1) + " checkpoints and links, got " + t.checkpointHashes().size() + " and "
                            + t.links().size()), List.of());
        }
        byte[] globalHash = Hashes.paramsHash(global);
        byte[] startHash = s.checkpoints().startHash(global);
        if (!Arrays.equals(startHash, t.checkpointHashes().get(0))
                || !Arrays.equals(globalHash, s.task().globalModelHash())) {
            return c.reject(ReasonCode.START_NOT_GLOBAL_MODEL, new Evidence(0, Hashes.hex(startHash),
                    Hashes.hex(t.checkpointHashes().get(0)), List.of(s.checkpoints().uri(0)), null, null,
                    "checkpoint 0 must be the round's global model"), List.of());
        }
        byte[] prev = t.header().hash();
        for (int i = 0; i <= n; i++) {
            byte[] expect = Hashes.keccak(prev, t.checkpointHashes().get(i));
            if (!Arrays.equals(expect, t.links().get(i))) {
                return c.reject(ReasonCode.TRAIL_BROKEN, new Evidence(i, Hashes.hex(expect), Hashes.hex(t.links().get(i)),
                        List.of(), null, null, "link " + i + " is not keccak(link " + (i - 1) + " || checkpoint hash " + i + ")"),
                        List.of());
            }
            prev = expect;
        }
        byte[] updateHash = Hashes.paramsHash(s.update());
        if (!s.checkpoints().isLast(s.update(), t.checkpointHashes().get(n))) {
            return c.reject(ReasonCode.UPDATE_NOT_IN_TRAIL, new Evidence(n, Hashes.hex(updateHash),
                    Hashes.hex(t.checkpointHashes().get(n)), List.of(s.updateUri()), null, null,
                    "the submitted update is not the trail's last checkpoint"), List.of());
        }
        return null;
    }

    public Outcome verify(Submission s, float[] global, float[] centre, Double validationLoss, byte[] laterBlockHash,
                          SegmentExecutor executor, Instant now) {
        Ctx c = new Ctx(s, now);
        Outcome rejected = structural(c, s, global);
        if (rejected != null) {
            return rejected;
        }
        ProofTrail t = s.trail();
        int n = s.task().segments();
        List<ReasonCode> flags = config.cheapChecks().flags(s.update(), global, centre, validationLoss);
        int q = Math.min(n, flags.isEmpty() ? config.q() : config.escalatedQ());
        int[] segments = SegmentSampler.sample(SegmentSampler.seed(s.submissionHash(), laterBlockHash), n, q);
        c.sampled = Arrays.stream(segments).boxed().toList();
        boolean needEnd = config.comparison() instanceof ComparisonPolicy.Tolerance;
        for (int i : segments) {
            float[] start = i == 0 ? global : s.checkpoints().load(i);
            Evidence bad = artifactCheck(s, i, start);
            if (bad != null) {
                return c.reject(ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH, bad, flags);
            }
            float[] committedEnd = null;
            if (needEnd) {
                committedEnd = i + 1 == n ? s.update() : s.checkpoints().load(i + 1);
                bad = artifactCheck(s, i + 1, committedEnd);
                if (bad != null) {
                    return c.reject(ReasonCode.CHECKPOINT_ARTIFACT_MISMATCH, bad, flags);
                }
            }
            float[] got = executor.run(start.clone(), i);
            c.reexecuted++;
            byte[] committedHash = t.checkpointHashes().get(i + 1);
            ComparisonPolicy.Result r = Arrays.equals(executor.hashOf(i, got), committedHash) ? new ComparisonPolicy.Result(true,
                    config.comparison() instanceof ComparisonPolicy.Tolerance ? 0 : Double.NaN)
                    : config.comparison().compare(start, committedEnd, committedHash, got);
            if (!r.match()) {
                String threshold = config.comparison() instanceof ComparisonPolicy.Tolerance tol
                        ? Double.toString(tol.calibration().threshold()) : null;
                return c.reject(ReasonCode.SEGMENT_MISMATCH, new Evidence(i, Hashes.hex(executor.hashOf(i, got)),
                        Hashes.hex(committedHash), List.of(s.checkpoints().uri(i), s.checkpoints().uri(i + 1)),
                        Double.isNaN(r.distance()) ? null : Double.toString(r.distance()), threshold,
                        "re-executing segment " + i + " from the committed checkpoint " + i
                                + " does not reproduce committed checkpoint " + (i + 1)), flags);
            }
        }
        return c.accept(flags);
    }

    private static Evidence artifactCheck(Submission s, int index, float[] params) {
        byte[] committed = s.trail().checkpointHashes().get(index);
        if (params == null) {
            return new Evidence(index, Hashes.hex(committed), null, List.of(s.checkpoints().uri(index)), null, null,
                    "committed checkpoint " + index + " is missing from the artifact store");
        }
        byte[] h = s.checkpoints().hashOf(index, params);
        if (!Arrays.equals(h, committed)) {
            return new Evidence(index, Hashes.hex(committed), Hashes.hex(h), List.of(s.checkpoints().uri(index)), null, null,
                    "stored checkpoint " + index + " does not hash to the committed value");
        }
        return null;
    }

    private final class Ctx {
        final Submission s;
        final Instant now;
        List<Integer> sampled = List.of();
        int reexecuted;

        Ctx(Submission s, Instant now) {
            this.s = s;
            this.now = now;
        }

        ToleranceCalibration calibration() {
            return config.comparison() instanceof ComparisonPolicy.Tolerance t ? t.calibration() : null;
        }

        Outcome reject(ReasonCode code, Evidence e, List<ReasonCode> flags) {
            return outcome(new Verdict(s.task().taskId(), Hashes.hex(s.submissionHash()), false, code, flags, sampled,
                    reexecuted, config.comparison().mode(), calibration(), e, now.getEpochSecond()));
        }

        Outcome accept(List<ReasonCode> flags) {
            return outcome(new Verdict(s.task().taskId(), Hashes.hex(s.submissionHash()), true, ReasonCode.ACCEPTED, flags,
                    sampled, reexecuted, config.comparison().mode(), calibration(), null, now.getEpochSecond()));
        }

        private Outcome outcome(Verdict v) {
            return new Outcome(v, reexecuted, (long) reexecuted * s.task().checkpointEvery());
        }
    }
}
