package io.fedmarket.fl.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The parameter layout of the worker's models and their seeded initial state, in plain Java (no
 * DJL), so that code without the training engine (the marketplace's serverless functions) can
 * publish a job's start model. Mirrors, tensor for tensor, what DJL's
 * {@code block.getParameters()} lists for the worker's {@code ModelSpec.parse(spec).newBlock()}
 * after {@code block.initialize(manager, FLOAT32, inputShape(1))}: the SequentialBlock names each
 * child {@code NN<ClassName>} (1-based, two digits; activations, pooling and flattening are
 * {@code LambdaBlock}s without parameters), nested blocks join their names with {@code _}, and each
 * parameter is {@code <child>_weight} then {@code <child>_bias} (a BatchNorm's {@code _gamma, _beta,
 * _runningMean, _runningVar}). A linear layer's weight is {@code [units, inputs]}, a convolution's
 * {@code [filters, channels, kh, kw]}. The gpu-worker test {@code ModelLayoutsTest} pins this to DJL.
 *
 * <p>Spec grammar (the worker's {@code ModelSpec.parse} delegates here), case-insensitive:
 * {@code FAMILY[;input=SHAPE][;classes=N]} where FAMILY is {@code mlp} (one hidden layer of 128),
 * {@code mlp:H1,H2,…} (hidden widths in 1..65536), {@code cnn} (the NIID-Bench CNN: conv5×5 6 → ReLU →
 * max-pool 2 → conv5×5 16 → ReLU → max-pool 2 → fc120 → fc84 → fc N) or {@code resnet:D} (DJL model
 * zoo's {@code ResNetV1} of depth D: for images up to 28 pixels high the CIFAR-style 3-stage net,
 * D = 6n+2 below 164, e.g. 20, 32, 44, 56, or 9n+2 from 164; higher images the ImageNet-style 4-stage
 * net, D in 18, 34, 50, 101, 152, 200, 269). SHAPE is {@code CxHxW} (channels × height × width) or,
 * for an MLP, also a feature count {@code F} (tabular data; an image is flattened to C·H·W features);
 * N is the number of classes, 2..100000. Defaults: one 28×28 grey image ({@code 1x28x28}, 784
 * features) and 10 classes, left out of the normalised spec, so {@code mlp}, {@code mlp:H1,H2} and
 * {@code cnn} are what they always were. Batch norm's running mean and variance are parameters of
 * the layout like any other tensor (DJL keeps them as parameters that need no gradient): they are
 * hashed, checkpointed, aggregated and restored with the weights, so re-execution reproduces them.
 */
public final class ModelLayouts {
    /** The model families of the catalogue. */
    public enum Architecture { MLP, CNN, RESNET, TORCHSCRIPT }

    /**
     * A parsed spec with its parameter tensors in block order.
     *
     * @param spec    the spec normalised (trimmed, lower case, defaults left out)
     * @param hidden  hidden widths of an MLP; empty otherwise
     * @param input   the input of one sample: {@code [features]} for an MLP, {@code [channels, height, width]} otherwise
     * @param classes number of classes (outputs of the last layer)
     * @param depth   a ResNet's depth; 0 otherwise
     */
    public record Layout(String spec, Architecture architecture, List<Integer> hidden, List<Integer> input, int classes, int depth,
                         List<String> names, List<long[]> shapes) {
        public Layout {
            hidden = List.copyOf(hidden);
            input = List.copyOf(input);
            names = List.copyOf(names);
            shapes = List.copyOf(shapes);
        }

        /** A layout of the default input (one 28×28 grey image) and 10 classes. */
        public Layout(String spec, Architecture architecture, List<Integer> hidden, List<String> names, List<long[]> shapes) {
            this(spec, architecture, hidden, architecture == Architecture.MLP ? List.of(IMAGE * IMAGE) : List.of(1, IMAGE, IMAGE),
                    CLASSES, 0, names, shapes);
        }

        public int tensorCount() {
            return names.size();
        }

        /** Number of parameters (all tensors, batch-norm running statistics included). */
        public long parameterCount() {
            long n = 0;
            for (long[] s : shapes) {
                n += size(s);
            }
            return n;
        }

        /** Values of one input sample (features, or channels × height × width). */
        public int inputSize() {
            int n = 1;
            for (int d : input) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        /** The input as one line, e.g. {@code 1x28x28} or {@code 20}. */
        public String inputText() {
            return shapeText(input);
        }

        /** Indices of the tensors that are batch-norm running statistics (updated by the forward pass, not by the optimiser). */
        public List<Integer> bufferIndices() {
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                if (isBuffer(names.get(i))) {
                    out.add(i);
                }
            }
            return out;
        }
    }

    /** Whether a parameter of this name is a batch-norm running statistic (a buffer, not trained by gradient). */
    public static boolean isBuffer(String name) {
        // DJL's batch norm; a TorchScript module's buffers (its __buffers__: running_mean, running_var, num_batches_tracked)
        return name.endsWith("_runningMean") || name.endsWith("_runningVar") || name.endsWith(".running_mean")
                || name.endsWith(".running_var") || name.endsWith(".num_batches_tracked");
    }

    private static final int IMAGE = 28;
    private static final int CLASSES = 10;
    /** Largest model the catalogue builds (parameters): a guard against specs no worker could hold. */
    public static final long MAX_PARAMETERS = 50_000_000L;
    private static final String USE = "use mlp, mlp:H1,H2, cnn or resnet:D (or torchscript:SHA256, an uploaded file), optionally with ;input=CxHxW (or a feature count for mlp) and ;classes=N";

    private ModelLayouts() {
    }

    /** Parses a model spec; an unknown or malformed one is an {@link IllegalArgumentException} naming what to use. */
    public static Layout layout(String modelSpec) {
        if (modelSpec == null || modelSpec.isBlank()) {
            throw new IllegalArgumentException("model spec is missing: " + USE);
        }
        String[] parts = modelSpec.trim().toLowerCase(Locale.ROOT).split(";");
        String family = parts[0].trim();
        List<Integer> input = null;
        Integer classes = null;
        for (int i = 1; i < parts.length; i++) {
            String kv = parts[i].trim();
            int eq = kv.indexOf('=');
            String key = eq < 0 ? kv : kv.substring(0, eq).trim();
            String value = eq < 0 ? "" : kv.substring(eq + 1).trim();
            if (key.equals("input") && input == null) {
                input = parseShape(modelSpec, value);
            } else if (key.equals("classes") && classes == null) {
                classes = parseInt(modelSpec, "classes", value, 2, 100_000);
            } else {
                throw new IllegalArgumentException("model spec '" + modelSpec + "': '" + kv + "' is not an option (or given twice); " + USE);
            }
        }
        int n = classes == null ? CLASSES : classes;
        Layout l;
        if (family.equals("cnn")) {
            l = cnn(modelSpec, imageInput(modelSpec, input), n);
        } else if (family.equals("mlp")) {
            l = mlp(modelSpec, List.of(128), features(input), n, "mlp");
        } else if (family.startsWith("mlp:")) {
            List<Integer> h = new ArrayList<>();
            for (String part : family.substring(4).split(",")) {
                try {
                    int w = Integer.parseInt(part.trim());
                    if (w < 1 || w > 65536) {
                        throw new NumberFormatException();
                    }
                    h.add(w);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("model spec '" + modelSpec
                            + "': hidden widths must be integers in 1..65536, e.g. mlp:256,128");
                }
            }
            l = mlp(modelSpec, h, features(input), n, "mlp:" + String.join(",", h.stream().map(String::valueOf).toList()));
        } else if (family.startsWith("torchscript:")) {
            l = torchscript(modelSpec, family.substring("torchscript:".length()).trim(), input, classes);
        } else if (family.equals("resnet") || family.startsWith("resnet:")) {
            if (family.equals("resnet")) {
                throw new IllegalArgumentException("model spec '" + modelSpec + "': give the ResNet's depth, e.g. resnet:20 (28×28 images) or resnet:18 (larger)");
            }
            int depth = parseInt(modelSpec, "the ResNet depth", family.substring(7).trim(), 1, 1000);
            l = resnet(modelSpec, depth, imageInput(modelSpec, input), n);
        } else {
            throw new IllegalArgumentException("unknown model spec '" + modelSpec + "': " + USE);
        }
        if (l.parameterCount() > MAX_PARAMETERS) {
            throw new IllegalArgumentException("model spec '" + modelSpec + "' has " + l.parameterCount() + " parameters, more than the "
                    + MAX_PARAMETERS + " a worker takes");
        }
        return l;
    }

    /** The normalised spec text: the family, then the input and classes where they are not the defaults. */
    private static String normal(String family, Architecture a, List<Integer> input, int classes) {
        boolean defaultInput = a == Architecture.MLP ? input.equals(List.of(IMAGE * IMAGE)) : input.equals(List.of(1, IMAGE, IMAGE));
        return family + (defaultInput ? "" : ";input=" + shapeText(input)) + (classes == CLASSES ? "" : ";classes=" + classes);
    }

    private static String shapeText(List<Integer> shape) {
        return String.join("x", shape.stream().map(String::valueOf).toList());
    }

    private static List<Integer> parseShape(String spec, String value) {
        String[] dims = value.split("x");
        if (dims.length != 1 && dims.length != 3) {
            throw new IllegalArgumentException("model spec '" + spec + "': input=" + value
                    + " must be CxHxW (channels × height × width, e.g. 3x32x32) or a feature count (e.g. 20)");
        }
        List<Integer> out = new ArrayList<>();
        for (String d : dims) {
            out.add(parseInt(spec, "input dimension", d.trim(), 1, dims.length == 1 ? 1_000_000 : 4096));
        }
        if (dims.length == 3 && out.get(0) > 64) {
            throw new IllegalArgumentException("model spec '" + spec + "': input=" + value + " has " + out.get(0)
                    + " channels; at most 64 (CxHxW: channels first)");
        }
        return out;
    }

    private static int parseInt(String spec, String what, String value, int min, int max) {
        try {
            int v = Integer.parseInt(value);
            if (v < min || v > max) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("model spec '" + spec + "': " + what + " must be an integer in " + min + ".." + max
                    + ", got '" + value + "'");
        }
    }

    private static List<Integer> imageInput(String spec, List<Integer> input) {
        if (input == null) {
            return List.of(1, IMAGE, IMAGE);
        }
        if (input.size() != 3) {
            throw new IllegalArgumentException("model spec '" + spec + "': a convolutional model needs an image input CxHxW "
                    + "(e.g. input=3x32x32), not a feature count; use mlp for tabular data");
        }
        return input;
    }

    private static List<Integer> features(List<Integer> input) {
        if (input == null) {
            return List.of(IMAGE * IMAGE);
        }
        int n = 1;
        for (int d : input) {
            n = Math.multiplyExact(n, d);
        }
        return List.of(n);
    }

    /**
     * Why a model cannot train on data of this sample shape and number of classes, or empty when it can: an MLP takes any
     * sample of as many values as its features (it flattens an image); a convolutional model needs the same CxHxW; the data's
     * labels must be classes of the model.
     */
    public static java.util.Optional<String> misfit(Layout layout, List<Integer> sampleShape, int dataClasses) {
        long values = 1;
        for (int d : sampleShape) {
            values *= d;
        }
        String data = shapeText(sampleShape);
        if (layout.architecture() == Architecture.MLP ? values != layout.inputSize() : !normalImage(sampleShape).equals(layout.input())) {
            return java.util.Optional.of("model " + layout.spec() + " takes input " + layout.inputText() + ", the data's samples are " + data);
        }
        if (dataClasses > layout.classes()) {
            return java.util.Optional.of("model " + layout.spec() + " has " + layout.classes() + " classes, the data has " + dataClasses
                    + " (labels 0.." + (dataClasses - 1) + ")");
        }
        return java.util.Optional.empty();
    }

    private static List<Integer> normalImage(List<Integer> shape) {
        return shape.size() == 2 ? List.of(1, shape.get(0), shape.get(1)) : shape;
    }

    /** Parameter names in block order, e.g. {@code 01Linear_weight, 01Linear_bias, 03Linear_weight, 03Linear_bias}. */
    public static List<String> names(String modelSpec) {
        return layout(modelSpec).names();
    }

    /** Parameter shapes in block order. */
    public static List<long[]> shapes(String modelSpec) {
        return layout(modelSpec).shapes();
    }

    /**
     * The start model of a job (no global model yet): uniform(±1/√fanIn) weights drawn in block
     * order from {@code SplittableRandom(seed ^ 0x5DEECE66D)} for every tensor of more than one
     * dimension (fanIn = size / shape[0]), zeros for the biases; a batch norm's scale (gamma) and running
     * variance ones, its shift (beta) and running mean zeros (PyTorch's defaults); no momentum, step 0. Bit for
     * bit what the worker trains from (DJL's own initialisers are not seeded and are not used).
     */
    public static ModelState initialState(String modelSpec, long seed) {
        return initialState(layout(modelSpec), seed);
    }

    public static ModelState initialState(Layout layout, long seed) {
        if (layout.architecture() == Architecture.TORCHSCRIPT) {
            // the builder's file is the start model (the seed plays no part): its own weights and buffers
            return TorchScriptModels.archive(modelFile(layout.spec()).orElseThrow()).state();
        }
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        float[][] values = new float[layout.tensorCount()][];
        for (int t = 0; t < values.length; t++) {
            long[] s = layout.shapes().get(t);
            float[] v = new float[Math.toIntExact(size(s))];
            String name = layout.names().get(t);
            if (name.endsWith("_gamma") || name.endsWith("_runningVar")) {
                java.util.Arrays.fill(v, 1f);
            } else if (s.length > 1) {
                long fanIn = size(s) / s[0];
                double bound = 1 / Math.sqrt(fanIn);
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
                }
            }
            values[t] = v;
        }
        List<long[]> shapes = new ArrayList<>(layout.tensorCount());
        for (long[] s : layout.shapes()) {
            shapes.add(s.clone());
        }
        return new ModelState(layout.names(), shapes, values, null, 0);
    }

    private static Layout mlp(String spec, List<Integer> hidden, List<Integer> input, int classes, String family) {
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        int child = 0;
        long in = input.get(0);
        for (int w : hidden) {
            child++;
            linear(names, shapes, child, in, w);
            child++; // ReLU
            in = w;
        }
        child++;
        linear(names, shapes, child, in, classes);
        return new Layout(normal(family, Architecture.MLP, input, classes), Architecture.MLP, hidden, input, classes, 0, names, shapes);
    }

    private static Layout cnn(String spec, List<Integer> input, int classes) {
        int c = input.get(0);
        long h = input.get(1);
        long w = input.get(2);
        long h2 = ((h - 4) / 2 - 4) / 2;
        long w2 = ((w - 4) / 2 - 4) / 2;
        if (h < 16 || w < 16) {
            throw new IllegalArgumentException("model spec '" + spec + "': the cnn needs images of at least 16×16 (two 5×5 convolutions "
                    + "and two 2×2 poolings), got " + shapeText(input));
        }
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        conv(names, shapes, "01Conv2d", c, 6, 5, true);   // 01 conv, 02 ReLU, 03 pool
        conv(names, shapes, "04Conv2d", 6, 16, 5, true);  // 04 conv, 05 ReLU, 06 pool, 07 flatten
        linear(names, shapes, 8, 16L * h2 * w2, 120);   // 08, 09 ReLU
        linear(names, shapes, 10, 120, 84);             // 10, 11 ReLU
        linear(names, shapes, 12, 84, classes);         // 12
        return new Layout(normal("cnn", Architecture.CNN, input, classes), Architecture.CNN, List.of(), input, classes, 0, names, shapes);
    }

    /**
     * DJL's {@code ResNetV1.builder().setImageShape(C, H, W).setNumLayers(depth).setOutSize(classes).build()}: the same
     * stages, units and filters its builder picks, so that the names and shapes are the block's ({@code ModelLayoutsTest}).
     */
    private static Layout resnet(String spec, int depth, List<Integer> input, int classes) {
        int c = input.get(0);
        int height = input.get(1);
        if (height < 8 || input.get(2) < 8) {
            throw new IllegalArgumentException("model spec '" + spec + "': a ResNet needs images of at least 8×8, got " + shapeText(input));
        }
        int[] units;
        int[] filters;
        boolean bottleneck;
        if (height <= 28) {
            int perUnit;
            if ((depth - 2) % 9 == 0 && depth >= 164) {
                perUnit = (depth - 2) / 9;
                filters = new int[]{16, 64, 128, 256};
                bottleneck = true;
            } else if ((depth - 2) % 6 == 0 && depth < 164 && depth >= 8) {
                perUnit = (depth - 2) / 6;
                filters = new int[]{16, 16, 32, 64};
                bottleneck = false;
            } else {
                throw new IllegalArgumentException("model spec '" + spec + "': for images up to 28 pixels high a ResNet's depth is 6n+2 "
                        + "below 164 (8, 14, 20, 32, 44, 56, 110, …) or 9n+2 from 164; got " + depth);
            }
            units = new int[]{perUnit, perUnit, perUnit};
        } else {
            filters = depth >= 50 ? new int[]{64, 256, 512, 1024, 2048} : new int[]{64, 64, 128, 256, 512};
            bottleneck = true; // DJL's ResNetV1 builds bottleneck units for every ImageNet-style depth
            units = switch (depth) {
                case 18 -> new int[]{2, 2, 2, 2};
                case 34, 50 -> new int[]{3, 4, 6, 3};
                case 101 -> new int[]{3, 4, 23, 3};
                case 152 -> new int[]{3, 8, 36, 3};
                case 200 -> new int[]{3, 24, 36, 3};
                case 269 -> new int[]{3, 30, 48, 8};
                default -> throw new IllegalArgumentException("model spec '" + spec + "': for images higher than 28 pixels a ResNet's "
                        + "depth is one of 18, 34, 50, 101, 152, 200, 269; got " + depth);
            };
        }
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        int child = 1;
        if (height <= 32) {
            conv(names, shapes, "01Conv2d", c, filters[0], 3, false);
        } else {
            conv(names, shapes, "01Conv2d", c, filters[0], 7, false);
            batchNorm(names, shapes, "02BatchNorm", filters[0]);
            child = 4; // 03 ReLU, 04 max-pool
        }
        long channels = filters[0];
        for (int stage = 0; stage < units.length; stage++) {
            for (int u = 0; u < units[stage]; u++) {
                child++;
                String unit = String.format(Locale.ROOT, "%02dParallelBlock_01SequentialBlock_", child);
                int f = filters[stage + 1];
                if (bottleneck) {
                    conv(names, shapes, unit + "01Conv2d", channels, f / 4, 1, true);
                    batchNorm(names, shapes, unit + "02BatchNorm", f / 4);
                    conv(names, shapes, unit + "04Conv2d", f / 4, f / 4, 3, false);
                    batchNorm(names, shapes, unit + "05BatchNorm", f / 4);
                    conv(names, shapes, unit + "07Conv2d", f / 4, f, 1, true);
                    batchNorm(names, shapes, unit + "08BatchNorm", f);
                } else {
                    conv(names, shapes, unit + "01Conv2d", channels, f, 3, false);
                    batchNorm(names, shapes, unit + "02BatchNorm", f);
                    conv(names, shapes, unit + "04Conv2d", f, f, 3, false);
                    batchNorm(names, shapes, unit + "05BatchNorm", f);
                }
                if (u == 0) { // the first unit of a stage projects its shortcut
                    String sc = String.format(Locale.ROOT, "%02dParallelBlock_02SequentialBlock_", child);
                    conv(names, shapes, sc + "01Conv2d", channels, f, 1, false);
                    batchNorm(names, shapes, sc + "02BatchNorm", f);
                }
                channels = f;
            }
        }
        linear(names, shapes, child + 3, channels, classes); // global average pool, flatten, linear, flatten
        return new Layout(normal("resnet:" + depth, Architecture.RESNET, input, classes), Architecture.RESNET, List.of(), input, classes,
                depth, names, shapes);
    }

    /**
     * An uploaded TorchScript file ({@link TorchScriptModels}): its tensors (parameters and buffers) in archive order, checked
     * against the declared input and classes where the file shows them ({@link TorchScriptArchive#check}).
     */
    private static Layout torchscript(String spec, String sha, List<Integer> input, Integer classes) {
        if (!TorchScriptModels.isSha256(sha)) {
            throw new IllegalArgumentException("model spec '" + spec + "': torchscript: takes the file's SHA-256 (64 hex characters), "
                    + "as mkt models upload prints it");
        }
        List<Integer> in = input == null ? List.of(1, IMAGE, IMAGE) : input;
        int n = classes == null ? CLASSES : classes;
        TorchScriptArchive a = TorchScriptModels.archive(sha);
        try {
            a.check(in, n);
        } catch (TorchScriptArchive.InvalidModelException e) {
            throw new IllegalArgumentException("model spec '" + spec + "': " + e.getMessage());
        }
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        for (TorchScriptArchive.Tensor t : a.tensors()) {
            names.add(t.name());
            shapes.add(t.shape().clone());
        }
        boolean defaultInput = in.equals(List.of(1, IMAGE, IMAGE));
        String normal = "torchscript:" + sha + (defaultInput ? "" : ";input=" + shapeText(in)) + (n == CLASSES ? "" : ";classes=" + n);
        return new Layout(normal, Architecture.TORCHSCRIPT, List.of(), in, n, 0, names, shapes);
    }

    /** The SHA-256 of a {@code torchscript:} spec's file, or empty for a catalogue model. */
    public static java.util.Optional<String> modelFile(String modelSpec) {
        String family = modelSpec.trim().toLowerCase(Locale.ROOT).split(";")[0].trim();
        return family.startsWith("torchscript:") ? java.util.Optional.of(family.substring("torchscript:".length()).trim())
                : java.util.Optional.empty();
    }

    private static void linear(List<String> names, List<long[]> shapes, int child, long in, long units) {
        String n = String.format(Locale.ROOT, "%02dLinear", child);
        names.add(n + "_weight");
        shapes.add(new long[]{units, in});
        names.add(n + "_bias");
        shapes.add(new long[]{units});
    }

    private static void conv(List<String> names, List<long[]> shapes, String name, long channels, long filters, int kernel,
                             boolean bias) {
        names.add(name + "_weight");
        shapes.add(new long[]{filters, channels, kernel, kernel});
        if (bias) {
            names.add(name + "_bias");
            shapes.add(new long[]{filters});
        }
    }

    private static void batchNorm(List<String> names, List<long[]> shapes, String name, long channels) {
        for (String p : new String[]{"_gamma", "_beta", "_runningMean", "_runningVar"}) {
            names.add(name + p);
            shapes.add(new long[]{channels});
        }
    }

    private static long size(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
