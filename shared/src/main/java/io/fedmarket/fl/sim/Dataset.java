package io.fedmarket.fl.sim;

/** Features and labels held in memory; rows are float32 like a real training batch. */
public record Dataset(float[][] x, int[] y, int classes) {
    public Dataset {
        if (x.length != y.length) {
            throw new IllegalArgumentException(x.length + " feature rows but " + y.length + " labels");
        }
    }

    public int size() {
        return y.length;
    }

    public int dim() {
        return x.length == 0 ? 0 : x[0].length;
    }
}
