package io.fedmarket.cli.user;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fedmarket.worker.data.local.BadDataException;
import io.fedmarket.worker.data.local.DataCommitter;
import io.fedmarket.worker.data.local.LocalDataSpec;
import io.fedmarket.worker.data.local.LocalFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A data owner's own data set, on the owner's machine. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Commit to a data set you keep on this machine (only its commitment leaves it).",
        subcommands = {DataCommands.Commit.class})
public final class DataCommands extends UserCommands.Group {

    @Command(name = "commit", mixinStandardHelpOptions = true,
            description = {"Read a data set here, hash every sample, and write its commitment (Merkle root, count, label histogram) and a data offer "
                    + "for `mkt providers data`. The samples never leave this machine; the offer carries only the commitment.",
                    "Formats: imagefolder (DIR/<class>/*.png|jpg, brought to --shape CxHxW), csv (a header, numeric feature columns and a --label "
                            + "column), idx (DIR with *images-idx3-ubyte[.gz] and *labels-idx1-ubyte[.gz])."})
    static final class Commit extends UserCommands.Base {
        private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

        @Parameters(paramLabel = "PATH", description = "the data set: a folder (imagefolder, idx, or a folder with one .csv) or a .csv file")
        Path path;
        @Option(names = "--format", required = true, description = "imagefolder, csv or idx")
        String format;
        @Option(names = "--shape", description = "CxHxW each image is brought to (imagefolder; C 1 or 3), e.g. 1x28x28")
        String shape;
        @Option(names = "--label", description = "the CSV column that holds each row's class")
        String label;
        @Option(names = "--features", split = ",", description = "the CSV feature columns (default: every column but the label)")
        List<String> features;
        @Option(names = "--classes", split = ",", description = "the class names in index order (default: the labels found, sorted; numerically when all are integers)")
        List<String> classes;
        @Option(names = "--name", description = "the offer's name (default: the data set's folder or file name)")
        String name;
        @Option(names = "--domain", description = "the offer's data domain, as intents name it (e.g. chest-xray)")
        String domain;
        @Option(names = "--region", defaultValue = "eu-west-1", description = "where the data is (default: ${DEFAULT-VALUE})")
        String region;
        @Option(names = "--worker", description = "the address of a worker key that holds this data set and may train it (repeat for each; "
                + "default: left for you to set in the offer)")
        List<String> workers;
        @Option(names = "--out", description = "where to write the data offer (default: offer.json in the commitment's folder)")
        Path out;

        @Override
        public Integer call() throws IOException {
            LocalFormat f = LocalFormat.parse(format);
            LocalDataSpec s = new LocalDataSpec(f, path, shape == null ? null : LocalDataSpec.parseShape(shape), label, features, classes);
            if (!Files.exists(path)) {
                throw new BadDataException(List.of(path + ": no such file or folder"));
            }
            long t0 = System.nanoTime();
            DataCommitter.Commitment c = DataCommitter.commit(s, line -> spec.commandLine().getErr().println("mkt data commit: " + line));
            for (String n : c.notes()) {
                out("note: " + n);
            }
            Path state = DataCommitter.stateDir(s);
            Map<String, Object> offer = new LinkedHashMap<>();
            String base = path.toAbsolutePath().normalize().getFileName().toString().replaceFirst("\\.csv$", "");
            offer.put("name", name != null ? name : base);
            offer.put("domain", domain != null ? domain : "set-me: the data domain intents will name");
            offer.put("region", region);
            offer.put("sampleCount", c.sampleCount());
            offer.put("labelHistogram", c.labelHistogram());
            offer.put("datasetRoot", c.datasetRoot());
            Map<String, Object> source = new LinkedHashMap<>();
            String shapeText = String.join("x", c.shape().stream().map(String::valueOf).toList());
            source.put("dataset", "private:" + shapeText + ":" + c.classes().size());
            source.put("workers", workers == null || workers.isEmpty() ? List.of("set-me: the 0x address of each worker key that holds this data set") : workers);
            offer.put("source", source);
            Path offerFile = out != null ? out : state.resolve("offer.json");
            Files.writeString(offerFile, JSON.writeValueAsString(offer) + "\n");
            out(String.format(Locale.ROOT, "committed %,d samples (%s, shape %s, %d classes) in %.1f s", c.sampleCount(), c.format(),
                    String.join("x", c.shape().stream().map(String::valueOf).toList()), c.classes().size(), (System.nanoTime() - t0) / 1e9));
            out("datasetRoot " + c.datasetRoot() + "  (leaf = " + c.leafRule() + ", Merkle tree in the order above)");
            out("labels " + c.labelHistogram());
            out("kept here: " + state.resolve("commitment.json") + " and the " + c.sampleCount() + " leaves in " + state.resolve("leaves.bin"));
            out("offer written to " + offerFile + ": name, domain, region, sampleCount, labelHistogram, datasetRoot and the private source "
                    + "(shape, classes, the workers that hold it) are all that leave this machine");
            if (workers == null || workers.isEmpty()) {
                out("set its source.workers to the worker keys that hold this data set (or pass --worker ADDRESS): only they train it");
            }
            if (domain == null) {
                out("set its \"domain\" (or pass --domain), then offer it: mkt providers data " + offerFile);
            } else {
                out("offer it: mkt providers data " + offerFile);
            }
            return 0;
        }
    }
}
