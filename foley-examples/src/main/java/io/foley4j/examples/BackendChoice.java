package io.foley4j.examples;

import io.foley4j.FoleyException;
import io.foley4j.backend.Backend;
import io.foley4j.backend.Backends;

/**
 * {@code foley generate --backend cpu|cuda|tensorrt [--device N] [--fallback fail|cpu]}. The GPU
 * classes (and JNA) are touched only when a GPU backend is chosen.
 */
final class BackendChoice {
  enum Kind { CPU, CUDA, TENSORRT }

  enum OnFailure { FAIL, CPU }

  private BackendChoice() {}

  static Backend of(Kind kind, Integer device, OnFailure fallback) {
    if (kind == Kind.CPU) {
      if (device != null || fallback != null) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, (device != null ? "--device" : "--fallback")
            + " applies to --backend cuda or tensorrt, not to --backend cpu");
      }
      return Backends.cpu();
    }
    return Gpu.of(kind, device == null ? 0 : device, fallback == null ? OnFailure.FAIL : fallback);
  }

  /** Separate, so that the CPU path never loads a foley-gpu-cuda class. */
  private static final class Gpu {
    static Backend of(Kind kind, int device, OnFailure fallback) {
      io.foley4j.gpu.Fallback policy = fallback == OnFailure.CPU ? io.foley4j.gpu.Fallback.CPU : io.foley4j.gpu.Fallback.FAIL;
      if (kind == Kind.CUDA) {
        return io.foley4j.gpu.CudaBackend.builder().deviceId(device).fallback(policy).build();
      }
      return io.foley4j.gpu.TensorRtBackend.builder().deviceId(device).fallback(policy).build();
    }
  }
}
