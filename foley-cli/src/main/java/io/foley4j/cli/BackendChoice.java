package io.foley4j.cli;

import io.foley4j.FoleyException;
import io.foley4j.backend.Backend;
import io.foley4j.backend.Backends;

/**
 * {@code foley generate --backend cpu|cuda|tensorrt [--device N[,M...]] [--fallback fail|cpu]}: one
 * backend per listed GPU (several make an engine of several devices). The GPU classes (and JNA)
 * are touched only when a GPU backend is chosen.
 */
public final class BackendChoice {
  /** Which backend. */
  public enum Kind { CPU, CUDA, TENSORRT }

  /** What a GPU backend does when the GPU cannot be used. */
  public enum OnFailure { FAIL, CPU }

  private BackendChoice() {}

  /** One backend per device in {@code devices} (null: device 0); the CPU takes no device. */
  public static java.util.List<Backend> of(Kind kind, java.util.List<Integer> devices, OnFailure fallback) {
    if (kind == Kind.CPU) {
      if (devices != null || fallback != null) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, (devices != null ? "--device" : "--fallback")
            + " applies to --backend cuda or tensorrt, not to --backend cpu");
      }
      return java.util.List.of(Backends.cpu());
    }
    java.util.List<Integer> ids = devices == null ? java.util.List.of(0) : devices;
    if (new java.util.HashSet<>(ids).size() != ids.size()) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--device lists a GPU twice: " + ids
          + "; name each device once");
    }
    java.util.List<Backend> out = new java.util.ArrayList<>();
    for (int id : ids) {
      out.add(Gpu.of(kind, id, fallback == null ? OnFailure.FAIL : fallback));
    }
    return out;
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
