package io.foley4j.gpu;

import ai.onnxruntime.OrtException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns a probe, or an error from ONNX Runtime, into the reasons a GPU backend cannot run and how to fix them. */
final class GpuEnvironment {
  static final String NEEDS = "ONNX Runtime 1.23.2's CUDA provider needs an NVIDIA driver for CUDA 12 (Linux 525.60.13 or"
      + " newer), the CUDA 12.x runtime, cuBLAS, cuFFT and cuRAND, and cuDNN 9.x (docs/gpu.md has the version matrix)";
  static final String TRT_NEEDS = "its TensorRT provider also needs TensorRT 10.x (libnvinfer.so.10, libnvonnxparser.so.10;"
      + " ONNX Runtime documents 10.9)";
  static final String OR_CPU = "to run on the CPU instead, choose fallback CPU (foley generate --fallback cpu)";
  private static final Pattern MISSING_LIB = Pattern.compile("(lib[\\w.+-]+\\.so[\\d.]*): cannot open shared object file");

  private GpuEnvironment() {}

  /** Every reason the CUDA provider cannot run on {@code device}, empty when nothing is known to be wrong. */
  static List<String> cudaProblems(GpuReport r, ClassLoader cl, int device) {
    List<String> problems = new ArrayList<>();
    List<java.net.URL> jars = OrtJars.copies(cl);
    if (jars.size() > 1) {
      problems.add(r.ortProviders().message());
    } else if (!OrtJars.hasProvider(cl, "cuda")) {
      problems.add("the CUDA execution provider (" + OrtJars.providerLibrary("cuda") + ") is not on the class path: "
          + OrtJars.FIX_CPU_ONLY);
    }
    GpuCheck driver = r.cudaDriver();
    if (!driver.ok()) {
      problems.add(driver.status() == ProbeStatus.LIBRARY_NOT_FOUND ? "no NVIDIA driver: " + driver.message()
          : "the NVIDIA driver does not work: " + driver.message());
    } else {
      if (r.cudaDriverVersion().isPresent() && r.cudaDriverVersion().getAsInt() < 12000) {
        problems.add("the driver supports CUDA " + GpuReport.cudaVersionString(r.cudaDriverVersion().getAsInt())
            + " only; update the NVIDIA driver to one for CUDA 12 (525.60.13 or newer)");
      }
      int count = deviceCount(r);
      if (count >= 0 && device >= count) {
        problems.add("device " + device + " does not exist: the driver sees " + count + " GPU(s)"
            + (count > 0 ? " (ids 0 to " + (count - 1) + ")" : ""));
      }
    }
    List<String> missing = new ArrayList<>();
    for (GpuCheck lib : r.cudaLibraries()) {
      if (!lib.ok()) {
        missing.add(lib.what());
      }
    }
    if (!missing.isEmpty()) {
      problems.add("CUDA 12 / cuDNN 9 libraries not found: " + String.join(", ", missing) + " (install CUDA 12.x and cuDNN"
          + " 9.x and add their lib directories to LD_LIBRARY_PATH, or use the bytedeco CUDA redist described in docs/gpu.md)");
    }
    return problems;
  }

  static List<String> tensorRtProblems(GpuReport r, ClassLoader cl, int device) {
    List<String> problems = cudaProblems(r, cl, device);
    if (OrtJars.copies(cl).size() <= 1 && OrtJars.hasProvider(cl, "cuda") && !OrtJars.hasProvider(cl, "tensorrt")) {
      problems.add("the TensorRT execution provider (" + OrtJars.providerLibrary("tensorrt") + ") is not on the class path");
    }
    if (!r.tensorRt().ok()) {
      problems.add("TensorRT: " + r.tensorRt().message());
    }
    if (r.cudaDriver().ok() && (!r.nvml().ok() || device >= r.devices().size())) {
      problems.add("NVML does not describe device " + device + " (" + r.nvml().message() + "); the TensorRT backend keys"
          + " its engine cache by the GPU model NVML reports");
    }
    return problems;
  }

  /** Devices the driver reports: NVML's list if it answered, else -1 (unknown). */
  static int deviceCount(GpuReport r) {
    return r.nvml().ok() || r.nvml().status() == ProbeStatus.NO_DEVICE ? r.devices().size() : -1;
  }

  static String message(String backend, int device, List<String> problems, boolean tensorRt) {
    StringBuilder b = new StringBuilder(backend).append(" backend cannot run on device ").append(device).append(": ");
    for (int i = 0; i < problems.size(); i++) {
      b.append(i > 0 ? "; " : "").append('(').append(i + 1).append(") ").append(problems.get(i));
    }
    return b.append(". ").append(NEEDS).append(tensorRt ? "; " + TRT_NEEDS : "").append(". ").append(capitalize(OR_CPU))
        .append('.').toString();
  }

  /** An ONNX Runtime error from adding or starting the provider, explained. */
  static GpuUnavailableException fromOrt(String backend, int device, OrtException e, boolean tensorRt) {
    String m = String.valueOf(e.getMessage());
    String reason;
    Matcher lib = MISSING_LIB.matcher(m);
    if (m.contains("Failed to find CUDA shared provider") || m.contains("Failed to find TensorRT shared provider")) {
      reason = "ONNX Runtime has no GPU provider (" + m.strip() + "): " + OrtJars.FIX_CPU_ONLY;
    } else if (lib.find()) {
      reason = "ONNX Runtime could not load " + lib.group(1) + " (" + m.strip() + "): install the library or add its"
          + " directory to LD_LIBRARY_PATH";
    } else if (m.contains("driver version is insufficient")) {
      reason = "the NVIDIA driver is missing or too old for CUDA 12 (ONNX Runtime: " + m.strip() + "); install or update"
          + " the driver (525.60.13 or newer)";
    } else if (m.toLowerCase(java.util.Locale.ROOT).contains("out of memory")) {
      reason = "the GPU ran out of memory while loading (" + m.strip() + "); lower gpuMemLimit of other sessions, use a"
          + " smaller model or a GPU with more memory";
    } else {
      reason = "ONNX Runtime could not start the provider: " + m.strip();
    }
    return new GpuUnavailableException(message(backend, device, List.of(reason), tensorRt), e);
  }

  private static String capitalize(String s) {
    return Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
