package io.foley4j.gpu;

import java.util.OptionalLong;
import java.util.function.Supplier;

/** A GPU backend's answer to {@code Backend.freeMemoryBytes()}: NVML's free memory of its device. */
final class GpuMemory {
  private static final System.Logger LOG = System.getLogger("io.foley4j.gpu");

  private GpuMemory() {}

  /**
   * NVML's free memory of CUDA device {@code deviceId} (-1: device 0), at most {@code limit} when
   * positive (the provider's {@code gpu_mem_limit}). Empty when the stages fell back to the CPU,
   * when NVML does not describe the device, or when {@code CUDA_VISIBLE_DEVICES} is set (NVML numbers
   * all GPUs, CUDA only the visible ones, so the indices may name different GPUs).
   */
  static OptionalLong free(Supplier<GpuReport> probe, int deviceId, long limit, boolean fellBack, String env) {
    if (fellBack || env != null) {
      return OptionalLong.empty();
    }
    int index = Math.max(0, deviceId);
    try {
      for (GpuDevice d : probe.get().devices()) {
        if (d.index() == index && d.memoryFreeBytes() >= 0) {
          return OptionalLong.of(limit > 0 ? Math.min(limit, d.memoryFreeBytes()) : d.memoryFreeBytes());
        }
      }
    } catch (RuntimeException | LinkageError e) { // the probe never throws by contract; a free-memory query must not either
      LOG.log(System.Logger.Level.WARNING, "GPU probe failed while asking device " + index + " for its free memory", e);
    }
    return OptionalLong.empty();
  }
}
