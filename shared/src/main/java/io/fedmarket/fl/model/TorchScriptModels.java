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
    /** The bucket key of a model file: content-addressed by its SHA-256 (the global models beside it are named by keccak). */
    public static String key(String sha256) {
        return "models/torchscript/" + sha256 + ".pt";
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

    /** Names of the models {@code infra/models/make_torchscript.py} writes (the demo's and the benchmark's). */
    public static final java.util.List<String> GENERATED = java.util.List.of("small", "resnet20");

    /**
     * The demo's and benchmark's own TorchScript models: {@code dir/NAME.pt}, written by {@code infra/models/make_torchscript.py}
     * with Debian's python3-torch ({@code MKT_PYTHON}, default {@code /usr/bin/python3}) when it is not there yet; registered here.
     */
    public static TorchScriptArchive generated(String name, java.nio.file.Path dir) {
        if (!GENERATED.contains(name)) {
            throw new IllegalArgumentException("no generated TorchScript model '" + name + "': use one of " + GENERATED + " or a file path");
        }
        java.nio.file.Path file = dir.resolve(name + ".pt");
        try {
            if (!java.nio.file.Files.isRegularFile(file)) {
                java.nio.file.Files.createDirectories(dir);
                java.nio.file.Path script = io.fedmarket.config.ProjectPaths.requireRoot().resolve("infra/models/make_torchscript.py");
                String python = System.getenv().getOrDefault("MKT_PYTHON", "/usr/bin/python3");
                Process p = new ProcessBuilder(python, script.toString(), dir.toString(), name).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                if (p.waitFor() != 0 || !java.nio.file.Files.isRegularFile(file)) {
                    throw new IllegalStateException("writing the TorchScript model " + name + " with " + python + " " + script + " failed ("
                            + out.strip().lines().reduce((a, b) -> b).orElse("no output") + "): install python3-torch (apt-get install -y "
                            + "python3-torch, or ./mkt preflight torch)");
                }
            }
            return register(java.nio.file.Files.readAllBytes(file));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing " + file, e);
        }
    }

    /**
     * A command line's {@code torchscript:NAME}: a generated model's name ({@link #GENERATED}, written under {@code dir}), a file path,
     * or the SHA-256 of one already registered; anything else is returned unchanged. Returns the {@code torchscript:<sha256>} spec.
     */
    public static String resolveCommandLine(String model, java.nio.file.Path dir) {
        if (model == null || !model.trim().toLowerCase(Locale.ROOT).startsWith("torchscript:")) {
            return model;
        }
        String name = model.trim().substring("torchscript:".length());
        String options = "";
        if (name.contains(";")) {
            options = name.substring(name.indexOf(';'));
            name = name.substring(0, name.indexOf(';'));
        }
        TorchScriptArchive a;
        if (GENERATED.contains(name)) {
            a = generated(name, dir);
        } else if (isSha256(name.toLowerCase(Locale.ROOT))) {
            a = archive(name.toLowerCase(Locale.ROOT));
        } else {
            java.nio.file.Path f = java.nio.file.Path.of(name);
            if (!java.nio.file.Files.isRegularFile(f)) {
                throw new IllegalArgumentException("torchscript:" + name + ": not " + String.join(" or ", GENERATED)
                        + ", nor a file: give torchscript:small, torchscript:resnet20 or torchscript:PATH to a TorchScript file");
            }
            try {
                a = register(java.nio.file.Files.readAllBytes(f));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return "torchscript:" + a.sha256() + options;
    }
}
