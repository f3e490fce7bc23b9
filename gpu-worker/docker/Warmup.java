// Run once at image build (java source-file mode): loads the DJL PyTorch engine so its native
// libraries are extracted (CPU: from the pytorch-native-cpu jar) or fetched (CUDA flavours, which
// are not on Maven Central) into DJL_CACHE_DIR. The running worker then starts with
// -Dai.djl.offline=true and never downloads anything.
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

public class Warmup {
    public static void main(String[] args) throws IOException {
        String flavor = args.length > 0 ? args[0] : "cpu";
        try {
            Engine engine = Engine.getEngine("PyTorch");
            try (NDManager manager = engine.newBaseManager()) {
                float sum = manager.ones(new Shape(4)).sum().getFloat();
                if (sum != 4f) {
                    throw new IllegalStateException("PyTorch computed 1+1+1+1 = " + sum);
                }
            }
            System.out.println("DJL PyTorch " + engine.getVersion() + " (" + flavor + ") loaded; natives cached");
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            // A CUDA build has no GPU driver at image build time: the libraries are fetched before
            // the load fails, which is all this step needs. A CPU build must load for real.
            if ("cpu".equals(flavor)) {
                throw e;
            }
            System.out.println("DJL PyTorch " + flavor + " natives fetched; not loadable without a GPU driver here: " + e);
        }
        Path cache = Path.of(System.getenv().getOrDefault("DJL_CACHE_DIR", System.getProperty("user.home") + "/.djl.ai"));
        try (Stream<Path> files = Files.walk(cache)) {
            long libs = files.filter(p -> p.getFileName().toString().contains(".so")).count();
            if (libs == 0) {
                throw new IllegalStateException("no native libraries under " + cache + ": the image would download them at run time");
            }
            System.out.println(libs + " native libraries under " + cache);
        }
    }
}
