package io.fedmarket.chain;

import org.web3j.crypto.Bip32ECKeyPair;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.MnemonicUtils;

/**
 * anvil's well-known development accounts (BIP-44 m/44'/60'/0'/0/i of the public "test … junk"
 * mnemonic). Each holds 10,000 ETH on a fresh anvil. Local chains only: these keys are public.
 */
public final class DevAccounts {
    public static final String MNEMONIC = "test test test test test test test test test test test junk";
    /** How many dev accounts the stack's anvil funds ({@code --accounts}). */
    public static final int COUNT = 20;
    /** The local treasury (slashed stake not sent to an escrow): the last dev account, never a worker. */
    public static final int TREASURY = COUNT - 1;
    private static final int HARDENED = 0x80000000;

    private DevAccounts() {
    }

    public static Credentials account(int index) {
        if (index < 0 || index >= COUNT) {
            throw new IllegalArgumentException("anvil funds dev accounts 0.." + (COUNT - 1) + ", not " + index);
        }
        byte[] seed = MnemonicUtils.generateSeed(MNEMONIC, "");
        Bip32ECKeyPair master = Bip32ECKeyPair.generateKeyPair(seed);
        int[] path = {44 | HARDENED, 60 | HARDENED, HARDENED, 0, index};
        return Credentials.create(Bip32ECKeyPair.deriveKeyPair(master, path));
    }
}
