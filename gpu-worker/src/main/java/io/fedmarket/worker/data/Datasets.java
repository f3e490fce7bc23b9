package io.fedmarket.worker.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The data sets a task can name: {@code fashion-mnist} (train split; {@code fashion-mnist-test}
 * for the test split) from Debian's {@code dataset-fashion-mnist}, and {@code synthetic:N}, N
 * generated images of 10 classes (prototype + noise) for fast tests. Loaded once per process.
 */
public final class Datasets {
    /** Where Debian installs the package; {@code FEDMARKET_FASHION_MNIST_DIR} (or {@code -Dfedmarket.fashion.mnist.dir}) overrides it. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    private static final Map<String, ImageData> CACHE = new ConcurrentHashMap<>();

    private Datasets() {
    }

    public static ImageData load(String name) {
        // keyed by where Fashion-MNIST is read from too: pointing FEDMARKET_FASHION_MNIST_DIR elsewhere reads that copy
        String key = name.startsWith("fashion-mnist") ? name + "@" + fashionDir().toAbsolutePath() : name;
        return CACHE.computeIfAbsent(key, k -> loadUncached(name));
    }

    private static ImageData loadUncached(String name) {
        if (name.equals("fashion-mnist")) {
            return fashion("train");
        }
        if (name.equals("fashion-mnist-test")) {
            return fashion("t10k");
        }
        if (name.startsWith("synthetic:")) {
            String[] parts = name.substring("synthetic:".length()).split(":");
            int n;
            try {
                n = Integer.parseInt(parts[0]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("data set '" + name + "': synthetic:N needs an integer N, e.g. synthetic:2000");
            }
            if (parts.length == 1) {
                return synthetic(name, n, 7);
            }
            if (parts.length == 3) {
                return syntheticShaped(name, n, parts[1], parts[2], 7);
            }
            throw new IllegalArgumentException("data set '" + name + "': use synthetic:N or synthetic:N:SHAPE:CLASSES, e.g. synthetic:600:3x16x16:5");
        }
        throw new IllegalArgumentException("unknown data set '" + name + "': use fashion-mnist, fashion-mnist-test, synthetic:N or "
                + "synthetic:N:SHAPE:CLASSES");
    }

    public static Path fashionDir() {
        String prop = System.getProperty("fedmarket.fashion.mnist.dir");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("FEDMARKET_FASHION_MNIST_DIR");
        return env == null || env.isBlank() ? DEBIAN_DIR : Path.of(env);
    }

    private static ImageData fashion(String split) {
        Path dir = fashionDir();
        Path images = dir.resolve(split + "-images-idx3-ubyte.gz");
        Path labels = dir.resolve(split + "-labels-idx1-ubyte.gz");
        if (!Files.isRegularFile(images) || !Files.isRegularFile(labels)) {
            throw new IllegalStateException("Fashion-MNIST not found: " + images + " / " + labels
                    + " are missing. Install Debian's package: apt-get install dataset-fashion-mnist"
                    + " (or point FEDMARKET_FASHION_MNIST_DIR at a folder with the IDX .gz files)");
        }
        try {
            return Idx.read("fashion-mnist-" + split, images, labels);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read Fashion-MNIST from " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * {@code synthetic:N:SHAPE:K}: N samples of K classes with {@code SHAPE} = {@code CxHxW} (an image, channels first) or
     * {@code F} (F tabular features): each class a random prototype in [0.1, 0.9] per value, a sample its class's prototype
     * plus Gaussian noise (σ = 0.2), quantised to a byte. Kept as {@link ImageData} of {@code C·H} rows of W values (or one
     * row of F), so a sample's values are channel after channel, row after row, as the model's input takes them.
     */
    public static ImageData syntheticShaped(String name, int n, String shape, String classesText, long seed) {
        int rows;
        int cols;
        int k;
        try {
            String[] d = shape.split("x");
            if (d.length == 3) {
                rows = Integer.parseInt(d[0]) * Integer.parseInt(d[1]);
                cols = Integer.parseInt(d[2]);
            } else if (d.length == 1) {
                rows = 1;
                cols = Integer.parseInt(d[0]);
            } else {
                throw new NumberFormatException();
            }
            k = Integer.parseInt(classesText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("data set '" + name + "': SHAPE is CxHxW or F and CLASSES an integer, e.g. synthetic:600:3x16x16:5");
        }
        if (rows < 1 || cols < 1 || (long) rows * cols > 1 << 20 || k < 2 || k > 256 || n < k) {
            throw new IllegalArgumentException("data set '" + name + "': need 1..2^20 values per sample, 2..256 classes and at least one sample per class");
        }
        int per = rows * cols;
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] proto = new float[k][per];
        for (int c = 0; c < k; c++) {
            for (int i = 0; i < per; i++) {
                proto[c][i] = (float) (0.1 + 0.8 * rnd.nextDouble());
            }
        }
        byte[] pixels = new byte[n * per];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int c = i % k;
            labels[i] = c;
            for (int j = 0; j < per; j++) {
                double v = (proto[c][j] + rnd.nextGaussian() * 0.2) * 255;
                pixels[i * per + j] = (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
            }
        }
        return new ImageData(name, pixels, labels, rows, cols);
    }

    /**
     * Ten classes, each a random smooth prototype; a sample is its class's prototype plus pixel
     * noise and a random shift of up to 2 pixels, so a linear model cannot be perfect but an MLP
     * learns it within a few hundred steps.
     */
    public static ImageData synthetic(String name, int n, long seed) {
        if (n < 10) {
            throw new IllegalArgumentException("synthetic data needs at least 10 samples, got " + n);
        }
        int side = 28;
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] proto = new float[10][side * side];
        for (int c = 0; c < 10; c++) {
            for (int blob = 0; blob < 4; blob++) {
                double cy = 4 + rnd.nextDouble() * 20;
                double cx = 4 + rnd.nextDouble() * 20;
                double r = 2 + rnd.nextDouble() * 4;
                for (int y = 0; y < side; y++) {
                    for (int x = 0; x < side; x++) {
                        double d2 = ((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (r * r);
                        proto[c][y * side + x] += (float) Math.exp(-d2);
                    }
                }
            }
        }
        byte[] pixels = new byte[n * side * side];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int c = i % 10;
            labels[i] = c;
            int dy = rnd.nextInt(5) - 2;
            int dx = rnd.nextInt(5) - 2;
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    int sy = Math.floorMod(y + dy, side);
                    int sx = Math.floorMod(x + dx, side);
                    double v = Math.min(1.0, proto[c][sy * side + sx]) * 200 + rnd.nextGaussian() * 40;
                    pixels[i * side * side + y * side + x] = (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
                }
            }
        }
        return new ImageData(name, pixels, labels, side, side);
    }
}
