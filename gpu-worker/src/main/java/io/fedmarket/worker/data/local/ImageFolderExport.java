package io.fedmarket.worker.data.local;

import io.fedmarket.worker.data.ImageData;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes samples of 8-bit single-channel images as an image folder ({@code DIR/<label>/<index>.png}, lossless 8-bit grey
 * PNGs), the way a data owner keeps images: what {@code ./mkt demo --private-data} gives each provider to commit and train
 * from. Read back with {@link LocalDataReader} at the same shape, every sample's bytes are the original's.
 */
public final class ImageFolderExport {
    private ImageFolderExport() {
    }

    /** Writes {@code indices} of {@code data} (H × W grey images) under {@code dir}; returns how many files. */
    public static int write(ImageData data, int[] indices, Path dir) {
        int h = data.rows();
        int w = data.cols();
        try {
            Files.createDirectories(dir);
            int width = Integer.toString(data.size()).length();
            for (int i : indices) {
                Path cls = dir.resolve(Integer.toString(data.labels()[i]));
                Files.createDirectories(cls);
                BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
                byte[] raster = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
                System.arraycopy(data.pixels(), i * h * w, raster, 0, h * w);
                Path f = cls.resolve(String.format(Locale.ROOT, "%0" + width + "d.png", i));
                if (!ImageIO.write(img, "png", f.toFile())) {
                    throw new IOException("no PNG writer");
                }
            }
            return indices.length;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the image folder " + dir + ": " + e.getMessage(), e);
        }
    }
}
