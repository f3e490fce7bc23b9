package io.fedmarket.worker.reveal;

import io.fedmarket.infra.local.LocalStack;
import io.fedmarket.messages.ReexecResult;
import io.fedmarket.messages.ReexecTask;
import io.fedmarket.messages.RevealRequest;
import io.fedmarket.messages.TrainTask;
import io.fedmarket.pol.ReexecSigner;
import io.fedmarket.pol.SubmissionSigner;
import io.fedmarket.pol.TrailManifest;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import io.fedmarket.worker.data.local.DataCommitter;
import io.fedmarket.worker.data.local.ImageFolderExport;
import io.fedmarket.worker.data.local.LocalDataSpec;
import io.fedmarket.worker.data.local.LocalShards;
import io.fedmarket.worker.store.ArtifactStore;
import io.fedmarket.worker.train.Fault;
import io.fedmarket.worker.train.Reexecutor;
import io.fedmarket.worker.train.TaskRunner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.crypto.Credentials;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A private shard end to end on the worker side, real DJL training and a real S3 API (s3proxy): the owner's worker trains
 * its PNG folder from its own disk; another worker cannot; a drawn segment's samples reach the drawn re-executor sealed
 * (and nobody else), whose replay of them reproduces the committed end state bit for bit; a refusal, a request for
 * somebody else and a key that is not the drawn address's are answered as such; and nothing in the bucket holds a
 * sample's bytes in the clear.
 */
class PrivateShardTest {
    static final Credentials OWNER = Credentials.create("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
    static final Credentials REEXEC = Credentials.create("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
    static final Credentials OTHER = Credentials.create("0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba");
    static final String MARKET = "0x0000000000000000000000000000000000000000";
    static LocalStack stack;
    static S3Client s3;
    static ArtifactStore store;

    @BeforeAll
    static void start(@TempDir Path dir) {
        stack = LocalStack.builder().dataDir(dir).sqs(false).s3(true).evm(false).postgres(false).progress(s -> { }).start();
        var ep = stack.endpoints().s3();
        s3 = S3Client.builder().region(Region.of(ep.region())).httpClientBuilder(UrlConnectionHttpClient.builder())
                .endpointOverride(URI.create(ep.endpoint()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ep.accessKey(), ep.secretKey())))
                .forcePathStyle(true).build();
        store = new ArtifactStore(s3, ep.bucket());
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    static TaskRunner runner(Credentials key, LocalShards local, String fault) {
        return new TaskRunner(store, key, new SubmissionSigner(31337, MARKET), "w-" + key.getAddress().substring(2, 8), Fault.parse(fault)).localData(local);
    }

    /** 6 steps of an MLP in 3 segments of 2 on the owner's 90 8×8 PNGs of 3 classes. */
    static TrainTask task(String root) {
        return new TrainTask("t-private-" + UUID.randomUUID(), UUID.randomUUID(), 0, "mlp:16;input=1x8x8;classes=3", null, null, "private:1x8x8:3",
                "iid", 1, 0, 0, root, 7, 0.05, 0.9, 0.0, 8, 0, 6, 2, 1, null, null, 600, 0, List.of(OWNER.getAddress().toLowerCase()));
    }

    static ReexecTask drawn(TrainTask t, TrailManifest m, int segment, String assignee) {
        return new ReexecTask(t.taskId() + "-seg" + segment, t, segment, segment * 2, 2, m.checkpointUris().get(segment), m.checkpointHashes().get(segment),
                null, null, List.of(OWNER.getAddress().toLowerCase()), assignee.toLowerCase(), null);
    }

    @Test
    void theOwnersWorkerTrainsItsFolderAndTheDrawnReExecutorReplaysTheRevealedSegmentBitForBit(@TempDir Path dir) throws Exception {
        ImageData source = Datasets.syntheticShaped("synthetic:90:1x8x8:3", 90, "1x8x8", "3", 11);
        int[] all = java.util.stream.IntStream.range(0, 90).toArray();
        Path folder = dir.resolve("clinic-a");
        assertThat(ImageFolderExport.write(source, all, folder)).isEqualTo(90);
        DataCommitter.Commitment c = DataCommitter.commit(LocalDataSpec.imageFolder(folder, List.of(1, 8, 8)), m -> { });
        LocalShards owned = LocalShards.load(List.of(folder), m -> { });
        TrainTask t = task(c.datasetRoot());

        // somebody who does not hold the data set cannot train it, and says why
        assertThatThrownBy(() -> runner(OTHER, LocalShards.NONE, "none").run(t, () -> false))
                .hasMessageContaining("holds no data set with that root");

        TaskRunner.Completed done = (TaskRunner.Completed) runner(OWNER, owned, "none").run(t, () -> false);
        TrailManifest m = store.getJson(done.submission().trailUri(), TrailManifest.class).orElseThrow();
        assertThat(m.shardCommitment()).isEqualToIgnoringCase(c.datasetRoot());

        // the marketplace draws REEXEC for segment 1; the owner's worker seals exactly that segment's samples to it
        RevealServer.publishKey(store, REEXEC);
        ReexecTask r = drawn(t, m, 1, REEXEC.getAddress());
        store.putJson(RevealRequest.key(c.datasetRoot(), r.reexecId()), new RevealRequest(r, 90));
        RevealServer server = new RevealServer(store, OWNER, owned, s -> { });
        assertThat(server.serveOnce()).isEqualTo(1);
        assertThat(server.serveOnce()).as("served once").isZero();
        RevealRequest.Served served = store.getJson(RevealRequest.recordKey(OWNER.getAddress(), r.reexecId(), REEXEC.getAddress()),
                RevealRequest.Served.class).orElseThrow();
        SegmentReveal.Header h = RevealServer.header(r, 90, RevealServer.publicKeyHex(REEXEC));
        assertThat(served.samples()).isEqualTo(SegmentReveal.revealCount(h)).isLessThanOrEqualTo(2 * 8).isPositive();
        assertThat(served.recipient()).isEqualTo(REEXEC.getAddress().toLowerCase());

        Reexecutor reexecutor = new Reexecutor(runner(REEXEC, LocalShards.NONE, "none"), store, REEXEC, new ReexecSigner(31337, MARKET)).revealWait(5_000);
        ReexecResult ok = reexecutor.run(r);
        assertThat(ok.error()).isNull();
        assertThat(ok.endHash()).as("the replay of the revealed samples is the committed end state").isEqualToIgnoringCase(m.checkpointHashes().get(2));

        // another worker that takes the request is not drawn for it: it gets no samples
        ReexecResult notMine = new Reexecutor(runner(OTHER, LocalShards.NONE, "none"), store, OTHER, new ReexecSigner(31337, MARKET)).revealWait(600).run(r);
        assertThat(notMine.error()).startsWith("REVEAL_NOT_REQUESTED");

        // an owner that does not serve segment 2 leaves the drawn re-executor without samples: REVEAL_NOT_SERVED, said so
        ReexecTask r2 = drawn(t, m, 2, REEXEC.getAddress());
        store.putJson(RevealRequest.key(c.datasetRoot(), r2.reexecId()), new RevealRequest(r2, 90));
        ReexecResult refused = reexecutor.revealWait(800).run(r2);
        assertThat(refused.error()).startsWith("REVEAL_NOT_SERVED").contains(OWNER.getAddress().toLowerCase());
        assertThat(refused.endHash()).isNull();

        // a key published for the drawn address that is not that address's key gets nothing sealed to it
        ReexecTask r0 = drawn(t, m, 0, OTHER.getAddress());
        store.putJson(RevealRequest.publicKeyKey(OTHER.getAddress()), new RevealRequest.PublicKey(OTHER.getAddress(), RevealServer.publicKeyHex(REEXEC)));
        store.putJson(RevealRequest.key(c.datasetRoot(), r0.reexecId()), new RevealRequest(r0, 90));
        List<String> logged = new java.util.ArrayList<>();
        RevealServer careful = new RevealServer(store, OWNER, owned, logged::add);
        int sealedNow = careful.serveOnce(); // seals r2 (now requested and keyed), refuses r0
        assertThat(sealedNow).isEqualTo(1);
        assertThat(logged).anyMatch(l -> l.contains("refusing reveal " + r0.reexecId()));
        assertThat(store.find(RevealRequest.sealedKey(OWNER.getAddress(), r0.reexecId(), OTHER.getAddress()))).isEmpty();

        // the shard stays home: no object in the bucket holds any sample's bytes in the clear
        List<byte[]> samples = new java.util.ArrayList<>();
        for (int i = 0; i < 90; i++) {
            samples.add(java.util.Arrays.copyOfRange(source.pixels(), i * 64, i * 64 + 64));
        }
        for (String key : store.list("")) {
            byte[] obj = store.get(key);
            for (byte[] sample : samples) {
                assertThat(indexOf(obj, sample)).as("sample bytes in " + key).isEqualTo(-1);
            }
        }
        assertThat(Files.exists(folder.resolve(".fedmarket/leaves.bin"))).isTrue();
    }

    @Test
    void anOwnerThatTrainsOnOtherDataThanItCommittedIsCaughtByTheReplayOfItsRevealedSamples(@TempDir Path dir) throws Exception {
        ImageData source = Datasets.syntheticShaped("synthetic:90:1x8x8:3", 90, "1x8x8", "3", 11);
        Path folder = dir.resolve("clinic-b");
        ImageFolderExport.write(source, java.util.stream.IntStream.range(0, 90).toArray(), folder);
        DataCommitter.Commitment c = DataCommitter.commit(LocalDataSpec.imageFolder(folder, List.of(1, 8, 8)), m -> { });
        LocalShards owned = LocalShards.load(List.of(folder), m -> { });
        TrainTask t = task(c.datasetRoot());
        // wrong-shard on private data: the held samples with every label moved on, while the trail claims the committed set
        TaskRunner.Completed done = (TaskRunner.Completed) runner(OWNER, owned, "wrong-shard").run(t, () -> false);
        TrailManifest m = store.getJson(done.submission().trailUri(), TrailManifest.class).orElseThrow();
        RevealServer.publishKey(store, REEXEC);
        ReexecTask r = drawn(t, m, 1, REEXEC.getAddress());
        store.putJson(RevealRequest.key(c.datasetRoot(), r.reexecId()), new RevealRequest(r, 90));
        assertThat(new RevealServer(store, OWNER, owned, s -> { }).serveOnce()).isEqualTo(1);
        ReexecResult replay = new Reexecutor(runner(REEXEC, LocalShards.NONE, "none"), store, REEXEC, new ReexecSigner(31337, MARKET)).revealWait(5_000).run(r);
        assertThat(replay.error()).isNull();
        assertThat(replay.endHash()).as("the committed samples do not lead where the cheater's trail says").isNotEqualToIgnoringCase(m.checkpointHashes().get(2));
    }

    @Test
    void aPrivateCsvDataSetTrainsFromFloatFeaturesAndItsRevealReplaysBitForBit(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("patients.csv");
        StringBuilder b = new StringBuilder("age,bp,chol,label\n");
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        for (int i = 0; i < 64; i++) {
            int y = i % 2;
            b.append(String.format(java.util.Locale.ROOT, "%.3f,%.3f,%.3f,%s%n", rnd.nextDouble() + y, rnd.nextDouble() * 2, rnd.nextDouble() - y, y == 0 ? "well" : "sick"));
        }
        Files.writeString(f, b);
        DataCommitter.Commitment c = DataCommitter.commit(LocalDataSpec.csv(f, "label"), m -> { });
        LocalShards owned = LocalShards.load(List.of(f), m -> { });
        TrainTask t = new TrainTask("t-csv-" + UUID.randomUUID(), UUID.randomUUID(), 0, "mlp:8;input=3;classes=2", null, null, "private:3:2",
                "iid", 1, 0, 0, c.datasetRoot(), 5, 0.05, 0.9, 0.0, 8, 0, 4, 2, 1, null, null, 600, 0, List.of(OWNER.getAddress().toLowerCase()));
        TaskRunner.Completed done = (TaskRunner.Completed) runner(OWNER, owned, "none").run(t, () -> false);
        TrailManifest m = store.getJson(done.submission().trailUri(), TrailManifest.class).orElseThrow();
        RevealServer.publishKey(store, REEXEC);
        ReexecTask r = new ReexecTask(t.taskId() + "-seg1", t, 1, 2, 2, m.checkpointUris().get(1), m.checkpointHashes().get(1), null, null,
                List.of(OWNER.getAddress().toLowerCase()), REEXEC.getAddress().toLowerCase(), null);
        store.putJson(RevealRequest.key(c.datasetRoot(), r.reexecId()), new RevealRequest(r, 64));
        assertThat(new RevealServer(store, OWNER, owned, s -> { }).serveOnce()).isEqualTo(1);
        ReexecResult ok = new Reexecutor(runner(REEXEC, LocalShards.NONE, "none"), store, REEXEC, new ReexecSigner(31337, MARKET)).revealWait(5_000).run(r);
        assertThat(ok.error()).isNull();
        assertThat(ok.endHash()).isEqualToIgnoringCase(m.checkpointHashes().get(2));
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
