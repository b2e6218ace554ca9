package io.foley4j.gpu;

import static io.foley4j.gpu.BuilderChecks.atLeastOneMiB;
import static io.foley4j.gpu.BuilderChecks.notNull;
import static io.foley4j.gpu.BuilderChecks.once;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;
import io.foley4j.FoleyException;
import io.foley4j.backend.Backend;
import io.foley4j.backend.Backends;
import io.foley4j.backend.CpuBackend;
import io.foley4j.backend.StageSession;
import io.foley4j.bundle.StageSpec;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * ONNX Runtime's CUDA execution provider on one GPU. Needs the {@code onnxruntime_gpu} jar (not
 * the CPU {@code onnxruntime} jar), an NVIDIA driver for CUDA 12, and the CUDA 12 and cuDNN 9
 * libraries (docs/gpu.md). Immutable and thread-safe.
 *
 * <p>The first {@link #open} probes the machine ({@link GpuProbe}) before adding the provider. If
 * the GPU cannot be used, the backend throws {@link GpuUnavailableException} naming every problem
 * found ({@link Fallback#FAIL}, the default), or, with {@link Fallback#CPU}, logs one warning and
 * opens every stage on {@link #cpu()} instead. A model that does not match its manifest fails
 * the same way on every device, whatever the policy.
 */
public final class CudaBackend implements Backend {

  /** How the CUDA memory arena grows ({@code arena_extend_strategy}). */
  public enum ArenaExtendStrategy {
    /** Double the arena each time (ONNX Runtime's default; fast, may over-reserve). */
    NEXT_POWER_OF_TWO("kNextPowerOfTwo"),
    /** Grow by exactly what was asked (tighter memory, more allocations). */
    SAME_AS_REQUESTED("kSameAsRequested");

    final String ortName;

    ArenaExtendStrategy(String ortName) {
      this.ortName = ortName;
    }
  }

  /** How cuDNN picks convolution algorithms ({@code cudnn_conv_algo_search}). */
  public enum ConvAlgoSearch {
    /** Benchmark every algorithm on first use (ONNX Runtime's default; slow first call, fastest after). */
    EXHAUSTIVE,
    /** cuDNN's heuristics, no benchmarking. */
    HEURISTIC,
    /** The default algorithm, no search. */
    DEFAULT
  }

  private final int deviceId;
  private final Map<String, String> providerOptions;
  private final Fallback fallback;
  private final CpuBackend cpu;
  private final FallbackOpener opener;
  private final Supplier<GpuReport> probe;

  private CudaBackend(Builder b, Map<String, String> options) {
    this.deviceId = b.deviceId;
    this.providerOptions = Collections.unmodifiableMap(options);
    this.fallback = b.fallback;
    this.cpu = b.cpu;
    ClassLoader cl = b.classLoader;
    Supplier<GpuReport> probe = b.probe;
    this.probe = probe;
    int device = deviceId;
    boolean redist = b.loadRedist;
    this.opener = new FallbackOpener("CUDA", deviceId, false, fallback, cpu,
        () -> CudaRedist.loadThen(redist, false, () -> GpuEnvironment.cudaProblems(probe.get(), cl, device)));
  }

  public static Builder builder() {
    return new Builder();
  }

  /** {@code "cuda:0"}; {@code "cpu (fallback from cuda:0)"} once a stage fell back to the CPU. */
  @Override
  public String name() {
    return opener.backendName();
  }

  public int deviceId() {
    return deviceId;
  }

  public Fallback fallback() {
    return fallback;
  }

  /** The CPU-side session settings, and the backend a {@link Fallback#CPU} fallback runs on. */
  public CpuBackend cpu() {
    return cpu;
  }

  /** The options handed to ONNX Runtime's CUDA provider, by ONNX Runtime's names ({@code gpu_mem_limit}, ...). */
  public Map<String, String> providerOptions() {
    return providerOptions;
  }

  @Override
  public StageSession open(StageSpec spec, Path modelFile) {
    return opener.open(spec, modelFile, (so, toClose) -> addTo(so, toClose));
  }

  /** Adds this backend's CUDA provider to session options (TensorRtBackend adds it after TensorRT). */
  void addTo(OrtSession.SessionOptions so, List<AutoCloseable> toClose) throws OrtException {
    OrtCUDAProviderOptions o = new OrtCUDAProviderOptions(deviceId);
    toClose.add(o);
    FallbackOpener.addOptions(providerOptions, (k, v) -> o.add(k, v));
    so.addCUDA(o);
  }

  /**
   * The GPU's free memory as NVML reports it now, at most {@code gpuMemLimit} when set: what an
   * engine admits segments against (it asks after this backend's stages loaded). Empty once a stage
   * fell back to the CPU, when NVML does not describe the device, or when {@code CUDA_VISIBLE_DEVICES}
   * is set (NVML's indices are then not CUDA's; set the engine's {@code maxSegmentsPerDevice} instead).
   */
  @Override
  public java.util.OptionalLong freeMemoryBytes() {
    return GpuMemory.free(probe, deviceId, gpuMemLimitBytes(), opener.fellBack(), System.getenv("CUDA_VISIBLE_DEVICES"));
  }

  /** The {@code gpu_mem_limit} given to the provider, -1 when unset (the whole device). */
  long gpuMemLimitBytes() {
    String limit = providerOptions.get("gpu_mem_limit");
    return limit == null ? -1 : Long.parseLong(limit);
  }

  @Override
  public String toString() {
    return "CudaBackend[" + providerOptions + ", fallback=" + fallback + "]";
  }

  /**
   * Options of the CUDA backend. Each may be set once; a bad value is a {@link FoleyException}
   * (INVALID_ARGUMENT), a second call an {@link IllegalStateException}. Unset options keep ONNX
   * Runtime's defaults, except {@code use_tf32}, which this backend turns off unless asked (see
   * {@link #useTf32}). Not thread-safe; {@link #build()} does not change the builder.
   */
  public static final class Builder {
    private int deviceId = -1;
    private long gpuMemLimit = -1;
    private ArenaExtendStrategy arena;
    private ConvAlgoSearch convAlgoSearch;
    private Boolean useTf32;
    private Boolean copyInDefaultStream;
    private Boolean convMaxWorkspace;
    private Boolean conv1dPad;
    private Boolean preferNhwc;
    private Fallback fallback;
    private CpuBackend cpu;
    private Boolean loadRedist;
    Supplier<GpuReport> probe = GpuProbe::run;
    ClassLoader classLoader = CudaBackend.class.getClassLoader();

    private Builder() {}

    /** The CUDA device id (default 0), as CUDA numbers them (after {@code CUDA_VISIBLE_DEVICES}). */
    public Builder deviceId(int id) {
      this.deviceId = BuilderChecks.deviceId(deviceId, id);
      return this;
    }

    /**
     * The most bytes ONNX Runtime's CUDA arena may take on the device ({@code gpu_mem_limit};
     * default: no limit). Weights and cuDNN/cuBLAS workspaces are outside it.
     */
    public Builder gpuMemLimit(long bytes) {
      this.gpuMemLimit = atLeastOneMiB(gpuMemLimit, bytes, "gpuMemLimit");
      return this;
    }

    public Builder arenaExtendStrategy(ArenaExtendStrategy strategy) {
      once(arena, "arenaExtendStrategy");
      this.arena = notNull(strategy, "arenaExtendStrategy");
      return this;
    }

    public Builder cudnnConvAlgoSearch(ConvAlgoSearch search) {
      once(convAlgoSearch, "cudnnConvAlgoSearch");
      this.convAlgoSearch = notNull(search, "cudnnConvAlgoSearch");
      return this;
    }

    /**
     * TF32 matrix multiplies on Ampere and newer ({@code use_tf32}). Faster, with about 10 bits of
     * mantissa instead of 23: this backend leaves it off unless turned on here (docs/gpu.md).
     */
    public Builder useTf32(boolean enabled) {
      once(useTf32, "useTf32");
      this.useTf32 = enabled;
      return this;
    }

    /** Copies on the compute stream ({@code do_copy_in_default_stream}, ONNX Runtime's default true). */
    public Builder copyInDefaultStream(boolean enabled) {
      once(copyInDefaultStream, "copyInDefaultStream");
      this.copyInDefaultStream = enabled;
      return this;
    }

    /** Lets cuDNN use its largest workspace for convolutions ({@code cudnn_conv_use_max_workspace}). */
    public Builder cudnnConvUseMaxWorkspace(boolean enabled) {
      once(convMaxWorkspace, "cudnnConvUseMaxWorkspace");
      this.convMaxWorkspace = enabled;
      return this;
    }

    /** Pads 1-D convolutions as [N,C,1,D] rather than [N,C,D,1] ({@code cudnn_conv1d_pad_to_nc1d}). */
    public Builder cudnnConv1dPadToNc1d(boolean enabled) {
      once(conv1dPad, "cudnnConv1dPadToNc1d");
      this.conv1dPad = enabled;
      return this;
    }

    /** Prefers NHWC layouts where cuDNN supports them ({@code prefer_nhwc}). */
    public Builder preferNhwc(boolean enabled) {
      once(preferNhwc, "preferNhwc");
      this.preferNhwc = enabled;
      return this;
    }

    /** What to do when the GPU cannot be used (default {@link Fallback#FAIL}). */
    public Builder fallback(Fallback policy) {
      once(fallback, "fallback");
      this.fallback = notNull(policy, "fallback");
      return this;
    }

    /**
     * CPU-side session settings (threads for the nodes the GPU does not take, graph optimization)
     * and the backend a CPU fallback uses (default {@link Backends#cpu()}).
     */
    public Builder cpu(CpuBackend backend) {
      once(cpu, "cpu");
      this.cpu = notNull(backend, "cpu");
      return this;
    }

    /**
     * Loads CUDA and cuDNN from the bytedeco CUDA redist jar on the class path ({@link CudaRedist})
     * before the first stage opens, for a machine with an NVIDIA driver but no CUDA toolkit
     * (default: the system property {@value CudaRedist#LOAD_PROPERTY}, else false). If it cannot
     * be loaded, that is the first problem the backend reports, under the fallback policy.
     */
    public Builder loadRedist(boolean enabled) {
      once(loadRedist, "loadRedist");
      this.loadRedist = enabled;
      return this;
    }

    /** For tests: a fake probe. */
    Builder probe(Supplier<GpuReport> p) {
      this.probe = p;
      return this;
    }

    /** For tests: the class path to check for ONNX Runtime jars. */
    Builder classLoader(ClassLoader cl) {
      this.classLoader = cl;
      return this;
    }

    /**
     * The backend. Refuses, with {@link GpuUnavailableException}, a class path that holds both
     * ONNX Runtime jars; everything about the GPU itself is checked when the first stage opens.
     */
    public CudaBackend build() {
      OrtJars.refuseTwoJars(classLoader);
      Builder b = copy();
      return new CudaBackend(b, b.options());
    }

    Builder copy() {
      Builder b = new Builder();
      b.deviceId = deviceId < 0 ? 0 : deviceId;
      b.gpuMemLimit = gpuMemLimit;
      b.arena = arena;
      b.convAlgoSearch = convAlgoSearch;
      b.useTf32 = useTf32;
      b.copyInDefaultStream = copyInDefaultStream;
      b.convMaxWorkspace = convMaxWorkspace;
      b.conv1dPad = conv1dPad;
      b.preferNhwc = preferNhwc;
      b.fallback = fallback == null ? Fallback.FAIL : fallback;
      b.cpu = cpu == null ? Backends.cpu() : cpu;
      b.loadRedist = loadRedist == null ? Boolean.getBoolean(CudaRedist.LOAD_PROPERTY) : loadRedist;
      b.probe = probe;
      b.classLoader = classLoader;
      return b;
    }

    private Map<String, String> options() {
      Map<String, String> o = new LinkedHashMap<>();
      o.put("device_id", Integer.toString(deviceId));
      if (gpuMemLimit > 0) {
        o.put("gpu_mem_limit", Long.toString(gpuMemLimit));
      }
      if (arena != null) {
        o.put("arena_extend_strategy", arena.ortName);
      }
      if (convAlgoSearch != null) {
        o.put("cudnn_conv_algo_search", convAlgoSearch.name());
      }
      o.put("use_tf32", Boolean.TRUE.equals(useTf32) ? "1" : "0");
      if (copyInDefaultStream != null) {
        o.put("do_copy_in_default_stream", copyInDefaultStream ? "1" : "0");
      }
      if (convMaxWorkspace != null) {
        o.put("cudnn_conv_use_max_workspace", convMaxWorkspace ? "1" : "0");
      }
      if (conv1dPad != null) {
        o.put("cudnn_conv1d_pad_to_nc1d", conv1dPad ? "1" : "0");
      }
      if (preferNhwc != null) {
        o.put("prefer_nhwc", preferNhwc ? "1" : "0");
      }
      return o;
    }
  }
}
