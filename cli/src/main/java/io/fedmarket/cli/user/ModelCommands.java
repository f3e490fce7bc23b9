package io.fedmarket.cli.user;

import com.fasterxml.jackson.databind.JsonNode;
import io.fedmarket.fl.model.TorchScriptArchive;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code mkt models upload FILE}: a builder's TorchScript model, checked here first, then uploaded; prints what an intent names. */
@Command(name = "models", mixinStandardHelpOptions = true, description = "Your own models: upload a TorchScript file (mkt models upload FILE).",
        subcommands = {ModelCommands.Upload.class, ModelCommands.Show.class})
public final class ModelCommands extends UserCommands.Group {

    @Command(name = "upload", mixinStandardHelpOptions = true,
            description = "Upload a TorchScript file (torch.jit.script(model).save(path), at most 4 MiB) and print its SHA-256 and the model "
                    + "to put in an intent: {\"architecture\": \"TORCHSCRIPT\", \"spec\": \"torchscript:<sha256>\", inputShape, numClasses}.")
    public static final class Upload extends UserCommands.Base {
        @Mixin
        UserCommands.ApiOptions api;
        @Parameters(paramLabel = "FILE", description = "the TorchScript file")
        Path file;

        @Override
        public Integer call() {
            byte[] bytes = read(file);
            TorchScriptArchive a;
            try {
                a = TorchScriptArchive.read(bytes); // the same checks the marketplace makes, before anything is sent
                a.check(null, 0);
            } catch (TorchScriptArchive.InvalidModelException e) {
                throw new ApiClient.UserError(file + ": " + e.getMessage());
            }
            JsonNode r = api.client().postFile("/models", bytes);
            out("sha256  " + r.path("sha256").asText());
            out("spec    " + r.path("spec").asText() + (r.path("alreadyStored").asBoolean() ? "  (already uploaded)" : ""));
            out("model   " + r.path("parameters").asLong() + " parameters in " + r.path("tensors").asInt() + " tensors, buffers "
                    + r.path("buffers") + ", " + (r.path("outputClasses").isNull() ? "output classes not readable from the file"
                    : r.path("outputClasses").asInt() + " output classes") + ", " + r.path("bytes").asLong() + " bytes");
            out("intent  \"model\": {\"architecture\": \"TORCHSCRIPT\", \"spec\": \"" + r.path("spec").asText() + "\", \"inputShape\": [1, 28, 28], "
                    + "\"numClasses\": " + (r.path("outputClasses").isNull() ? 10 : r.path("outputClasses").asInt()) + "}  (inputShape: your data's)");
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "What the marketplace read from an uploaded model.")
    public static final class Show extends UserCommands.Base {
        @Mixin
        UserCommands.ApiOptions api;
        @Parameters(paramLabel = "SHA256", description = "the file's SHA-256, as upload printed it")
        String sha;

        @Override
        public Integer call() {
            out(api.client().get("/models/" + sha.toLowerCase(java.util.Locale.ROOT).replaceFirst("^torchscript:", "")));
            return 0;
        }
    }

    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ApiClient.UserError("cannot read " + file + ": " + e.getMessage());
        }
    }
}
