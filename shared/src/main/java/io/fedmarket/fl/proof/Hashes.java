package io.fedmarket.fl.proof;

import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Keccak-256 (the EVM's hash, so contracts can recompute anything hashed here) over fixed
 * byte encodings. Parameters hash as little-endian IEEE-754 float32, the layout DJL and
 * PyTorch hold in memory, so a worker hashes its buffer without converting it.
 */
public final class Hashes {
    private Hashes() {
    }

    public static byte[] keccak(byte[]... parts) {
        int len = 0;
        for (byte[] p : parts) {
            len += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(len);
        for (byte[] p : parts) {
            b.put(p);
        }
        return Hash.sha3(b.array());
    }

    public static byte[] paramsHash(float[] params) {
        ByteBuffer b = ByteBuffer.allocate(params.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : params) {
            b.putFloat(f);
        }
        return Hash.sha3(b.array());
    }

    public static byte[] u64(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    public static byte[] u32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    public static String hex(byte[] h) {
        return h == null ? null : Numeric.toHexString(h);
    }

    public static byte[] fromHex(String hex) {
        return Numeric.hexStringToByteArray(hex);
    }
}
