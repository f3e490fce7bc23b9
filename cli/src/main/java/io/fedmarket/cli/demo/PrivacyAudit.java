package io.fedmarket.cli.demo;

import io.fedmarket.worker.store.ArtifactStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Looks for private samples where they must not be: every object in the bucket (raw bytes, and hex in text), every row of
 * every table of the marketplace database, and every log file, for any sample's bytes (a 32-byte window from the middle of
 * each sample, enough to be that sample's and nobody's model) or any sample's leaf hash. The sealed reveals are
 * ciphertext: a sample found inside one would be a finding too. What it scanned and what it found, by place.
 */
public final class PrivacyAudit {
    /** What was scanned and every finding ("where: what"). */
    public record Result(int objects, long objectBytes, int rows, int logFiles, List<String> findings) {
    }

    private static final int WINDOW = 32;
    private static final Pattern HEX = Pattern.compile("(?i)(?:0x)?([0-9a-f]{64,})");

    private final Map<Long, List<byte[]>> windows = new HashMap<>();
    private final Set<String> leaves = new HashSet<>();
    private final List<String> findings = new ArrayList<>();

    /** The needles: a window of each sample (its canonical bytes; near-blank windows skipped) and every leaf of the committed sets. */
    public PrivacyAudit(Iterable<byte[]> samples, List<Path> leafFiles) {
        for (byte[] b : samples) {
            if (b.length < WINDOW) {
                continue;
            }
            int from = Math.max(0, b.length / 2 - WINDOW / 2);
            byte[] w = Arrays.copyOfRange(b, from, from + WINDOW);
            int nonZero = 0;
            for (byte x : w) {
                nonZero += x != 0 ? 1 : 0;
            }
            if (nonZero >= 12) { // a blank stretch could be anything's
                long p = prefix(w, 0);
                windows.computeIfAbsent(p, k -> new ArrayList<>()).add(w);
                seen.set(slot(p));
            }
        }
        for (Path f : leafFiles) {
            try {
                byte[] all = Files.readAllBytes(f);
                for (int i = 0; i + 32 <= all.length; i += 32) {
                    leaves.add(io.fedmarket.crypto.Hashes.hex(Arrays.copyOfRange(all, i, i + 32)).substring(2));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A first filter on the 8-byte prefix, so that most positions of a scanned object cost one bit test. */
    private final java.util.BitSet seen = new java.util.BitSet(1 << 26);

    private static int slot(long prefix) {
        return (int) ((prefix * 0x9E3779B97F4A7C15L) >>> 38);
    }

    public Result run(ArtifactStore store, Connection db, List<Path> logDirs) throws Exception {
        int objects = 0;
        long bytes = 0;
        for (String key : store.list("")) {
            byte[] b = store.get(key);
            objects++;
            bytes += b.length;
            scanBytes("bucket " + key, b);
            if (key.endsWith(".json") || b.length < (1 << 20)) {
                scanText("bucket " + key, new String(b, java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        }
        int rows = 0;
        List<String> tables = new ArrayList<>();
        try (Statement st = db.createStatement(); ResultSet rs = st.executeQuery("select tablename from pg_tables where schemaname = current_schema()")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        for (String t : tables) {
            try (Statement st = db.createStatement(); ResultSet rs = st.executeQuery("select x::text from \"" + t.replace("\"", "") + "\" x")) {
                while (rs.next()) {
                    rows++;
                    scanText("table " + t, rs.getString(1));
                }
            }
        }
        int logs = 0;
        for (Path d : logDirs) {
            if (!Files.isDirectory(d)) {
                continue;
            }
            List<Path> files;
            try (Stream<Path> s = Files.walk(d)) {
                files = s.filter(Files::isRegularFile).toList();
            }
            for (Path f : files) {
                logs++;
                byte[] b = Files.readAllBytes(f);
                scanBytes("log " + f.getFileName(), b);
                scanText("log " + f.getFileName(), new String(b, java.nio.charset.StandardCharsets.ISO_8859_1));
            }
        }
        return new Result(objects, bytes, rows, logs, List.copyOf(findings));
    }

    private void scanBytes(String where, byte[] b) {
        if (b.length < WINDOW) {
            return;
        }
        long p = prefix(b, 0);
        for (int i = 0; i + WINDOW <= b.length; i++) {
            if (i > 0) {
                p = (p << 8) | (b[i + 7] & 0xff); // the prefix at i, rolled on from i - 1
            }
            if (!seen.get(slot(p))) {
                continue;
            }
            List<byte[]> c = windows.get(p);
            if (c == null) {
                continue;
            }
            for (byte[] w : c) {
                if (Arrays.equals(b, i, i + WINDOW, w, 0, WINDOW)) {
                    findings.add(where + ": a sample's bytes at offset " + i);
                    return;
                }
            }
        }
    }

    private void scanText(String where, String text) {
        if (text == null) {
            return;
        }
        Matcher m = HEX.matcher(text);
        while (m.find()) {
            String hex = m.group(1).toLowerCase(Locale.ROOT);
            for (int i = 0; i + 64 <= hex.length(); i += 2) {
                if (leaves.contains(hex.substring(i, i + 64))) {
                    findings.add(where + ": a sample's leaf hash");
                    return;
                }
            }
            if (hex.length() % 2 == 0) {
                scanBytes(where + " (hex)", io.fedmarket.crypto.Hashes.fromHex("0x" + hex));
            }
        }
    }

    private static long prefix(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[at + i] & 0xff);
        }
        return v;
    }
}
