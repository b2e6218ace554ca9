package io.foley4j;

import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Backend;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Safetensors;
import io.foley4j.bundle.Stage;
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
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine behind {@link io.foley4j.FoleyEngine}: loaded stages behind one batching
 * {@link DeviceScheduler}, the tokenizer and unconditional embeddings, the job pools, and admission
 * (bounded queue, rate limits, memory budget, circuit breaker). Internal; not part of the API.
 */
final class EngineCore implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("io.foley4j.pipeline");

  /** Everything the builder decided. */
  record Config(String name, ModelBundle bundle, Backend backend, VideoSourceFactory videoSources,
      int maxConcurrentRequests, int visualBatch, int syncBatch, Duration closeTimeout, BatchPolicy batchPolicy,
      int decodeThreads, int maxQueuedRequests, long memoryBudgetBytes, double ratePerSecond, int rateBurst, int breakerThreshold,
      Duration breakerOpen, Ticker ticker, FoleyEventListener events, TensorCache resultCache,
      TensorCache featureCache, boolean singleFlight, Duration maxVideoDuration) {}

  private final Config config;
  private final BundleManifest manifest;
  private final DeviceScheduler scheduler;
  private final Tokenizer tokenizer;
  private final float[] uncondVisual;
  private final float[] uncondSync;
  private final float[] uncondText; // null: the bundle has no learned empty prompt
  private final ThreadPoolExecutor requests;
  private final ThreadPoolExecutor decode;
  private final ThreadPoolExecutor feeders;
  private final AtomicLong ids = new AtomicLong();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final Set<Job> live = ConcurrentHashMap.newKeySet();
  private final Map<Priority, AtomicInteger> queued = new EnumMap<>(Priority.class);
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger waitingTotal = new AtomicInteger(); // jobs queued, all priorities
  private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();
  private final Object memoryLock = new Monitor("memory budget");
  private long memoryInUse;
  private volatile boolean abortOnClose;
  private final LoadMonitor load = new LoadMonitor();
  private final Map<String, Flight> flights = new ConcurrentHashMap<>();
  private final Set<Thread> ownThreads = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
  private final Readiness readiness;

  /** Loads every stage, checks it against the manifest and warms it up; ready when it returns. */
  public EngineCore(Config config) {
    this(config, System.nanoTime());
  }

  /** As above; {@code buildStartNanos} is when build() began, for the readiness report. */
  EngineCore(Config config, long buildStartNanos) {
    this.config = config;
    ModelBundle bundle = config.bundle();
    this.manifest = bundle.manifest();
    this.tokenizer = bundle.tokenizer();
    var uncond = bundle.unconditional();
    this.uncondVisual = uncond.visual();
    this.uncondSync = uncond.sync();
    this.uncondText = uncond.text().orElse(null);
    for (Priority p : Priority.values()) {
      queued.put(p, new AtomicInteger());
    }
    long build0 = buildStartNanos;
    Map<Stage, Long> loadNanos = new EnumMap<>(Stage.class);
    Map<Stage, Long> warmNanos = new EnumMap<>(Stage.class);
    Map<Stage, StageSession> sessions = StageLoader.openAll(config.name(), config.backend(), bundle, loadNanos);
    try {
      warmUp(sessions, warmNanos);
    } catch (RuntimeException | Error e) {
      sessions.values().forEach(StageSession::close);
      throw e;
    }
    CircuitBreaker breaker = new CircuitBreaker(config.breakerThreshold(), config.breakerOpen().toNanos(),
        config.ticker());
    this.scheduler = new DeviceScheduler("foley-" + config.name() + "-device-0", sessions, config.batchPolicy(),
        config.ticker(), breaker);
    this.requests = new ThreadPoolExecutor(config.maxConcurrentRequests(), config.maxConcurrentRequests(), 0,
        TimeUnit.MILLISECONDS, new PriorityBlockingQueue<>(), threads("request"));
    // Decoding is CPU work: a few threads, so it never crowds out the backend; jobs beyond wait their
    // turn. Each running job also has a feeder task that hands its frames to the scheduler (it mostly
    // waits), on a pool as large as the number of jobs that may run, so it can never starve.
    this.decode = new ThreadPoolExecutor(config.decodeThreads(), config.decodeThreads(), 0,
        TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), threads("decode"));
    this.feeders = new ThreadPoolExecutor(config.maxConcurrentRequests(), config.maxConcurrentRequests(), 0,
        TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), threads("feeder"));
    this.readiness = Readiness.of(loadNanos, warmNanos, sessions, System.nanoTime() - build0);
  }

  /** How long build() took, per stage, and what came from the optimized-model cache. */
  Readiness readiness() {
    return readiness;
  }

  /** One call per stage with zeros, so the first request does not pay for lazy initialisation. */
  private void warmUp(Map<Stage, StageSession> sessions, Map<Stage, Long> warmNanos) {
    for (Stage s : Stage.values()) {
      long t0 = System.nanoTime();
      // The batch a request's item has: a CFG pair for the denoiser, an encoder item of the configured
      // frames or windows (ONNX Runtime plans memory per shape, so warming another one helps less).
      int batch = switch (s) {
        case DENOISER -> 2;
        case VISUAL_ENCODER -> config.visualBatch();
        case SYNC_ENCODER -> config.syncBatch();
        default -> 1;
      };
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
      sessions.get(s).run(in);
      warmNanos.put(s, System.nanoTime() - t0);
    }
  }

  /** A symbolic dimension {@code d} of input {@code name} at the trained segment's size. */
  private long trainedLength(String name, int d) {
    return switch (name) {
      case "latents" -> manifest.latentLength();
      case "visual" -> manifest.visualFramesPerSegment();
      case "sync" -> manifest.syncTokensPerSegment();
      case "text", "input_ids", "attention_mask" -> manifest.maxTokens();
      default -> 1; // a symbolic dimension no stage input of the format has
    };
  }

  private ThreadFactory threads(String role) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "foley-" + config.name() + "-" + role + "-" + n.getAndIncrement());
      t.setDaemon(true);
      ownThreads.add(t);
      return t;
    };
  }

  /** Whether {@code t} is one of this engine's threads (pools or device worker). */
  private boolean isOwnThread(Thread t) {
    return ownThreads.contains(t) || scheduler.isWorker(t);
  }

  // ---- submission and admission ----------------------------------------------------------------

  public FoleyJob submit(FoleyRequest request, FoleyListener listener) {
    Objects.requireNonNull(request, "request");
    Job job = new Job(ids.incrementAndGet(), request, listener, config.ticker());
    FoleyException refused = badVideoPath(request);
    if (refused == null) {
      refused = refuse(request);
      if (refused != null) {
        request.input().unclaim(); // refused before reading: the same request may be submitted again
      }
    }
    if (refused != null) {
      job.fail(refused);
      return job;
    }
    live.add(job);
    queued.get(request.priority()).incrementAndGet(); // the total was reserved by refuse()
    guard(() -> events().queueStart(job.id()));
    RequestRun run = new RequestRun(this, job);
    job.whenDone(() -> {
      live.remove(job);
      job.releaseVideo(); // a video from memory is held only while its job runs
      // A job cancelled (or failed) while still queued leaves the queue at once, freeing its place.
      if (requests.remove(run)) {
        unqueue(request.priority());
        guard(() -> events().queueEnd(job.id(), System.nanoTime() - job.submittedNanos));
      }
      if (job.failedOrCancelled()) {
        scheduler.ownerStopped(); // a cancelled job may be all that a running call is for
      }
    });
    try {
      requests.execute(run);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      unqueue(request.priority());
      job.fail(closedError());
    }
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

  /**
   * Runs a job again from the start: the shared computation it had joined stopped because every
   * other job left it (see {@code RequestRun.stopped}). It keeps its place in the live set and its
   * queue events (one start, one end) are not repeated.
   */
  void rerun(Job job) {
    Priority p = job.request().priority();
    queued.get(p).incrementAndGet();
    waitingTotal.incrementAndGet(); // started() takes both back
    try {
      if (closing.get()) {
        throw new java.util.concurrent.RejectedExecutionException("closing");
      }
      requests.execute(new RequestRun(this, job, true));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      unqueue(p);
      job.fail(closedError());
    }
  }

  /**
   * Why a request is turned away at once, or null after reserving its place in the queue. Nothing
   * is started for a refused request.
   */
  private FoleyException refuse(FoleyRequest request) {
    if (closing.get()) {
      return closedError();
    }
    if (scheduler.breaker().isRejecting()) {
      return new FoleyException(FoleyException.Code.REJECTED, "engine " + config.name()
          + " is rejecting work: its circuit breaker opened after repeated backend failures; retry in "
          + Math.max(1, scheduler.breaker().nanosUntilProbe() / 1_000_000) + " ms");
    }
    if (config.ratePerSecond() > 0) {
      String client = request.clientId() == null ? "" : request.clientId();
      if (buckets.size() > 10_000) {
        buckets.values().removeIf(TokenBucket::isFull); // forget idle clients: a full bucket is a new one
      }
      TokenBucket b = buckets.computeIfAbsent(client, c -> new TokenBucket(config.ratePerSecond(), config.rateBurst(),
          config.ticker()));
      if (!b.tryTake()) {
        return new FoleyException(FoleyException.Code.REJECTED, "rate limit for client \"" + client + "\" exceeded ("
            + config.ratePerSecond() + " requests/s, burst " + config.rateBurst() + "); retry in "
            + Math.max(1, b.nanosUntilToken() / 1_000_000) + " ms");
      }
    }
    // reserve a place last, so that no other refusal has to give it back
    for (int waiting; (waiting = waitingTotal.get()) < config.maxQueuedRequests(); ) {
      if (waitingTotal.compareAndSet(waiting, waiting + 1)) {
        return null;
      }
    }
    return new FoleyException(FoleyException.Code.REJECTED, "engine " + config.name() + " queue is full: "
        + waitingTotal.get() + " requests waiting (maxQueuedRequests " + config.maxQueuedRequests()
        + "); retry later or send to another node");
  }

  private FoleyException closedError() {
    return new FoleyException(FoleyException.Code.CLOSED, "engine " + config.name() + " is closed; build a new one");
  }

  void started(RequestRun run) {
    unqueue(run.job().request().priority());
    running.incrementAndGet();
  }

  private void unqueue(Priority p) {
    queued.get(p).decrementAndGet();
    waitingTotal.decrementAndGet();
  }

  void finished(RequestRun run) {
    running.decrementAndGet();
  }

  /** Bytes a job holds while it runs, from the bundle's shapes and the video's length. */
  long memoryNeed(SegmentPlan plan) {
    BundleManifest m = manifest;
    long visualFrame = 3L * m.visual().size() * m.visual().size() * 4;
    long syncFrame = 3L * m.sync().size() * m.sync().size() * 4;
    SegmentPlan.Segment big = plan.largest();
    // sync frames held: for each of up to three passes that overlap at a time, the frames from its
    // next unpacked window on (a window plus a batch of strides), plus a batch being packed
    long syncKept = 3L * (m.sync().window() + (long) syncBatch() * m.sync().stride()) + (long) syncBatch() * m.sync().window();
    long inFlightBatches = 3 * Math.max(visualBatch() * visualFrame, (long) syncBatch() * m.sync().window() * syncFrame);
    long features = 2L * (big.visualFrames() * m.visualDim() + (long) big.syncTokens() * m.syncDim()) * 4 * 3;
    long latents = 2L * 3 * m.latentChannels() * big.latents() * 4;
    // the result, the chunks (kept for single-flight joiners) and two segments being stitched
    long audio = 2 * plan.totalSamples * 4 + 3L * big.decodedSamples() * 4;
    return visualBatch() * visualFrame + syncKept * syncFrame + inFlightBatches + features + latents + audio;
  }

  /** Waits until the job's bytes fit the budget; refuses at once a job that never can. */
  void admit(Flight flight, Job job, long need) {
    long budget = config.memoryBudgetBytes();
    if (need > budget) {
      throw new FoleyException(FoleyException.Code.REJECTED, String.format(java.util.Locale.ROOT,
          "request %d needs about %.1f MiB of frames, activations and audio in flight, more than the engine's "
              + "memory budget of %.1f MiB: it can never be admitted; raise memoryBudgetBytes or send a shorter video",
          job.id(), need / 1048576.0, budget / 1048576.0));
    }
    while (true) {
      synchronized (memoryLock) {
        if (memoryInUse + need <= budget) {
          memoryInUse += need;
          return;
        }
      }
      // outside the monitor: failing an expired job runs its listener
      if (!flight.expireAndCheck()) {
        throw new RequestRun.StopJob();
      }
      synchronized (memoryLock) {
        if (memoryInUse + need > budget) {
          try {
            memoryLock.wait(50);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FoleyException(FoleyException.Code.CANCELLED, "interrupted while waiting for memory", e);
          }
        }
      }
    }
  }

  void release(long need) {
    synchronized (memoryLock) {
      memoryInUse -= need;
      memoryLock.notifyAll();
    }
  }

  // ---- backend calls for jobs -------------------------------------------------------------------

  /** Runs one work item of a job through the scheduler, timing it into the job and the event listener. */
  Map<String, Tensor> call(Flight job, Stage stage, Phase phase, Map<String, Tensor> inputs, int rows, int segment,
      int step) {
    FoleyEventListener ev = events();
    guard(() -> ev.callStart(job.id(), phase, segment, step));
    long t0 = System.nanoTime();
    boolean failed = true;
    try {
      Map<String, Tensor> out = scheduler.run(stage, inputs, rows, job, segment);
      failed = false;
      return out;
    } finally {
      long dt = System.nanoTime() - t0;
      job.clock().add(phase, dt);
      boolean f = failed;
      guard(() -> ev.callEnd(job.id(), phase, segment, step, dt, f));
    }
  }

  /** Calls the event listener (user code): contained, and never under a foley4j lock. */
  static void guard(Runnable r) {
    UserCode.run("event listener", r);
  }

  FoleyEventListener events() {
    return config.events();
  }

  // ---- caches and single-flight -----------------------------------------------------------------

  /** Whether jobs need a content key (to look up caches or share identical computations). */
  boolean keyed() {
    return config.resultCache() != null || config.featureCache() != null || config.singleFlight();
  }

  boolean singleFlight() {
    return config.singleFlight();
  }

  TensorCache resultCache() {
    return config.resultCache();
  }

  TensorCache featureCache() {
    return config.featureCache();
  }

  String bundleDigest() {
    return config.bundle().digest();
  }

  /** Identifies how frames are decoded: another decoder may give other pixels, hence other features. */
  String videoSourceName() {
    return config.videoSources().id();
  }

  /**
   * Joins the computation already running for {@code key} (returns null: the job is served by it)
   * or registers a new one led by {@code job}.
   */
  Flight joinOrLead(String key, Job job) {
    Flight mine = new Flight(key, job);
    while (true) {
      Flight other = flights.putIfAbsent(key, mine);
      if (other == null) {
        return mine;
      }
      if (other.join(job)) {
        return null;
      }
      flights.remove(key, other); // it finished meanwhile; take its place
    }
  }

  void endFlight(Flight f) {
    if (f.key != null) {
      flights.remove(f.key, f);
    }
  }

  // ---- accessors ------------------------------------------------------------------------------

  BundleManifest manifest() {
    return manifest;
  }

  DeviceScheduler scheduler() {
    return scheduler;
  }

  Tokenizer tokenizer() {
    return tokenizer;
  }

  VideoSourceFactory videoSources() {
    return config.videoSources();
  }

  /** Threads one video's decoder may use: the decode threads shared among the jobs that may run at once. */
  int decoderThreadsPerVideo() {
    return Math.max(1, config.decodeThreads() / Math.min(config.decodeThreads(), config.maxConcurrentRequests()));
  }

  ExecutorService decodePool() {
    return decode;
  }

  ExecutorService feederPool() {
    return feeders;
  }

  int visualBatch() {
    return config.visualBatch();
  }

  int syncBatch() {
    return config.syncBatch();
  }

  float[] unconditionalVisual() {
    return uncondVisual;
  }

  float[] unconditionalSync() {
    return uncondSync;
  }

  /** The learned empty text features [maxTokens × textDim], or null if the bundle has none. */
  float[] unconditionalText() {
    return uncondText;
  }

  boolean isClosing() {
    return closing.get();
  }

  boolean abortOnClose() {
    return abortOnClose;
  }

  Duration maxVideoDuration() {
    return config.maxVideoDuration();
  }

  long backendCalls() {
    long n = 0;
    for (Stage s : Stage.values()) {
      n += scheduler.calls(s);
    }
    return n;
  }

  /** Nanoseconds spent inside the runtime by all stages so far. */
  public long runtimeNanos() {
    return scheduler.runtimeNanos();
  }

  private int queuedJobs() {
    return waitingTotal.get();
  }

  /** A snapshot of the engine's load. */
  public EngineStats stats() {
    Map<Priority, Integer> q = new EnumMap<>(Priority.class);
    queued.forEach((p, a) -> q.put(p, Math.max(0, a.get())));
    Map<Stage, long[]> hist = new EnumMap<>(Stage.class);
    Map<Stage, Long> busy = new EnumMap<>(Stage.class);
    long busyAll = 0;
    for (Stage s : Stage.values()) {
      hist.put(s, scheduler.histogram(s));
      busy.put(s, scheduler.busyNanos(s));
      busyAll += scheduler.busyNanos(s);
    }
    long mem;
    synchronized (memoryLock) {
      mem = memoryInUse;
    }
    int waiting = queuedJobs();
    double[] scored = load.update(System.nanoTime(), busyAll, mem / (double) config.memoryBudgetBytes(),
        waiting / (double) config.maxQueuedRequests());
    double score = scored[1];
    EngineStats.ScaleAdvice advice = score > 0.8 ? EngineStats.ScaleAdvice.SCALE_UP
        : score < 0.3 ? EngineStats.ScaleAdvice.SCALE_DOWN : EngineStats.ScaleAdvice.HOLD;
    return new EngineStats(q, running.get(), scheduler.parties(Stage.DENOISER), scheduler.queued(), hist, busy,
        scored[0], mem, config.memoryBudgetBytes(), score, advice, scheduler.breaker().state());
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
    if (!closing.compareAndSet(false, true)) {
      if (!own) {
        awaitClosed(); // a second close returns only once the first has freed everything
      }
      return;
    }
    if (own) {
      abortOnClose = true;
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
    boolean interrupted = false;
    try {
      requests.shutdown();
      interrupted |= !awaitUninterruptibly(requests, config.closeTimeout().toNanos());
      if (!requests.isTerminated()) {
        abortOnClose = true;
        failLive("engine " + config.name() + " closed before the job finished (close timeout "
            + config.closeTimeout() + ")");
        for (Runnable never : requests.shutdownNow()) { // queued jobs that will not start
          if (never instanceof RequestRun rr) {
            unqueue(rr.job().request().priority());
            guard(() -> events().queueEnd(rr.job().id(), System.nanoTime() - rr.job().submittedNanos));
          }
        }
        interrupted |= !awaitUninterruptibly(requests, TimeUnit.MINUTES.toNanos(1));
        if (!requests.isTerminated()) {
          LOG.log(System.Logger.Level.WARNING, "request threads of engine " + config.name() + " did not stop in time");
        }
      }
      for (ThreadPoolExecutor pool : List.of(decode, feeders)) {
        pool.shutdown();
        interrupted |= !awaitUninterruptibly(pool, TimeUnit.MINUTES.toNanos(1));
        if (!pool.isTerminated()) {
          for (Runnable never : pool.shutdownNow()) { // tasks that will not start: free what they own
            if (never instanceof FeatureExtractor.Producer p) {
              UserCode.run("closing a video source", p::discard);
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
          scheduler.close(); // frees the sessions; waits uninterrupted for the device thread
        } finally {
          closed.countDown();
          if (interrupted) {
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
   * Seed 002's load score: weighted utilization, memory and queue fill, exponentially smoothed.
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
