package io.fedmarket.crypto;

import org.junit.jupiter.api.Test;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EciesTest {
    @Test
    void onlyTheRecipientOpensAndNothingChangedOpens() throws Exception {
        ECKeyPair bob = Keys.createEcKeyPair();
        ECKeyPair eve = Keys.createEcKeyPair();
        assertThat(Ecies.publicKeyOf(bob.getPrivateKey())).isEqualTo(bob.getPublicKey());
        byte[] msg = new byte[1 << 20];
        new Random(1).nextBytes(msg);
        byte[] aad = "task 7 segment 2".getBytes(StandardCharsets.UTF_8);
        byte[] sealed = Ecies.encrypt(bob.getPublicKey(), msg, aad);
        assertThat(sealed).hasSize(msg.length + Ecies.OVERHEAD);
        assertThat(Ecies.decrypt(bob.getPrivateKey(), sealed, aad)).isEqualTo(msg);
        // a fresh ephemeral key and nonce every time
        assertThat(Ecies.encrypt(bob.getPublicKey(), msg, aad)).isNotEqualTo(sealed);
        assertThatThrownBy(() -> Ecies.decrypt(eve.getPrivateKey(), sealed, aad)).isInstanceOf(Ecies.DecryptionFailed.class)
                .hasMessageContaining("wrong recipient, or changed");
        assertThatThrownBy(() -> Ecies.decrypt(bob.getPrivateKey(), sealed, "task 7 segment 3".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(Ecies.DecryptionFailed.class);
        for (int at : new int[] {0 + 10, 70, 100, sealed.length - 1}) {
            byte[] t = sealed.clone();
            t[at] ^= 1;
            assertThatThrownBy(() -> Ecies.decrypt(bob.getPrivateKey(), t, aad)).as("byte %d changed", at).isInstanceOf(Ecies.DecryptionFailed.class);
        }
        assertThatThrownBy(() -> Ecies.decrypt(bob.getPrivateKey(), new byte[20], aad)).isInstanceOf(Ecies.DecryptionFailed.class)
                .hasMessageContaining("at least 93 bytes");
        assertThatThrownBy(() -> Ecies.encrypt(BigInteger.valueOf(12345), msg, aad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a secp256k1 point");
    }
}
