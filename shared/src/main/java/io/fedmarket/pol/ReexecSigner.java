package io.fedmarket.pol;

import io.fedmarket.crypto.Hashes;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * EIP-712 signature of a re-execution result, in the same domain as {@link SubmissionSigner}
 * ({@code EIP712("FedMarket", "1")}, chain id, Marketplace address):
 * {@code Reexecution(bytes32 reexec,uint32 segment,bytes32 startHash,bytes32 endHash)} with
 * {@code reexec = keccak256(UTF-8 reexecId)} and a missing (null) hash encoded as 32 zero bytes, so
 * that an error result ("the start checkpoint does not hash to …") is signed as well. A verifier
 * recovers the re-executor's address and checks it is a bonded worker other than the submitter
 * before it counts the result as evidence; the same digest could be checked on chain.
 */
public final class ReexecSigner {
    static final byte[] REEXECUTION_TYPEHASH = Hashes.keccak256(
            "Reexecution(bytes32 reexec,uint32 segment,bytes32 startHash,bytes32 endHash)".getBytes(StandardCharsets.UTF_8));
    private static final byte[] ZERO32 = new byte[32];
    private static final long UINT32_MAX = 0xFFFF_FFFFL;

    private final long chainId;
    private final String verifyingContract;

    public ReexecSigner(long chainId, String verifyingContract) {
        if (verifyingContract == null || !verifyingContract.matches("0x[0-9a-fA-F]{40}")) {
            throw new IllegalArgumentException("the Marketplace address must be 0x + 40 hex digits, got " + verifyingContract);
        }
        this.chainId = chainId;
        this.verifyingContract = verifyingContract;
    }

    public byte[] domainSeparator() {
        return Hashes.keccak256(SubmissionSigner.DOMAIN_TYPEHASH, Hashes.keccak256("FedMarket".getBytes(StandardCharsets.UTF_8)),
                Hashes.keccak256("1".getBytes(StandardCharsets.UTF_8)), word(BigInteger.valueOf(chainId)),
                word(Numeric.toBigInt(verifyingContract)));
    }

    /** The EIP-712 digest {@code keccak256(0x1901 ‖ domainSeparator ‖ structHash)} that is signed. */
    public byte[] digest(String reexecId, int segment, byte[] startHash, byte[] endHash) {
        if (reexecId == null) {
            throw new IllegalArgumentException("reexecId is missing: a re-execution result is signed over its reexecId");
        }
        if (segment < 0) {
            throw new IllegalArgumentException("segment must be >= 0 (uint32), got " + segment);
        }
        byte[] structHash = Hashes.keccak256(REEXECUTION_TYPEHASH, Hashes.keccak256(reexecId.getBytes(StandardCharsets.UTF_8)),
                word(BigInteger.valueOf(segment & UINT32_MAX)), hash32(startHash, "startHash"), hash32(endHash, "endHash"));
        return Hashes.keccak256(new byte[]{0x19, 0x01}, domainSeparator(), structHash);
    }

    /** 65 bytes r ‖ s ‖ v (v = 27/28), as OpenZeppelin's ECDSA.recover takes them. */
    public byte[] sign(Credentials key, String reexecId, int segment, byte[] startHash, byte[] endHash) {
        Sign.SignatureData s = Sign.signMessage(digest(reexecId, segment, startHash, endHash), key.getEcKeyPair(), false);
        byte[] out = new byte[65];
        System.arraycopy(s.getR(), 0, out, 0, 32);
        System.arraycopy(s.getS(), 0, out, 32, 32);
        out[64] = s.getV()[0];
        return out;
    }

    /**
     * The signer's address (0x, lower case) recovered from a signature. A signature for other values
     * recovers to some other address, so compare the result with the claimed worker.
     *
     * @throws IllegalArgumentException when the signature is not 65 bytes r ‖ s ‖ v with v = 27 or 28, or no key
     *                                  can be recovered from it
     */
    public String recover(byte[] signature, String reexecId, int segment, byte[] startHash, byte[] endHash) {
        if (signature == null) {
            throw new IllegalArgumentException("re-execution signature is missing: expected 65 bytes r ‖ s ‖ v (0x + 130 hex digits)");
        }
        if (signature.length != 65) {
            throw new IllegalArgumentException("re-execution signature must be 65 bytes r ‖ s ‖ v (0x + 130 hex digits), got "
                    + signature.length + " bytes");
        }
        int v = signature[64] & 0xff;
        if (v != 27 && v != 28) {
            throw new IllegalArgumentException("re-execution signature has v = " + v + ": expected 27 or 28 (r ‖ s ‖ v, as ECDSA.recover takes it)");
        }
        byte[] digest = digest(reexecId, segment, startHash, endHash);
        byte[] r = Arrays.copyOfRange(signature, 0, 32);
        byte[] s = Arrays.copyOfRange(signature, 32, 64);
        try {
            BigInteger pub = Sign.signedMessageHashToKey(digest, new Sign.SignatureData(signature[64], r, s));
            return "0x" + Keys.getAddress(pub);
        } catch (java.security.SignatureException | RuntimeException e) {
            throw new IllegalArgumentException("not a valid re-execution signature (no key recovers from it): " + e.getMessage(), e);
        }
    }

    private static byte[] word(BigInteger v) {
        if (v.signum() < 0) {
            throw new IllegalArgumentException("EIP-712 uint cannot be negative: " + v);
        }
        return Numeric.toBytesPadded(v, 32);
    }

    private static byte[] hash32(byte[] b, String what) {
        if (b == null) {
            return ZERO32;
        }
        if (b.length != 32) {
            throw new IllegalArgumentException(what + " must be 32 bytes (or null), got " + b.length);
        }
        return b;
    }
}
