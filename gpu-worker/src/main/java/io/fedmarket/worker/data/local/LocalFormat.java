package io.fedmarket.worker.data.local;

import java.util.Arrays;
import java.util.Locale;

/** The formats a data owner's own data set can be in. */
public enum LocalFormat {
    /** One sub-folder per class, PNG or JPEG images in it (resized and converted to the declared shape). */
    IMAGEFOLDER,
    /** A CSV file with a header: numeric feature columns and one label column. */
    CSV,
    /** An IDX image file ({@code *images-idx3-ubyte[.gz]}) and its label file ({@code *labels-idx1-ubyte[.gz]}), as (Fashion-)MNIST ships. */
    IDX;

    public static LocalFormat parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT).replace("-", "").replace("_", ""));
        } catch (RuntimeException e) {
            throw new BadDataException(java.util.List.of("--format '" + s + "' is not a format: use one of "
                    + Arrays.stream(values()).map(f -> f.name().toLowerCase(Locale.ROOT)).toList()));
        }
    }
}
