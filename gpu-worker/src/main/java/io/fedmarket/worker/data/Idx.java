package io.fedmarket.worker.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Reader of the IDX format of (Fashion-)MNIST, gzip-compressed or not. */
public final class Idx {
    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;

    private Idx() {
    }

    public static ImageData read(String name, Path images, Path labels) throws IOException {
        byte[] pixels;
        int rows;
        int cols;
        int n;
        try (DataInputStream in = open(images)) {
            int magic = in.readInt();
            if (magic != IMAGES_MAGIC) {
                throw new IOException(images + " is not an IDX image file (magic 0x" + Integer.toHexString(magic) + ", expected 0x803)");
            }
            n = in.readInt();
            rows = in.readInt();
            cols = in.readInt();
            pixels = new byte[Math.multiplyExact(n, rows * cols)];
            in.readFully(pixels);
        }
        int[] lab;
        try (DataInputStream in = open(labels)) {
            int magic = in.readInt();
            if (magic != LABELS_MAGIC) {
                throw new IOException(labels + " is not an IDX label file (magic 0x" + Integer.toHexString(magic) + ", expected 0x801)");
            }
            int m = in.readInt();
            if (m != n) {
                throw new IOException(labels + " has " + m + " labels but " + images + " has " + n + " images");
            }
            byte[] raw = new byte[m];
            in.readFully(raw);
            lab = new int[m];
            for (int i = 0; i < m; i++) {
                lab[i] = raw[i] & 0xff;
                if (lab[i] > 9) {
                    throw new IOException(labels + ": label " + lab[i] + " at " + i + " is outside 0..9");
                }
            }
        }
        return new ImageData(name, pixels, lab, rows, cols);
    }

    private static DataInputStream open(Path p) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(p), 1 << 16);
        if (p.getFileName().toString().endsWith(".gz")) {
            raw = new GZIPInputStream(raw, 1 << 16);
        }
        return new DataInputStream(raw);
    }
}
