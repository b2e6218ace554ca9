package io.foley4j.gpu;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What {@link GpuProbe#run()} found: one {@link GpuCheck} per part (NVML, the CUDA driver, the CUDA
 * and cuDNN libraries ONNX Runtime's CUDA provider needs, TensorRT, ONNX Runtime's own providers)
 * and the devices. Immutable.
 *
 * @param nvml NVML ({@code libnvidia-ml.so.1}): driver version, devices
 * @param cudaDriver libcuda ({@code cuInit}, {@code cuDriverGetVersion}, device count)
 * @param cudaLibraries one check per library the CUDA provider of ONNX Runtime 1.23 loads
 * @param tensorRt libnvinfer ({@code getInferLibVersion}) and libnvonnxparser
 * @param ortProviders whether the ONNX Runtime jar on the class path carries the CUDA and TensorRT
 *     providers (onnxruntime_gpu does, onnxruntime does not), and whether it is there only once
 * @param driverVersion the driver's version string ("550.54.15")
 * @param cudaDriverVersion the CUDA version the driver supports, as CUDA encodes it (12040 = 12.4)
 * @param tensorRtVersion TensorRT's version as it encodes it (100600 = 10.6.0)
 */
public record GpuReport(GpuCheck nvml, GpuCheck cudaDriver, List<GpuCheck> cudaLibraries, GpuCheck tensorRt,
    GpuCheck ortProviders, Optional<String> driverVersion, OptionalInt cudaDriverVersion, List<GpuDevice> devices,
    OptionalInt tensorRtVersion) {

  public GpuReport {
    cudaLibraries = List.copyOf(cudaLibraries);
    devices = List.copyOf(devices);
  }

  /** Every check of this report, in the order {@link #describe()} prints them. */
  public List<GpuCheck> checks() {
    java.util.ArrayList<GpuCheck> all = new java.util.ArrayList<>();
    all.add(nvml);
    all.add(cudaDriver);
    all.addAll(cudaLibraries);
    all.add(tensorRt);
    all.add(ortProviders);
    return List.copyOf(all);
  }

  /** {@code 12040} as {@code "12.4"}. */
  static String cudaVersionString(int v) {
    return (v / 1000) + "." + (v % 1000) / 10;
  }

  /** TensorRT 10's {@code 100600} as {@code "10.6.0"} (major·10000 + minor·100 + patch). */
  static String tensorRtVersionString(int v) {
    return v >= 10000 ? (v / 10000) + "." + (v / 100) % 100 + "." + v % 100 : (v / 1000) + "." + (v / 100) % 10 + "." + v % 100;
  }

  /** A table for people: one line per check, then one per device. */
  public String describe() {
    StringBuilder b = new StringBuilder();
    b.append(String.format("%-22s %-18s %s%n", "part", "status", "details"));
    for (GpuCheck c : checks()) {
      b.append(String.format("%-22s %-18s %s%n", c.what(), c.status(), c.message()));
    }
    b.append("driver: ").append(driverVersion.orElse("?")).append(", CUDA driver API: ")
        .append(cudaDriverVersion.isPresent() ? cudaVersionString(cudaDriverVersion.getAsInt()) : "?")
        .append(", TensorRT: ").append(tensorRtVersion.isPresent() ? tensorRtVersionString(tensorRtVersion.getAsInt()) : "?")
        .append(System.lineSeparator());
    if (devices.isEmpty()) {
      b.append("devices: none found").append(System.lineSeparator());
    }
    for (GpuDevice d : devices) {
      b.append(String.format("device %d: %s, %s, compute %s, memory %s free of %s, utilization gpu %s%% memory %s%%%s%n",
          d.index(), d.name().isEmpty() ? "?" : d.name(), d.uuid().isEmpty() ? "?" : d.uuid(), d.computeCapability(),
          mib(d.memoryFreeBytes()), mib(d.memoryTotalBytes()), num(d.gpuUtilizationPercent()),
          num(d.memoryUtilizationPercent()), d.check().ok() ? "" : " [" + d.check().status() + ": " + d.check().message() + "]"));
    }
    return b.toString();
  }

  private static String mib(long bytes) {
    return bytes < 0 ? "?" : (bytes >> 20) + " MiB";
  }

  private static String num(int v) {
    return v < 0 ? "?" : Integer.toString(v);
  }
}
