package io.fedmarket.chain;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CursorStoreAndAbiTest {
    @TempDir
    Path dir;

    @Test
    void fileCursorSurvivesANewStoreAndRejectsCorruption() throws Exception {
        new FileCursorStore(dir).save("settle", new EventCursor(42, "0xabc"));
        assertThat(new FileCursorStore(dir).load("settle")).contains(new EventCursor(42, "0xabc"));
        assertThat(new FileCursorStore(dir).load("other")).isEmpty();
        Files.writeString(dir.resolve("bad.cursor"), "garbage");
        assertThatThrownBy(() -> new FileCursorStore(dir).load("bad")).hasMessageContaining("corrupt cursor file");
        assertThatThrownBy(() -> new FileCursorStore(dir).save("../escape", new EventCursor(1, "0x1")))
                .hasMessageContaining("letters, digits");
    }

    @Test
    void revertDataDecodesToNamedErrorsWithArguments() {
        AbiCatalog abi = AbiCatalog.defaultCatalog();
        // RoundAlreadyPosted(bytes32 jobId, uint32 round) with jobId = 0x01..01, round = 7
        String data = "0x" + selector("RoundAlreadyPosted(bytes32,uint32)") + "01".repeat(32) + "%064x".formatted(7);
        ChainRevertException e = abi.revert("postRound", data);
        assertThat(e.errorName()).isEqualTo("RoundAlreadyPosted");
        assertThat(e.args()).containsEntry("jobId", "0x" + "01".repeat(32)).containsEntry("round", BigInteger.valueOf(7));
        // Error(string) "nope"
        String err = "0x08c379a0" + "%064x".formatted(32) + "%064x".formatted(4) + "6e6f7065" + "0".repeat(56);
        assertThat(abi.revert("x", err).args()).containsEntry("reason", "nope");
        assertThat(abi.revert("x", "0x4e487b71" + "%064x".formatted(0x11)).args()).containsEntry("code", "0x11");
        assertThat(abi.revert("x", "0xdeadbeef").errorName()).isEqualTo("unknown");
        assertThat(abi.revert("x", "0x").getMessage()).contains("no revert data");
    }

    private static String selector(String sig) {
        return io.fedmarket.crypto.Hashes.hex(io.fedmarket.crypto.Hashes.keccak256(sig.getBytes())).substring(2, 10);
    }
}
