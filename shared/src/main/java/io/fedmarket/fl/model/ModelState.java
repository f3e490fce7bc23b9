package io.fedmarket.fl.model;

import io.fedmarket.pol.ParameterHasher;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Parameters (in the block's fixed order) and, for a checkpoint, the optimiser's momentum
 * buffers and the step it was taken after. The file format ({@code FMCK} v1, big-endian) is
 * what goes to S3 for checkpoints, updates and global models.
 */
public record ModelState(List<String> names, List<long[]> shapes, float[][] params, float[][] velocity, int step) {
    private static final int MAGIC = 0x464d434b; // "FMCK"

    public byte[] paramsHash() {
        return ParameterHasher.hash(Arrays.asList(params));
    }

    /**
     * The hash a proof trail commits for a checkpoint: keccak-256 of {@code "fedmarket-state-v1" ‖ paramsHash ‖
     * velocityHash ‖ uint32 step (big-endian)}, where velocityHash is {@link ParameterHasher} over the optimiser's momentum
     * buffers in the same order (all zeros when there are none: a state without momentum is the state with zero momentum,
     * which is how training starts). Parameters alone are not enough: re-execution restores the checkpoint's momentum, so
     * a worker that could choose it freely could steer every segment; with the momentum and the step counter in the hash
     * the whole state a segment starts from and ends at is committed.
     */
    public byte[] stateHash() {
        ParameterHasher v = new ParameterHasher();
        for (int i = 0; i < params.length; i++) {
            v.update(velocity == null ? new float[params[i].length] : velocity[i]);
        }
        return io.fedmarket.crypto.Hashes.keccak256(STATE_TAG, paramsHash(), v.digest(),
                java.nio.ByteBuffer.allocate(4).putInt(step).array());
    }

    private static final byte[] STATE_TAG = "fedmarket-state-v1".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    /** Parameters then momentum (zeros when there is none) as one vector: what a tolerance comparison of two states measures. */
    public float[] flatState() {
        int n = parameterCount();
        float[] out = new float[2 * n];
        int o = 0;
        for (float[] p : params) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        if (velocity != null) {
            for (float[] v : velocity) {
                System.arraycopy(v, 0, out, o, v.length);
                o += v.length;
            }
        }
        return out;
    }

    public int parameterCount() {
        int n = 0;
        for (float[] p : params) {
            n += p.length;
        }
        return n;
    }

    public ModelState withoutVelocity() {
        return new ModelState(names, shapes, params, null, step);
    }

    /** All parameters in block order as one vector (what the aggregation rules work on). */
    public float[] flat() {
        float[] out = new float[parameterCount()];
        int o = 0;
        for (float[] p : params) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    /** This model's names and shapes with the parameters of {@code flat} (no momentum, step 0). */
    public ModelState withFlat(float[] flat) {
        if (flat.length != parameterCount()) {
            throw new IllegalArgumentException("a vector of " + flat.length + " parameters does not fit a model of " + parameterCount());
        }
        float[][] out = new float[params.length][];
        int o = 0;
        for (int i = 0; i < out.length; i++) {
            out[i] = Arrays.copyOfRange(flat, o, o + params[i].length);
            o += params[i].length;
        }
        return new ModelState(names, shapes, out, null, 0);
    }

    public byte[] encode() {
        ByteArrayOutputStream bos = new ByteArrayOutputStream(parameterCount() * (velocity == null ? 4 : 8) + 1024);
        try (DataOutputStream out = new DataOutputStream(bos)) {
            out.writeInt(MAGIC);
            out.writeInt(1);
            out.writeInt(step);
            out.writeInt(names.size());
            out.writeBoolean(velocity != null);
            for (int i = 0; i < names.size(); i++) {
                out.writeUTF(names.get(i));
                long[] s = shapes.get(i);
                out.writeInt(s.length);
                for (long d : s) {
                    out.writeLong(d);
                }
                writeFloats(out, params[i]);
                if (velocity != null) {
                    writeFloats(out, velocity[i]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bos.toByteArray();
    }

    public static ModelState decode(byte[] bytes, String what) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (in.readInt() != MAGIC || in.readInt() != 1) {
                throw new IllegalArgumentException(what + " is not a fedmarket checkpoint (FMCK v1)");
            }
            int step = in.readInt();
            int n = in.readInt();
            boolean hasVelocity = in.readBoolean();
            List<String> names = new ArrayList<>(n);
            List<long[]> shapes = new ArrayList<>(n);
            float[][] params = new float[n][];
            float[][] velocity = hasVelocity ? new float[n][] : null;
            for (int i = 0; i < n; i++) {
                names.add(in.readUTF());
                long[] s = new long[in.readInt()];
                for (int d = 0; d < s.length; d++) {
                    s[d] = in.readLong();
                }
                shapes.add(s);
                params[i] = readFloats(in);
                if (hasVelocity) {
                    velocity[i] = readFloats(in);
                }
            }
            return new ModelState(names, shapes, params, velocity, step);
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " is truncated or corrupt: " + e.getMessage(), e);
        }
    }

    private static void writeFloats(DataOutputStream out, float[] a) throws IOException {
        out.writeInt(a.length);
        byte[] b = new byte[a.length * 4];
        java.nio.ByteBuffer.wrap(b).asFloatBuffer().put(a);
        out.write(b);
    }

    private static float[] readFloats(DataInputStream in) throws IOException {
        int len = in.readInt();
        byte[] b = new byte[Math.multiplyExact(len, 4)];
        in.readFully(b);
        float[] a = new float[len];
        java.nio.ByteBuffer.wrap(b).asFloatBuffer().get(a);
        return a;
    }
}
