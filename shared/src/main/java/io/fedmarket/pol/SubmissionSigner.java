package io.fedmarket.pol;

import io.fedmarket.crypto.Hashes;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * EIP-712 signature of a submission as the Marketplace contract checks it: domain
 * {@code EIP712("FedMarket", "1")} with the chain id and the contract address, and
 * {@code Submission(bytes32 task,bytes32 updateHash,bytes32 proofRoot,uint64 steps,uint64 gpuSeconds)}.
 * Written directly (no StructuredDataEncoder JSON round trip) because the struct is fixed.
 */
public final class SubmissionSigner {
    static final byte[] DOMAIN_TYPEHASH = Hashes.keccak256(
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)".getBytes(StandardCharsets.UTF_8));
    static final byte[] SUBMISSION_TYPEHASH = Hashes.keccak256(
            "Submission(bytes32 task,bytes32 updateHash,bytes32 proofRoot,uint64 steps,uint64 gpuSeconds)".getBytes(StandardCharsets.UTF_8));

    private final long chainId;
    private final String verifyingContract;

    public SubmissionSigner(long chainId, String verifyingContract) {
        if (verifyingContract == null || !verifyingContract.matches("0x[0-9a-fA-F]{40}")) {
            throw new IllegalArgumentException("the Marketplace address must be 0x + 40 hex digits, got " + verifyingContract);
        }
        this.chainId = chainId;
        this.verifyingContract = verifyingContract;
    }

    public byte[] domainSeparator() {
        return Hashes.keccak256(DOMAIN_TYPEHASH, Hashes.keccak256("FedMarket".getBytes(StandardCharsets.UTF_8)),
                Hashes.keccak256("1".getBytes(StandardCharsets.UTF_8)), word(BigInteger.valueOf(chainId)),
                word(Numeric.toBigInt(verifyingContract)));
    }

    public byte[] digest(byte[] task, byte[] updateHash, byte[] proofRoot, long steps, long gpuSeconds) {
        byte[] structHash = Hashes.keccak256(SUBMISSION_TYPEHASH, check32(task, "task"), check32(updateHash, "updateHash"),
                check32(proofRoot, "proofRoot"), word(BigInteger.valueOf(steps)), word(BigInteger.valueOf(gpuSeconds)));
        return Hashes.keccak256(new byte[]{0x19, 0x01}, domainSeparator(), structHash);
    }

    /** 65 bytes r ‖ s ‖ v (v = 27/28), as OpenZeppelin's ECDSA.recover takes them. */
    public byte[] sign(Credentials key, byte[] task, byte[] updateHash, byte[] proofRoot, long steps, long gpuSeconds) {
        Sign.SignatureData s = Sign.signMessage(digest(task, updateHash, proofRoot, steps, gpuSeconds), key.getEcKeyPair(), false);
        byte[] out = new byte[65];
        System.arraycopy(s.getR(), 0, out, 0, 32);
        System.arraycopy(s.getS(), 0, out, 32, 32);
        out[64] = s.getV()[0];
        return out;
    }

    /** The signer's address (0x, lower case) recovered from a signature, to check one. */
    public String recover(byte[] signature, byte[] task, byte[] updateHash, byte[] proofRoot, long steps, long gpuSeconds) {
        if (signature.length != 65) {
            throw new IllegalArgumentException("signature must be 65 bytes, got " + signature.length);
        }
        byte[] r = java.util.Arrays.copyOfRange(signature, 0, 32);
        byte[] s = java.util.Arrays.copyOfRange(signature, 32, 64);
        Sign.SignatureData sig = new Sign.SignatureData(signature[64], r, s);
        try {
            BigInteger pub = Sign.signedMessageHashToKey(digest(task, updateHash, proofRoot, steps, gpuSeconds), sig);
            return "0x" + Keys.getAddress(pub);
        } catch (java.security.SignatureException e) {
            throw new IllegalArgumentException("not a valid signature: " + e.getMessage(), e);
        }
    }

    /**
     * The EIP-712 struct {@code Trail(bytes32 task,bytes32 manifestHash)} in the same domain: the worker's signature over the
     * keccak of its trail manifest file, exactly as stored in the bucket. The Submission struct (the one the contract knows)
     * commits to the checkpoint hashes through the proof root but not to where the checkpoints are; this second signature
     * commits to the manifest as a whole (checkpoint and update locations included), so a manifest another party wrote or
     * rewrote is never taken for the worker's.
     */
    static final byte[] TRAIL_TYPEHASH = Hashes.keccak256("Trail(bytes32 task,bytes32 manifestHash)".getBytes(StandardCharsets.UTF_8));

    public byte[] trailDigest(byte[] task, byte[] manifestHash) {
        byte[] structHash = Hashes.keccak256(TRAIL_TYPEHASH, check32(task, "task"), check32(manifestHash, "manifestHash"));
        return Hashes.keccak256(new byte[]{0x19, 0x01}, domainSeparator(), structHash);
    }

    /** 65 bytes r ‖ s ‖ v over {@link #trailDigest}. */
    public byte[] signTrail(Credentials key, byte[] task, byte[] manifestHash) {
        Sign.SignatureData s = Sign.signMessage(trailDigest(task, manifestHash), key.getEcKeyPair(), false);
        byte[] out = new byte[65];
        System.arraycopy(s.getR(), 0, out, 0, 32);
        System.arraycopy(s.getS(), 0, out, 32, 32);
        out[64] = s.getV()[0];
        return out;
    }

    /** The signer (0x, lower case) of a trail signature. */
    public String recoverTrail(byte[] signature, byte[] task, byte[] manifestHash) {
        if (signature == null || signature.length != 65) {
            throw new IllegalArgumentException("trail signature must be 65 bytes");
        }
        Sign.SignatureData sig = new Sign.SignatureData(signature[64], java.util.Arrays.copyOfRange(signature, 0, 32),
                java.util.Arrays.copyOfRange(signature, 32, 64));
        try {
            return "0x" + Keys.getAddress(Sign.signedMessageHashToKey(trailDigest(task, manifestHash), sig));
        } catch (java.security.SignatureException e) {
            throw new IllegalArgumentException("not a valid trail signature: " + e.getMessage(), e);
        }
    }

    /** The keccak of a trail manifest file's bytes: what {@link #signTrail} signs. */
    public static byte[] manifestHash(byte[] manifestFile) {
        return Hashes.keccak256(manifestFile);
    }

    /**
     * The bucket prefix only {@code worker} may write (IAM on AWS, the same convention on the local stack):
     * {@code workers/<lower-case 0x address>/}. Its trail, update and checkpoints live there, so an artifact under it that a
     * signed manifest names is the worker's own doing.
     */
    public static String workerPrefix(String worker) {
        return "workers/" + worker.toLowerCase() + "/";
    }

    private static byte[] word(BigInteger v) {
        if (v.signum() < 0) {
            throw new IllegalArgumentException("EIP-712 uint cannot be negative: " + v);
        }
        return Numeric.toBytesPadded(v, 32);
    }

    private static byte[] check32(byte[] b, String what) {
        if (b == null || b.length != 32) {
            throw new IllegalArgumentException(what + " must be 32 bytes");
        }
        return b;
    }
}
