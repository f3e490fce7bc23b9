package io.fedmarket.worker.data.local;

import java.nio.file.Path;
import java.util.List;

/**
 * What to read and how: the format, where (a folder; for CSV the file or a folder with exactly one {@code .csv}), the shape
 * each sample is brought to ({@code [C, H, W]} for images, C 1 or 3; {@code null}: IDX keeps its own, tabular data has its
 * feature count), the label column and feature columns of a CSV ({@code features} null: every other column), and the class
 * names in index order ({@code null}: the sorted distinct labels, numerically when all are integers).
 */
public record LocalDataSpec(LocalFormat format, Path path, List<Integer> shape, String labelColumn, List<String> features,
                            List<String> classes) {
    public LocalDataSpec {
        shape = shape == null ? null : List.copyOf(shape);
        features = features == null ? null : List.copyOf(features);
        classes = classes == null ? null : List.copyOf(classes);
    }

    public static LocalDataSpec imageFolder(Path dir, List<Integer> shape) {
        return new LocalDataSpec(LocalFormat.IMAGEFOLDER, dir, shape, null, null, null);
    }

    public static LocalDataSpec csv(Path file, String labelColumn) {
        return new LocalDataSpec(LocalFormat.CSV, file, null, labelColumn, null, null);
    }

    public static LocalDataSpec idx(Path dir) {
        return new LocalDataSpec(LocalFormat.IDX, dir, null, null, null, null);
    }

    public LocalDataSpec withClasses(List<String> c) {
        return new LocalDataSpec(format, path, shape, labelColumn, features, c);
    }

    public LocalDataSpec withFeatures(List<String> f) {
        return new LocalDataSpec(format, path, shape, labelColumn, f, classes);
    }

    /** "3x32x32" or "784" → [3, 32, 32] / [784]. */
    public static List<Integer> parseShape(String s) {
        try {
            List<Integer> out = java.util.Arrays.stream(s.strip().split("x")).map(Integer::parseInt).toList();
            if (out.isEmpty() || out.size() > 3 || out.stream().anyMatch(d -> d < 1 || d > 4096)) {
                throw new NumberFormatException();
            }
            return out;
        } catch (RuntimeException e) {
            throw new BadDataException(List.of("--shape '" + s + "' is not a shape: use CxHxW for images (e.g. 3x32x32, C 1 or 3, sides 1..4096)"));
        }
    }
}
