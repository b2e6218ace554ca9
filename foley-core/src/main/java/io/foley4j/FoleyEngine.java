package io.foley4j;

import io.foley4j.backend.Backend;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.cache.TensorCache;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Generates synchronized Foley audio for videos. Build one engine per model and share it: it is
 * thread-safe, and any number of threads may {@link #submit} at once.
 *
 * <pre>{@code
 * try (ModelBundle bundle = ReferenceModel.bundle();
 *      FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()).build()) {
 *   FoleyResult r = engine.generate(FoleyRequest.of(Path.of("clip.mp4"), "footsteps on gravel"));
 *   r.writeWav(Path.of("clip.wav"));
 * }
 * }</pre>
 *
 * <p>{@link Builder#build()} loads and warms up every stage: the engine is ready when it returns.
 * {@link #close()} stops accepting work, lets submitted jobs finish (up to the close timeout, then
 * fails them with {@link FoleyException.Code#CLOSED}), stops every thread and frees the native
 * sessions. It does not close the bundle.
 */
public final class FoleyEngine implements AutoCloseable {
  /** The default {@link Builder#maxPicturePixels}: 8192 × 8192 pixels. */
  public static final long DEFAULT_MAX_PICTURE_PIXELS = 8192L * 8192;

  private static final AtomicInteger ENGINES = new AtomicInteger();

  private final EngineCore core;
  private final ModelBundle bundle;
  private final List<Backend> backends;
  private final Diagnostics diagnostics;

  private FoleyEngine(EngineCore core, ModelBundle bundle, List<Backend> backends) {
    this.core = core;
    this.bundle = bundle;
    this.backends = backends;
    this.diagnostics = new Diagnostics(core);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Submits a request; returns at once. The listener (may be null) gets chunks as segments finish.
   * Never throws for a bad video or a closed engine: the job fails with the reason instead.
   */
  public FoleyJob submit(FoleyRequest request, FoleyListener listener) {
    return core.submit(Objects.requireNonNull(request, "request"), listener);
  }

  /** Submits a request without a listener. */
  public FoleyJob submit(FoleyRequest request) {
    return submit(request, null);
  }

  /** Runs a request and waits for it. @throws FoleyException if it fails */
  public FoleyResult generate(FoleyRequest request) {
    return submit(request).await();
  }

  /** The manifest of the loaded bundle (rates, sizes, sampler defaults). */
  public BundleManifest manifest() {
    return bundle.manifest();
  }

  /** The bundle this engine runs. */
  public ModelBundle bundle() {
    return bundle;
  }

  /** The backend of the first device (the only one unless {@link Builder#devices} gave several). */
  public Backend backend() {
    return backends.get(0);
  }

  /** Every device's backend, in the builder's order. */
  public List<Backend> backends() {
    return backends;
  }

  /** A snapshot of queues, batches, utilization and the autoscaling load score. */
  public EngineStats stats() {
    return core.stats();
  }

  /**
   * What build() spent: per-stage load and warm-up milliseconds, the build's total, and which stages
   * came from the CPU backend's optimized-model cache. Measured once; the same value every call.
   */
  public Readiness readiness() {
    return core.readiness();
  }

  /**
   * Rare operations for benchmarks and operators (backend time accounting), kept off the main
   * interface.
   */
  public Diagnostics diagnostics() {
    return diagnostics;
  }

  /** Measurements of an engine that most applications never need. */
  public static final class Diagnostics {
    private final EngineCore core;

    private Diagnostics(EngineCore core) {
      this.core = core;
    }

    /** Nanoseconds all stages spent inside the backend's runtime so far (for overhead accounting). */
    public long backendRuntimeNanos() {
      return core.runtimeNanos();
    }

    /** Backend calls made so far, all stages. */
    public long backendCalls() {
      return core.backendCalls();
    }
  }

  @Override
  public void close() {
    core.close();
  }

  /** Options of an engine. Each may be set once; {@link #build()} checks that a bundle was given. */
  public static final class Builder {
    private ModelBundle bundle;
    private List<Backend> backends;
    private int segmentsInFlight;
    private int maxSegmentsPerDevice;
    private long segmentMemoryBytes;
    private WarmUp warmUp;
    private String name;
    private VideoSourceFactory videoSources;
    private int maxConcurrentRequests;
    private int visualBatch;
    private int syncBatch;
    private Duration closeTimeout;
    private int maxBatchSize;
    private int decodeThreads;
    private Duration maxQueueDelay;
    private int[] preferredBatchSizes;
    private int maxQueuedRequests;
    private long memoryBudgetBytes;
    private double ratePerSecond;
    private int rateBurst;
    private int breakerThreshold;
    private Duration breakerOpen;
    private Ticker ticker;
    private FoleyEventListener eventListener;
    private TensorCache resultCache;
    private TensorCache featureCache;
    private Boolean singleFlight;
    private Duration maxVideoDuration;
    private long maxPicturePixels;

    private Builder() {}

    /**
     * Largest picture (width × height of the upright frames) a job's video may have; a larger one
     * fails with UNSUPPORTED_VIDEO when the video is opened, before any frame is decoded for the
     * model. Default {@link FoleyEngine#DEFAULT_MAX_PICTURE_PIXELS} (8192 × 8192, 67 Mpx: 8K UHD
     * fits). Each decoded frame is a copy on the heap (1.5 bytes per pixel) and a job holds up to 21
     * of them, which its memory need counts (docs/scheduling.md): the model sees frames of a few
     * hundred pixels, so a bigger source only costs memory.
     */
    public Builder maxPicturePixels(long pixels) {
      if (maxPicturePixels != 0) {
        throw new IllegalStateException("maxPicturePixels was already set to " + maxPicturePixels);
      }
      if (pixels <= 0) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "maxPicturePixels must be positive, was "
            + pixels);
      }
      this.maxPicturePixels = pixels;
      return this;
    }

    /**
     * Longest video a job may have; a longer one fails with UNSUPPORTED_VIDEO before anything is
     * decoded (the duration is the container's, checked against its last frame when opened).
     * Default: no limit beyond what one result array can hold (about 12 hours at 48 kHz).
     */
    public Builder maxVideoDuration(Duration max) {
      if (maxVideoDuration != null) {
        throw new IllegalStateException("maxVideoDuration was already set to " + maxVideoDuration);
      }
      Objects.requireNonNull(max, "max");
      if (max.isNegative() || max.isZero()) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "maxVideoDuration must be positive, was " + max);
      }
      this.maxVideoDuration = max;
      return this;
    }

    /**
     * Where whole results are kept: a request identical to an earlier one (same video bytes,
     * prompt, parameters and bundle) is answered from it without touching the backend.
     */
    public Builder resultCache(TensorCache cache) {
      if (resultCache != null) {
        throw new IllegalStateException("resultCache was already set to " + resultCache);
      }
      this.resultCache = Objects.requireNonNull(cache, "cache");
      return this;
    }

    /**
     * Where encoder outputs are kept per (video, segment): a request that changes only the prompt or
     * sampler settings skips decoding and visual/sync encoding.
     */
    public Builder featureCache(TensorCache cache) {
      if (featureCache != null) {
        throw new IllegalStateException("featureCache was already set to " + featureCache);
      }
      this.featureCache = Objects.requireNonNull(cache, "cache");
      return this;
    }

    /**
     * Whether identical requests in flight at the same time are computed once (each still gets
     * every chunk and the result). Default: on when a cache is set, otherwise off (keying a request
     * reads its video once more).
     */
    public Builder singleFlight(boolean enabled) {
      if (singleFlight != null) {
        throw new IllegalStateException("singleFlight was already set to " + singleFlight);
      }
      this.singleFlight = enabled;
      return this;
    }

    /**
     * Most work items per backend call (denoiser: segments per step, each a CFG pair); default 8.
     * 1 disables batching.
     */
    public Builder maxBatchSize(int n) {
      if (maxBatchSize != 0) {
        throw new IllegalStateException("maxBatchSize was already set to " + maxBatchSize);
      }
      if (n < 1 || n > 1024) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "maxBatchSize must be between 1 and 1024, was " + n);
      }
      this.maxBatchSize = n;
      return this;
    }

    /**
     * How long a batch smaller than maxBatchSize may wait for more items while some running job has
     * yet to submit its next one; default 2 ms.
     */
    public Builder maxQueueDelay(Duration delay) {
      if (maxQueueDelay != null) {
        throw new IllegalStateException("maxQueueDelay was already set to " + maxQueueDelay);
      }
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative() || delay.compareTo(Duration.ofSeconds(10)) > 0) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "maxQueueDelay must be between 0 and 10 s, was " + delay);
      }
      this.maxQueueDelay = delay;
      return this;
    }

    /** Batch sizes that run as soon as they are reached (Triton's preferred_batch_size). */
    public Builder preferredBatchSizes(int... sizes) {
      if (preferredBatchSizes != null) {
        throw new IllegalStateException("preferredBatchSizes was already set");
      }
      for (int size : Objects.requireNonNull(sizes, "sizes")) {
        if (size < 1) {
          throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "preferred batch sizes must be positive, got " + size);
        }
      }
      this.preferredBatchSizes = sizes.clone();
      return this;
    }

    /** Jobs that may wait to start; beyond it submit fails at once with REJECTED. Default 1024. */
    public Builder maxQueuedRequests(int n) {
      if (maxQueuedRequests != 0) {
        throw new IllegalStateException("maxQueuedRequests was already set to " + maxQueuedRequests);
      }
      if (n < 1) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "maxQueuedRequests must be at least 1, was " + n);
      }
      this.maxQueuedRequests = n;
      return this;
    }

    /**
     * Bytes of frames, activations and audio that running jobs may hold together (estimated from
     * the bundle's shapes and each video's length); a job waits for room, and one that can never
     * fit fails with REJECTED. Default: half the JVM's maximum heap.
     */
    public Builder memoryBudgetBytes(long bytes) {
      if (memoryBudgetBytes != 0) {
        throw new IllegalStateException("memoryBudgetBytes was already set to " + memoryBudgetBytes);
      }
      if (bytes < 1) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "memoryBudgetBytes must be positive, was " + bytes);
      }
      this.memoryBudgetBytes = bytes;
      return this;
    }

    /** A token bucket per {@link FoleyRequest#clientId()} (requests without one share a bucket). */
    public Builder rateLimit(double requestsPerSecond, int burst) {
      if (ratePerSecond != 0) {
        throw new IllegalStateException("rateLimit was already set to " + ratePerSecond + "/s");
      }
      if (!(requestsPerSecond > 0) || Double.isInfinite(requestsPerSecond) || burst < 1) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "rateLimit needs a positive rate and a burst of at least 1, was "
            + requestsPerSecond + ", " + burst);
      }
      this.ratePerSecond = requestsPerSecond;
      this.rateBurst = burst;
      return this;
    }

    /**
     * Opens the circuit breaker after {@code consecutiveFailures} failed backend calls and keeps it
     * open for {@code openFor} before a probe; default 5 failures, 10 s.
     */
    public Builder circuitBreaker(int consecutiveFailures, Duration openFor) {
      if (breakerThreshold != 0) {
        throw new IllegalStateException("circuitBreaker was already set");
      }
      Objects.requireNonNull(openFor, "openFor");
      if (consecutiveFailures < 1 || openFor.isNegative()) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "circuitBreaker needs at least 1 failure and a non-negative duration");
      }
      this.breakerThreshold = consecutiveFailures;
      this.breakerOpen = openFor;
      return this;
    }

    /** The clock for deadlines, queue delays, the breaker and rate limits (tests move it by hand). */
    public Builder ticker(Ticker ticker) {
      if (this.ticker != null) {
        throw new IllegalStateException("ticker was already set");
      }
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /** Receives start/end events of every job's queue wait and backend calls. */
    public Builder eventListener(FoleyEventListener listener) {
      if (this.eventListener != null) {
        throw new IllegalStateException("eventListener was already set");
      }
      this.eventListener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** The model to run (required). The engine does not close it. */
    public Builder bundle(ModelBundle bundle) {
      if (this.bundle != null) {
        throw new IllegalStateException("bundle was already set to " + this.bundle);
      }
      this.bundle = Objects.requireNonNull(bundle, "bundle");
      return this;
    }

    /** Where the stages run; default {@link Backends#cpu()}. The same as {@code devices(backend)}. */
    public Builder backend(Backend backend) {
      return devices(List.of(Objects.requireNonNull(backend, "backend")));
    }

    /** Several devices: see {@link #devices(List)}. */
    public Builder devices(Backend... backends) {
      return devices(List.of(Objects.requireNonNull(backends, "backends")));
    }

    /**
     * Runs the model on several devices, one backend each (for example one {@code CudaBackend} per
     * GPU): every device loads every stage and has its own device worker, which batches the work
     * placed on it. A job's text and encoder calls run on the least-loaded device when it starts;
     * each of its segments runs on the least-loaded device with room for it (docs/scheduling.md,
     * "Several devices"). A device whose backend reports its free memory takes segments within
     * 90 % of what was free after loading.
     */
    public Builder devices(List<Backend> backends) {
      if (this.backends != null) {
        throw new IllegalStateException("the backend was already set to " + this.backends);
      }
      Objects.requireNonNull(backends, "backends");
      if (backends.isEmpty() || backends.size() > 64) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "devices needs 1 to 64 backends, got "
            + backends.size());
      }
      for (Backend b : backends) {
        Objects.requireNonNull(b, "backends contains null");
      }
      this.backends = List.copyOf(backends);
      return this;
    }

    /**
     * Segments of one job that may run at once (each on the least-loaded device with room), so a
     * long video fills the devices by itself; default 4. Earlier segments still go first and chunks
     * come in order. A job uses fewer when it has fewer segments, when the devices have no room
     * for more, or when the memory budget holds fewer. 1 runs a job's segments one after another
     * (the lowest latency to its first chunk when the device is shared).
     */
    public Builder segmentsInFlight(int k) {
      if (segmentsInFlight != 0) {
        throw new IllegalStateException("segmentsInFlight was already set to " + segmentsInFlight);
      }
      if (k < 1 || k > 64) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "segmentsInFlight must be between 1 and 64, was " + k);
      }
      this.segmentsInFlight = k;
      return this;
    }

    /**
     * Most segments in flight on one device, all jobs together (its concurrency); default no limit
     * beyond its memory. A device that reports its free memory takes no more than fit in it.
     */
    public Builder maxSegmentsPerDevice(int n) {
      if (maxSegmentsPerDevice != 0) {
        throw new IllegalStateException("maxSegmentsPerDevice was already set to " + maxSegmentsPerDevice);
      }
      if (n < 1) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "maxSegmentsPerDevice must be at least 1, was " + n);
      }
      this.maxSegmentsPerDevice = n;
      return this;
    }

    /**
     * Device memory one segment of the trained length holds while in flight (activations,
     * inputs, outputs; not the weights), as measured on the target GPU; other lengths scale with
     * their latents. Default: an estimate from the bundle's shapes (the denoiser call's inputs and
     * output × 16), which knows nothing of the network's width: measure and set it for a real model.
     */
    public Builder segmentMemoryBytes(long bytes) {
      if (segmentMemoryBytes != 0) {
        throw new IllegalStateException("segmentMemoryBytes was already set to " + segmentMemoryBytes);
      }
      if (bytes < 1) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "segmentMemoryBytes must be positive, was " + bytes);
      }
      this.segmentMemoryBytes = bytes;
      return this;
    }

    /** What build() runs through the stages first; default {@link WarmUp#TRAINED_SHAPE}. */
    public Builder warmUp(WarmUp mode) {
      if (warmUp != null) {
        throw new IllegalStateException("warmUp was already set to " + warmUp);
      }
      this.warmUp = Objects.requireNonNull(mode, "mode");
      return this;
    }

    boolean hasName() {
      return name != null;
    }

    /** Name used in thread names ({@code foley-<name>-request-0}); default "engine-N". */
    public Builder name(String name) {
      if (this.name != null) {
        throw new IllegalStateException("name was already set to " + this.name);
      }
      Objects.requireNonNull(name, "name");
      if (!name.matches("[A-Za-z0-9._-]{1,40}")) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "name must be 1-40 characters of A-Z a-z 0-9 . _ -, was \"" + name + "\"");
      }
      this.name = name;
      return this;
    }

    /**
     * How videos are opened; default {@link VideoSources#auto()}: FFmpeg when foley-ffmpeg is on
     * the class path and its natives load, else foley-jcodec's (H.264 in MP4/MOV, pure Java).
     */
    public Builder videoSources(VideoSourceFactory factory) {
      if (this.videoSources != null) {
        throw new IllegalStateException("videoSources was already set");
      }
      this.videoSources = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /** Jobs that run at once (each decodes on its own thread); default 2. More wait in order. */
    public Builder maxConcurrentRequests(int n) {
      if (maxConcurrentRequests != 0) {
        throw new IllegalStateException("maxConcurrentRequests was already set to " + maxConcurrentRequests);
      }
      if (n < 1 || n > 1024) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "maxConcurrentRequests must be between 1 and 1024, was " + n);
      }
      this.maxConcurrentRequests = n;
      return this;
    }

    /**
     * Threads that decode and resize video frames, shared by all jobs; default: the number of
     * processors. More jobs than this decode in turn.
     */
    public Builder decodeThreads(int n) {
      if (decodeThreads != 0) {
        throw new IllegalStateException("decodeThreads was already set to " + decodeThreads);
      }
      if (n < 1 || n > 256) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "decodeThreads must be between 1 and 256, was " + n);
      }
      this.decodeThreads = n;
      return this;
    }

    /** Frames per visual-encoder call (default 8) and windows per sync-encoder call (default 2). */
    public Builder encoderBatch(int visualFrames, int syncWindows) {
      if (visualBatch != 0) {
        throw new IllegalStateException("encoderBatch was already set to " + visualBatch + ", " + syncBatch);
      }
      if (visualFrames < 1 || visualFrames > 256 || syncWindows < 1 || syncWindows > 64) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "encoderBatch must be 1..256 visual frames and 1..64 sync windows, was "
            + visualFrames + ", " + syncWindows);
      }
      this.visualBatch = visualFrames;
      this.syncBatch = syncWindows;
      return this;
    }

    /** How long {@link FoleyEngine#close()} lets submitted jobs finish; default 30 s. */
    public Builder closeTimeout(Duration timeout) {
      if (closeTimeout != null) {
        throw new IllegalStateException("closeTimeout was already set to " + closeTimeout);
      }
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative()) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "closeTimeout must not be negative, was " + timeout);
      }
      this.closeTimeout = timeout;
      return this;
    }

    /**
     * Loads and warms up every stage. Does not change this builder; it may build again.
     *
     * @throws IllegalStateException if no bundle was set
     * @throws FoleyException if a stage cannot be loaded or does not match the manifest
     */
    public FoleyEngine build() {
      long start = System.nanoTime();
      if (bundle == null) {
        throw new IllegalStateException("a bundle is required: builder().bundle(ModelBundle.open(path)) or ReferenceModel.bundle()");
      }
      List<Backend> b = backends != null ? backends : List.of(Backends.cpu());
      EngineCore.Config cfg = new EngineCore.Config(
          name != null ? name : "engine-" + ENGINES.incrementAndGet(),
          bundle, b,
          videoSources != null ? videoSources : VideoSources.auto(),
          maxConcurrentRequests != 0 ? maxConcurrentRequests : 2,
          visualBatch != 0 ? visualBatch : 8,
          syncBatch != 0 ? syncBatch : 2,
          closeTimeout != null ? closeTimeout : Duration.ofSeconds(30),
          new BatchPolicy(maxBatchSize != 0 ? maxBatchSize : 8,
              (maxQueueDelay != null ? maxQueueDelay : Duration.ofMillis(2)).toNanos(), preferredBatchSizes),
          decodeThreads != 0 ? decodeThreads : Runtime.getRuntime().availableProcessors(),
          maxQueuedRequests != 0 ? maxQueuedRequests : 1024,
          memoryBudgetBytes != 0 ? memoryBudgetBytes : Runtime.getRuntime().maxMemory() / 2,
          ratePerSecond, rateBurst,
          breakerThreshold != 0 ? breakerThreshold : 5,
          breakerOpen != null ? breakerOpen : Duration.ofSeconds(10),
          ticker != null ? ticker : Ticker.system(),
          eventListener != null ? eventListener : new FoleyEventListener() {},
          resultCache, featureCache,
          singleFlight != null ? singleFlight : resultCache != null || featureCache != null,
          maxVideoDuration != null ? maxVideoDuration : Duration.ofSeconds(Long.MAX_VALUE / 1_000_000_000L),
          segmentsInFlight != 0 ? segmentsInFlight : 4,
          maxSegmentsPerDevice != 0 ? maxSegmentsPerDevice : Integer.MAX_VALUE,
          segmentMemoryBytes,
          warmUp != null ? warmUp : WarmUp.TRAINED_SHAPE,
          maxPicturePixels != 0 ? maxPicturePixels : DEFAULT_MAX_PICTURE_PIXELS);
      return new FoleyEngine(new EngineCore(cfg, start), bundle, b);
    }
  }
}
