package io.fedmarket.fl.model;

import io.fedmarket.fl.data.IdxImages;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The plain-Java forward pass on models small enough to work out by hand (DJL parity is gpu-worker's
 * InferenceParityTest).
 */
class InferenceTest {
    private static final double E = Math.exp(1);

    /** Zero tensors of the layout's shapes (what a test fills in). */
    private static float[][] zeros(ModelLayouts.Layout l) {
        float[][] t = new float[l.tensorCount()][];
        for (int i = 0; i < t.length; i++) {
            long n = 1;
            for (long d : l.shapes().get(i)) {
                n *= d;
            }
            t[i] = new float[(int) n];
        }
        return t;
    }

    private static float[] flat(ModelLayouts.Layout l, float[][] t) {
        return new ModelState(l.names(), l.shapes(), t, null, 0).flat();
    }

    @Test
    void tinyMlpByHand() {
        ModelLayouts.Layout l = ModelLayouts.layout("mlp:2"); // 784 → 2 → ReLU → 10
        float[][] t = zeros(l);
        float[] w1 = t[0]; // [2, 784]
        w1[0] = 1;         // unit 0 = x0 + 2·x1
        w1[1] = 2;
        w1[784] = -1;      // unit 1 = -x0 + x1 + 0.5
        w1[785] = 1;
        t[1][1] = 0.5f;
        float[] w2 = t[2]; // [10, 2]
        w2[0] = 1;         // z0 = h0
        w2[2 * 1 + 1] = 2; // z1 = 2·h1
        t[3][2] = 1;       // z2 = 1, z3..z9 = 0

        float[] images = new float[3 * 784];
        images[0] = 1;          // sample 0: x0 = 1, x1 = 0.5 → h = (2, relu(0)) = (2, 0) → z = (2, 0, 1, 0…)
        images[1] = 0.5f;
        images[784 + 1] = 1;    // sample 1: x0 = 0, x1 = 1 → h = (2, 1.5) → z = (2, 3, 1, 0…)
        images[2 * 784] = 1;    // sample 2: x0 = 1, x1 = 0 → h = (1, relu(-0.5)) = (1, 0) → z = (1, 0, 1, 0…)
        int[] labels = {0, 1, 2};
        // losses: log(e² + 1 + e + 7) − 2 = 0.896317…, log(e² + e³ + e + 7) − 3 = 0.616117…,
        // log(2e + 8) − 1 = 1.597980…; mean 1.036805…
        // predictions: 0 (right), 1 (right), 0 (a tie of z0 and z2: the first wins, wrong) → accuracy 2/3
        double l0 = Math.log(E * E + 1 + E + 7) - 2;
        double l1 = Math.log(E * E + E * E * E + E + 7) - 3;
        double l2 = Math.log(2 * E + 8) - 1;
        assertThat(l0).isCloseTo(0.8963172664682286, within(1e-12));
        assertThat((l0 + l1 + l2) / 3).isCloseTo(1.0368046984138355, within(1e-12));

        Inference.Evaluation ev = Inference.evaluate(l, flat(l, t), images, labels);
        assertThat(ev.samples()).isEqualTo(3);
        assertThat(ev.accuracy()).isEqualTo(2 / 3.0);
        assertThat(ev.meanLoss()).isCloseTo(1.0368046984138355, within(1e-6));

        // one sample at a time gives its own loss
        assertThat(Inference.evaluate("mlp:2", flat(l, t), java.util.Arrays.copyOfRange(images, 784, 1568), new int[]{1}).meanLoss())
                .isCloseTo(0.6161172066588843, within(1e-6));
    }

    @Test
    void zeroModelIsUniform() {
        // all-zero parameters: ten equal logits, loss ln 10 whatever the input, prediction class 0 (first of a tie)
        for (String spec : new String[]{"mlp", "mlp:16,8", "cnn"}) {
            ModelLayouts.Layout l = ModelLayouts.layout(spec);
            float[] images = new float[4 * 784];
            for (int i = 0; i < images.length; i++) {
                images[i] = (i % 7) / 7f;
            }
            Inference.Evaluation ev = Inference.evaluate(l, new float[(int) l.parameterCount()], images, new int[]{0, 3, 0, 9});
            assertThat(ev.meanLoss()).as(spec).isCloseTo(Math.log(10), within(1e-9));
            assertThat(ev.accuracy()).as(spec).isEqualTo(0.5);
        }
    }

    @Test
    void cnnWithZeroConvolutionsIsItsBiasesThroughTheFlattenOrder() {
        ModelLayouts.Layout l = ModelLayouts.layout("cnn");
        float[][] t = zeros(l);
        java.util.Arrays.fill(t[1], 0.3f);   // conv1 bias (conv2's weights are zero, so it cannot matter)
        for (int g = 0; g < 16; g++) {
            t[3][g] = g * 0.125f;            // conv2 bias: channel g is g/8 on its 8×8 map → pooled 4×4 map of g/8
        }
        // flattened in (channel, row, column) order, 16 values a channel: index 5·16 + 3 is channel 5 (0.625);
        // in (row, column, channel) order it would be channel 3 (0.375)
        t[4][5 * 16 + 3] = 1;                // h1[0] = 0.625
        t[4][256 + 10 * 16] = -1;            // h1[1] = relu(−1.25 + 0.25) = 0
        t[5][1] = 0.25f;
        t[5][2] = 0.75f;                     // h1[2] = 0.75
        t[6][0] = 2;                         // h2[0] = 2·0.625 = 1.25
        t[6][120 + 1] = 5;                   // h2[1] = 5·0 + 0.75 = 0.75
        t[6][120 + 2] = 1;
        t[8][3 * 84] = 1;                    // z3 = h2[0] = 1.25
        t[8][7 * 84 + 1] = 2;                // z7 = 2·h2[1] = 1.5
        t[9][9] = -2;                        // z9 = −2, the other seven 0
        // lse = log(e^1.25 + e^1.5 + e^−2 + 7) = 2.715183; label 7: 1.215183 (right), label 3: 1.465183 (wrong)
        double lse = Math.log(Math.exp(1.25) + Math.exp(1.5) + Math.exp(-2) + 7);
        assertThat(lse).isCloseTo(2.7151825262288414, within(1e-12));
        float[] images = new float[2 * 784];
        for (int i = 0; i < images.length; i++) {
            images[i] = ((i * 37) % 256) / 255f; // any input: it does not reach the output
        }
        Inference.Evaluation ev = Inference.evaluate(l, flat(l, t), images, new int[]{7, 3});
        assertThat(ev.meanLoss()).isCloseTo(1.3401825262288414, within(1e-6));
        assertThat(ev.accuracy()).isEqualTo(0.5);
    }

    @Test
    void cnnCarriesOnePixelThroughConvolutionsAndPools() {
        // conv1 filter 0 = a 1 at kernel (0, 0): map 0 is the image cropped to 24×24; a pixel at (row 10, col 21)
        // is map 0 (10, 21) → pooled (5, 10). conv2 filter 0, channel 0 = a 1 at kernel (row 1, col 4): map (4, 6)
        // → pooled (2, 3) → flat index 0·16 + 2·4 + 3 = 11. fc1 unit 0 = 3·flat[11] → fc2 unit 0 → z4 = 3.
        // (Rows and columns swapped, or a flipped kernel, would lose the pixel.)
        ModelLayouts.Layout l = ModelLayouts.layout("cnn");
        float[][] t = zeros(l);
        t[0][0] = 1;                 // conv1 [6,1,5,5]: filter 0, (0, 0)
        t[2][1 * 5 + 4] = 1;         // conv2 [16,6,5,5]: filter 0, channel 0, (1, 4)
        t[4][11] = 3;                // fc1 [120, 256]
        t[6][0] = 1;                 // fc2 [84, 120]
        t[8][4 * 84] = 1;            // fc3 [10, 84]: z4 = h2[0]
        float[] images = new float[2 * 784];
        images[10 * 28 + 21] = 1;    // sample 0: logits (0,0,0,0,3,0…), label 4: log(e³ + 9) − 3 = 0.370241, right
        images[784 + 21 * 28 + 10] = 1; // sample 1: the transposed pixel: all logits 0, ln 10, predicted 0, label 4 wrong
        Inference.Evaluation ev = Inference.evaluate(l, flat(l, t), images, new int[]{4, 4});
        assertThat(ev.meanLoss()).isCloseTo((Math.log(Math.exp(3) + 9) - 3 + Math.log(10)) / 2, within(1e-6));
        assertThat(ev.meanLoss()).isCloseTo(1.33641306533537, within(1e-6));
        assertThat(ev.accuracy()).isEqualTo(0.5);
    }

    @Test
    void largeLogitsStayFinite() {
        // log-sum-exp with the maximum taken out: logits of ±1000 give loss 0 or 2000, not NaN
        ModelLayouts.Layout l = ModelLayouts.layout("mlp:1");
        float[][] t = zeros(l);
        t[3][0] = 1000;
        t[3][1] = -1000;
        float[] p = flat(l, t);
        assertThat(Inference.evaluate(l, p, new float[784], new int[]{0}).meanLoss()).isCloseTo(0, within(1e-9));
        assertThat(Inference.evaluate(l, p, new float[784], new int[]{1}).meanLoss()).isCloseTo(2000, within(1e-9));
        t[3][0] = Float.NaN;
        assertThat(Inference.evaluate(l, flat(l, t), new float[784], new int[]{0}).meanLoss()).isNaN();
    }

    @Test
    void inputsAreValidated() {
        ModelLayouts.Layout l = ModelLayouts.layout("mlp:2");
        float[] p = new float[(int) l.parameterCount()];
        assertThat(p.length).isEqualTo(784 * 2 + 2 + 2 * 10 + 10);
        assertThatThrownBy(() -> Inference.evaluate(l, new float[p.length - 1], new float[784], new int[]{0}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a vector of 1599 parameters does not fit model mlp:2 of 1600 parameters");
        assertThatThrownBy(() -> Inference.evaluate("cnn", p, new float[784], new int[]{0}))
                .hasMessage("a vector of 1600 parameters does not fit model cnn of 44426 parameters");
        assertThatThrownBy(() -> Inference.evaluate(l, p, new float[784 * 2 - 1], new int[]{0, 1}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("1567 pixel values do not make 2 images of 28×28 = 784 pixels (one per label)");
        assertThatThrownBy(() -> Inference.evaluate(l, p, new float[784 * 2], new int[]{0}))
                .hasMessage("1568 pixel values do not make 1 images of 28×28 = 784 pixels (one per label)");
        assertThatThrownBy(() -> Inference.evaluate(l, p, new float[784 * 2], new int[]{0, 10}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("label 10 at 1 is outside 0..9");
        assertThatThrownBy(() -> Inference.evaluate(l, p, new float[784], new int[]{-1}))
                .hasMessage("label -1 at 0 is outside 0..9");
        assertThatThrownBy(() -> Inference.evaluate(l, p, new float[0], new int[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("no samples to evaluate on");
        assertThatThrownBy(() -> Inference.evaluate(l, null, new float[784], new int[]{0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("parameters are missing");
        assertThatThrownBy(() -> Inference.evaluate(l, p, null, new int[]{0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("images or labels are missing");
        assertThatThrownBy(() -> Inference.evaluate("transformer", p, new float[784], new int[]{0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("unknown model spec 'transformer'");
        // a hand-made layout that is not the architecture's
        ModelLayouts.Layout bad = new ModelLayouts.Layout("mlp:2", ModelLayouts.Architecture.MLP, java.util.List.of(3),
                l.names(), l.shapes());
        assertThatThrownBy(() -> Inference.evaluate(bad, p, new float[784], new int[]{0}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not have the tensor shapes");
    }

    // --- the verify function's path: IDX bytes → IdxImages → Inference ---

    private static byte[] idx(int magic, int[] dims, byte[] body, boolean gzip) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(gzip ? new GZIPOutputStream(bos) : bos)) {
            out.writeInt(magic);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(body);
        }
        return bos.toByteArray();
    }

    @Test
    void idxBytesGzippedOrNotFeedEvaluate() throws IOException {
        byte[] pixels = new byte[3 * 784];
        pixels[10 * 28 + 21] = (byte) 255;         // image 0: the pixel of the CNN case above, full white
        pixels[784 + 5] = (byte) 128;              // image 1: one grey pixel
        pixels[2 * 784 + 783] = (byte) 200;
        byte[] labels = {4, 4, 9};
        for (boolean gz : new boolean[]{false, true}) {
            IdxImages.Labelled d = IdxImages.read(idx(0x803, new int[]{3, 28, 28}, pixels, gz), idx(0x801, new int[]{3}, labels, gz));
            assertThat(d.size()).isEqualTo(3);
            assertThat(d.rows()).isEqualTo(28);
            assertThat(d.labels()).containsExactly(4, 4, 9);
            float[] x = d.scaled(new int[]{1, 0});
            assertThat(x).hasSize(2 * 784);
            assertThat(x[5]).isEqualTo(128 * (1f / 255f));
            assertThat(x[784 + 10 * 28 + 21]).isEqualTo(1f);
            assertThat(d.labels(new int[]{2, 0})).containsExactly(9, 4);
            assertThatThrownBy(() -> d.scaled(new int[]{3})).isInstanceOf(IndexOutOfBoundsException.class);

            ModelLayouts.Layout l = ModelLayouts.layout("cnn");
            float[][] t = zeros(l);
            t[0][0] = 1;
            t[2][1 * 5 + 4] = 1;
            t[4][11] = 3;
            t[6][0] = 1;
            t[8][4 * 84] = 1;
            Inference.Evaluation ev = Inference.evaluate(l, flat(l, t), d.scaled(new int[]{0}), d.labels(new int[]{0}));
            assertThat(ev.meanLoss()).isCloseTo(0.37024103767669425, within(1e-6));
            assertThat(ev.accuracy()).isEqualTo(1.0);
        }
    }

    @Test
    void idxErrorsNameTheFile() throws IOException {
        byte[] img = idx(0x803, new int[]{2, 28, 28}, new byte[2 * 784], false);
        byte[] lab = idx(0x801, new int[]{2}, new byte[]{1, 2}, true);
        assertThatThrownBy(() -> IdxImages.read(lab, lab)).isInstanceOf(IOException.class)
                .hasMessage("IDX images is not an IDX image file (magic 0x801, expected 0x803)");
        assertThatThrownBy(() -> IdxImages.read(img, img))
                .hasMessage("IDX labels is not an IDX label file (magic 0x803, expected 0x801)");
        assertThatThrownBy(() -> IdxImages.read(img, idx(0x801, new int[]{3}, new byte[3], false)))
                .hasMessage("IDX labels has 3 labels but IDX images has 2 images");
        assertThatThrownBy(() -> IdxImages.read(img, idx(0x801, new int[]{2}, new byte[]{1, 10}, false)))
                .hasMessage("IDX labels: label 10 at 1 is outside 0..9");
        assertThatThrownBy(() -> IdxImages.read(java.util.Arrays.copyOf(img, img.length - 1), lab))
                .isInstanceOf(EOFException.class).hasMessageContaining("is truncated");
        assertThatThrownBy(() -> IdxImages.read(idx(0x803, new int[]{1 << 30, 28, 28}, new byte[10], false), lab))
                .isInstanceOf(IOException.class); // a corrupt count: no 800 GB allocation, an error
    }
}
