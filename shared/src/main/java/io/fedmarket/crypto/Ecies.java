package io.fedmarket.crypto;

import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.util.BigIntegers;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * ECIES on secp256k1, the curve of the workers' Ethereum keys, so that anything can be encrypted to a worker by its key
 * alone: an ephemeral key pair, ECDH with the recipient's public key, HKDF-SHA256 over the shared x-coordinate (salt: the
 * ephemeral public key; info: {@code fedmarket-ecies-v1}) to a 256-bit AES key, AES-256-GCM with a random 96-bit nonce and
 * the caller's associated data (bound, not encrypted). Wire format: ephemeral public key (65 bytes, uncompressed) ‖ nonce
 * (12) ‖ ciphertext with its 16-byte tag. BouncyCastle (which web3j brings) for the curve and HKDF, the JDK for AES-GCM.
 */
public final class Ecies {
    private static final X9ECParameters CURVE = CustomNamedCurves.getByName("secp256k1");
    private static final byte[] INFO = "fedmarket-ecies-v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();
    public static final int OVERHEAD = 65 + 12 + 16;

    /** A ciphertext that does not open: the wrong key, a changed byte, or other associated data. */
    public static final class DecryptionFailed extends Exception {
        DecryptionFailed(String m, Throwable cause) {
            super(m, cause);
        }
    }

    private Ecies() {
    }

    /**
     * Encrypts to the holder of {@code recipientPublicKey}: 64 bytes x ‖ y (web3j's {@code ECKeyPair.getPublicKey()} as a
     * BigInteger), or 65 bytes with the 0x04 prefix.
     */
    public static byte[] encrypt(BigInteger recipientPublicKey, byte[] plaintext, byte[] associatedData) {
        ECPoint recipient = point(recipientPublicKey);
        BigInteger eph;
        do {
            eph = new BigInteger(256, RANDOM);
        } while (eph.signum() == 0 || eph.compareTo(CURVE.getN()) >= 0);
        byte[] ephPub = CURVE.getG().multiply(eph).normalize().getEncoded(false);
        byte[] key = key(recipient.multiply(eph).normalize(), ephPub);
        byte[] nonce = new byte[12];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(associatedData);
            byte[] ct = c.doFinal(plaintext);
            byte[] out = new byte[65 + 12 + ct.length];
            System.arraycopy(ephPub, 0, out, 0, 65);
            System.arraycopy(nonce, 0, out, 65, 12);
            System.arraycopy(ct, 0, out, 77, ct.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JDK: " + e.getMessage(), e);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Opens what {@link #encrypt} sealed for the key pair whose private key is {@code privateKey}. */
    public static byte[] decrypt(BigInteger privateKey, byte[] sealed, byte[] associatedData) throws DecryptionFailed {
        if (sealed.length < OVERHEAD) {
            throw new DecryptionFailed("a sealed message has at least " + OVERHEAD + " bytes, this one " + sealed.length, null);
        }
        byte[] ephPub = Arrays.copyOfRange(sealed, 0, 65);
        ECPoint eph;
        try {
            eph = CURVE.getCurve().decodePoint(ephPub);
        } catch (IllegalArgumentException e) {
            throw new DecryptionFailed("the ephemeral key is not a point of secp256k1", e);
        }
        byte[] key = key(eph.multiply(privateKey).normalize(), ephPub);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, sealed, 65, 12));
            c.updateAAD(associatedData);
            return c.doFinal(sealed, 77, sealed.length - 77);
        } catch (AEADBadTagException e) {
            throw new DecryptionFailed("the message does not open with this key and associated data (wrong recipient, or changed)", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JDK: " + e.getMessage(), e);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** The public key (64 bytes x ‖ y as a BigInteger, web3j's form) of a private key. */
    public static BigInteger publicKeyOf(BigInteger privateKey) {
        byte[] enc = CURVE.getG().multiply(privateKey).normalize().getEncoded(false);
        return new BigInteger(1, Arrays.copyOfRange(enc, 1, 65));
    }

    private static ECPoint point(BigInteger publicKey) {
        byte[] raw = BigIntegers.asUnsignedByteArray(64, publicKey);
        byte[] enc = new byte[65];
        enc[0] = 4;
        System.arraycopy(raw, 0, enc, 1, 64);
        try {
            ECPoint p = CURVE.getCurve().decodePoint(enc);
            if (!p.isValid() || p.isInfinity()) {
                throw new IllegalArgumentException("not on the curve");
            }
            return p;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the recipient's public key is not a secp256k1 point: give the 64-byte x ‖ y of its key", e);
        }
    }

    private static byte[] key(ECPoint shared, byte[] salt) {
        byte[] x = BigIntegers.asUnsignedByteArray(32, shared.getAffineXCoord().toBigInteger());
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
        hkdf.init(new HKDFParameters(x, salt, INFO));
        byte[] key = new byte[32];
        hkdf.generateBytes(key, 0, 32);
        Arrays.fill(x, (byte) 0);
        return key;
    }
}
