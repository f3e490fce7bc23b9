package io.fedmarket.worker.data;

import io.fedmarket.crypto.Hashes;

/**
 * 28×28 grey images with labels 0..9, kept as the raw bytes of the IDX files (8 bits a pixel)
 * so that a sample's hash is over the bytes a data provider actually holds.
 */
public record ImageData(String name, byte[] pixels, int[] labels, int rows, int cols, boolean floats) {
    public ImageData {
        long per = (long) rows * cols * (floats ? 4 : 1);
        if (pixels.length != labels.length * per) {
            throw new IllegalArgumentException(name + ": " + pixels.length + " bytes do not make " + labels.length
                    + " samples of " + rows + "×" + cols + (floats ? " float32 values" : " bytes"));
        }
    }

    /** Samples of 8-bit values (images), scaled to [0, 1] for the model. */
    public ImageData(String name, byte[] pixels, int[] labels, int rows, int cols) {
        this(name, pixels, labels, rows, cols, false);
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

    /** Writes sample {@code index} into {@code out} at {@code offset}: 8-bit values scaled to [0, 1], float32 values (tabular data) as they are. */
    public void copyScaled(int index, float[] out, int offset) {
        int p = pixelsPerImage();
        if (floats) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(pixels, index * p * 4, p * 4); // big-endian, as LocalDataReader wrote them
            for (int i = 0; i < p; i++) {
                out[offset + i] = b.getFloat();
            }
            return;
        }
        int base = index * p;
        for (int i = 0; i < p; i++) {
            out[offset + i] = (pixels[base + i] & 0xff) * (1f / 255f);
        }
    }
}
