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
