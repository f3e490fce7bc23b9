package io.fedmarket.fl.model;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The plain-Java reader of TorchScript files, on the files {@code infra/models/make_torchscript.py} writes (python3-torch 1.13). */
class TorchScriptArchiveTest {
    static byte[] fixture(String name) throws Exception {
        for (Path dir : List.of(Path.of("../infra/models/fixtures"), Path.of("infra/models/fixtures"))) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return Files.readAllBytes(dir.resolve(name));
            }
        }
        throw new IllegalStateException("fixture " + name + " not found");
    }

    @Test
    void readsTheSmallNetsParametersAndBuffersInArchiveOrder() throws Exception {
        TorchScriptArchive a = TorchScriptArchive.read(fixture("small.pt"));
        assertThat(a.tensors()).extracting(TorchScriptArchive.Tensor::name).containsExactly("conv.weight", "conv.bias", "bn.weight",
                "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "fc.weight", "fc.bias");
        assertThat(a.tensors()).extracting(TorchScriptArchive.Tensor::buffer).containsExactly(false, false, false, false, true, true, true,
                false, false);
        assertThat(a.tensors().get(0).shape()).containsExactly(8, 1, 3, 3);
        assertThat(a.tensors().get(7).shape()).containsExactly(10, 1352);
        assertThat(a.tensors().get(6).dtype()).isEqualTo("int64");
        assertThat(a.parameterCount()).isEqualTo(13_626);
        assertThat(a.outputClasses()).hasValue(10);
        assertThat(a.nonDeterministicOps()).isEmpty();
        a.check(List.of(1, 28, 28), 10);
        ModelState s = a.state();
        assertThat(s.params()[5]).containsOnly(1f); // running variance starts at one
        assertThat(s.params()[0][0]).isNotZero();
        assertThat(a.sha256()).isEqualTo("53466959a020d2dad7aefd1e1cd9db230c18ca34e54871640fb516b95ecad04e");
    }

    @Test
    void writesAnotherStateBackAndReadsItAgain() throws Exception {
        TorchScriptArchive a = TorchScriptArchive.read(fixture("small.pt"));
        ModelState s = a.state();
        float[][] v = s.params().clone();
        v[0] = v[0].clone();
        v[0][3] = 0.25f;
        v[6] = new float[]{42f};
        ModelState changed = new ModelState(s.names(), s.shapes(), v, null, 0);
        TorchScriptArchive b = TorchScriptArchive.read(a.withState(changed));
        assertThat(b.state().params()[0][3]).isEqualTo(0.25f);
        assertThat(b.state().params()[6]).containsExactly(42f);
        assertThat(b.state().paramsHash()).isEqualTo(changed.paramsHash());
        assertThat(a.withState(changed)).isEqualTo(a.withState(changed));
    }

    @Test
    void theLayoutOfATorchscriptSpecIsTheFilesAndItsStartModelItsWeights() throws Exception {
        TorchScriptArchive a = TorchScriptModels.register(fixture("small.pt"));
        ModelLayouts.Layout l = ModelLayouts.layout("torchscript:" + a.sha256().toUpperCase());
        assertThat(l.spec()).isEqualTo("torchscript:" + a.sha256());
        assertThat(l.architecture()).isEqualTo(ModelLayouts.Architecture.TORCHSCRIPT);
        assertThat(l.bufferIndices()).containsExactly(4, 5, 6);
        assertThat(ModelLayouts.initialState(l, 1).paramsHash()).isEqualTo(a.state().paramsHash());
        assertThat(ModelLayouts.initialState(l, 2).paramsHash()).isEqualTo(a.state().paramsHash());
        assertThatThrownBy(() -> ModelLayouts.layout("torchscript:" + a.sha256() + ";classes=7"))
                .hasMessageContaining("last layer has 10 outputs, the intent declares 7 classes");
        assertThatThrownBy(() -> ModelLayouts.layout("torchscript:" + a.sha256() + ";input=3x28x28"))
                .hasMessageContaining("first convolution takes 1 channels");
        assertThatThrownBy(() -> ModelLayouts.layout("torchscript:" + "ab".repeat(32)))
                .hasMessageContaining("is not uploaded");
        assertThatThrownBy(() -> ModelLayouts.layout("torchscript:xyz")).hasMessageContaining("64 hex characters");
    }

    @Test
    void theBadModelCorpusIsRefusedSayingWhy() throws Exception {
        assertThatThrownBy(() -> TorchScriptArchive.read(fixture("bad-dropout.pt")).check(List.of(1, 28, 28), 10))
                .hasMessageContaining("non-deterministic ops [dropout");
        assertThatThrownBy(() -> TorchScriptArchive.read(fixture("bad-noparams.pt")).check(List.of(1, 28, 28), 10))
                .hasMessageContaining("no parameters");
        assertThatThrownBy(() -> TorchScriptArchive.read(fixture("bad-classes7.pt")).check(List.of(1, 28, 28), 10))
                .hasMessageContaining("7 outputs");
        assertThatThrownBy(() -> TorchScriptArchive.read("not a zip at all".getBytes()))
                .hasMessageContaining("not a TorchScript archive");
        assertThatThrownBy(() -> TorchScriptArchive.read(new byte[TorchScriptArchive.MAX_BYTES + 1]))
                .hasMessageContaining("more than the 4194304 (4 MiB)");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            z.putNextEntry(new ZipEntry("m/data.pkl"));
            z.write(new byte[]{(byte) 0x80, 2, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', '.'});
            z.putNextEntry(new ZipEntry("m/code/__torch__.py"));
            z.write("class M(Module):\n  pass\n".getBytes());
        }
        assertThatThrownBy(() -> TorchScriptArchive.read(out.toByteArray())).hasMessageContaining("os.system");
    }

    @Test
    void aCommandLinesTorchscriptPathBecomesTheFilesSpec(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path f = dir.resolve("net.pt");
        Files.write(f, fixture("small.pt"));
        String spec = TorchScriptModels.resolveCommandLine("torchscript:" + f, dir);
        assertThat(spec).isEqualTo("torchscript:53466959a020d2dad7aefd1e1cd9db230c18ca34e54871640fb516b95ecad04e");
        assertThat(TorchScriptModels.resolveCommandLine(spec, dir)).isEqualTo(spec);
        assertThat(TorchScriptModels.resolveCommandLine("resnet:20", dir)).isEqualTo("resnet:20");
        assertThatThrownBy(() -> TorchScriptModels.resolveCommandLine("torchscript:" + dir.resolve("missing.pt"), dir))
                .hasMessageContaining("torchscript:small, torchscript:resnet20 or torchscript:PATH");
    }
}
