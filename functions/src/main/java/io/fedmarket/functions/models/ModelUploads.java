package io.fedmarket.functions.models;

import io.fedmarket.fl.model.TorchScriptArchive;
import io.fedmarket.fl.model.TorchScriptModels;
import io.fedmarket.functions.artifacts.Artifacts;
import io.fedmarket.functions.http.ApiError;
import io.fedmarket.functions.http.Caller;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Map;

/**
 * A builder's TorchScript file ({@code POST /models}): at most 4 MiB (else 413), read in plain Java ({@link TorchScriptArchive}: a
 * TorchScript zip with parameters, no non-deterministic op, float tensors; else 422 saying what is wrong) and stored content-addressed
 * at {@code models/torchscript/<sha256>.pt}, so uploading the same file again is the same object and the same answer. An intent names
 * it by {@code torchscript:<sha256>}; its input shape and classes are checked against the file when the intent comes in.
 */
@ApplicationScoped
public class ModelUploads {
    private static final Logger LOG = Logger.getLogger(ModelUploads.class);

    @Inject
    Artifacts artifacts;

    /** What the marketplace knows of an uploaded model. */
    public record ModelView(String sha256, String spec, long bytes, long parameters, int tensors, List<String> buffers, Integer outputClasses,
                            String key, boolean alreadyStored) {
    }

    public ModelView upload(Caller caller, byte[] file) {
        if (file.length > TorchScriptArchive.MAX_BYTES) {
            throw new ApiError(413, "model_too_large", "the model file is " + file.length + " bytes, more than the " + TorchScriptArchive.MAX_BYTES
                    + " (4 MiB) a TorchScript upload may have: send a smaller model", Map.of("limit", TorchScriptArchive.MAX_BYTES, "bytes", file.length));
        }
        if (file.length == 0) {
            throw ApiError.unprocessable("invalid_model", "the body is empty: send the TorchScript file (torch.jit.script(model).save(path))",
                    Map.of());
        }
        TorchScriptArchive a;
        try {
            a = TorchScriptArchive.read(file);
            a.check(null, 0);
        } catch (TorchScriptArchive.InvalidModelException e) {
            throw ApiError.unprocessable("invalid_model", e.getMessage(), Map.of("bytes", file.length, "sha256", TorchScriptArchive.sha256(file)));
        }
        String key = TorchScriptModels.key(a.sha256());
        boolean already = artifacts.exists(key);
        if (!already) {
            artifacts.put(key, file);
        }
        TorchScriptModels.register(file);
        LOG.infof("model %s (%d bytes, %d parameters) uploaded by %s%s", a.sha256(), file.length, a.parameterCount(), caller.address(),
                already ? " (already stored)" : "");
        return view(a, already);
    }

    public ModelView get(String sha256) {
        if (!TorchScriptModels.isSha256(sha256)) {
            throw ApiError.badRequest("invalid_model_name", "a model is named by its file's SHA-256: use the 64 lower-case hex characters POST /models answered", Map.of("got",
                    sha256.length() > 80 ? sha256.substring(0, 80) : sha256));
        }
        byte[] file = artifacts.find(TorchScriptModels.key(sha256)).orElseThrow(() -> ApiError.notFound("model " + sha256
                + " (upload it with POST /models)"));
        return view(TorchScriptModels.register(file), true);
    }

    private static ModelView view(TorchScriptArchive a, boolean already) {
        List<String> buffers = a.tensors().stream().filter(TorchScriptArchive.Tensor::buffer).map(TorchScriptArchive.Tensor::name).toList();
        Integer out = a.outputClasses().isPresent() ? a.outputClasses().getAsInt() : null;
        String spec = "torchscript:" + a.sha256(); // an intent's model.spec; its inputShape and numClasses say the rest
        return new ModelView(a.sha256(), spec, a.size(), a.parameterCount(), a.tensors().size(), buffers, out, TorchScriptModels.key(a.sha256()),
                already);
    }
}
