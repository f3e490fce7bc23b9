package io.fedmarket.worker.data.local;

/**
 * One sample of a local data set in its canonical form: the class index and the bytes the model's input is made from
 * out of {@code classes} (images: 8-bit values, channel × row × column; tabular: the features as big-endian float32), with where it came from.
 */
public record LocalSample(int label, int classes, byte[] bytes, String origin) {
}
