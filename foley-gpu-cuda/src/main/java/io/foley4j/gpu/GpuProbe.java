package io.foley4j.gpu;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Asks the machine what GPU support it has, through JNA: NVML ({@code libnvidia-ml.so.1}) for the
 * driver version, the CUDA version the driver supports and each device (name, UUID, memory,
 * utilization, compute capability); libcuda ({@code cuInit}, {@code cuDriverGetVersion}); the CUDA
 * and cuDNN libraries ONNX Runtime's CUDA provider needs; TensorRT ({@code getInferLibVersion} in
 * libnvinfer); and whether the ONNX Runtime jar carries the GPU providers.
 *
 * <p>It never throws for what is missing: each part is reported as a {@link GpuCheck} with a
 * {@link ProbeStatus} and a message. Native libraries are loaded only when {@link #run()} is
 * called, never by loading this class. The libraries it loads stay loaded (unloading a driver
 * library from a running JVM is not safe).
 */
public final class GpuProbe {
  /** Names tried for each library, in order (a plain name, a file name or an absolute path). */
  record Names(List<String> nvml, List<String> cuda, List<String> cudaLibraries, List<String> nvinfer,
      List<String> nvonnxparser) {}

  /** What ONNX Runtime 1.23's CUDA provider loads (libonnxruntime_providers_cuda.so has no RUNPATH). */
  static final List<String> CUDA_PROVIDER_LIBRARIES = List.of("libcudart.so.12", "libcublasLt.so.12", "libcublas.so.12",
      "libcurand.so.10", "libcufft.so.11", "libcudnn.so.9");

  static final Names SYSTEM = new Names(List.of("libnvidia-ml.so.1", "nvidia-ml"), List.of("libcuda.so.1", "cuda"),
      CUDA_PROVIDER_LIBRARIES, List.of("libnvinfer.so.10", "nvinfer"), List.of("libnvonnxparser.so.10", "nvonnxparser"));

  private static final int NVML_SUCCESS = 0;
  private static final int NVML_ERROR_NOT_SUPPORTED = 3;
  private static final int NAME_BUFFER = 96;

  private final Names names;
  private final ClassLoader classLoader;

  GpuProbe(Names names, ClassLoader classLoader) {
    this.names = names;
    this.classLoader = classLoader;
  }

  /** Probes this machine. Takes a few milliseconds with a driver, less without. */
  public static GpuReport run() {
    return new GpuProbe(SYSTEM, GpuProbe.class.getClassLoader()).probe();
  }

  GpuReport probe() {
    List<GpuDevice> devices = new ArrayList<>();
    String[] driver = {null};
    int[] nvmlCuda = {-1};
    GpuCheck nvml = nvml(devices, driver, nvmlCuda);
    int[] cudaVersion = {-1};
    GpuCheck cuda = cudaDriver(cudaVersion);
    List<GpuCheck> libs = new ArrayList<>();
    for (String lib : names.cudaLibraries()) {
      libs.add(library(lib, lib));
    }
    int[] trtVersion = {-1};
    GpuCheck trt = tensorRt(trtVersion);
    GpuCheck ort = OrtJars.providersCheck(classLoader);
    int cudaV = cudaVersion[0] >= 0 ? cudaVersion[0] : nvmlCuda[0];
    return new GpuReport(nvml, cuda, libs, trt, ort, Optional.ofNullable(driver[0]),
        cudaV >= 0 ? OptionalInt.of(cudaV) : OptionalInt.empty(), devices,
        trtVersion[0] >= 0 ? OptionalInt.of(trtVersion[0]) : OptionalInt.empty());
  }

  /** The library under the first name that loads, or a LIBRARY_NOT_FOUND check in {@code missing[0]}. */
  private static NativeLibrary load(List<String> candidates, String what, GpuCheck[] missing) {
    StringBuilder why = new StringBuilder();
    for (String name : candidates) {
      try {
        return NativeLibrary.getInstance(name);
      } catch (LinkageError e) { // UnsatisfiedLinkError, or JNA's own native part missing
        if (why.length() == 0) {
          why.append(loaderReason(e.getMessage()));
        }
      }
    }
    missing[0] = new GpuCheck(what, ProbeStatus.LIBRARY_NOT_FOUND, candidates.get(0) + " not found (" + why + ")");
    return null;
  }

  private static GpuCheck library(String what, String name) {
    GpuCheck[] missing = new GpuCheck[1];
    NativeLibrary lib = load(List.of(name), what, missing);
    return lib == null ? missing[0] : GpuCheck.ok(what, "loaded " + name);
  }

  /** A function of {@code lib}, or null (and a SYMBOL_NOT_FOUND check in {@code missing[0]}). */
  private static Function function(NativeLibrary lib, String symbol, String what, GpuCheck[] missing) {
    try {
      return lib.getFunction(symbol);
    } catch (LinkageError e) {
      missing[0] = new GpuCheck(what, ProbeStatus.SYMBOL_NOT_FOUND, lib.getName() + " has no " + symbol
          + " (the library is too old or not the NVIDIA one)");
      return null;
    }
  }

  private GpuCheck nvml(List<GpuDevice> devices, String[] driver, int[] cudaVersion) {
    String what = "nvml";
    GpuCheck[] fail = new GpuCheck[1];
    NativeLibrary lib = load(names.nvml(), what, fail);
    if (lib == null) {
      return new GpuCheck(what, ProbeStatus.LIBRARY_NOT_FOUND, fail[0].message()
          + ": no NVIDIA driver is installed (or its libraries are not on the loader's path)");
    }
    Function init = function(lib, "nvmlInit_v2", what, fail);
    if (init == null) {
      return fail[0];
    }
    int rc = init.invokeInt(new Object[0]);
    if (rc != NVML_SUCCESS) {
      return new GpuCheck(what, ProbeStatus.CALL_FAILED, "nvmlInit_v2 failed: " + nvmlError(lib, rc)
          + " (is the NVIDIA kernel module loaded? does nvidia-smi work?)");
    }
    try {
      Memory buf = new Memory(NAME_BUFFER);
      Function f = function(lib, "nvmlSystemGetDriverVersion", what, fail);
      if (f != null && call(f, buf, NAME_BUFFER) == NVML_SUCCESS) {
        driver[0] = buf.getString(0);
      }
      IntByReference v = new IntByReference();
      f = function(lib, "nvmlSystemGetCudaDriverVersion_v2", what, fail);
      if (f != null && call(f, v) == NVML_SUCCESS) {
        cudaVersion[0] = v.getValue();
      }
      f = function(lib, "nvmlDeviceGetCount_v2", what, fail);
      if (f == null) {
        return fail[0];
      }
      IntByReference count = new IntByReference();
      rc = call(f, count);
      if (rc != NVML_SUCCESS) {
        return new GpuCheck(what, ProbeStatus.CALL_FAILED, "nvmlDeviceGetCount_v2 failed: " + nvmlError(lib, rc));
      }
      for (int i = 0; i < count.getValue(); i++) {
        devices.add(device(lib, i));
      }
      if (devices.isEmpty()) {
        return new GpuCheck(what, ProbeStatus.NO_DEVICE, "driver " + driver[0] + " sees no GPU");
      }
      return GpuCheck.ok(what, "driver " + driver[0] + ", " + devices.size() + " device(s)");
    } finally {
      GpuCheck[] ignored = new GpuCheck[1];
      Function shutdown = function(lib, "nvmlShutdown", what, ignored);
      if (shutdown != null) {
        shutdown.invokeInt(new Object[0]);
      }
    }
  }

  private static GpuDevice device(NativeLibrary lib, int index) {
    String what = "device " + index;
    GpuCheck[] fail = new GpuCheck[1];
    List<String> problems = new ArrayList<>();
    PointerByReference handle = new PointerByReference();
    Function f = function(lib, "nvmlDeviceGetHandleByIndex_v2", what, fail);
    int rc = f == null ? -1 : call(f, index, handle);
    if (rc != NVML_SUCCESS) {
      return new GpuDevice(index, "", "", -1, -1, -1, -1, -1, -1, new GpuCheck(what, f == null ? ProbeStatus.SYMBOL_NOT_FOUND
          : ProbeStatus.CALL_FAILED, f == null ? fail[0].message() : "nvmlDeviceGetHandleByIndex_v2: " + nvmlError(lib, rc)));
    }
    Pointer h = handle.getValue();
    Memory buf = new Memory(NAME_BUFFER);
    String name = stringOf(lib, "nvmlDeviceGetName", h, buf, problems);
    String uuid = stringOf(lib, "nvmlDeviceGetUUID", h, buf, problems);
    long total = -1;
    long free = -1;
    Memory mem = new Memory(24); // nvmlMemory_t: total, free, used (unsigned long long each)
    mem.clear();
    rc = callOn(lib, "nvmlDeviceGetMemoryInfo", problems, h, mem);
    if (rc == NVML_SUCCESS) {
      total = mem.getLong(0);
      free = mem.getLong(8);
    }
    int gpuUtil = -1;
    int memUtil = -1;
    Memory util = new Memory(8); // nvmlUtilization_t: gpu, memory (unsigned int each)
    util.clear();
    rc = callOn(lib, "nvmlDeviceGetUtilizationRates", problems, h, util);
    if (rc == NVML_SUCCESS) {
      gpuUtil = util.getInt(0);
      memUtil = util.getInt(4);
    }
    IntByReference major = new IntByReference(-1);
    IntByReference minor = new IntByReference(-1);
    rc = callOn(lib, "nvmlDeviceGetCudaComputeCapability", problems, h, major, minor);
    int ccMajor = rc == NVML_SUCCESS ? major.getValue() : -1;
    int ccMinor = rc == NVML_SUCCESS ? minor.getValue() : -1;
    GpuCheck check = problems.isEmpty() ? GpuCheck.ok(what, name)
        : new GpuCheck(what, ProbeStatus.CALL_FAILED, String.join("; ", problems));
    return new GpuDevice(index, name, uuid, total, free, gpuUtil, memUtil, ccMajor, ccMinor, check);
  }

  private static String stringOf(NativeLibrary lib, String symbol, Pointer h, Memory buf, List<String> problems) {
    buf.clear();
    int rc = callOn(lib, symbol, problems, h, buf, NAME_BUFFER);
    return rc == NVML_SUCCESS ? buf.getString(0) : "";
  }

  /** Calls an NVML device function; a failure is added to {@code problems} (NOT_SUPPORTED too: it is worth knowing). */
  private static int callOn(NativeLibrary lib, String symbol, List<String> problems, Object... args) {
    GpuCheck[] fail = new GpuCheck[1];
    Function f = function(lib, symbol, symbol, fail);
    if (f == null) {
      problems.add(fail[0].message());
      return -1;
    }
    int rc = call(f, args);
    if (rc != NVML_SUCCESS) {
      problems.add(symbol + ": " + (rc == NVML_ERROR_NOT_SUPPORTED ? "not supported on this device" : nvmlError(lib, rc)));
    }
    return rc;
  }

  private static int call(Function f, Object... args) {
    return f.invokeInt(args);
  }

  private static String nvmlError(NativeLibrary lib, int rc) {
    try {
      String s = lib.getFunction("nvmlErrorString").invokeString(new Object[] {rc}, false);
      return s == null ? "NVML error " + rc : s + " (NVML error " + rc + ")";
    } catch (LinkageError e) {
      return "NVML error " + rc;
    }
  }

  private GpuCheck cudaDriver(int[] version) {
    String what = "cuda-driver";
    GpuCheck[] fail = new GpuCheck[1];
    NativeLibrary lib = load(names.cuda(), what, fail);
    if (lib == null) {
      return new GpuCheck(what, ProbeStatus.LIBRARY_NOT_FOUND, fail[0].message()
          + ": no NVIDIA driver is installed (libcuda comes with the driver, not with the CUDA toolkit)");
    }
    Function getVersion = function(lib, "cuDriverGetVersion", what, fail);
    if (getVersion == null) {
      return fail[0];
    }
    IntByReference v = new IntByReference();
    if (call(getVersion, v) == 0) {
      version[0] = v.getValue();
    }
    Function init = function(lib, "cuInit", what, fail);
    if (init == null) {
      return fail[0];
    }
    int rc = call(init, 0);
    if (rc != 0) {
      return new GpuCheck(what, rc == 100 ? ProbeStatus.NO_DEVICE : ProbeStatus.CALL_FAILED, "cuInit failed: "
          + cudaError(lib, rc));
    }
    Function count = function(lib, "cuDeviceGetCount", what, fail);
    if (count == null) {
      return fail[0];
    }
    IntByReference n = new IntByReference();
    rc = call(count, n);
    if (rc != 0) {
      return new GpuCheck(what, ProbeStatus.CALL_FAILED, "cuDeviceGetCount failed: " + cudaError(lib, rc));
    }
    String supports = version[0] >= 0 ? "supports CUDA " + GpuReport.cudaVersionString(version[0]) : "CUDA version unknown";
    if (n.getValue() == 0) {
      return new GpuCheck(what, ProbeStatus.NO_DEVICE, "driver " + supports + " but no device is visible (CUDA_VISIBLE_DEVICES?)");
    }
    return GpuCheck.ok(what, "driver " + supports + ", " + n.getValue() + " device(s)");
  }

  private static String cudaError(NativeLibrary lib, int rc) {
    try {
      PointerByReference name = new PointerByReference();
      if (lib.getFunction("cuGetErrorName").invokeInt(new Object[] {rc, name}) == 0 && name.getValue() != null) {
        return name.getValue().getString(0) + " (" + rc + ")";
      }
    } catch (LinkageError e) {
      // fall through
    }
    return "CUresult " + rc;
  }

  private GpuCheck tensorRt(int[] version) {
    String what = "tensorrt";
    GpuCheck[] fail = new GpuCheck[1];
    NativeLibrary lib = load(names.nvinfer(), what, fail);
    if (lib == null) {
      return new GpuCheck(what, ProbeStatus.LIBRARY_NOT_FOUND, fail[0].message()
          + ": TensorRT 10 is not installed (only TensorRtBackend needs it)");
    }
    Function f = function(lib, "getInferLibVersion", what, fail);
    if (f == null) {
      return fail[0];
    }
    version[0] = f.invokeInt(new Object[0]);
    String v = GpuReport.tensorRtVersionString(version[0]);
    NativeLibrary parser = load(names.nvonnxparser(), what, fail);
    if (parser == null) {
      return new GpuCheck(what, ProbeStatus.LIBRARY_NOT_FOUND, "TensorRT " + v + " found but " + fail[0].message()
          + " (ONNX Runtime's TensorRT provider needs the ONNX parser too)");
    }
    return GpuCheck.ok(what, "TensorRT " + v);
  }

  /**
   * The dynamic loader's own words from JNA's message ("libcuda.so.1: cannot open shared object
   * file: No such file or directory"), which follow JNA's "Unable to load library 'x':" line.
   */
  static String loaderReason(String s) {
    if (s == null || s.isBlank()) {
      return "no reason given";
    }
    List<String> lines = s.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    for (String l : lines) {
      if (!l.startsWith("Unable to load library") && !l.startsWith("Native library (")) {
        return l;
      }
    }
    return lines.get(0);
  }
}
