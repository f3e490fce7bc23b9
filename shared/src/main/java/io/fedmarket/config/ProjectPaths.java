package io.fedmarket.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Finds the project checkout (for node_modules tools and the data directory). */
public final class ProjectPaths {
    private ProjectPaths() {
    }

    /** env MKT_ROOT, else the nearest directory at or above the working directory holding {@code mkt} and {@code package.json}. */
    public static Optional<Path> root() {
        String env = System.getenv("MKT_ROOT");
        if (env != null && !env.isBlank()) {
            return Optional.of(Path.of(env).toAbsolutePath());
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("mkt")) && Files.isRegularFile(dir.resolve("package.json"))) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    public static Path requireRoot() {
        return root().orElseThrow(() -> new IllegalStateException(
                "cannot find the fedmarket checkout (a folder with mkt and package.json) from "
                        + Path.of("").toAbsolutePath() + ": run from inside the checkout or set MKT_ROOT"));
    }

    /** A tool installed by {@code npm ci} into node_modules/.bin, with a clear error when missing. */
    public static Path nodeTool(String name) {
        Path tool = requireRoot().resolve("node_modules").resolve(".bin").resolve(name);
        if (!Files.isExecutable(tool)) {
            throw new IllegalStateException(name + " is not installed at " + tool
                    + ": run 'npm ci' in " + requireRoot() + " (Node 18+ needed)");
        }
        return tool;
    }

    /** The data directory of the local stack: env MKT_HOME, else {@code <root>/.mkt}. */
    public static Path home() {
        String env = System.getenv("MKT_HOME");
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath();
        }
        return requireRoot().resolve(".mkt");
    }
}
