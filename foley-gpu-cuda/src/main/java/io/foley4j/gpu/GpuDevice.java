package io.foley4j.gpu;

/**
 * One GPU as NVML reports it. A number NVML could not give is {@code -1} (a string: empty), and
 * {@link #check()} says why.
 *
 * @param index NVML's device index (the CUDA device id when {@code CUDA_VISIBLE_DEVICES} is unset)
 * @param memoryTotalBytes device memory
 * @param memoryFreeBytes device memory free at the time of the probe
 * @param gpuUtilizationPercent percent of the last sample period in which a kernel ran
 * @param memoryUtilizationPercent percent of that period in which memory was read or written
 */
public record GpuDevice(int index, String name, String uuid, long memoryTotalBytes, long memoryFreeBytes,
    int gpuUtilizationPercent, int memoryUtilizationPercent, int computeMajor, int computeMinor, GpuCheck check) {

  /** {@code "8.6"}, or {@code "?"} when unknown. */
  public String computeCapability() {
    return computeMajor < 0 ? "?" : computeMajor + "." + computeMinor;
  }
}
