package io.fedmarket.worker.reveal;

import io.fedmarket.messages.DataSource;
import io.fedmarket.messages.ReexecTask;
import io.fedmarket.messages.RevealRequest;
import io.fedmarket.worker.data.local.LocalShards;
import io.fedmarket.worker.store.ArtifactStore;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The data owner's side of verifying a private shard: the worker that holds the shard looks for the marketplace's reveal
 * requests of its roots ({@link RevealRequest}, written by the verify function only) and, for each, seals exactly the drawn
 * segment's samples to the drawn re-executor's public key, which it checks against the drawn address (an address is the
 * hash of its key, so nobody can slip in a key of their own). It answers nothing else: a request for a segment nobody was
 * drawn for, an expired one, or one for a recipient whose key does not hash to the drawn address is refused and logged.
 * What it revealed, to whom, is recorded beside the seal ({@link RevealRequest.Served}): the privacy cost, counted.
 */
public final class RevealServer {
    private final ArtifactStore store;
    private final Credentials key;
    private final LocalShards local;
    private final Consumer<String> log;
    private final Set<String> done = new HashSet<>();
    private final Set<String> looked = new HashSet<>();

    public RevealServer(ArtifactStore store, Credentials key, LocalShards local, Consumer<String> log) {
        this.store = store;
        this.key = key;
        this.local = local;
        this.log = log;
    }

    /** This worker's public key as a reveal is sealed to it: hex of the 64 bytes x ‖ y. */
    public static String publicKeyHex(Credentials c) {
        return Numeric.toHexStringWithPrefixZeroPadded(c.getEcKeyPair().getPublicKey(), 128);
    }

    /** Publishes this worker's public key under its own prefix, so an owner's worker can seal a reveal to it. */
    public static void publishKey(ArtifactStore store, Credentials c) {
        store.putJson(RevealRequest.publicKeyKey(c.getAddress()), new RevealRequest.PublicKey(c.getAddress().toLowerCase(Locale.ROOT), publicKeyHex(c)));
    }

    /** One pass over the requests of every held root; returns how many reveals it sealed. */
    public int serveOnce() {
        int n = 0;
        for (String root : local.roots()) {
            for (java.util.Map.Entry<String, String> e0 : store.listWithTags(RevealRequest.prefix(root)).entrySet()) {
                String k = e0.getKey();
                // a request read before and not rewritten since (a redraw rewrites it, with a new ETag) is not read again
                String version = k + "@" + e0.getValue();
                if (looked.contains(version)) {
                    continue;
                }
                try {
                    Pass p = serve(root, k);
                    n += p == Pass.SEALED ? 1 : 0;
                    if (p != Pass.LATER) {
                        looked.add(version);
                    }
                } catch (RuntimeException e) {
                    log.accept("reveal request " + k + " not served now (tried again next pass): " + e.getMessage());
                }
            }
        }
        return n;
    }

    /** What one look at a request did: sealed it, decided there is nothing to seal (for this version of it), or try again later. */
    private enum Pass { SEALED, NOTHING, LATER }

    private Pass serve(String root, String requestKey) {
        Optional<RevealRequest> got = store.getJson(requestKey, RevealRequest.class);
        if (got.isEmpty() || got.get().reexec() == null || got.get().reexec().task() == null) {
            return Pass.NOTHING;
        }
        ReexecTask r = got.get().reexec();
        String recipient = r.assignee();
        String once = requestKey + "|" + recipient;
        if (done.contains(once)) {
            return Pass.NOTHING;
        }
        String me = key.getAddress().toLowerCase(Locale.ROOT);
        if (recipient == null || r.expired(java.time.Instant.now().getEpochSecond()) || !r.task().trainableBy(me)
                || !root.equalsIgnoreCase(r.task().shardCommitment())) {
            done.add(once);
            return Pass.NOTHING;
        }
        if (store.find(RevealRequest.sealedKey(me, r.reexecId(), recipient)).isPresent()) {
            done.add(once); // sealed before (this worker restarted)
            return Pass.NOTHING;
        }
        Optional<RevealRequest.PublicKey> pk = store.getJson(RevealRequest.publicKeyKey(recipient), RevealRequest.PublicKey.class);
        if (pk.isEmpty()) {
            return Pass.LATER; // the re-executor has not published its key yet: tried again next pass
        }
        BigInteger pub;
        try {
            pub = Numeric.toBigInt(pk.get().publicKey());
        } catch (RuntimeException e) {
            done.add(once);
            log.accept("refusing reveal " + r.reexecId() + ": the published key of " + recipient + " is not a key (" + e.getMessage() + ")");
            return Pass.NOTHING;
        }
        if (!("0x" + Keys.getAddress(pub)).equalsIgnoreCase(recipient)) {
            done.add(once);
            log.accept("refusing reveal " + r.reexecId() + ": the key published for " + recipient + " is another address's ("
                    + "0x" + Keys.getAddress(pub) + "); nothing is sealed to it");
            return Pass.NOTHING;
        }
        LocalShards.Held held = local.get(root).orElseThrow();
        SegmentReveal.Header h = header(r, got.get().sampleCount(), pk.get().publicKey());
        byte[] sealed = SegmentReveal.seal(h, held.set());
        int count = SegmentReveal.revealCount(h);
        // the record first: a seal on the bucket always has its count
        store.putJson(RevealRequest.recordKey(me, r.reexecId(), recipient), new RevealRequest.Served(r.reexecId(), r.task().taskId(), r.segment(),
                h.fromStep(), h.toStep(), count, recipient, sealed.length, System.currentTimeMillis()));
        store.put(RevealRequest.sealedKey(me, r.reexecId(), recipient), sealed, "application/octet-stream");
        done.add(once);
        log.accept("revealed segment " + r.segment() + " of " + r.task().taskId() + " (" + count + " samples, sealed) to the drawn re-executor " + recipient);
        return Pass.SEALED;
    }

    /** The header both sides build for one drawn segment: who it is for, the steps, the plan and the committed set. */
    public static SegmentReveal.Header header(ReexecTask r, int sampleCount, String recipientPublicKey) {
        List<Integer> shape = DataSource.sampleShape(r.task().dataset()).orElseThrow(() -> new IllegalArgumentException(
                r.task().dataset() + " is not a private data set"));
        int values = shape.stream().reduce(1, (a, b) -> a * b);
        int sampleBytes = shape.size() == 1 ? 4 * values : values;
        return new SegmentReveal.Header(r.task().taskId(), r.segment(), r.startStep(), r.startStep() + r.steps(), r.task().batchSize(), r.task().seed(),
                r.task().shardCommitment(), sampleCount, DataSource.classes(r.task().dataset()).getAsInt(), sampleBytes, recipientPublicKey);
    }
}
