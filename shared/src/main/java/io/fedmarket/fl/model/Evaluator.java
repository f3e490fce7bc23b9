package io.fedmarket.fl.model;

/**
 * Scores a model's parameters on a labelled set (mean softmax cross-entropy and accuracy), for the cheap checks'
 * validation loss. Model-agnostic: the verify function asks {@link Evaluators#forLayout} for one that runs the layout and
 * records which one did ({@link #name()}). Built in: shared's plain-Java forward pass ({@link Inference}: MLP and CNN of
 * any input and classes). More come from {@link java.util.ServiceLoader} (the gpu-worker jar registers DJL's, which runs
 * every catalogue model, ResNet included), so a verifier deployment with the engine on its classpath evaluates them too.
 */
public interface Evaluator {
    /** What ran the forward pass, as the recorded checks name it (e.g. {@code plain-java}, {@code djl-pytorch}). */
    String name();

    boolean supports(ModelLayouts.Layout layout);

    /**
     * @param flatParams the layout's tensors in order, each row-major ({@link ModelState#flat()})
     * @param inputs     n × {@link ModelLayouts.Layout#inputSize()} values in [0, 1], channels first
     */
    Inference.Evaluation evaluate(ModelLayouts.Layout layout, float[] flatParams, float[] inputs, int[] labels);
}
