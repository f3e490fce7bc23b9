package io.fedmarket.model;

/**
 * Model families the GPU workers can train (gpu-worker builds them with DJL; RESNET is DJL model zoo's ResNetV1; TORCHSCRIPT an
 * uploaded TorchScript file, named by its spec {@code torchscript:<sha256>}).
 */
public enum ModelArchitecture {
    MLP, CNN, RESNET, TORCHSCRIPT
}
