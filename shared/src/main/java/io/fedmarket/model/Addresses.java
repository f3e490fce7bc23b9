package io.fedmarket.model;

import org.web3j.crypto.Keys;

import java.util.Locale;
import java.util.regex.Pattern;

/** Ethereum addresses as the marketplace accepts them: EIP-55 checksummed on input, lower-case in storage. */
public final class Addresses {
    private static final Pattern HEX40 = Pattern.compile("^0x[0-9a-fA-F]{40}$");

    private Addresses() {
    }

    /** Null when valid; else what is wrong and how to fix it. */
    public static String problem(String address) {
        if (address == null || !HEX40.matcher(address).matches()) {
            return "must be a 0x-prefixed 20-byte hex address (42 characters)";
        }
        if (!Keys.toChecksumAddress(address).equals(address)) {
            return "fails its EIP-55 checksum: send the mixed-case checksummed form your wallet shows";
        }
        return null;
    }

    public static boolean isChecksummed(String address) {
        return problem(address) == null;
    }

    /** Storage form: lower-case. */
    public static String normalize(String address) {
        return address.toLowerCase(Locale.ROOT);
    }

    public static String checksummed(String address) {
        return Keys.toChecksumAddress(address);
    }
}
