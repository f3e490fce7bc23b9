package io.fedmarket.fl.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/** The evaluators this process has: shared's plain-Java forward pass first, then those on the classpath ({@link ServiceLoader}). */
public final class Evaluators {
    /** {@link Inference}: MLP and CNN, no engine needed. */
    public static final Evaluator PLAIN_JAVA = new Evaluator() {
        @Override
        public String name() {
            return "plain-java";
        }

        @Override
        public boolean supports(ModelLayouts.Layout layout) {
            return Inference.supports(layout);
        }

        @Override
        public Inference.Evaluation evaluate(ModelLayouts.Layout layout, float[] flatParams, float[] inputs, int[] labels) {
            return Inference.evaluate(layout, flatParams, inputs, labels);
        }
    };

    private static volatile List<Evaluator> loaded;

    private Evaluators() {
    }

    /** Every evaluator of this process, plain Java first. */
    public static List<Evaluator> all() {
        List<Evaluator> l = loaded;
        if (l == null) {
            List<Evaluator> out = new ArrayList<>();
            out.add(PLAIN_JAVA);
            for (Evaluator e : ServiceLoader.load(Evaluator.class)) {
                out.add(e);
            }
            loaded = l = List.copyOf(out);
        }
        return l;
    }

    /** The first of {@code candidates} that runs {@code layout}. */
    public static Optional<Evaluator> forLayout(ModelLayouts.Layout layout, List<Evaluator> candidates) {
        return candidates.stream().filter(e -> e.supports(layout)).findFirst();
    }

    /** The first evaluator of this process that runs {@code layout}; empty when none does (say so, never skip silently). */
    public static Optional<Evaluator> forLayout(ModelLayouts.Layout layout) {
        return forLayout(layout, all());
    }
}
