package io.fedmarket.crypto;

import org.web3j.crypto.Hash;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The hash functions of the marketplace and their hex form (lower case, {@code 0x} prefixed). */
public final class Hashes {
    private static final HexFormat HEX = HexFormat.of();

    private Hashes() {
    }

    /** Ethereum's keccak-256 (not NIST SHA3-256: the padding differs). */
    public static byte[] keccak256(byte[] data) {
        return Hash.sha3(data);
    }

    /** keccak-256 of the concatenation of the parts, without copying them first. */
    public static byte[] keccak256(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] all = new byte[n];
        int off = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, off, p.length);
            off += p.length;
        }
        return Hash.sha3(all);
    }

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** {@code 0x}-prefixed lower-case hex. */
    public static String hex(byte[] data) {
        return "0x" + HEX.formatHex(data);
    }

    /** Parses hex with or without {@code 0x}; a clear error on odd length or a non-hex character. */
    public static byte[] fromHex(String hex) {
        if (hex == null) {
            throw new IllegalArgumentException("hex string is null");
        }
        String h = hex.startsWith("0x") || hex.startsWith("0X") ? hex.substring(2) : hex;
        if (h.length() % 2 != 0) {
            throw new IllegalArgumentException("hex string has an odd number of digits (" + h.length() + "): " + abbreviate(hex));
        }
        try {
            return HEX.parseHex(h);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a hex string: " + abbreviate(hex) + " (" + e.getMessage() + ")", e);
        }
    }

    /** Parses exactly 32 bytes of hex (a hash, a Merkle node). */
    public static byte[] fromHex32(String hex) {
        byte[] b = fromHex(hex);
        if (b.length != 32) {
            throw new IllegalArgumentException("expected 32 bytes (64 hex digits), got " + b.length + " bytes: " + abbreviate(hex));
        }
        return b;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
