package io.fedmarket.fl.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * Reader of the IDX format of (Fashion-)MNIST: an image file ({@code 0x00000803}, count, rows,
 * columns, then one unsigned byte a pixel) and its label file ({@code 0x00000801}, count, then one
 * byte a label in 0..9), each gzip-compressed or not (told by the gzip magic, not by a name). Plain
 * Java, so that both the worker ({@code io.fedmarket.worker.data.Idx}) and the serverless functions
 * parse with this one piece of code.
 */
public final class IdxImages {
    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;

    /**
     * Images kept as the raw bytes of the file (8 bits a pixel, image after image, row-major) with their labels.
     */
    public record Labelled(byte[] pixels, int[] labels, int rows, int cols) {
        public Labelled {
            if (rows < 1 || cols < 1 || (long) pixels.length != (long) labels.length * rows * cols) {
                throw new IllegalArgumentException(pixels.length + " pixel bytes do not make " + labels.length + " images of "
                        + rows + "×" + cols);
            }
        }

        public int size() {
            return labels.length;
        }

        public int pixelsPerImage() {
            return rows * cols;
        }

        /**
         * The images at {@code indices}, one after the other, each pixel scaled to [0, 1] exactly as the worker's
         * {@code ImageData.copyScaled} does ({@code (p & 0xff) * (1f / 255f)}): the input of
         * {@code io.fedmarket.fl.model.Inference}.
         */
        public float[] scaled(int[] indices) {
            int p = pixelsPerImage();
            float[] out = new float[Math.multiplyExact(indices.length, p)];
            for (int j = 0; j < indices.length; j++) {
                int index = check(indices[j]);
                int base = index * p;
                int o = j * p;
                for (int i = 0; i < p; i++) {
                    out[o + i] = (pixels[base + i] & 0xff) * (1f / 255f);
                }
            }
            return out;
        }

        /** The labels at {@code indices}. */
        public int[] labels(int[] indices) {
            int[] out = new int[indices.length];
            for (int j = 0; j < indices.length; j++) {
                out[j] = labels[check(indices[j])];
            }
            return out;
        }

        private int check(int index) {
            if (index < 0 || index >= labels.length) {
                throw new IndexOutOfBoundsException("image " + index + " of " + labels.length);
            }
            return index;
        }
    }

    private IdxImages() {
    }

    /** Reads an image file and its label file from memory (each gzip-compressed or not). */
    public static Labelled read(byte[] images, byte[] labels) throws IOException {
        return read("IDX images", new ByteArrayInputStream(images), "IDX labels", new ByteArrayInputStream(labels));
    }

    /** Reads an image file and its label file from streams (each gzip-compressed or not); the streams are not closed. */
    public static Labelled read(InputStream images, InputStream labels) throws IOException {
        return read("IDX images", images, "IDX labels", labels);
    }

    /**
     * Reads an image file and its label file from streams (each gzip-compressed or not; the streams are not
     * closed), naming them {@code imagesName} and {@code labelsName} in errors.
     *
     * @throws IOException a wrong magic number, a count that differs between the files, a label outside 0..9, or a
     *                     truncated file ({@link EOFException})
     */
    public static Labelled read(String imagesName, InputStream images, String labelsName, InputStream labels) throws IOException {
        return read(imagesName, images, labelsName, labels, 9);
    }

    /** As {@link #read(String, InputStream, String, InputStream)}, with labels allowed in 0..{@code maxLabel} (at most 255). */
    public static Labelled read(String imagesName, InputStream images, String labelsName, InputStream labels, int maxLabel) throws IOException {
        DataInputStream in = open(images);
        int magic = in.readInt();
        if (magic != IMAGES_MAGIC) {
            throw new IOException(imagesName + " is not an IDX image file (magic 0x" + Integer.toHexString(magic) + ", expected 0x803)");
        }
        int n = in.readInt();
        int rows = in.readInt();
        int cols = in.readInt();
        if (n < 0 || rows < 1 || cols < 1) {
            throw new IOException(imagesName + " declares " + n + " images of " + rows + "×" + cols);
        }
        long declared = (long) n * rows * cols;
        if ((long) rows * cols > Integer.MAX_VALUE || declared > Integer.MAX_VALUE - 8) {
            throw new IOException(imagesName + " declares " + n + " images of " + rows + "×" + cols + ", more than one array holds");
        }
        int size = (int) declared;
        // read in chunks rather than allocating what a corrupt header declares up front
        byte[] pixels = in.readNBytes(size);
        if (pixels.length != size) {
            throw new EOFException(imagesName + " is truncated: " + n + " images of " + rows + "×" + cols + " need " + size
                    + " pixel bytes, it has " + pixels.length);
        }

        DataInputStream lin = open(labels);
        magic = lin.readInt();
        if (magic != LABELS_MAGIC) {
            throw new IOException(labelsName + " is not an IDX label file (magic 0x" + Integer.toHexString(magic) + ", expected 0x801)");
        }
        int m = lin.readInt();
        if (m != n) {
            throw new IOException(labelsName + " has " + m + " labels but " + imagesName + " has " + n + " images");
        }
        byte[] raw = lin.readNBytes(m);
        if (raw.length != m) {
            throw new EOFException(labelsName + " is truncated: " + m + " labels, it has " + raw.length);
        }
        int[] lab = new int[m];
        for (int i = 0; i < m; i++) {
            lab[i] = raw[i] & 0xff;
            if (lab[i] > maxLabel) {
                throw new IOException(labelsName + ": label " + lab[i] + " at " + i + " is outside 0.." + maxLabel);
            }
        }
        return new Labelled(pixels, lab, rows, cols);
    }

    /** Buffers the stream and, when it starts with the gzip magic (1f 8b), decompresses it. */
    private static DataInputStream open(InputStream raw) throws IOException {
        InputStream in = raw.markSupported() ? raw : new BufferedInputStream(raw, 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            in = new GZIPInputStream(in, 1 << 16);
        }
        return new DataInputStream(in);
    }
}
