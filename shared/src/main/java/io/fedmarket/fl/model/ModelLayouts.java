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
 * {@code LambdaBlock}s without parameters), and each parameter {@code <child>_weight} then
 * {@code <child>_bias}. A linear layer's weight is {@code [units, inputs]}, a convolution's
 * {@code [filters, channels, 5, 5]}. The gpu-worker test {@code ModelLayoutsTest} pins this to DJL.
 *
 * <p>Spec grammar (the worker's {@code ModelSpec.parse} delegates here): {@code mlp} (784-128-10),
 * {@code mlp:H1,H2,…} (hidden widths in 1..65536) or {@code cnn} (the NIID-Bench CNN: conv5×5 6 →
 * ReLU → max-pool 2 → conv5×5 16 → ReLU → max-pool 2 → fc120 → fc84 → fc10), case-insensitive.
 * Input is one 28×28 grey image.
 */
public final class ModelLayouts {
    /** The two model families. */
    public enum Architecture { MLP, CNN }

    /**
     * A parsed spec with its parameter tensors in block order.
     *
     * @param spec   the spec normalised (trimmed, lower case)
     * @param hidden hidden widths of an MLP; empty for the CNN
     */
    public record Layout(String spec, Architecture architecture, List<Integer> hidden, List<String> names, List<long[]> shapes) {
        public Layout {
            hidden = List.copyOf(hidden);
            names = List.copyOf(names);
            shapes = List.copyOf(shapes);
        }

        public int tensorCount() {
            return names.size();
        }

        /** Number of parameters (all tensors). */
        public long parameterCount() {
            long n = 0;
            for (long[] s : shapes) {
                n += size(s);
            }
            return n;
        }
    }

    private static final int IMAGE = 28;
    private static final int CLASSES = 10;

    private ModelLayouts() {
    }

    /** Parses a model spec; an unknown or malformed one is an {@link IllegalArgumentException} naming what to use. */
    public static Layout layout(String modelSpec) {
        if (modelSpec == null) {
            throw new IllegalArgumentException("model spec is missing: use mlp, mlp:H1,H2 or cnn");
        }
        String s = modelSpec.trim().toLowerCase();
        if (s.equals("cnn")) {
            return cnn(s);
        }
        if (s.equals("mlp")) {
            return mlp(s, List.of(128));
        }
        if (s.startsWith("mlp:")) {
            List<Integer> h = new ArrayList<>();
            for (String part : s.substring(4).split(",")) {
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
            return mlp(s, h);
        }
        if (s.startsWith("resnet")) {
            throw new IllegalArgumentException("model spec '" + modelSpec + "': ResNet is not supported by this worker yet; use mlp or cnn");
        }
        throw new IllegalArgumentException("unknown model spec '" + modelSpec + "': use mlp, mlp:H1,H2 or cnn");
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
     * dimension (fanIn = size / shape[0]), zeros for the biases; no momentum, step 0. Bit for bit
     * what the worker trains from.
     */
    public static ModelState initialState(String modelSpec, long seed) {
        return initialState(layout(modelSpec), seed);
    }

    public static ModelState initialState(Layout layout, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        float[][] values = new float[layout.tensorCount()][];
        for (int t = 0; t < values.length; t++) {
            long[] s = layout.shapes().get(t);
            float[] v = new float[Math.toIntExact(size(s))];
            if (s.length > 1) {
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

    private static Layout mlp(String spec, List<Integer> hidden) {
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        int child = 0;
        long in = (long) IMAGE * IMAGE;
        for (int w : hidden) {
            child++;
            linear(names, shapes, child, in, w);
            child++; // ReLU
            in = w;
        }
        child++;
        linear(names, shapes, child, in, CLASSES);
        return new Layout(spec, Architecture.MLP, hidden, names, shapes);
    }

    private static Layout cnn(String spec) {
        List<String> names = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        conv(names, shapes, 1, 1, 6);                 // 01 conv 28 → 24, 02 ReLU, 03 pool → 12
        conv(names, shapes, 4, 6, 16);                // 04 conv 12 → 8, 05 ReLU, 06 pool → 4, 07 flatten
        linear(names, shapes, 8, 16L * 4 * 4, 120);   // 08, 09 ReLU
        linear(names, shapes, 10, 120, 84);           // 10, 11 ReLU
        linear(names, shapes, 12, 84, CLASSES);       // 12
        return new Layout(spec, Architecture.CNN, List.of(), names, shapes);
    }

    private static void linear(List<String> names, List<long[]> shapes, int child, long in, long units) {
        String n = String.format(Locale.ROOT, "%02dLinear", child);
        names.add(n + "_weight");
        shapes.add(new long[]{units, in});
        names.add(n + "_bias");
        shapes.add(new long[]{units});
    }

    private static void conv(List<String> names, List<long[]> shapes, int child, long channels, long filters) {
        String n = String.format(Locale.ROOT, "%02dConv2d", child);
        names.add(n + "_weight");
        shapes.add(new long[]{filters, channels, 5, 5});
        names.add(n + "_bias");
        shapes.add(new long[]{filters});
    }

    private static long size(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
