package io.foley4j.gpu;

/** What a GPU backend does when the GPU cannot be used. Never silent. */
public enum Fallback {
  /** Throw {@link GpuUnavailableException} (the default). */
  FAIL,
  /** Run on the CPU backend instead, after logging exactly one warning (logger {@code io.foley4j.gpu}) saying why. */
  CPU
}
