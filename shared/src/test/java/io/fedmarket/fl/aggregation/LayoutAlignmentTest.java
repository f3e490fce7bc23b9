package io.fedmarket.fl.aggregation;

import io.fedmarket.fl.model.ModelLayouts;
import io.fedmarket.fl.model.ModelState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Aggregation by parameter name and shape, on real catalogue layouts (a ResNet with batch-norm buffers and an MLP). */
class LayoutAlignmentTest {
    static ModelState reversed(ModelState s) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < s.names().size(); i++) {
            order.add(i);
        }
        Collections.reverse(order);
        List<String> n = new ArrayList<>();
        List<long[]> sh = new ArrayList<>();
        float[][] p = new float[order.size()][];
        for (int j = 0; j < order.size(); j++) {
            n.add(s.names().get(order.get(j)));
            sh.add(s.shapes().get(order.get(j)));
            p[j] = s.params()[order.get(j)];
        }
        return new ModelState(n, sh, p, null, 0);
    }

    @Test
    void updatesListingTheSameTensorsInAnotherOrderAreAveragedByName() {
        ModelState global = ModelLayouts.initialState("resnet:8;input=1x8x8;classes=3", 1);
        ModelState a = ModelLayouts.initialState("resnet:8;input=1x8x8;classes=3", 2);
        ModelState b = ModelLayouts.initialState("resnet:8;input=1x8x8;classes=3", 3);
        LayoutAlignment.Aligned inOrder = LayoutAlignment.align(global, List.of(new LayoutAlignment.Candidate("a", "ua", a, 10),
                new LayoutAlignment.Candidate("b", "ub", b, 30)));
        LayoutAlignment.Aligned shuffled = LayoutAlignment.align(global, List.of(new LayoutAlignment.Candidate("a", "ua", a, 10),
                new LayoutAlignment.Candidate("b", "ub", reversed(b), 30)));
        assertThat(inOrder.refused()).isEmpty();
        assertThat(shuffled.refused()).isEmpty();
        float[] x = new FedAvg().aggregate(global.flat(), inOrder.updates(), ServerState.NONE).model();
        float[] y = new FedAvg().aggregate(global.flat(), shuffled.updates(), ServerState.NONE).model();
        assertThat(y).isEqualTo(x);
        // the running variance stays a weighted mean of running variances (all 1 at the start), not of some other tensor
        int rv = global.names().indexOf("02ParallelBlock_01SequentialBlock_02BatchNorm_runningVar");
        ModelState merged = global.withFlat(y);
        assertThat(merged.params()[rv]).containsOnly(1f);
    }

    @Test
    void anUpdateOfAnotherLayoutIsRefusedWithWhatDiffersAndTheOthersAreAggregated() {
        ModelState global = ModelLayouts.initialState("mlp:16;input=20;classes=3", 1);
        ModelState good = ModelLayouts.initialState("mlp:16;input=20;classes=3", 2);
        // the same number of parameters, another layout: averaging by position would mix them silently
        ModelState transposed = new ModelState(good.names(), List.of(new long[]{20, 16}, good.shapes().get(1), good.shapes().get(2),
                good.shapes().get(3)), good.params(), null, 0);
        ModelState wider = ModelLayouts.initialState("mlp:17;input=20;classes=3", 2);
        ModelState renamed = new ModelState(List.of("01Linear_weight", "01Linear_bias", "03Linear_weight", "09Linear_bias"),
                good.shapes(), good.params(), null, 0);
        LayoutAlignment.Aligned r = LayoutAlignment.align(global, List.of(
                new LayoutAlignment.Candidate("good", "updates/g.ckpt", good, 5),
                new LayoutAlignment.Candidate("transposed", "updates/t.ckpt", transposed, 5),
                new LayoutAlignment.Candidate("wider", "updates/w.ckpt", wider, 5),
                new LayoutAlignment.Candidate("renamed", "updates/r.ckpt", renamed, 5)));
        assertThat(r.updates()).extracting(ClientUpdate::taskId).containsExactly("good");
        assertThat(r.updates().get(0).parameters()).isEqualTo(good.flat());
        assertThat(r.refused()).extracting(LayoutAlignment.Refusal::taskId).containsExactly("transposed", "wider", "renamed");
        assertThat(r.refused().get(0).detail()).contains("tensor 01Linear_weight has shape [20, 16], the global model [16, 20]");
        assertThat(r.refused().get(0).uri()).isEqualTo("updates/t.ckpt");
        assertThat(r.refused().get(1).detail()).contains("tensor 01Linear_weight has shape [17, 20]").contains("the update 4 tensors, 411");
        assertThat(r.refused().get(2).detail()).contains("tensor 03Linear_bias [3] is missing")
                .contains("tensor 09Linear_bias [3] is not in the global model");
        ModelState ragged = new ModelState(good.names(), good.shapes(), new float[][]{good.params()[0], new float[3], good.params()[2],
                good.params()[3]}, null, 0);
        assertThat(LayoutAlignment.difference(global, ragged)).get().asString().contains("01Linear_bias holds 3 values for shape [16]");
    }
}
