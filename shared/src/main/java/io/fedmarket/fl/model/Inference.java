package io.fedmarket.fl.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The forward pass of the worker's models in plain Java (no DJL), so that code without the
 * training engine (the marketplace's serverless {@code verify} function) can score a model on a
 * validation split: mean softmax cross-entropy and top-1 accuracy.
 *
 * <p>Same architectures as the worker's {@code ModelSpec.newBlock()} ({@link ModelLayouts} has
 * the parameter layout): an MLP is {@code Linear → ReLU} per hidden width, then {@code Linear(10)};
 * the CNN is conv5×5 6 (no padding, stride 1) → ReLU → max-pool 2×2/2 → conv5×5 16 → ReLU →
 * max-pool 2×2/2 → flatten (channel, row, column) → fc120 → ReLU → fc84 → ReLU → fc10. The
 * gpu-worker test {@code InferenceParityTest} pins the results to DJL's. Arithmetic is float as in
 * the engine (summation order differs, so logits agree to float rounding, not bit for bit); the
 * loss is accumulated in double with a stable log-sum-exp. Non-finite parameters give a
 * non-finite loss (a NaN logit counts as the largest, as in PyTorch's argmax).
 *
 * <p>Single-threaded; all buffers are allocated once per call, none per sample.
 */
public final class Inference {
    /** Pixels of one input image (28×28 grey, scaled to [0, 1]). */
    public static final int PIXELS = 28 * 28;
    /** Number of classes (labels 0..9). */
    public static final int CLASSES = 10;

    /**
     * Scores of a model on a labelled set.
     *
     * @param meanLoss mean over the samples of the softmax cross-entropy of the logits
     * @param accuracy fraction of samples whose largest logit (first on a tie) is the label
     * @param samples  number of samples
     */
    public record Evaluation(double meanLoss, double accuracy, int samples) {
    }

    private Inference() {
    }

    /** {@link #evaluate(ModelLayouts.Layout, float[], float[], int[])} for a model spec ({@code mlp}, {@code mlp:H1,…}, {@code cnn}). */
    public static Evaluation evaluate(String spec, float[] flatParams, float[] images, int[] labels) {
        return evaluate(ModelLayouts.layout(spec), flatParams, images, labels);
    }

    /**
     * Mean loss and accuracy of a model on {@code n = labels.length} images.
     *
     * @param layout     the model (from {@link ModelLayouts#layout})
     * @param flatParams all parameters in {@link ModelState#flat()} order: the layout's tensors in order, each row-major
     * @param images     n × (the layout's input size, 784 by default) values scaled to [0, 1], sample after sample, each
     *                   row-major, channels first (as the worker's {@code ImageData.copyScaled} writes them)
     * @param labels     n labels in 0..classes-1
     * @throws IllegalArgumentException if the parameters do not fit the layout, the images do not match the labels,
     *                                  there are no samples, or a label is outside 0..9
     */
    public static Evaluation evaluate(ModelLayouts.Layout layout, float[] flatParams, float[] images, int[] labels) {
        if (layout == null) {
            throw new IllegalArgumentException("model layout is missing");
        }
        if (!supports(layout)) {
            throw new IllegalArgumentException("model " + layout.spec() + ": the plain-Java forward pass covers mlp and cnn, not "
                    + layout.architecture().name().toLowerCase(java.util.Locale.ROOT) + " (evaluate it with DJL)");
        }
        if (flatParams == null) {
            throw new IllegalArgumentException("parameters are missing");
        }
        if (images == null || labels == null) {
            throw new IllegalArgumentException("images or labels are missing");
        }
        checkShapes(layout);
        long expected = layout.parameterCount();
        if (flatParams.length != expected) {
            throw new IllegalArgumentException("a vector of " + flatParams.length + " parameters does not fit model "
                    + layout.spec() + " of " + expected + " parameters");
        }
        int n = labels.length;
        if (n == 0) {
            throw new IllegalArgumentException("no samples to evaluate on");
        }
        int per = layout.inputSize();
        int classes = layout.classes();
        if ((long) images.length != (long) n * per) {
            String what = per == PIXELS && (layout.input().size() == 1 || layout.input().get(0) == 1) ? "28×28" : layout.inputText();
            throw new IllegalArgumentException(images.length + " pixel values do not make " + n + " images of " + what + " = "
                    + per + " pixels (one per label)");
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " at " + i + " is outside 0.." + (classes - 1));
            }
        }
        Net net = layout.architecture() == ModelLayouts.Architecture.CNN
                ? new Cnn(flatParams, layout.input(), classes) : new Mlp(layout.hidden(), flatParams, per, classes);
        float[] logits = new float[classes];
        Score score = new Score(classes);
        for (int i = 0; i < n; i++) {
            net.forward(images, i * per, logits);
            score.add(logits, 0, labels[i]);
        }
        return score.evaluation();
    }

    /**
     * Mean softmax cross-entropy (double, stable log-sum-exp) and top-1 accuracy (first on a tie; a NaN logit counts as the
     * largest, as PyTorch's argmax) of logits, sample by sample: the scoring every evaluator uses, whatever ran the forward pass.
     */
    public static final class Score {
        private final int classes;
        private double lossSum;
        private int correct;
        private int n;

        public Score(int classes) {
            this.classes = classes;
        }

        /** Adds one sample: its logits at {@code logits[offset .. offset + classes)} and its label. */
        public void add(float[] logits, int offset, int y) {
            int best = 0;
            float max = logits[offset];
            for (int k = 1; k < classes; k++) {
                float v = logits[offset + k];
                if (v > max || (Float.isNaN(v) && !Float.isNaN(max))) {
                    max = v;
                    best = k;
                }
            }
            if (best == y) {
                correct++;
            }
            double m = max;
            double s = 0;
            for (int k = 0; k < classes; k++) {
                s += Math.exp(logits[offset + k] - m);
            }
            lossSum += m + Math.log(s) - logits[offset + y];
            n++;
        }

        public Evaluation evaluation() {
            return new Evaluation(lossSum / n, correct / (double) n, n);
        }
    }

    /** Whether this plain-Java forward pass can evaluate the model (MLP and CNN of any input and classes; not ResNet). */
    public static boolean supports(ModelLayouts.Layout layout) {
        return layout.architecture() == ModelLayouts.Architecture.MLP || layout.architecture() == ModelLayouts.Architecture.CNN;
    }

    /** The layout's tensors must be the architecture's (a hand-made Layout could say otherwise). */
    private static void checkShapes(ModelLayouts.Layout layout) {
        List<long[]> want = new ArrayList<>();
        int classes = layout.classes();
        if (layout.architecture() == ModelLayouts.Architecture.CNN) {
            List<Integer> in = layout.input();
            long flat = 16L * ((((long) in.get(1) - 4) / 2 - 4) / 2) * ((((long) in.get(2) - 4) / 2 - 4) / 2);
            addTensors(want, new long[]{6, in.get(0), 5, 5});
            addTensors(want, new long[]{16, 6, 5, 5});
            addTensors(want, new long[]{120, flat});
            addTensors(want, new long[]{84, 120});
            addTensors(want, new long[]{classes, 84});
        } else {
            long in = layout.inputSize();
            for (int w : layout.hidden()) {
                addTensors(want, new long[]{w, in});
                in = w;
            }
            addTensors(want, new long[]{classes, in});
        }
        boolean same = want.size() == layout.shapes().size();
        for (int i = 0; same && i < want.size(); i++) {
            same = Arrays.equals(want.get(i), layout.shapes().get(i));
        }
        if (!same) {
            throw new IllegalArgumentException("layout of " + layout.spec() + " does not have the tensor shapes of a "
                    + layout.architecture() + " " + layout.hidden() + "; use ModelLayouts.layout(spec)");
        }
    }

    private static void addTensors(List<long[]> out, long[] weight) {
        out.add(weight);
        out.add(new long[]{weight[0]});
    }

    private interface Net {
        /** Logits of the image at {@code images[offset .. offset + 784)} into {@code logits}. */
        void forward(float[] images, int offset, float[] logits);
    }

    /**
     * A linear layer with its weight transposed to [inputs, units], so that {@code out += x[k] · row k}
     * runs over contiguous memory (and vectorises).
     */
    private static final class Dense {
        final int in;
        final int units;
        final float[] wt;
        final float[] bias;

        Dense(float[] flat, int offset, int in, int units) {
            this.in = in;
            this.units = units;
            this.wt = new float[in * units];
            for (int u = 0; u < units; u++) {
                int row = offset + u * in;
                for (int k = 0; k < in; k++) {
                    wt[k * units + u] = flat[row + k];
                }
            }
            this.bias = Arrays.copyOfRange(flat, offset + in * units, offset + in * units + units);
        }

        int size() {
            return in * units + units;
        }

        void forward(float[] x, int xOff, float[] out, boolean relu) {
            System.arraycopy(bias, 0, out, 0, units);
            for (int k = 0; k < in; k++) {
                float xk = x[xOff + k];
                int row = k * units;
                for (int u = 0; u < units; u++) {
                    out[u] += xk * wt[row + u];
                }
            }
            if (relu) {
                for (int u = 0; u < units; u++) {
                    out[u] = Math.max(out[u], 0f); // NaN stays NaN, as in PyTorch
                }
            }
        }
    }

    private static final class Mlp implements Net {
        private final Dense[] layers;
        private final float[][] acts;

        Mlp(List<Integer> hidden, float[] flat, int inputs, int classes) {
            layers = new Dense[hidden.size() + 1];
            acts = new float[hidden.size()][];
            int in = inputs;
            int o = 0;
            for (int i = 0; i < hidden.size(); i++) {
                layers[i] = new Dense(flat, o, in, hidden.get(i));
                o += layers[i].size();
                acts[i] = new float[hidden.get(i)];
                in = hidden.get(i);
            }
            layers[hidden.size()] = new Dense(flat, o, in, classes);
        }

        @Override
        public void forward(float[] images, int offset, float[] logits) {
            float[] x = images;
            int xOff = offset;
            for (int i = 0; i < acts.length; i++) {
                layers[i].forward(x, xOff, acts[i], true);
                x = acts[i];
                xOff = 0;
            }
            layers[acts.length].forward(x, xOff, logits, false);
        }
    }

    private static final class Cnn implements Net {
        private static final int K = 5;
        private final int channels;
        private final int h0;
        private final int w0;
        private final float[] w1;
        private final float[] b1;
        private final float[] w2;
        private final float[] b2;
        private final Dense fc1;
        private final Dense fc2;
        private final Dense fc3;
        private final float[] c1;
        private final float[] p1;
        private final float[] c2;
        private final float[] p2;
        private final float[] h1 = new float[120];
        private final float[] h2 = new float[84];

        Cnn(float[] flat, List<Integer> input, int classes) {
            channels = input.get(0);
            h0 = input.get(1);
            w0 = input.get(2);
            c1 = new float[6 * (h0 - 4) * (w0 - 4)];
            p1 = new float[6 * ((h0 - 4) / 2) * ((w0 - 4) / 2)];
            c2 = new float[16 * ((h0 - 4) / 2 - 4) * ((w0 - 4) / 2 - 4)];
            p2 = new float[16 * (((h0 - 4) / 2 - 4) / 2) * (((w0 - 4) / 2 - 4) / 2)];
            int o = 0;
            w1 = Arrays.copyOfRange(flat, o, o += 6 * channels * K * K);
            b1 = Arrays.copyOfRange(flat, o, o += 6);
            w2 = Arrays.copyOfRange(flat, o, o += 16 * 6 * K * K);
            b2 = Arrays.copyOfRange(flat, o, o += 16);
            fc1 = new Dense(flat, o, p2.length, 120);
            o += fc1.size();
            fc2 = new Dense(flat, o, 120, 84);
            o += fc2.size();
            fc3 = new Dense(flat, o, 84, classes);
        }

        @Override
        public void forward(float[] images, int offset, float[] logits) {
            conv(images, offset, channels, h0, w0, w1, b1, 6, c1);
            reluPool(c1, 6, h0 - 4, w0 - 4, p1);
            int h1s = (h0 - 4) / 2;
            int w1s = (w0 - 4) / 2;
            conv(p1, 0, 6, h1s, w1s, w2, b2, 16, c2);
            reluPool(c2, 16, h1s - 4, w1s - 4, p2);
            fc1.forward(p2, 0, h1, true);
            fc2.forward(h1, 0, h2, true);
            fc3.forward(h2, 0, logits, false);
        }

        /** Valid 5×5 convolution, stride 1: in [channels, h, w] → out [filters, h-4, w-4]. */
        private static void conv(float[] in, int inOff, int channels, int h, int w, float[] wt, float[] b, int filters, float[] out) {
            int oh = h - K + 1;
            int ow = w - K + 1;
            int plane = oh * ow;
            for (int f = 0; f < filters; f++) {
                int fo = f * plane;
                Arrays.fill(out, fo, fo + plane, b[f]);
                for (int c = 0; c < channels; c++) {
                    int ci = inOff + c * h * w;
                    int wBase = (f * channels + c) * K * K;
                    for (int ky = 0; ky < K; ky++) {
                        for (int kx = 0; kx < K; kx++) {
                            float wv = wt[wBase + ky * K + kx];
                            for (int oy = 0; oy < oh; oy++) {
                                int src = ci + (oy + ky) * w + kx;
                                int dst = fo + oy * ow;
                                for (int ox = 0; ox < ow; ox++) {
                                    out[dst + ox] += wv * in[src + ox];
                                }
                            }
                        }
                    }
                }
            }
        }

        /** ReLU then 2×2 max-pool, stride 2 (floor): [channels, h, w] → [channels, h/2, w/2]. */
        private static void reluPool(float[] in, int channels, int h, int w, float[] out) {
            int hh = h / 2;
            int hw = w / 2;
            for (int c = 0; c < channels; c++) {
                int ci = c * h * w;
                int co = c * hh * hw;
                for (int y = 0; y < hh; y++) {
                    int r0 = ci + 2 * y * w;
                    int r1 = r0 + w;
                    for (int x = 0; x < hw; x++) {
                        float m = Math.max(Math.max(in[r0 + 2 * x], in[r0 + 2 * x + 1]), Math.max(in[r1 + 2 * x], in[r1 + 2 * x + 1]));
                        out[co + y * hw + x] = Math.max(m, 0f); // Math.max propagates NaN, as PyTorch does
                    }
                }
            }
        }
    }
}
