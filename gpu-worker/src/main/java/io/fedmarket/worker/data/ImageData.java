package io.fedmarket.worker.data;

import io.fedmarket.crypto.Hashes;

/**
 * 28×28 grey images with labels 0..9, kept as the raw bytes of the IDX files (8 bits a pixel)
 * so that a sample's hash is over the bytes a data provider actually holds.
 */
public record ImageData(String name, byte[] pixels, int[] labels, int rows, int cols) {
    public ImageData {
        if (pixels.length != labels.length * rows * cols) {
            throw new IllegalArgumentException(name + ": " + pixels.length + " pixel bytes do not make " + labels.length
                    + " images of " + rows + "×" + cols);
        }
    }

    public int size() {
        return labels.length;
    }

    public int pixelsPerImage() {
        return rows * cols;
    }

    /** keccak(label:u8 ‖ pixels): the leaf of a shard commitment. */
    public byte[] sampleHash(int index) {
        int p = pixelsPerImage();
        byte[] buf = new byte[1 + p];
        buf[0] = (byte) labels[index];
        System.arraycopy(pixels, index * p, buf, 1, p);
        return Hashes.keccak256(buf);
    }

    /** Writes image {@code index} scaled to [0, 1] into {@code out} at {@code offset}. */
    public void copyScaled(int index, float[] out, int offset) {
        int p = pixelsPerImage();
        int base = index * p;
        for (int i = 0; i < p; i++) {
            out[offset + i] = (pixels[base + i] & 0xff) * (1f / 255f);
        }
    }
}
