package io.fedmarket.fl.model;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Where the plain-Java side finds an uploaded TorchScript file by its SHA-256: a process installs a loader (the functions and
 * the workers read {@code models/<sha256>} from the artifact bucket; a test or the CLI registers files it has), and
 * {@link ModelLayouts#layout} of a {@code torchscript:<sha256>} spec asks here. Every file is checked against its hash before it
 * is used; parsed archives are kept (a few MiB at most each).
 */
public final class TorchScriptModels {
    /** The bucket key of a model file. */
    public static String key(String sha256) {
        return "models/" + sha256;
    }

    private static final Pattern SHA = Pattern.compile("[0-9a-f]{64}");
    private static final Map<String, TorchScriptArchive> CACHE = new ConcurrentHashMap<>();
    private static volatile Function<String, byte[]> loader;

    private TorchScriptModels() {
    }

    /** Installs how this process reads a model file by hash (returns null where there is none). */
    public static void setLoader(Function<String, byte[]> l) {
        loader = l;
    }

    /** Reads and keeps a file; returns its archive (an {@link TorchScriptArchive.InvalidModelException} if it is not one). */
    public static TorchScriptArchive register(byte[] bytes) {
        TorchScriptArchive a = TorchScriptArchive.read(bytes);
        CACHE.putIfAbsent(a.sha256(), a);
        return CACHE.get(a.sha256());
    }

    public static boolean isSha256(String s) {
        return s != null && SHA.matcher(s).matches();
    }

    /** The archive of {@code sha256}; an {@link IllegalArgumentException} saying so where the file is not uploaded. */
    public static TorchScriptArchive archive(String sha256) {
        String sha = sha256.toLowerCase(Locale.ROOT);
        TorchScriptArchive a = CACHE.get(sha);
        if (a != null) {
            return a;
        }
        Function<String, byte[]> l = loader;
        byte[] bytes = l == null ? null : l.apply(sha);
        if (bytes == null) {
            throw new IllegalArgumentException("model file " + sha + " is not uploaded: upload it first (mkt models upload FILE, "
                    + "POST /models)");
        }
        String actual = TorchScriptArchive.sha256(bytes);
        if (!actual.equals(sha)) {
            throw new IllegalStateException("model file " + sha + " read from the store hashes to " + actual);
        }
        return register(bytes);
    }
}
