package io.fedmarket.crypto;

import java.math.BigInteger;
import java.util.Locale;

/**
 * One leaf of a round's payout tree: an address and its <em>cumulative</em> payout (token base
 * units) over all rounds of the job so far. Hashed as OpenZeppelin's StandardMerkleTree does,
 * {@code keccak256(bytes.concat(keccak256(abi.encode(account, cumulative))))}: the double hash keeps
 * a 64-byte leaf preimage from ever being mistaken for an inner node. The contract
 * ({@code Marketplace.claim}) hashes the leaf the same way.
 */
public record PayoutLeaf(String account, BigInteger cumulative) {
    private static final java.util.regex.Pattern ADDRESS = java.util.regex.Pattern.compile("0[xX][0-9a-fA-F]{40}");
    private static final BigInteger UINT256_MAX = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);

    public PayoutLeaf {
        account = normalizeAddress(account);
        if (cumulative == null || cumulative.signum() < 0 || cumulative.compareTo(UINT256_MAX) > 0) {
            throw new IllegalArgumentException("cumulative payout for " + account + " must be a uint256 (0 ≤ x < 2^256), got " + cumulative);
        }
    }

    /** The 32-byte leaf hash. */
    public byte[] hash() {
        byte[] encoded = new byte[64];
        byte[] addr = Hashes.fromHex(account);
        System.arraycopy(addr, 0, encoded, 32 - 20, 20);
        byte[] amount = cumulative.toByteArray();
        // toByteArray may carry a leading sign byte of 0 for values with the top bit set
        int len = Math.min(amount.length, 32);
        System.arraycopy(amount, amount.length - len, encoded, 64 - len, len);
        return Hashes.keccak256(Hashes.keccak256(encoded));
    }

    /** {@code 0x} + 40 lower-case hex digits; a clear error otherwise. */
    public static String normalizeAddress(String address) {
        if (address == null || !ADDRESS.matcher(address).matches()) {
            throw new IllegalArgumentException("not an Ethereum address (0x + 40 hex digits): " + address);
        }
        return "0x" + address.substring(2).toLowerCase(Locale.ROOT);
    }
}
