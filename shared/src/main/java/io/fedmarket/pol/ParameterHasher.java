package io.fedmarket.pol;

import org.bouncycastle.jcajce.provider.digest.Keccak;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The hash of a model's parameters: keccak-256 over every parameter tensor as little-endian
 * float32, tensors in the model's fixed declaration order (the order the worker's block lists
 * them, which is also the order of the checkpoint file). Equal to
 * {@code io.fedmarket.fl.proof.Hashes.paramsHash} of the flattened vector, so the verifier and
 * the aggregation code can hash the same bytes; keccak rather than SHA-256 so a contract could
 * recompute it. Streams tensor by tensor: no copy of the whole model.
 */
public final class ParameterHasher {
    private final Keccak.Digest256 digest = new Keccak.Digest256();
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

    public ParameterHasher update(float[] tensor) {
        int i = 0;
        while (i < tensor.length) {
            buf.clear();
            int n = Math.min(tensor.length - i, buf.capacity() / 4);
            buf.asFloatBuffer().put(tensor, i, n);
            digest.update(buf.array(), 0, n * 4);
            i += n;
        }
        return this;
    }

    public byte[] digest() {
        return digest.digest();
    }

    public static byte[] hash(List<float[]> tensorsInOrder) {
        ParameterHasher h = new ParameterHasher();
        for (float[] t : tensorsInOrder) {
            h.update(t);
        }
        return h.digest();
    }
}
