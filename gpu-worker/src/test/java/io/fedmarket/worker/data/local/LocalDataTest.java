package io.fedmarket.worker.data.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedmarket.crypto.Hashes;
import io.fedmarket.crypto.MerkleTree;
import io.fedmarket.worker.data.Datasets;
import io.fedmarket.worker.data.ImageData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A data owner's own data sets read and committed on the owner's machine: image folders, CSV, IDX, and their bad files. */
class LocalDataTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static void image(Path file, int w, int h, int type, Color c, String format) throws Exception {
        BufferedImage img = new BufferedImage(w, h, type);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        Files.createDirectories(file.getParent());
        assertThat(ImageIO.write(img, format, file.toFile())).isTrue();
    }

    static Path folder(Path root) throws Exception {
        image(root.resolve("cat/a.png"), 16, 12, BufferedImage.TYPE_INT_RGB, new Color(200, 100, 50), "png");
        image(root.resolve("cat/b.PNG"), 5, 5, BufferedImage.TYPE_BYTE_GRAY, new Color(90, 90, 90), "png");
        image(root.resolve("dog/c.jpg"), 32, 32, BufferedImage.TYPE_INT_RGB, new Color(10, 20, 30), "jpg");
        image(root.resolve("dog/d.png"), 8, 8, BufferedImage.TYPE_INT_RGB, Color.WHITE, "png");
        image(root.resolve("dog/e.png"), 8, 8, BufferedImage.TYPE_INT_RGB, Color.BLACK, "png");
        Files.write(root.resolve("dog/.DS_Store"), new byte[] {1, 2, 3});
        return root;
    }

    @Test
    void anImageFolderIsReadInAFixedOrderConvertedToTheShapeAndCommitted(@TempDir Path dir) throws Exception {
        Path root = folder(dir.resolve("pets"));
        List<LocalSample> samples = new ArrayList<>();
        LocalDataReader.Result r = LocalDataReader.read(LocalDataSpec.imageFolder(root, List.of(1, 4, 4)), samples::add, m -> { });
        assertThat(r.classes()).containsExactly("cat", "dog");
        assertThat(r.count()).isEqualTo(5);
        assertThat(r.notes()).singleElement().asString().contains(".DS_Store");
        assertThat(samples).extracting(s -> Path.of(s.origin()).getFileName().toString()).containsExactly("a.png", "b.PNG", "c.jpg", "d.png", "e.png");
        assertThat(samples).extracting(LocalSample::label).containsExactly(0, 0, 1, 1, 1);
        // a uniform colour stays uniform through resizing; colour to grey is the luminance, grey keeps its raster value
        int lum = (int) Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50);
        assertThat(samples.get(0).bytes()).hasSize(16).containsOnly((byte) lum);
        assertThat(samples.get(1).bytes()).containsOnly((byte) 90);
        assertThat(samples.get(3).bytes()).containsOnly((byte) 255);
        assertThat(samples.get(4).bytes()).containsOnly((byte) 0);
        // three channels: R, G, B planes
        List<LocalSample> rgb = new ArrayList<>();
        LocalDataReader.read(LocalDataSpec.imageFolder(root, List.of(3, 2, 3)), rgb::add, m -> { });
        byte[] a = rgb.get(0).bytes();
        assertThat(a).hasSize(18);
        assertThat(java.util.Arrays.copyOfRange(a, 0, 6)).containsOnly((byte) 200);
        assertThat(java.util.Arrays.copyOfRange(a, 6, 12)).containsOnly((byte) 100);
        assertThat(java.util.Arrays.copyOfRange(a, 12, 18)).containsOnly((byte) 50);
        assertThat(rgb.get(1).bytes()).containsOnly((byte) 90); // grey repeated into three channels

        List<String> progress = new ArrayList<>();
        DataCommitter.Commitment c = DataCommitter.commit(LocalDataSpec.imageFolder(root, List.of(1, 4, 4)), progress::add);
        assertThat(progress).last().asString().contains("read 5 of 5 samples");
        assertThat(c.sampleCount()).isEqualTo(5);
        assertThat(c.labelHistogram()).containsExactly(Map.entry("cat", 2L), Map.entry("dog", 3L));
        List<byte[]> leaves = IntStream.range(0, samples.size()).mapToObj(i -> DataCommitter.leaf(i, samples.get(i).label(), 2, samples.get(i).bytes())).toList();
        assertThat(c.datasetRoot()).isEqualTo(MerkleTree.of(leaves).rootHex());
        assertThat(leaves.get(1)).isEqualTo(Hashes.keccak256(new byte[] {0, 0, 0, 1}, new byte[] {0}, samples.get(1).bytes()));
        // kept next to the data: the commitment and every leaf in order
        Path state = root.resolve(DataCommitter.STATE_DIR);
        byte[] kept = Files.readAllBytes(state.resolve("leaves.bin"));
        assertThat(kept).hasSize(32 * 5);
        assertThat(java.util.Arrays.copyOfRange(kept, 32, 64)).isEqualTo(leaves.get(1));
        JsonNode json = JSON.readTree(state.resolve("commitment.json").toFile());
        assertThat(json.get("datasetRoot").asText()).isEqualTo(c.datasetRoot());
        assertThat(json.get("shape").toString()).isEqualTo("[1,4,4]");
        // the same data commits to the same root (the state folder is not part of the data), different data does not
        assertThat(DataCommitter.commit(LocalDataSpec.imageFolder(root, List.of(1, 4, 4)), m -> { }).datasetRoot()).isEqualTo(c.datasetRoot());
        image(root.resolve("dog/e.png"), 8, 8, BufferedImage.TYPE_INT_RGB, Color.GRAY, "png");
        assertThat(DataCommitter.commit(LocalDataSpec.imageFolder(root, List.of(1, 4, 4)), m -> { }).datasetRoot()).isNotEqualTo(c.datasetRoot());
        // declared classes fix the order (and may name a class nobody here has)
        DataCommitter.Commitment declared = DataCommitter.commit(LocalDataSpec.imageFolder(root, List.of(1, 4, 4)).withClasses(List.of("dog", "bird", "cat")), m -> { });
        assertThat(declared.labelHistogram()).containsExactly(Map.entry("dog", 3L), Map.entry("bird", 0L), Map.entry("cat", 2L));
    }

    @Test
    void everyBadFileOfAnImageFolderIsReportedAndNothingIsCommitted(@TempDir Path dir) throws Exception {
        Path root = folder(dir.resolve("pets"));
        Files.write(root.resolve("cat/broken.png"), "not an image".getBytes());
        Files.writeString(root.resolve("dog/notes.txt"), "taken in 2024");
        Files.writeString(root.resolve("README"), "pets");
        Files.createDirectories(root.resolve("dog/more"));
        assertThatThrownBy(() -> DataCommitter.commit(LocalDataSpec.imageFolder(root, List.of(1, 4, 4)), m -> { }))
                .isInstanceOf(BadDataException.class)
                .satisfies(e -> assertThat(((BadDataException) e).problems()).hasSize(3)
                        .anySatisfy(p -> assertThat(p).contains("README").contains("outside the class folders"))
                        .anySatisfy(p -> assertThat(p).contains("notes.txt").contains("not a PNG or JPEG"))
                        .anySatisfy(p -> assertThat(p).contains("dog/more").contains("folder inside class folder")));
        Files.delete(root.resolve("README"));
        Files.delete(root.resolve("dog/notes.txt"));
        Files.delete(root.resolve("dog/more"));
        assertThatThrownBy(() -> DataCommitter.commit(LocalDataSpec.imageFolder(root, List.of(1, 4, 4)), m -> { }))
                .isInstanceOf(BadDataException.class).hasMessageContaining("cat/broken.png: not a readable PNG or JPEG");
        Files.delete(root.resolve("cat/broken.png"));
        assertThatThrownBy(() -> DataCommitter.commit(LocalDataSpec.imageFolder(root, List.of(1, 4, 4)).withClasses(List.of("cat")), m -> { }))
                .hasMessageContaining("class folder 'dog' is not one of the declared classes [cat]");
        assertThatThrownBy(() -> DataCommitter.commit(LocalDataSpec.imageFolder(root, null), m -> { })).hasMessageContaining("--shape is required");
        assertThatThrownBy(() -> DataCommitter.commit(LocalDataSpec.imageFolder(root, List.of(2, 4, 4)), m -> { })).hasMessageContaining("C = 1 (grey) or 3 (RGB)");
        assertThat(root.resolve(DataCommitter.STATE_DIR)).doesNotExist();
    }

    @Test
    void aCsvFileIsReadRowByRowAndEveryBadRowIsNamedByItsLine(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("iris.csv");
        Files.writeString(csv, "sepal,petal,\"species\"\n5.1,1.4,setosa\n\"6.3\",4.9,\"virginica\"\n5.8, 4.1 ,versicolor\n\n");
        List<LocalSample> rows = new ArrayList<>();
        LocalDataReader.Result r = LocalDataReader.read(LocalDataSpec.csv(csv, "species"), rows::add, m -> { });
        assertThat(r.shape()).containsExactly(2);
        assertThat(r.classes()).containsExactly("setosa", "versicolor", "virginica");
        assertThat(rows).extracting(LocalSample::label).containsExactly(0, 2, 1);
        assertThat(rows.get(1).bytes()).isEqualTo(ByteBuffer.allocate(8).putFloat(6.3f).putFloat(4.9f).array());
        assertThat(rows.get(2).origin()).endsWith("iris.csv:4");
        DataCommitter.Commitment c = DataCommitter.commit(LocalDataSpec.csv(dir, "species"), m -> { });
        assertThat(c.labelHistogram()).containsExactly(Map.entry("setosa", 1L), Map.entry("versicolor", 1L), Map.entry("virginica", 1L));
        assertThat(dir.resolve(".fedmarket/commitment.json")).exists();
        // one feature chosen
        assertThat(LocalDataReader.read(LocalDataSpec.csv(csv, "species").withFeatures(List.of("petal")), m -> { }, m -> { }).shape()).containsExactly(1);

        Path bad = dir.resolve("bad").resolve("bad.csv");
        Files.createDirectories(bad.getParent());
        Files.writeString(bad, "a,b,label\n1,2,x\n1,2\n1,abc,y\n1,NaN,x\n\n1,2,z\n1,2,\"x\n");
        assertThatThrownBy(() -> DataCommitter.commit(LocalDataSpec.csv(bad, "label").withClasses(List.of("x", "y")), m -> { }))
                .isInstanceOf(BadDataException.class)
                .satisfies(e -> assertThat(((BadDataException) e).problems()).containsExactly(
                        bad + ":3: 2 fields, the header has 3; fix the row (no row is skipped)",
                        bad + ":4 column 'b': 'abc' is not a finite number",
                        bad + ":5 column 'b': 'NaN' is not a finite number",
                        bad + ":6: a blank line inside the data; remove it (no row is skipped)",
                        bad + ":8: a quote opened and not closed (fields spanning lines are not supported); close it",
                        bad + ":7: label 'z' is not one of the declared classes [x, y]"));
        assertThat(bad.getParent().resolve(DataCommitter.STATE_DIR)).doesNotExist();
        assertThatThrownBy(() -> LocalDataReader.read(LocalDataSpec.csv(csv, "kind"), m -> { }, m -> { }))
                .hasMessageContaining("no column 'kind' (--label); the header has [sepal, petal, species]");
        assertThatThrownBy(() -> LocalDataReader.read(LocalDataSpec.csv(csv, null), m -> { }, m -> { })).hasMessageContaining("--label is required");
    }

    @Test
    void theFashionMnistIdxFilesCommitToTheRootOfTheirFullShard(@TempDir Path dir) throws Exception {
        Path src = Datasets.fashionDir();
        Files.copy(src.resolve("t10k-images-idx3-ubyte.gz"), dir.resolve("t10k-images-idx3-ubyte.gz"));
        Files.copy(src.resolve("t10k-labels-idx1-ubyte.gz"), dir.resolve("t10k-labels-idx1-ubyte.gz"));
        DataCommitter.Commitment c = DataCommitter.commit(LocalDataSpec.idx(dir), m -> { });
        assertThat(c.shape()).containsExactly(1, 28, 28);
        assertThat(c.sampleCount()).isEqualTo(10_000);
        assertThat(c.labelHistogram().values()).containsOnly(1000L);
        ImageData test = Datasets.load("fashion-mnist-test");
        // the same samples, in the same order, as the worker's own IDX reader gives
        List<byte[]> leaves = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            byte[] px = java.util.Arrays.copyOfRange(test.pixels(), i * 784, (i + 1) * 784);
            leaves.add(DataCommitter.leaf(i, test.labels()[i], 10, px));
        }
        assertThat(c.datasetRoot()).isEqualTo(MerkleTree.of(leaves).rootHex());
        // a position is part of its leaf: the same sample at another place is another leaf
        byte[] first = java.util.Arrays.copyOfRange(test.pixels(), 0, 784);
        assertThat(DataCommitter.leaf(1, test.labels()[0], 10, first)).isNotEqualTo(leaves.get(0));

        Path broken = dir.resolve("broken");
        Files.createDirectories(broken);
        byte[] images;
        try (var in = new GZIPInputStream(Files.newInputStream(src.resolve("t10k-images-idx3-ubyte.gz")))) {
            images = in.readNBytes(16 + 784 * 3);
        }
        Files.write(broken.resolve("x-images-idx3-ubyte"), images);
        Files.copy(src.resolve("t10k-labels-idx1-ubyte.gz"), broken.resolve("x-labels-idx1-ubyte.gz"));
        assertThatThrownBy(() -> DataCommitter.commit(LocalDataSpec.idx(broken), m -> { })).isInstanceOf(BadDataException.class)
                .hasMessageContaining("not a valid IDX pair").hasMessageContaining("truncated");
        try (OutputStream o = Files.newOutputStream(broken.resolve("y-images-idx3-ubyte"))) {
            o.write(new ByteArrayOutputStream().toByteArray());
        }
        assertThatThrownBy(() -> DataCommitter.commit(LocalDataSpec.idx(broken), m -> { })).hasMessageContaining("exactly one *images-idx3-ubyte");
    }
}
