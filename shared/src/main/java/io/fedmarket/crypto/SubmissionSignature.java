package io.fedmarket.crypto;

import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SignatureException;
import java.util.Arrays;

/**
 * EIP-712 signatures of a worker's submission, byte-compatible with {@code Marketplace.submissionDigest}
 * and {@code Marketplace.submissionSigner} on chain, so the verify step can recover the signer off chain
 * and a slash can cite the very message the worker signed.
 *
 * <pre>
 * domain:  EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
 *          name = "FedMarket", version = "1", chainId, verifyingContract = the Marketplace address
 * type:    Submission(bytes32 task,bytes32 updateHash,bytes32 proofRoot,uint64 steps,uint64 gpuSeconds)
 * digest:  keccak256(0x1901 ‖ domainSeparator ‖ keccak256(abi.encode(TYPEHASH, task, updateHash, proofRoot, steps, gpuSeconds)))
 * </pre>
 * A signature is 65 bytes {@code r ‖ s ‖ v} with {@code v ∈ {27, 28}} (what OpenZeppelin's ECDSA.recover takes).
 */
public final class SubmissionSignature {
    public static final String DOMAIN_NAME = "FedMarket";
    public static final String DOMAIN_VERSION = "1";
    public static final String TYPE = "Submission(bytes32 task,bytes32 updateHash,bytes32 proofRoot,uint64 steps,uint64 gpuSeconds)";
    public static final byte[] TYPEHASH = Hashes.keccak256(TYPE.getBytes(StandardCharsets.US_ASCII));
    private static final byte[] DOMAIN_TYPEHASH = Hashes.keccak256(
            "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)".getBytes(StandardCharsets.US_ASCII));
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    /** secp256k1 n/2: OpenZeppelin rejects signatures with a higher s (malleability). */
    private static final BigInteger HALF_N = new BigInteger("7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0", 16);

    /** What a worker signs: the task, the hash of its model update, the root of its proof trail, and its effort. */
    public record Submission(byte[] task, byte[] updateHash, byte[] proofRoot, long steps, long gpuSeconds) {
        public Submission {
            check32("task", task);
            check32("updateHash", updateHash);
            check32("proofRoot", proofRoot);
            if (steps < 0 || gpuSeconds < 0) {
                throw new IllegalArgumentException("steps and gpuSeconds must be ≥ 0 (uint64), got " + steps + " and " + gpuSeconds);
            }
            task = task.clone();
            updateHash = updateHash.clone();
            proofRoot = proofRoot.clone();
        }

        private static void check32(String name, byte[] b) {
            if (b == null || b.length != 32) {
                throw new IllegalArgumentException(name + " must be 32 bytes (a keccak-256 or sha-256 hash), got "
                        + (b == null ? "null" : b.length + " bytes"));
            }
        }
    }

    private final byte[] domainSeparator;

    /** The domain of the Marketplace deployed at {@code verifyingContract} on chain {@code chainId}. */
    public SubmissionSignature(long chainId, String verifyingContract) {
        String contract = PayoutLeaf.normalizeAddress(verifyingContract);
        this.domainSeparator = Hashes.keccak256(
                DOMAIN_TYPEHASH,
                Hashes.keccak256(DOMAIN_NAME.getBytes(StandardCharsets.UTF_8)),
                Hashes.keccak256(DOMAIN_VERSION.getBytes(StandardCharsets.UTF_8)),
                word(BigInteger.valueOf(chainId)),
                addressWord(contract));
    }

    public byte[] domainSeparator() {
        return domainSeparator.clone();
    }

    public static byte[] structHash(Submission s) {
        return Hashes.keccak256(TYPEHASH, s.task(), s.updateHash(), s.proofRoot(),
                word(BigInteger.valueOf(s.steps())), word(BigInteger.valueOf(s.gpuSeconds())));
    }

    /** The 32-byte EIP-712 digest ({@code Marketplace.submissionDigest}). */
    public byte[] digest(Submission s) {
        return Hashes.keccak256(new byte[] {0x19, 0x01}, domainSeparator, structHash(s));
    }

    /** Signs with the worker's key: 65 bytes r ‖ s ‖ v. */
    public byte[] sign(Submission s, Credentials worker) {
        Sign.SignatureData sig = Sign.signMessage(digest(s), worker.getEcKeyPair(), false);
        byte[] out = new byte[65];
        System.arraycopy(sig.getR(), 0, out, 0, 32);
        System.arraycopy(sig.getS(), 0, out, 32, 32);
        out[64] = sig.getV()[0];
        return out;
    }

    /**
     * The address (lower-case {@code 0x…}) that signed {@code s}; a clear error for a malformed or
     * malleable signature (the same ones the contract rejects).
     */
    public String recover(Submission s, byte[] signature) {
        if (signature == null || signature.length != 65) {
            throw new IllegalArgumentException("a submission signature is 65 bytes (r ‖ s ‖ v), got "
                    + (signature == null ? "null" : signature.length + " bytes"));
        }
        byte v = signature[64];
        if (v != 27 && v != 28) {
            throw new IllegalArgumentException("signature v must be 27 or 28, got " + (v & 0xff));
        }
        byte[] r = Arrays.copyOfRange(signature, 0, 32);
        byte[] sv = Arrays.copyOfRange(signature, 32, 64);
        if (new BigInteger(1, sv).compareTo(HALF_N) > 0) {
            throw new IllegalArgumentException("signature s is in the upper half of the curve order (malleable): re-sign with a canonical signer");
        }
        try {
            BigInteger key = Sign.signedMessageHashToKey(digest(s), new Sign.SignatureData(v, r, sv));
            return "0x" + Keys.getAddress(key);
        } catch (SignatureException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot recover the signer of this submission: " + e.getMessage(), e);
        }
    }

    /** True when {@code signature} over {@code s} was made by {@code expectedSigner}. */
    public boolean verify(Submission s, byte[] signature, String expectedSigner) {
        try {
            return recover(s, signature).equals(PayoutLeaf.normalizeAddress(expectedSigner));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static byte[] word(BigInteger v) {
        if (v.signum() < 0 || v.compareTo(UINT64_MAX.shiftLeft(192)) > 0) {
            throw new IllegalArgumentException("value out of range for an ABI word: " + v);
        }
        byte[] out = new byte[32];
        byte[] b = v.toByteArray();
        int len = Math.min(b.length, 32);
        System.arraycopy(b, b.length - len, out, 32 - len, len);
        return out;
    }

    private static byte[] addressWord(String address) {
        byte[] out = new byte[32];
        System.arraycopy(Hashes.fromHex(address), 0, out, 12, 20);
        return out;
    }
}
