package io.fedmarket.worker.data.local;

import io.fedmarket.fl.data.IdxImages;
import io.fedmarket.model.Labels;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Reads a data owner's data set on the owner's machine, in the formats people have (image folders, CSV, IDX), into
 * canonical samples ({@link LocalSample}) in a fixed order: class folders and files in code-point order of their names,
 * CSV rows in file order, IDX records in file order. Every bad file (unreadable image, ragged CSV row, non-number, label
 * outside the declared classes, stray file) is a problem naming the file and line; nothing is skipped in silence, and
 * the read fails with all of them ({@link BadDataException}). Hidden files (names starting with a dot) are not samples;
 * they are listed in the result's notes.
 *
 * <p>Not DJL's {@code ImageFolder}/{@code CsvDataset} (basicdataset): those build NDArrays through the engine, resize with
 * the engine's image factory and skip or throw on the first bad record without its line; a commitment needs the exact
 * bytes the model is fed, produced the same way on every machine (pure-Java decoding and resizing here, Java's
 * floating point being the same everywhere), and every problem reported at once.
 */
public final class LocalDataReader {
    /** What was read: the samples' shape, the class names in index order, how many samples, and notes (ignored hidden files). */
    public record Result(LocalFormat format, List<Integer> shape, List<String> classes, long count, List<String> notes, List<String> featureNames) {
        Result(LocalFormat format, List<Integer> shape, List<String> classes, long count, List<String> notes) {
            this(format, shape, classes, count, notes, null);
        }
    }

    private LocalDataReader() {
    }

    public static Result read(LocalDataSpec spec, Consumer<LocalSample> sink, Consumer<String> progress) {
        return switch (spec.format()) {
            case IMAGEFOLDER -> imageFolder(spec, sink, progress);
            case CSV -> csv(spec, sink, progress);
            case IDX -> idx(spec, sink, progress);
        };
    }

    // ------------------------------------------------------------------ image folders

    private static Result imageFolder(LocalDataSpec spec, Consumer<LocalSample> sink, Consumer<String> progress) {
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        Path dir = spec.path();
        List<Integer> shape = spec.shape();
        if (shape == null) {
            problems.add("--shape is required for an image folder: the images are brought to CxHxW (e.g. 1x28x28 or 3x32x32)");
        } else if (shape.size() != 3 || !(shape.get(0) == 1 || shape.get(0) == 3)) {
            problems.add("--shape " + text(shape) + " is not an image shape: use CxHxW with C = 1 (grey) or 3 (RGB), e.g. 3x32x32");
        }
        if (!Files.isDirectory(dir)) {
            throw new BadDataException(List.of(dir + ": not a folder; an image folder holds one sub-folder per class with PNG or JPEG files in it"));
        }
        List<Path> folders = new ArrayList<>();
        for (Path p : list(dir, problems)) {
            String name = p.getFileName().toString();
            if (name.equals(DataCommitter.STATE_DIR)) {
                continue; // the commitment kept next to the data is not data
            }
            if (name.startsWith(".")) {
                notes.add("ignored hidden " + (Files.isDirectory(p) ? "folder " : "file ") + p);
            } else if (Files.isDirectory(p)) {
                if (!Labels.valid(name)) {
                    problems.add(p + ": the folder name is the class label and " + Labels.RULE + ": rename the folder");
                } else {
                    folders.add(p);
                }
            } else {
                problems.add(p + ": a file outside the class folders; move it into " + dir + "/<class>/ or remove it");
            }
        }
        if (folders.isEmpty() && problems.isEmpty()) {
            problems.add(dir + ": no class folders; an image folder holds one sub-folder per class (e.g. " + dir + "/cat/1.png)");
        }
        List<String> found = folders.stream().map(f -> f.getFileName().toString()).toList();
        List<String> classes = classes(spec.classes(), found, "class folder", problems);
        Map<String, Integer> index = indexOf(classes);
        record Entry(Path file, int label) {
        }
        List<Entry> entries = new ArrayList<>();
        for (Path f : folders) {
            Integer label = index.get(f.getFileName().toString());
            List<Path> files = list(f, problems);
            if (files.isEmpty()) {
                notes.add("class folder " + f + " is empty");
            }
            for (Path p : files) {
                String name = p.getFileName().toString();
                if (name.startsWith(".")) {
                    notes.add("ignored hidden file " + p);
                } else if (Files.isDirectory(p)) {
                    problems.add(p + ": a folder inside class folder " + f.getFileName() + "; images must sit directly in their class folder");
                } else if (!isImageName(name)) {
                    problems.add(p + ": not a PNG or JPEG (by its name); remove it or convert it");
                } else if (label != null) {
                    entries.add(new Entry(p, label));
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new BadDataException(problems);
        }
        int c = shape.get(0);
        int h = shape.get(1);
        int w = shape.get(2);
        Progress pr = new Progress(progress, entries.size());
        for (Entry e : entries) {
            BufferedImage img;
            try {
                img = ImageIO.read(e.file().toFile());
            } catch (IOException | RuntimeException ex) {
                problems.add(e.file() + ": not a readable PNG or JPEG (" + ex.getMessage() + "); replace or remove it");
                continue;
            }
            if (img == null) {
                problems.add(e.file() + ": not a readable PNG or JPEG; replace or remove it");
                continue;
            }
            if (problems.isEmpty()) {
                sink.accept(new LocalSample(e.label(), classes.size(), toChw(img, c, h, w), e.file().toString()));
            }
            pr.step();
        }
        if (!problems.isEmpty()) {
            throw new BadDataException(problems);
        }
        return new Result(LocalFormat.IMAGEFOLDER, shape, classes, entries.size(), notes);
    }

    private static boolean isImageName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    /**
     * An image as C×H×W bytes: grey images from their raster (16-bit scaled to 8), colour ones from their sRGB values;
     * C = 1 from colour takes the luminance 0.299 R + 0.587 G + 0.114 B, C = 3 from grey repeats it; then bilinear
     * resizing with pixel centres at +0.5 (as PyTorch's {@code interpolate(align_corners=False)}), rounded to the nearest byte.
     */
    static byte[] toChw(BufferedImage img, int c, int h, int w) {
        int sw = img.getWidth();
        int sh = img.getHeight();
        Raster r = img.getRaster();
        boolean grey = r.getNumBands() <= 2 && !(img.getColorModel() instanceof IndexColorModel);
        double[][] planes = new double[grey ? 1 : 3][sw * sh];
        double scale = grey ? 255.0 / ((1L << img.getColorModel().getComponentSize(0)) - 1) : 1;
        for (int y = 0; y < sh; y++) {
            for (int x = 0; x < sw; x++) {
                if (grey) {
                    planes[0][y * sw + x] = r.getSample(x, y, 0) * scale;
                } else {
                    int argb = img.getRGB(x, y);
                    planes[0][y * sw + x] = (argb >> 16) & 0xff;
                    planes[1][y * sw + x] = (argb >> 8) & 0xff;
                    planes[2][y * sw + x] = argb & 0xff;
                }
            }
        }
        double[][] out = new double[c][];
        if (c == 1) {
            if (grey) {
                out[0] = planes[0];
            } else {
                out[0] = new double[sw * sh];
                for (int i = 0; i < out[0].length; i++) {
                    out[0][i] = 0.299 * planes[0][i] + 0.587 * planes[1][i] + 0.114 * planes[2][i];
                }
            }
        } else {
            for (int k = 0; k < 3; k++) {
                out[k] = planes[grey ? 0 : k];
            }
        }
        byte[] bytes = new byte[c * h * w];
        for (int k = 0; k < c; k++) {
            resize(out[k], sw, sh, bytes, k * h * w, w, h);
        }
        return bytes;
    }

    private static void resize(double[] src, int sw, int sh, byte[] dst, int offset, int w, int h) {
        for (int y = 0; y < h; y++) {
            double fy = Math.min(Math.max((y + 0.5) * sh / h - 0.5, 0), sh - 1);
            int y0 = (int) Math.floor(fy);
            int y1 = Math.min(y0 + 1, sh - 1);
            double ay = fy - y0;
            for (int x = 0; x < w; x++) {
                double fx = Math.min(Math.max((x + 0.5) * sw / w - 0.5, 0), sw - 1);
                int x0 = (int) Math.floor(fx);
                int x1 = Math.min(x0 + 1, sw - 1);
                double ax = fx - x0;
                double v = (1 - ay) * ((1 - ax) * src[y0 * sw + x0] + ax * src[y0 * sw + x1])
                        + ay * ((1 - ax) * src[y1 * sw + x0] + ax * src[y1 * sw + x1]);
                dst[offset + y * w + x] = (byte) Math.min(255, Math.max(0, Math.round(v)));
            }
        }
    }

    // ------------------------------------------------------------------ CSV

    private static Result csv(LocalDataSpec spec, Consumer<LocalSample> sink, Consumer<String> progress) {
        List<String> problems = new ArrayList<>();
        Path file = spec.path();
        if (Files.isDirectory(file)) {
            List<Path> csvs = list(file, problems).stream().filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")).toList();
            if (csvs.size() != 1) {
                throw new BadDataException(List.of(file + ": holds " + csvs.size() + " .csv files " + csvs.stream().map(p -> p.getFileName().toString()).toList()
                        + "; name the file itself (mkt data commit FILE.csv …)"));
            }
            file = csvs.get(0);
        }
        if (spec.labelColumn() == null || spec.labelColumn().isBlank()) {
            throw new BadDataException(List.of("--label is required for CSV: the name of the column that holds each row's class"));
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new BadDataException(List.of(file + ": cannot be read as UTF-8 text (" + e.getMessage() + ")"));
        }
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isBlank()) {
            lines.remove(lines.size() - 1); // trailing empty lines end the file, they are not rows
        }
        if (lines.isEmpty()) {
            throw new BadDataException(List.of(file + ": empty; a CSV data set starts with a header line naming its columns"));
        }
        String first = lines.get(0);
        if (first.startsWith("\uFEFF")) {
            first = first.substring(1);
        }
        List<String> header = fields(first, file + ":1", problems);
        if (header == null) {
            throw new BadDataException(problems);
        }
        header = header.stream().map(String::strip).toList();
        Map<String, Integer> col = new HashMap<>();
        for (int i = 0; i < header.size(); i++) {
            if (col.putIfAbsent(header.get(i), i) != null) {
                problems.add(file + ":1: column '" + header.get(i) + "' appears twice in the header; rename one");
            }
        }
        Integer labelCol = col.get(spec.labelColumn());
        if (labelCol == null) {
            problems.add(file + ":1: no column '" + spec.labelColumn() + "' (--label); the header has " + header);
        }
        List<String> featureNames = spec.features() != null ? spec.features()
                : header.stream().filter(n -> !n.equals(spec.labelColumn())).toList();
        List<Integer> featureCols = new ArrayList<>();
        for (String f : featureNames) {
            Integer i = col.get(f);
            if (i == null) {
                problems.add(file + ":1: no feature column '" + f + "' (--features); the header has " + header);
            } else if (f.equals(spec.labelColumn())) {
                problems.add("--features names the label column '" + f + "'; a row's class cannot be one of its features");
            } else {
                featureCols.add(i);
            }
        }
        if (featureNames.isEmpty()) {
            problems.add(file + ":1: no feature columns besides the label '" + spec.labelColumn() + "'");
        }
        if (spec.shape() != null && !spec.shape().equals(List.of(featureNames.size()))) {
            problems.add("--shape " + text(spec.shape()) + " does not match the " + featureNames.size() + " feature columns; leave it out or give "
                    + featureNames.size());
        }
        if (!problems.isEmpty()) {
            throw new BadDataException(problems);
        }
        List<String> rowLabels = new ArrayList<>(lines.size() - 1);
        List<byte[]> rowBytes = new ArrayList<>(lines.size() - 1);
        List<Integer> rowLine = new ArrayList<>(lines.size() - 1);
        for (int n = 1; n < lines.size(); n++) {
            String where = file + ":" + (n + 1);
            String line = lines.get(n);
            if (line.isBlank()) {
                problems.add(where + ": a blank line inside the data; remove it (no row is skipped)");
                continue;
            }
            List<String> f = fields(line, where, problems);
            if (f == null) {
                continue;
            }
            if (f.size() != header.size()) {
                problems.add(where + ": " + f.size() + " fields, the header has " + header.size() + "; fix the row (no row is skipped)");
                continue;
            }
            ByteBuffer b = ByteBuffer.allocate(4 * featureCols.size());
            boolean ok = true;
            for (int k = 0; k < featureCols.size(); k++) {
                String v = f.get(featureCols.get(k)).strip();
                float x;
                try {
                    x = Float.parseFloat(v);
                } catch (NumberFormatException e) {
                    x = Float.NaN;
                }
                if (!Float.isFinite(x) || v.isEmpty() || !Character.isDigit(v.charAt(v.length() - 1)) && v.charAt(v.length() - 1) != '.') {
                    problems.add(where + " column '" + featureNames.get(k) + "': '" + v + "' is not a finite number");
                    ok = false;
                    break;
                }
                b.putFloat(x);
            }
            String label = f.get(labelCol).strip();
            if (!Labels.valid(label)) {
                problems.add(where + " column '" + spec.labelColumn() + "': label '" + label + "': " + Labels.RULE);
                ok = false;
            }
            if (ok) {
                rowLabels.add(label);
                rowBytes.add(b.array());
                rowLine.add(n + 1);
            }
        }
        List<String> classes = classes(spec.classes(), new ArrayList<>(new TreeSet<>(rowLabels)), "label", problems);
        Map<String, Integer> index = indexOf(classes);
        for (int i = 0; i < rowLabels.size(); i++) {
            if (!index.containsKey(rowLabels.get(i))) {
                problems.add(file + ":" + rowLine.get(i) + ": label '" + rowLabels.get(i) + "' is not one of the declared classes " + classes);
            }
        }
        if (rowLabels.isEmpty() && problems.isEmpty()) {
            problems.add(file + ": a header and no rows; nothing to commit");
        }
        if (!problems.isEmpty()) {
            throw new BadDataException(problems);
        }
        Progress pr = new Progress(progress, rowLabels.size());
        for (int i = 0; i < rowLabels.size(); i++) {
            sink.accept(new LocalSample(index.get(rowLabels.get(i)), classes.size(), rowBytes.get(i), file + ":" + rowLine.get(i)));
            pr.step();
        }
        return new Result(LocalFormat.CSV, List.of(featureNames.size()), classes, rowLabels.size(), List.of(), featureNames);
    }

    /** The fields of one CSV line (RFC 4180: commas, double quotes around a field, "" for a quote); null after a problem. */
    static List<String> fields(String line, String where, List<String> problems) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int i = 0;
        boolean quoted = false;
        boolean wasQuoted = false;
        while (i < line.length()) {
            char ch = line.charAt(i);
            if (quoted) {
                if (ch == '"') {
                    if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        cur.append('"');
                        i += 2;
                        continue;
                    }
                    quoted = false;
                } else {
                    cur.append(ch);
                }
            } else if (ch == ',') {
                out.add(cur.toString());
                cur.setLength(0);
                wasQuoted = false;
            } else if (ch == '"' && cur.toString().isBlank() && !wasQuoted) {
                quoted = true;
                wasQuoted = true;
                cur.setLength(0);
            } else if (wasQuoted && !Character.isWhitespace(ch)) {
                problems.add(where + ": text after a closing quote at column " + (i + 1) + "; quote the whole field");
                return null;
            } else {
                cur.append(ch);
            }
            i++;
        }
        if (quoted) {
            problems.add(where + ": a quote opened and not closed (fields spanning lines are not supported); close it");
            return null;
        }
        out.add(cur.toString());
        return out;
    }

    // ------------------------------------------------------------------ IDX

    private static Result idx(LocalDataSpec spec, Consumer<LocalSample> sink, Consumer<String> progress) {
        List<String> problems = new ArrayList<>();
        Path dir = spec.path();
        if (!Files.isDirectory(dir)) {
            throw new BadDataException(List.of(dir + ": not a folder; give the folder that holds the IDX image and label files"));
        }
        List<Path> files = list(dir, problems);
        List<Path> images = files.stream().filter(p -> p.getFileName().toString().matches(".*images[-.]idx3-ubyte(\\.gz)?")).toList();
        List<Path> labels = files.stream().filter(p -> p.getFileName().toString().matches(".*labels[-.]idx1-ubyte(\\.gz)?")).toList();
        if (images.size() != 1 || labels.size() != 1) {
            throw new BadDataException(List.of(dir + ": needs exactly one *images-idx3-ubyte[.gz] and one *labels-idx1-ubyte[.gz] file, has "
                    + images.size() + " and " + labels.size() + " (" + files.stream().map(p -> p.getFileName().toString()).toList()
                    + "); keep one pair per folder"));
        }
        IdxImages.Labelled l;
        try (InputStream im = open(images.get(0)); InputStream lab = open(labels.get(0))) {
            l = IdxImages.read(images.get(0).toString(), im, labels.get(0).toString(), lab, 255);
        } catch (IOException | RuntimeException e) {
            throw new BadDataException(List.of(images.get(0).getFileName() + " / " + labels.get(0).getFileName() + ": not a valid IDX pair ("
                    + e.getMessage() + ")"));
        }
        List<Integer> shape = List.of(1, l.rows(), l.cols());
        if (spec.shape() != null && !spec.shape().equals(shape)) {
            problems.add("--shape " + text(spec.shape()) + ": the IDX images are " + text(shape) + "; leave --shape out or give " + text(shape));
        }
        int max = 0;
        for (int y : l.labels()) {
            max = Math.max(max, y);
        }
        List<String> found = new ArrayList<>();
        for (int k = 0; k <= max; k++) {
            found.add(Integer.toString(k));
        }
        List<String> classes;
        if (spec.classes() != null) {
            classes = spec.classes();
            if (classes.size() <= max) {
                problems.add(labels.get(0) + ": labels go up to " + max + ", --classes names " + classes.size() + "; name at least " + (max + 1));
            }
            checkNames(classes, problems);
        } else {
            classes = found;
        }
        if (!problems.isEmpty()) {
            throw new BadDataException(problems);
        }
        int p = l.pixelsPerImage();
        Progress pr = new Progress(progress, l.size());
        for (int i = 0; i < l.size(); i++) {
            byte[] b = new byte[p];
            System.arraycopy(l.pixels(), i * p, b, 0, p);
            sink.accept(new LocalSample(l.labels()[i], classes.size(), b, images.get(0).getFileName() + "#" + i));
            pr.step();
        }
        return new Result(LocalFormat.IDX, shape, classes, l.size(), List.of());
    }

    private static InputStream open(Path p) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(p), 1 << 16);
        return p.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
    }

    // ------------------------------------------------------------------ shared

    /** The declared classes (checked), or the found ones: numerically when all are integers, else in code-point order. */
    private static List<String> classes(List<String> declared, List<String> found, String what, List<String> problems) {
        if (declared != null) {
            checkNames(declared, problems);
            for (String f : found) {
                if (!declared.contains(f) && what.equals("class folder")) {
                    problems.add("class folder '" + f + "' is not one of the declared classes " + declared + " (--classes): rename it or add it");
                }
            }
            return declared;
        }
        List<String> sorted = new ArrayList<>(new LinkedHashSet<>(found));
        if (!sorted.isEmpty() && sorted.stream().allMatch(s -> s.matches("0|[1-9][0-9]{0,8}"))) {
            sorted.sort(Comparator.comparingLong(Long::parseLong));
        } else {
            sorted.sort(Comparator.naturalOrder());
        }
        return sorted;
    }

    private static void checkNames(List<String> classes, List<String> problems) {
        if (classes.isEmpty()) {
            problems.add("--classes is empty; name the classes in index order (e.g. --classes cat,dog) or leave it out");
        }
        if (new java.util.HashSet<>(classes).size() != classes.size()) {
            problems.add("--classes names a class twice: " + classes);
        }
        for (String c : classes) {
            if (!Labels.valid(c)) {
                problems.add("--classes '" + c + "': " + Labels.RULE);
            }
        }
    }

    private static Map<String, Integer> indexOf(List<String> classes) {
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < classes.size(); i++) {
            m.put(classes.get(i), i);
        }
        return m;
    }

    private static List<Path> list(Path dir, List<String> problems) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            problems.add(dir + ": cannot be listed (" + e.getMessage() + ")");
            return List.of();
        }
    }

    static String text(List<Integer> shape) {
        return String.join("x", shape.stream().map(String::valueOf).toList());
    }

    /** "read 1,000 of 12,000 samples" every 5% or 2 s, whichever is later. */
    private static final class Progress {
        private final Consumer<String> out;
        private final long total;
        private long done;
        private long lastAt = System.nanoTime();
        private long lastPercent = -1;

        Progress(Consumer<String> out, long total) {
            this.out = out;
            this.total = total;
        }

        void step() {
            done++;
            long percent = done * 100 / Math.max(1, total);
            long now = System.nanoTime();
            if (done == total || (percent / 5 > lastPercent / 5 && now - lastAt > 2_000_000_000L)) {
                out.accept(String.format(Locale.ROOT, "read %,d of %,d samples (%d%%)", done, total, percent));
                lastAt = now;
                lastPercent = percent;
            }
        }
    }
}
