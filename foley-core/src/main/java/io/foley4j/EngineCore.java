package io.foley4j;

import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Backend;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Safetensors;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageContract;
import io.foley4j.bundle.TensorSpec;
import io.foley4j.cache.TensorCache;
import io.foley4j.text.Tokenizer;
import io.foley4j.video.VideoSourceFactory;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine behind {@link io.foley4j.FoleyEngine}: it builds (opens and warms up every device,
 * makes the {@link PipelineConfig} and the pools), hands each job to {@link Admission}, reports
 * statistics and closes. Who starts next is {@link Admission}'s; a job's work is {@link
 * RequestRun}'s; identical jobs meet in {@link Flights}. Internal; not part of the API.
 */
final class EngineCore implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("io.foley4j.pipeline");

  /** Everything the builder decided. */
  record Config(String name, ModelBundle bundle, List<Backend> backends, VideoSourceFactory videoSources,
      int maxConcurrentRequests, int visualBatch, int syncBatch, Duration closeTimeout, BatchPolicy batchPolicy,
      int decodeThreads, int maxQueuedRequests, long memoryBudgetBytes, double ratePerSecond, int rateBurst, int breakerThreshold,
      Duration breakerOpen, Ticker ticker, FoleyEventListener events, TensorCache resultCache,
      TensorCache featureCache, boolean singleFlight, Duration maxVideoDuration, int segmentsInFlight,
      int maxSegmentsPerDevice, long segmentMemoryBytes, WarmUp warmUp, long maxPicturePixels) {}

  private final Config config;
  private final BundleManifest manifest;
  private final Devices devices;
  private final PipelineConfig pipeline;
  private final ThreadPoolExecutor requests;
  private final ThreadPoolExecutor decode;
  private final ThreadPoolExecutor feeders;
  private final ThreadPoolExecutor segments;
  private final ScheduledThreadPoolExecutor timer;
  private final AtomicLong ids = new AtomicLong();
  private final StopSignal stop = new StopSignal();
  private final Set<Job> live = ConcurrentHashMap.newKeySet();
  private final Admission admission;
  private final Flights flights = new Flights();
  private final RequestRun.Context context;
  private final LoadMonitor load = new LoadMonitor();
  private final Set<Thread> ownThreads = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
  private final Readiness readiness;

  /** Loads every stage, checks it against the manifest and warms it up; ready when it returns. */
  EngineCore(Config config) {
    this(config, System.nanoTime());
  }

  /** As above; {@code buildStartNanos} is when build() began, for the readiness report. */
  EngineCore(Config config, long buildStartNanos) {
    this.config = config;
    this.pipeline = PipelineConfig.of(config);
    this.manifest = pipeline.manifest();
    List<OpenedDevice> opened = openDevices();
    List<Readiness.DeviceReadiness> ready = opened.stream().map(OpenedDevice::readiness).toList();
    this.devices = new Devices(opened.stream().map(OpenedDevice::device).toList());
    // Admission decides what starts; the pool only runs it (a task queues here only for the moment
    // between a job giving back its slot and its thread finishing).
    this.requests = new ThreadPoolExecutor(config.maxConcurrentRequests(), config.maxConcurrentRequests(), 0,
        TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), threads("request"));
    // Decoding is CPU work: a few threads, so it never crowds out the backend; jobs beyond wait their
    // turn. Each running job also has a feeder task that hands its frames to the scheduler (it mostly
    // waits), on a pool as large as the number of jobs that may run, so it can never starve.
    this.decode = new ThreadPoolExecutor(config.decodeThreads(), config.decodeThreads(), 0,
        TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), threads("decode"));
    this.feeders = new ThreadPoolExecutor(config.maxConcurrentRequests(), config.maxConcurrentRequests(), 0,
        TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), threads("feeder"));
    // A job with several segments in flight runs each on a thread of its own (they mostly wait for the
    // device); as many as the running jobs may have, created when needed and dropped when idle.
    int segmentThreads = Math.multiplyExact(config.maxConcurrentRequests(), config.segmentsInFlight());
    this.segments = new ThreadPoolExecutor(segmentThreads, segmentThreads, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), threads("segment"));
    segments.allowCoreThreadTimeOut(true);
    // wakes admission at the deadline of a waiting job; its one thread starts on first use
    this.timer = new ScheduledThreadPoolExecutor(1, threads("timer"));
    timer.setRemoveOnCancelPolicy(true);
    timer.setKeepAliveTime(30, TimeUnit.SECONDS);
    timer.allowCoreThreadTimeOut(true);
    this.admission = new Admission(config.name(), new Admission.Limits(config.maxConcurrentRequests(),
        config.memoryBudgetBytes(), config.maxQueuedRequests(), config.ratePerSecond(), config.rateBurst()),
        config.ticker(), requests, timer, this::breakerOpen, stop);
    this.context = new RequestRun.Context(pipeline, admission, flights, devices, stop, decode, feeders, segments,
        config.events());
    try {
      double requestWarmUp = config.warmUp() == WarmUp.FULL ? warmUpRequest() : 0;
      this.readiness = new Readiness((System.nanoTime() - buildStartNanos) / 1e6, ready, heapUsed(), requestWarmUp);
    } catch (RuntimeException | Error e) { // nothing may outlive a failed build: pools, device threads, sessions
      close();
      throw e;
    }
  }

  /**
   * {@link WarmUp#FULL}'s request: a synthetic clip of one and a half segments through the whole
   * pipeline; its milliseconds, or 0 if it failed (logged). The engine is complete but for its
   * readiness report when this runs. The clip's frames come from memory ({@link
   * io.foley4j.video.SyntheticVideo#asFactory()}, no container or decoder): this one job runs with
   * a copy of the pipeline configuration whose video source is that clip; like every warm-up job
   * it uses no cache. The engine's decoder is warmed up first, on its own ({@link
   * VideoSourceFactory#warmUp()}).
   */
  static final Duration WARM_UP_DEADLINE = Duration.ofMinutes(10);

  private double warmUpRequest() {
    long t0 = System.nanoTime();
    try {
      config.videoSources().warmUp(); // the decoder, which the request below does not reach
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "engine " + config.name() + ": the video decoder's warm-up failed; the"
          + " first request will pay for it instead: " + e, e);
    }
    try {
      double seconds = Math.min(1.5 * manifest.segment().seconds(), config.maxVideoDuration().toMillis() / 1000.0);
      VideoSourceFactory clip = io.foley4j.video.SyntheticVideo.builder().size(160, 120).fps(25, 1)
          .durationSeconds(seconds).flash(seconds / 3, 0.12, 0xFFFFFF).movingSquare(0, seconds, 0xFF0000).build()
          .asFactory();
      // a request from memory (its one byte is not read: the synthetic factory ignores its input), with a
      // deadline, so that nothing can hang build()
      FoleyRequest req = FoleyRequest.builder(new byte[1]).prompt("footsteps, a door closing").steps(2).seed(0)
          .deadline(WARM_UP_DEADLINE).build();
      submit(req, null, context.withVideoSources(clip)).await();
      return (System.nanoTime() - t0) / 1e6;
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "engine " + config.name() + ": the warm-up request failed; the first request"
          + " will pay for it instead: " + e, e);
      return 0;
    }
  }

  private record OpenedDevice(Devices.Device device, Readiness.DeviceReadiness readiness) {}

  /**
   * Opens every device, in parallel when there are several (one short-lived thread each, {@code
   * foley-<engine>-open-N}, each loading its stages in parallel too). Either all open or none stays
   * open: after a failure the others are waited for and closed, and the first failure is thrown as
   * it was; an interrupt does the same and throws CANCELLED.
   */
  private List<OpenedDevice> openDevices() {
    List<Backend> backends = config.backends();
    if (backends.size() == 1) {
      return List.of(openDevice(0, backends.get(0)));
    }
    AtomicInteger n = new AtomicInteger();
    ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(backends.size(), r -> {
      Thread t = new Thread(r, "foley-" + config.name() + "-open-" + n.getAndIncrement());
      t.setDaemon(true);
      return t;
    });
    List<java.util.concurrent.Future<OpenedDevice>> futures = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < backends.size(); i++) {
        int index = i;
        futures.add(pool.submit(() -> openDevice(index, backends.get(index))));
      }
    } finally {
      pool.shutdown(); // the tasks run on; no new ones
    }
    List<OpenedDevice> opened = new java.util.ArrayList<>();
    Throwable first = null;
    boolean interrupted = false;
    for (java.util.concurrent.Future<OpenedDevice> f : futures) {
      while (true) {
        try {
          opened.add(f.get());
          break;
        } catch (InterruptedException e) {
          interrupted = true; // wait on: a device still opening must be closed, not leaked
        } catch (java.util.concurrent.ExecutionException e) {
          first = first == null ? e.getCause() : first;
          break;
        }
      }
    }
    if (first == null && !interrupted) {
      return opened;
    }
    for (OpenedDevice d : opened) {
      d.device().scheduler.close();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
      if (first == null) {
        throw new FoleyException(FoleyException.Code.CANCELLED, "interrupted while the devices were loading; every"
            + " device that opened was closed");
      }
    }
    if (first instanceof RuntimeException r) {
      throw r;
    }
    if (first instanceof Error err) {
      throw err;
    }
    throw new FoleyException(FoleyException.Code.INTERNAL, "opening a device failed: " + first, first);
  }

  /**
   * Opens, checks and warms up every stage on backend {@code i}, asks it for its free memory and
   * starts its scheduler; closes what it opened if anything fails.
   */
  private OpenedDevice openDevice(int i, Backend backend) {
    ModelBundle bundle = config.bundle();
    Map<Stage, Long> loadNanos = new EnumMap<>(Stage.class);
    Map<Stage, Long> warmNanos = new EnumMap<>(Stage.class);
    Map<Stage, List<Integer>> warmed = new EnumMap<>(Stage.class);
    String loader = config.backends().size() == 1 ? config.name() : config.name() + "-d" + i;
    Map<Stage, StageSession> sessions = StageLoader.openAll(loader, backend, bundle, loadNanos);
    long free;
    long budget;
    int capacity;
    long perSegment;
    Readiness.DeviceReadiness readiness;
    try {
      warmUp(sessions, warmNanos, warmed);
      free = freeMemory(backend);
      budget = free < 0 ? -1 : (long) (free * Devices.MEMORY_FRACTION);
      perSegment = Devices.segmentBytes(manifest, new SegmentPlan(manifest, manifest.segment().decodedSamples()).largest(), 2,
          config.segmentMemoryBytes());
      capacity = config.maxSegmentsPerDevice();
      if (budget >= 0) {
        capacity = (int) Math.min(capacity, budget / perSegment);
      }
      // before the scheduler starts: the sessions' own cache reports are a backend's code and may throw
      readiness = Readiness.device(i, backend.name(), loadNanos, warmNanos, warmed, sessions, bundle, free,
          capacity == Integer.MAX_VALUE ? -1 : capacity);
    } catch (RuntimeException | Error e) {
      sessions.values().forEach(StageSession::close);
      throw e;
    }
    if (capacity == 0) {
      LOG.log(System.Logger.Level.WARNING, String.format(java.util.Locale.ROOT, "device %d (%s) has %.1f MiB free after"
          + " loading, less than one segment's estimated %.1f MiB: it will run no segments", i, backend.name(),
          free / 1048576.0, perSegment / 1048576.0));
    }
    CircuitBreaker breaker = new CircuitBreaker(config.breakerThreshold(), config.breakerOpen().toNanos(),
        config.ticker());
    DeviceScheduler scheduler = new DeviceScheduler("foley-" + config.name() + "-device-" + i, sessions,
        config.batchPolicy(), config.ticker(), breaker);
    return new OpenedDevice(new Devices.Device(i, backend.name(), scheduler, free, budget, capacity), readiness);
  }

  /** The backend's free memory, -1 if it reports none (or its report fails: then it is logged). */
  private static long freeMemory(Backend backend) {
    try {
      java.util.OptionalLong free = backend.freeMemoryBytes();
      return free.isPresent() ? Math.max(0, free.getAsLong()) : -1;
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "backend " + backend.name() + " failed to report its free memory; admitting"
          + " segments to it without a memory budget", e);
      return -1;
    }
  }

  private static long heapUsed() {
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }

  /** How long build() took, per stage, and what came from the optimized-model cache. */
  Readiness readiness() {
    return readiness;
  }

  /**
   * Calls every stage with zeros before the first request, so it does not pay for lazy
   * initialisation (docs/tuning.md, "Cold start"). {@link WarmUp#TRAINED_SHAPE}: one call per
   * stage at a request's batch (a CFG pair for the denoiser, the configured frames or windows for
   * the encoders). {@link WarmUp#BATCH_BUCKETS}: for the denoiser and the VAE decoder also every
   * batch the scheduler can form (its preferred sizes, else 1 to the largest), since runtimes
   * plan memory, pick kernels or build engines per shape.
   */
  private void warmUp(Map<Stage, StageSession> sessions, Map<Stage, Long> warmNanos,
      Map<Stage, List<Integer>> warmed) {
    if (config.warmUp() == WarmUp.NONE) {
      return;
    }
    for (Stage s : Stage.values()) {
      long t0 = System.nanoTime();
      // The batch a request's item has: a CFG pair for the denoiser, an encoder item of the configured
      // frames or windows (ONNX Runtime plans memory per shape, so warming another one helps less).
      int item = switch (s) {
        case DENOISER -> 2;
        case VISUAL_ENCODER -> config.visualBatch();
        case SYNC_ENCODER -> config.syncBatch();
        default -> 1;
      };
      List<Integer> batches = new java.util.ArrayList<>(List.of(item));
      if (config.warmUp().compareTo(WarmUp.BATCH_BUCKETS) >= 0 && (s == Stage.DENOISER || s == Stage.VAE_DECODER)) {
        for (int n : config.batchPolicy().buckets()) {
          if (n > 1) {
            batches.add(n * item);
          }
        }
      }
      for (int batch : batches) {
        sessions.get(s).run(zeros(s, batch));
      }
      warmNanos.put(s, System.nanoTime() - t0);
      warmed.put(s, List.copyOf(batches));
    }
  }

  /** Zero inputs of stage {@code s} for {@code batch} rows at the trained segment's lengths. */
  private Map<String, Tensor> zeros(Stage s, int batch) {
    Map<String, Tensor> in = new HashMap<>();
    for (TensorSpec t : manifest.stage(s).inputs()) {
      long[] shape = t.shape();
      shape[0] = batch;
      long n = 1;
      for (int d = 0; d < shape.length; d++) {
        if (shape[d] < 0) { // a symbolic length: the trained segment's
          shape[d] = trainedLength(t.name(), d);
        }
        n *= shape[d];
      }
      int size = Math.toIntExact(n);
      in.put(t.name(), t.dtype().equals("int64") ? Tensor.ofLongs(new long[size], shape) : Tensor.of(new float[size], shape));
    }
    return in;
  }

  /** A symbolic dimension {@code d} of input {@code name} at the trained segment's size. */
  private long trainedLength(String name, int d) {
    return switch (name) {
      case StageContract.Denoiser.LATENTS -> manifest.segment().latents(); // the VAE's input has the same name
      case StageContract.Denoiser.VISUAL -> manifest.segment().visualFrames();
      case StageContract.Denoiser.SYNC -> manifest.segment().syncTokens();
      case StageContract.Denoiser.TEXT, StageContract.Text.INPUT_IDS, StageContract.Text.ATTENTION_MASK ->
          manifest.text().maxTokens();
      default -> 1; // a symbolic dimension no stage input of the format has
    };
  }

  private ThreadFactory threads(String role) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(() -> {
        try {
          r.run();
        } finally {
          ownThreads.remove(Thread.currentThread()); // pools that drop idle threads must not grow this set
        }
      }, "foley-" + config.name() + "-" + role + "-" + n.getAndIncrement());
      t.setDaemon(true);
      ownThreads.add(t);
      return t;
    };
  }

  /** Whether {@code t} is one of this engine's threads (pools or device worker). */
  private boolean isOwnThread(Thread t) {
    if (ownThreads.contains(t)) {
      return true;
    }
    for (Devices.Device d : devices.all()) {
      if (d.scheduler.isWorker(t)) {
        return true;
      }
    }
    return false;
  }

  // ---- submission ------------------------------------------------------------------------------

  FoleyJob submit(FoleyRequest request, FoleyListener listener) {
    return submit(request, listener, null);
  }

  /** @param warmUp the context of the engine's own warm-up request, null for a host's request */
  private FoleyJob submit(FoleyRequest request, FoleyListener listener, RequestRun.Context warmUp) {
    boolean isWarmUp = warmUp != null;
    Objects.requireNonNull(request, "request");
    Job job = new Job(ids.incrementAndGet(), request, listener, config.ticker(), isWarmUp);
    FoleyException refused = badVideoPath(request);
    if (refused == null) {
      refused = admission.refuse(request, isWarmUp);
      if (refused != null) {
        request.input().unclaim(); // refused before reading: the same request may be submitted again
      }
    }
    if (refused != null) {
      job.fail(refused);
      return job;
    }
    live.add(job);
    guard(() -> context.events(job).queueStart(job.id()));
    job.whenDone(() -> {
      live.remove(job);
      job.releaseVideo(); // a video from memory is held only while its job runs
      admission.promote(); // a job that left while waiting frees its place at once
      if (job.failedOrCancelled()) {
        for (Devices.Device d : devices.all()) {
          d.scheduler.ownerStopped(); // a cancelled job may be all that a running call is for
        }
      }
    });
    admission.enqueue(new RequestRun(isWarmUp ? warmUp : context, job, false));
    return job;
  }

  /**
   * A video that is not a regular file (a pipe, device, directory) or is missing is refused before
   * anything could block on it: reading a FIFO with no writer never returns, and no cancel can
   * interrupt that read.
   */
  private static FoleyException badVideoPath(FoleyRequest request) {
    if (request.videoInMemory()) {
      return request.input().claim(); // a stream is read once: a second submission is refused
    }
    try {
      io.foley4j.video.VideoSources.requireRegularFile(request.video());
      return null;
    } catch (FoleyException e) {
      return e;
    }
  }

  /** Why work is refused now because every device's breaker is open, or null. */
  private FoleyException breakerOpen() {
    long probeIn = Long.MAX_VALUE; // while every device's breaker is open: the soonest probe
    for (Devices.Device d : devices.all()) {
      CircuitBreaker b = d.scheduler.breaker();
      probeIn = b.isRejecting() ? Math.min(probeIn, b.nanosUntilProbe()) : -1;
      if (probeIn < 0) {
        return null;
      }
    }
    return new FoleyException(FoleyException.Code.REJECTED, "engine " + config.name()
        + " is rejecting work: its circuit breaker opened after repeated backend failures"
        + (devices.all().size() > 1 ? " on every device" : "") + "; retry in "
        + Math.max(1, probeIn / 1_000_000) + " ms");
  }

  /** Calls the event listener (user code): contained, and never under a foley4j lock. */
  static void guard(Runnable r) {
    UserCode.run("event listener", r);
  }

  // ---- statistics -------------------------------------------------------------------------------

  long backendCalls() {
    long n = 0;
    for (Devices.Device d : devices.all()) {
      for (Stage s : Stage.values()) {
        n += d.scheduler.calls(s);
      }
    }
    return n;
  }

  /** Nanoseconds spent inside the runtime by all stages so far. */
  long runtimeNanos() {
    long n = 0;
    for (Devices.Device d : devices.all()) {
      n += d.scheduler.runtimeNanos();
    }
    return n;
  }

  /** A snapshot of the engine's load. */
  EngineStats stats() {
    Map<Priority, Integer> q = admission.queued();
    Map<Stage, long[]> hist = new EnumMap<>(Stage.class);
    Map<Stage, Long> busy = new EnumMap<>(Stage.class);
    Map<Stage, Integer> items = new EnumMap<>(Stage.class);
    long busyAll = 0;
    int inFlight = 0;
    for (Stage s : Stage.values()) {
      long[] h = new long[config.batchPolicy().maxBatchSize() + 1];
      long b = 0;
      for (Devices.Device d : devices.all()) {
        long[] dh = d.scheduler.histogram(s);
        for (int i = 0; i < h.length; i++) {
          h[i] += dh[i];
        }
        b += d.scheduler.busyNanos(s);
      }
      hist.put(s, h);
      busy.put(s, b);
      items.put(s, 0);
      busyAll += b;
    }
    EngineStats.BreakerState breaker = EngineStats.BreakerState.OPEN;
    for (Devices.Device d : devices.all()) {
      inFlight += d.scheduler.parties(Stage.DENOISER);
      d.scheduler.queued().forEach((s, n) -> items.merge(s, n, Integer::sum));
      EngineStats.BreakerState state = d.scheduler.breaker().state();
      if (openness(state) < openness(breaker)) { // the engine's is its least open device's
        breaker = state;
      }
    }
    busyAll /= devices.all().size(); // utilization of the devices together, in [0, 1]
    long mem = admission.memoryInUse();
    int waiting = admission.queuedTotal();
    double[] scored = load.update(System.nanoTime(), busyAll, mem / (double) config.memoryBudgetBytes(),
        waiting / (double) config.maxQueuedRequests());
    double score = scored[1];
    EngineStats.ScaleAdvice advice = score > 0.8 ? EngineStats.ScaleAdvice.SCALE_UP
        : score < 0.3 ? EngineStats.ScaleAdvice.SCALE_DOWN : EngineStats.ScaleAdvice.HOLD;
    return new EngineStats(q, admission.running(), inFlight, items, hist, busy, scored[0], mem, config.memoryBudgetBytes(),
        score, advice, breaker, devices.stats(System.nanoTime()));
  }

  private static int openness(EngineStats.BreakerState s) {
    return switch (s) {
      case CLOSED -> 0;
      case HALF_OPEN -> 1;
      case OPEN -> 2;
    };
  }

  /**
   * Stops accepting jobs, lets running and queued jobs finish within the close timeout, then fails
   * what is left with CLOSED, stops all threads and releases the sessions. Idempotent.
   *
   * <p>An interrupt neither cuts the close short nor skips freeing native memory: the waits go on
   * uninterrupted and the flag is restored afterwards. Called from one of the engine's own threads
   * (a listener that closes the engine), the close cannot wait for that thread: it fails the jobs
   * and hands the rest to a closer thread, which ends once every engine thread has stopped and the
   * sessions are freed.
   */
  @Override
  public void close() {
    boolean own = isOwnThread(Thread.currentThread());
    if (!stop.close()) {
      if (!own) {
        awaitClosed(); // a second close returns only once the first has freed everything
      }
      return;
    }
    if (own) {
      stop.abort();
      try {
        failLive("engine " + config.name() + " was closed from one of its own callbacks");
      } finally {
        Thread closer = new Thread(this::shutdown, "foley-" + config.name() + "-closer");
        closer.setDaemon(true);
        closer.start();
      }
      return;
    }
    boolean interrupted = Thread.interrupted();
    try {
      shutdown();
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Waits, through interrupts (restored after), until the shutdown has freed everything. */
  private void awaitClosed() {
    boolean interrupted = false;
    while (true) {
      try {
        closed.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void shutdown() {
    boolean[] interrupted = {false};
    try {
      // queued and running jobs may finish within the close timeout; admission keeps starting them
      if (!admission.awaitIdle(config.closeTimeout().toNanos(), interrupted)) {
        stop.abort();
        failLive("engine " + config.name() + " closed before the job finished (close timeout "
            + config.closeTimeout() + ")");
      }
      admission.drain(admission.closedError()); // jobs still waiting will not start
      requests.shutdown();
      interrupted[0] |= !awaitUninterruptibly(requests, TimeUnit.MINUTES.toNanos(1));
      if (!requests.isTerminated()) {
        LOG.log(System.Logger.Level.WARNING, "request threads of engine " + config.name() + " did not stop in time");
      }
      timer.shutdownNow();
      for (ThreadPoolExecutor pool : List.of(segments, decode, feeders)) {
        pool.shutdown();
        interrupted[0] |= !awaitUninterruptibly(pool, TimeUnit.MINUTES.toNanos(1));
        if (!pool.isTerminated()) {
          for (Runnable never : pool.shutdownNow()) { // tasks that will not start: free what they own
            if (never instanceof FeatureExtractor.Producer p) {
              UserCode.run("closing a video source", p::discard);
            } else if (never instanceof java.util.concurrent.Future<?> f) {
              f.cancel(false); // a segment that never started: its job's thread waits for it and must see it end
            }
          }
          LOG.log(System.Logger.Level.WARNING, "threads of engine " + config.name() + " did not stop in time");
        }
      }
    } finally {
      try {
        failLive("engine " + config.name() + " closed");
      } finally {
        try {
          devices.close(); // frees the sessions; waits uninterrupted for each device thread
        } finally {
          closed.countDown();
          if (interrupted[0]) {
            Thread.currentThread().interrupt();
          }
        }
      }
    }
  }

  /**
   * Fails every live job with CLOSED. Callbacks are contained by the job itself; only the test
   * build's lock-rule assertion can come out, and the callers free the sessions in a finally.
   */
  private void failLive(String why) {
    for (Job j : List.copyOf(live)) {
      j.fail(new FoleyException(FoleyException.Code.CLOSED, why + " (job " + j.id() + ")"));
    }
  }

  /** Waits up to {@code nanos} for the pool to end, through interrupts; false if one came. */
  private static boolean awaitUninterruptibly(ThreadPoolExecutor pool, long nanos) {
    boolean interrupted = false;
    long deadline = System.nanoTime() + nanos;
    while (true) {
      try {
        pool.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        return !interrupted;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
  }

  /**
   * The load score: weighted utilization, memory and queue fill, exponentially smoothed.
   * It advances at most once per {@link #WINDOW_NANOS}: snapshots taken more often (several
   * pollers) see the current window's values and do not shorten it.
   */
  static final class LoadMonitor {
    static final long WINDOW_NANOS = 1_000_000_000L;
    private long lastNanos = -1;
    private long lastBusy;
    private double util;
    private double smoothed;

    synchronized double[] update(long now, long busy, double memory, double queue) {
      assert LockOrder.taken(this);
      if (lastNanos < 0) {
        lastNanos = now;
        lastBusy = busy;
      } else if (now - lastNanos >= WINDOW_NANOS) {
        util = Math.min(1, Math.max(0, (busy - lastBusy) / (double) (now - lastNanos)));
        lastNanos = now;
        lastBusy = busy;
        double score = 0.4 * util + 0.3 * Math.min(1, memory) + 0.3 * Math.min(1, queue);
        smoothed = 0.7 * score + 0.3 * smoothed;
      }
      return new double[] {util, Math.max(0, Math.min(1, smoothed))};
    }
  }
}
