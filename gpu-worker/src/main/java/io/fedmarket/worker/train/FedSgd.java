package io.fedmarket.worker.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.optimizer.Optimizer;

import java.util.HashMap;
import java.util.Map;

/**
 * SGD with optional heavy-ball momentum and the FedProx proximal term μ/2‖w − w_global‖², whose
 * state (momentum buffers) lives here, by parameter name, so a checkpoint can save and restore
 * it: DJL's own optimisers keep that state private, and a resumed or re-executed segment must
 * continue with exactly the same buffers.
 * <p>Update: g = ∇ + μ(w − w_global); v = m·v + g; w −= lr·v (PyTorch's SGD, dampening 0).
 */
final class FedSgd extends Optimizer {
    private final float lr;
    private final float momentum;
    private final float mu;
    private final Map<String, String> nameOfId;
    private final Map<String, NDArray> velocity = new HashMap<>();
    private final Map<String, NDArray> anchor = new HashMap<>();

    FedSgd(float lr, float momentum, float mu, Map<String, String> nameOfId) {
        super(new Builder());
        this.lr = lr;
        this.momentum = momentum;
        this.mu = mu;
        this.nameOfId = nameOfId;
    }

    void setVelocity(String name, NDArray v) {
        velocity.put(name, v);
    }

    NDArray velocity(String name) {
        return velocity.get(name);
    }

    NDArray anchor(String name) {
        return anchor.get(name);
    }

    void setAnchor(String name, NDArray w) {
        anchor.put(name, w);
    }

    @Override
    public void update(String parameterId, NDArray weight, NDArray grad) {
        String name = nameOfId.get(parameterId);
        if (name == null) {
            throw new IllegalStateException("optimiser asked to update unknown parameter " + parameterId);
        }
        // every temporary is closed here: they would otherwise attach to the long-lived
        // parameter manager and native memory would grow with every step
        try (NDArray g = grad.duplicate()) {
            if (mu > 0) {
                try (NDArray d = weight.sub(anchor.get(name))) {
                    d.muli(mu);
                    g.addi(d);
                }
            }
            if (momentum > 0) {
                NDArray v = velocity.get(name);
                v.muli(momentum).addi(g);
                try (NDArray s = v.mul(lr)) {
                    weight.subi(s);
                }
            } else {
                g.muli(lr);
                weight.subi(g);
            }
        }
    }

    static NDArray zerosLike(NDManager m, NDArray w) {
        return m.zeros(w.getShape(), w.getDataType());
    }

    private static final class Builder extends OptimizerBuilder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }
    }
}
