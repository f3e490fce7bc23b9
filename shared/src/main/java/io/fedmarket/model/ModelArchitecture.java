package io.fedmarket.model;

/** Model families the GPU workers can train (gpu-worker builds them with DJL). */
public enum ModelArchitecture {
    MLP, CNN
}
