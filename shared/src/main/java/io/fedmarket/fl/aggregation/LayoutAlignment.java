package io.fedmarket.fl.aggregation;

import io.fedmarket.fl.model.ModelState;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Aggregation by parameter name and shape: every update is matched to the global model tensor by tensor, by name, and
 * flattened in the global model's order (so an update that lists the same tensors in another order still averages
 * weight with weight and running mean with running mean). An update whose layout differs from the global model's (a
 * tensor missing, one more, a name twice, a shape that is not the global's, values that do not fill their shape) is
 * refused with what differs, never averaged by position: the aggregation rules work on flat vectors and would otherwise
 * mix unrelated parameters whenever the counts happen to agree.
 */
public final class LayoutAlignment {
    /** An accepted update as loaded from the bucket. */
    public record Candidate(String taskId, String uri, ModelState state, long numSamples) {
    }

    /** An update refused for its layout, with what differs (the evidence, in words a person can check against both files). */
    public record Refusal(String taskId, String uri, String detail) {
    }

    /** The updates aligned to the global model (in its order), and those refused. */
    public record Aligned(List<ClientUpdate> updates, List<Refusal> refused) {
        public Aligned {
            updates = List.copyOf(updates);
            refused = List.copyOf(refused);
        }
    }

    private LayoutAlignment() {
    }

    public static Aligned align(ModelState global, List<Candidate> candidates) {
        List<ClientUpdate> ok = new ArrayList<>();
        List<Refusal> refused = new ArrayList<>();
        for (Candidate c : candidates) {
            Optional<String> d = difference(global, c.state());
            if (d.isPresent()) {
                refused.add(new Refusal(c.taskId(), c.uri(), d.get()));
            } else {
                ok.add(new ClientUpdate(c.taskId(), alignedFlat(global, c.state()), c.numSamples()));
            }
        }
        return new Aligned(ok, refused);
    }

    /** What differs between the update's layout and the global model's (names and shapes, any order), or empty when they agree. */
    public static Optional<String> difference(ModelState global, ModelState update) {
        Map<String, Integer> at = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < update.names().size(); i++) {
            String n = update.names().get(i);
            if (at.put(n, i) != null) {
                problems.add("tensor " + n + " appears twice");
            }
            long size = 1;
            for (long d : update.shapes().get(i)) {
                size *= d;
            }
            if (update.params()[i].length != size) {
                problems.add("tensor " + n + " holds " + update.params()[i].length + " values for shape " + Arrays.toString(update.shapes().get(i)));
            }
        }
        for (int g = 0; g < global.names().size(); g++) {
            String n = global.names().get(g);
            Integer u = at.remove(n);
            if (u == null) {
                problems.add("tensor " + n + " " + Arrays.toString(global.shapes().get(g)) + " is missing");
            } else if (!Arrays.equals(global.shapes().get(g), update.shapes().get(u))) {
                problems.add("tensor " + n + " has shape " + Arrays.toString(update.shapes().get(u)) + ", the global model "
                        + Arrays.toString(global.shapes().get(g)));
            }
        }
        for (String extra : at.keySet().stream().sorted().toList()) {
            problems.add("tensor " + extra + " " + Arrays.toString(update.shapes().get(update.names().indexOf(extra))) + " is not in the global model");
        }
        if (problems.isEmpty()) {
            return Optional.empty();
        }
        int shown = Math.min(5, problems.size());
        return Optional.of("layout differs from the global model's (" + global.names().size() + " tensors, " + global.parameterCount()
                + " parameters; the update " + update.names().size() + " tensors, " + update.parameterCount() + "): "
                + String.join("; ", problems.subList(0, shown)) + (problems.size() > shown ? "; and " + (problems.size() - shown) + " more" : ""));
    }

    /** The update's parameters in the global model's tensor order (by name); the layouts must agree ({@link #difference}). */
    public static float[] alignedFlat(ModelState global, ModelState update) {
        Map<String, Integer> at = new HashMap<>();
        for (int i = 0; i < update.names().size(); i++) {
            at.put(update.names().get(i), i);
        }
        float[] out = new float[global.parameterCount()];
        int o = 0;
        for (String n : global.names()) {
            float[] p = update.params()[at.get(n)];
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
