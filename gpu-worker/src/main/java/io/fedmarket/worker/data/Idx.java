package io.fedmarket.worker.data;

import io.fedmarket.fl.data.IdxImages;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reader of the IDX format of (Fashion-)MNIST, gzip-compressed or not: opens the files (a
 * {@code .gz} name is decompressed) and leaves the parsing to the shared {@link IdxImages}, which
 * the serverless functions use too.
 */
public final class Idx {
    private Idx() {
    }

    public static ImageData read(String name, Path images, Path labels) throws IOException {
        try (InputStream im = open(images); InputStream lab = open(labels)) {
            IdxImages.Labelled l = IdxImages.read(images.toString(), im, labels.toString(), lab);
            return new ImageData(name, l.pixels(), l.labels(), l.rows(), l.cols());
        }
    }

    private static InputStream open(Path p) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(p), 1 << 16);
        if (p.getFileName().toString().endsWith(".gz")) {
            raw = new GZIPInputStream(raw, 1 << 16);
        }
        return raw;
    }
}
