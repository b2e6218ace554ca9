package io.foley4j.backend;

/** Factories for the backends foley-core ships. */
public final class Backends {
  private Backends() {}

  /** The CPU backend with default options (ONNX Runtime's thread count, full graph optimization). */
  public static CpuBackend cpu() {
    return CpuBackend.builder().build();
  }
}
