package io.foley4j.gpu;

import static io.foley4j.gpu.BuilderChecks.atLeastOneMiB;
import static io.foley4j.gpu.BuilderChecks.invalid;
import static io.foley4j.gpu.BuilderChecks.notNull;
import static io.foley4j.gpu.BuilderChecks.once;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.providers.OrtTensorRTProviderOptions;
import io.foley4j.FoleyException;
import io.foley4j.backend.Backend;
import io.foley4j.backend.StageSession;
import io.foley4j.bundle.StageSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * ONNX Runtime's TensorRT execution provider on one GPU, with the CUDA provider behind it for the
 * nodes TensorRT does not take. Needs everything {@link CudaBackend} needs plus TensorRT 10
 * (docs/gpu.md). Immutable and thread-safe.
 *
 * <p>Engines are built for static optimization profiles from the bundle's shapes: fixed
 * dimensions as declared, the batch axis split into {@link Builder#batchBuckets batch buckets} and
 * each symbolic length axis into {@link Builder#lengthBuckets length buckets}. Building an engine
 * takes TensorRT minutes for a large model, so engines are kept in
 * {@link Builder#engineCacheDirectory the engine cache}, in a directory named by the stage's
 * digest, the ONNX Runtime version, the GPU model, the precision and the profiles; the timing
 * cache (kernel timings) is kept beside them per GPU model and TensorRT version. Each open logs
 * (INFO, logger {@code io.foley4j.gpu}) whether the engine came from the cache and how long it took.
 */
public final class TensorRtBackend implements Backend {
  private final int deviceId;
  private final boolean fp16;
  private final boolean bf16;
  private final Path cacheRoot;
  private final boolean timingCache;
  private final long maxWorkspaceBytes;
  private final int optimizationLevel;
  private final List<Integer> batchBuckets;
  private final Map<String, List<Long>> lengthBuckets;
  private final CudaBackend cuda;
  private final Fallback fallback;
  private final Supplier<GpuReport> probe;
  private final FallbackOpener opener;
  private GpuReport report; // guarded by this

  private TensorRtBackend(Builder b) {
    this.deviceId = b.deviceId;
    this.fp16 = b.fp16 != null && b.fp16;
    this.bf16 = b.bf16 != null && b.bf16;
    this.cacheRoot = b.cacheRoot;
    this.timingCache = b.timingCache == null || b.timingCache;
    this.maxWorkspaceBytes = b.maxWorkspaceBytes;
    this.optimizationLevel = b.optimizationLevel;
    this.batchBuckets = List.copyOf(b.batchBuckets);
    Map<String, List<Long>> lengths = new TreeMap<>();
    b.lengthBuckets.forEach((k, v) -> lengths.put(k, List.copyOf(v)));
    this.lengthBuckets = Collections.unmodifiableMap(lengths);
    this.cuda = b.cuda;
    this.fallback = b.fallback;
    this.probe = b.probe;
    ClassLoader cl = b.classLoader;
    boolean redist = b.loadRedist;
    this.opener = new FallbackOpener("TensorRT", deviceId, true, fallback, cuda.cpu(),
        () -> CudaRedist.loadThen(redist, true, () -> GpuEnvironment.tensorRtProblems(report(), cl, deviceId)));
  }

  public static Builder builder() {
    return new Builder();
  }

  private synchronized GpuReport report() {
    if (report == null) {
      report = probe.get();
    }
    return report;
  }

  /** {@code "tensorrt:0"}; {@code "cpu (fallback from tensorrt:0)"} once a stage fell back to the CPU. */
  @Override
  public String name() {
    return opener.backendName();
  }

  public int deviceId() {
    return deviceId;
  }

  /** {@code "fp32"}, {@code "fp16"}, {@code "bf16"} or {@code "fp16+bf16"}: what TensorRT may use besides fp32. */
  public String precision() {
    return fp16 && bf16 ? "fp16+bf16" : fp16 ? "fp16" : bf16 ? "bf16" : "fp32";
  }

  public Path engineCacheDirectory() {
    return cacheRoot;
  }

  public List<Integer> batchBuckets() {
    return batchBuckets;
  }

  public Map<String, List<Long>> lengthBuckets() {
    return lengthBuckets;
  }

  /** The CUDA backend whose provider runs what TensorRT does not take. */
  public CudaBackend cuda() {
    return cuda;
  }

  public Fallback fallback() {
    return fallback;
  }

  @Override
  public StageSession open(StageSpec spec, Path modelFile) {
    long t0 = System.nanoTime();
    boolean[] hit = new boolean[1];
    Path[] engineDir = new Path[1];
    StageSession s = opener.open(spec, modelFile, (so, toClose) -> {
      GpuReport r = report();
      GpuDevice device = r.devices().get(deviceId); // the environment check made sure it exists
      String trtVersion = r.tensorRtVersion().isPresent() ? GpuReport.tensorRtVersionString(r.tensorRtVersion().getAsInt()) : "?";
      Map<String, String> options = providerOptions(spec, device, OrtEnvironment.getEnvironment().getVersion(), trtVersion);
      engineDir[0] = Path.of(options.get("trt_engine_cache_path"));
      hit[0] = isNonEmptyDirectory(engineDir[0]);
      createDirectories(engineDir[0]);
      if (options.containsKey("trt_timing_cache_path")) {
        createDirectories(Path.of(options.get("trt_timing_cache_path")));
      }
      OrtTensorRTProviderOptions o = new OrtTensorRTProviderOptions(deviceId);
      toClose.add(o);
      FallbackOpener.addOptions(options, (k, v) -> o.add(k, v));
      so.addTensorrt(o);
      cuda.addTo(so, toClose); // what TensorRT does not take runs on CUDA, then on the CPU
    });
    if (!opener.fellBack()) {
      FallbackOpener.LOG.log(System.Logger.Level.INFO, "stage " + spec.stage().key() + " on tensorrt:" + deviceId + ": "
          + (hit[0] ? "engine cache hit" : "no cached engine, TensorRT built it") + " in "
          + (System.nanoTime() - t0) / 1_000_000 + " ms (" + engineDir[0] + ")");
      if (hit[0]) {
        return new EngineCacheHit(s);
      }
    }
    return s;
  }

  /** A session whose engine came from the cache, as the readiness report shows it. */
  private static final class EngineCacheHit implements StageSession {
    private final StageSession s;

    EngineCacheHit(StageSession s) {
      this.s = s;
    }

    @Override
    public StageSpec spec() {
      return s.spec();
    }

    @Override
    public Map<String, io.foley4j.backend.Tensor> run(Map<String, io.foley4j.backend.Tensor> inputs) {
      return s.run(inputs);
    }

    @Override
    public Map<String, io.foley4j.backend.Tensor> runBatch(java.util.List<Map<String, io.foley4j.backend.Tensor>> items) {
      return s.runBatch(items);
    }

    @Override
    public void terminateRunning() {
      s.terminateRunning();
    }

    @Override
    public boolean engineCacheHit() {
      return true;
    }

    @Override
    public long runNanos() {
      return s.runNanos();
    }

    @Override
    public void close() {
      s.close();
    }
  }

  /** The TensorRT provider options for one stage on one device, by ONNX Runtime's names. */
  Map<String, String> providerOptions(StageSpec spec, GpuDevice device, String ortVersion, String trtVersion) {
    TrtProfiles profiles = TrtProfiles.of(spec, batchBuckets, lengthBuckets);
    TrtCacheKey key = new TrtCacheKey(spec.stage().key(), spec.sha256(), ortVersion, device.name(),
        device.computeCapability(), precision(), profiles.min() + "|" + profiles.opt() + "|" + profiles.max(), trtVersion);
    Map<String, String> o = new LinkedHashMap<>();
    o.put("device_id", Integer.toString(deviceId));
    o.put("trt_fp16_enable", fp16 ? "1" : "0");
    if (bf16) { // only when asked: an ONNX Runtime build that predates the key would refuse it
      o.put("trt_bf16_enable", "1");
    }
    o.put("trt_engine_cache_enable", "1");
    o.put("trt_engine_cache_path", cacheRoot.resolve(key.engineDirectory()).toString());
    if (timingCache) {
      o.put("trt_timing_cache_enable", "1");
      o.put("trt_timing_cache_path", cacheRoot.resolve(key.timingDirectory()).toString());
    }
    if (maxWorkspaceBytes > 0) {
      o.put("trt_max_workspace_size", Long.toString(maxWorkspaceBytes));
    }
    if (optimizationLevel >= 0) {
      o.put("trt_builder_optimization_level", Integer.toString(optimizationLevel));
    }
    o.put("trt_profile_min_shapes", profiles.min());
    o.put("trt_profile_opt_shapes", profiles.opt());
    o.put("trt_profile_max_shapes", profiles.max());
    return o;
  }

  private static boolean isNonEmptyDirectory(Path d) {
    try (java.util.stream.Stream<Path> s = Files.list(d)) {
      return s.findAny().isPresent();
    } catch (IOException e) {
      return false;
    }
  }

  private static void createDirectories(Path d) {
    try {
      Files.createDirectories(d);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot create the TensorRT cache directory " + d + ": " + e
          + "; give a writable engineCacheDirectory", e);
    }
  }

  /** As {@link CudaBackend#freeMemoryBytes()}, for this backend's device. */
  @Override
  public java.util.OptionalLong freeMemoryBytes() {
    return GpuMemory.free(probe, deviceId, cuda.gpuMemLimitBytes(), opener.fellBack(),
        System.getenv("CUDA_VISIBLE_DEVICES"));
  }

  @Override
  public String toString() {
    return "TensorRtBackend[device=" + deviceId + ", precision=" + precision() + ", cache=" + cacheRoot + ", batchBuckets="
        + batchBuckets + ", lengthBuckets=" + lengthBuckets + ", fallback=" + fallback + "]";
  }

  /**
   * Options of the TensorRT backend; each may be set once ({@link #lengthBuckets} once per axis). A
   * bad value is a {@link FoleyException} (INVALID_ARGUMENT), a second call an
   * {@link IllegalStateException}. Not thread-safe; {@link #build()} does not change the builder.
   */
  public static final class Builder {
    private int deviceId = -1;
    private Boolean fp16;
    private Boolean bf16;
    private Path cacheRoot;
    private Boolean timingCache;
    private long maxWorkspaceBytes = -1;
    private int optimizationLevel = -1;
    private List<Integer> batchBuckets;
    private final Map<String, List<Long>> lengthBuckets = new LinkedHashMap<>();
    private CudaBackend cuda;
    private Fallback fallback;
    private Boolean loadRedist;
    Supplier<GpuReport> probe = GpuProbe::run;
    ClassLoader classLoader = TensorRtBackend.class.getClassLoader();

    private Builder() {}

    /** The CUDA device id (default 0). */
    public Builder deviceId(int id) {
      this.deviceId = BuilderChecks.deviceId(deviceId, id);
      return this;
    }

    /** Lets TensorRT pick fp16 kernels (default false; see docs/gpu.md on accuracy). */
    public Builder fp16(boolean enabled) {
      once(fp16, "fp16");
      this.fp16 = enabled;
      return this;
    }

    /** Lets TensorRT pick bf16 kernels (default false; Ampere or newer). */
    public Builder bf16(boolean enabled) {
      once(bf16, "bf16");
      this.bf16 = enabled;
      return this;
    }

    /** Where engines and timing caches are kept (default {@code ~/.cache/foley4j/tensorrt}). */
    public Builder engineCacheDirectory(Path dir) {
      once(cacheRoot, "engineCacheDirectory");
      if (dir == null) {
        throw invalid("engineCacheDirectory must not be null");
      }
      if (Files.exists(dir) && !Files.isDirectory(dir)) {
        throw invalid("engineCacheDirectory " + dir + " exists and is not a directory; give a directory");
      }
      this.cacheRoot = dir.toAbsolutePath();
      return this;
    }

    /** Whether TensorRT's timing cache is kept (default true: later engine builds on this GPU model are faster). */
    public Builder timingCache(boolean enabled) {
      once(timingCache, "timingCache");
      this.timingCache = enabled;
      return this;
    }

    /** The most scratch memory TensorRT may use while building and running (default: ONNX Runtime's). */
    public Builder maxWorkspaceBytes(long bytes) {
      this.maxWorkspaceBytes = atLeastOneMiB(maxWorkspaceBytes, bytes, "maxWorkspaceBytes");
      return this;
    }

    /** TensorRT's builder optimization level, 0 (fast build) to 5 (slowest build, fastest engine); default 3. */
    public Builder builderOptimizationLevel(int level) {
      once(optimizationLevel, "builderOptimizationLevel");
      if (level < 0 || level > 5) {
        throw invalid("builderOptimizationLevel must be between 0 and 5, was " + level);
      }
      this.optimizationLevel = level;
      return this;
    }

    /**
     * The batch sizes engines are built for (default 1, 2, 4, 8). Each bucket's profile covers
     * the sizes after the previous bucket up to its own; the largest must be at least the engine's
     * {@code maxBatchSize}, or batches above it make TensorRT rebuild.
     */
    public Builder batchBuckets(int... sizes) {
      once(batchBuckets, "batchBuckets");
      this.batchBuckets = buckets("batchBuckets", java.util.Arrays.stream(sizes).asLongStream().toArray(), 1024)
          .stream().map(Long::intValue).toList();
      return this;
    }

    /**
     * The sizes of the symbolic length axis {@code symbol} (the manifest's name for it, such as
     * {@code "frames"}) engines are built for: one profile range per bucket, as for
     * {@link #batchBuckets}. Every symbolic axis other than the batch needs buckets.
     */
    public Builder lengthBuckets(String symbol, long... sizes) {
      if (symbol == null || symbol.isBlank()) {
        throw invalid("lengthBuckets needs the name of a symbolic axis, was " + (symbol == null ? "null" : "blank"));
      }
      once(lengthBuckets.get(symbol), "lengthBuckets(\"" + symbol + "\")");
      lengthBuckets.put(symbol, buckets("lengthBuckets(\"" + symbol + "\")", sizes, 1L << 31));
      return this;
    }

    private static List<Long> buckets(String what, long[] sizes, long limit) {
      if (sizes == null || sizes.length == 0) {
        throw invalid(what + " needs at least one size");
      }
      List<Long> out = new ArrayList<>();
      for (long s : sizes) {
        if (s < 1 || s > limit) {
          throw invalid(what + " sizes must be between 1 and " + limit + ", was " + s);
        }
        if (!out.isEmpty() && s <= out.get(out.size() - 1)) {
          throw invalid(what + " sizes must be strictly increasing, got " + java.util.Arrays.toString(sizes));
        }
        out.add(s);
      }
      return out;
    }

    /**
     * The CUDA provider's options for the nodes TensorRT does not take (default: a CUDA backend on
     * the same device); its device must be this backend's, and its CPU settings are used for the
     * CPU side and a CPU fallback.
     */
    public Builder cuda(CudaBackend backend) {
      once(cuda, "cuda");
      this.cuda = notNull(backend, "cuda");
      return this;
    }

    /** What to do when the GPU cannot be used (default {@link Fallback#FAIL}). */
    public Builder fallback(Fallback policy) {
      once(fallback, "fallback");
      this.fallback = notNull(policy, "fallback");
      return this;
    }

    /**
     * Loads CUDA, cuDNN and TensorRT from the bytedeco CUDA and TensorRT redist jars on the class
     * path ({@link CudaRedist#loadTensorRt()}) before the first stage opens (default: the system
     * property {@value CudaRedist#LOAD_PROPERTY}, else false). If they cannot be loaded, that is
     * the first problem the backend reports, under the fallback policy.
     */
    public Builder loadRedist(boolean enabled) {
      once(loadRedist, "loadRedist");
      this.loadRedist = enabled;
      return this;
    }

    Builder probe(Supplier<GpuReport> p) {
      this.probe = p;
      return this;
    }

    Builder classLoader(ClassLoader cl) {
      this.classLoader = cl;
      return this;
    }

    /** The backend; refuses both ONNX Runtime jars on the class path and a CUDA backend on another device. */
    public TensorRtBackend build() {
      OrtJars.refuseTwoJars(classLoader);
      int device = deviceId < 0 ? (cuda != null ? cuda.deviceId() : 0) : deviceId;
      if (cuda != null && cuda.deviceId() != device) {
        throw invalid("the CUDA backend given to TensorRtBackend runs on device " + cuda.deviceId() + " but TensorRT on"
            + " device " + device + "; one session runs on one device: give both the same deviceId");
      }
      Builder b = new Builder();
      b.deviceId = device;
      b.fp16 = fp16;
      b.bf16 = bf16;
      b.cacheRoot = cacheRoot != null ? cacheRoot
          : Path.of(System.getProperty("user.home"), ".cache", "foley4j", "tensorrt").toAbsolutePath();
      b.timingCache = timingCache;
      b.maxWorkspaceBytes = maxWorkspaceBytes;
      b.optimizationLevel = optimizationLevel;
      b.batchBuckets = batchBuckets != null ? batchBuckets : List.of(1, 2, 4, 8);
      b.lengthBuckets.putAll(lengthBuckets);
      b.cuda = cuda != null ? cuda : CudaBackend.builder().deviceId(device).probe(probe).classLoader(classLoader).build();
      b.fallback = fallback == null ? Fallback.FAIL : fallback;
      b.loadRedist = loadRedist == null ? Boolean.getBoolean(CudaRedist.LOAD_PROPERTY) : loadRedist;
      b.probe = probe;
      b.classLoader = classLoader;
      return new TensorRtBackend(b);
    }
  }
}
