package io.foley4j;

import io.foley4j.StageTimings.Phase;
import io.foley4j.bundle.BundleManifest;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;

/**
 * Runs one job through the pipeline, each link in turn:
 *
 * <pre>
 *   content key ─► single-flight ─► result cache ─┬─ hit: replay the stored audio as chunks
 *                                                 └─ miss: features ─► sampler ─► VAE ─► stitch ─► chunks
 *   features = feature cache hit, or video ─► frames ─► visual/sync encoders (stored through the feature cache)
 * </pre>
 *
 * It is an {@link Admission.Ticket} twice. First it waits to be <em>probed</em>: on a request
 * thread it is keyed, joins an identical computation or leads one (single-flight, {@link Flights}),
 * is answered by the result cache, or opens its features (the feature cache, or the video: opened
 * and its segments planned) and learns its memory need; then it gives its thread back and waits
 * again, now with that need, until {@link Admission} starts it with the memory reserved. The second
 * run places it on a home device, starts the features and runs the segments ({@link
 * SegmentPipeline}); the {@link Stitcher} crossfades segments into chunks that are final.
 */
final class RequestRun implements Admission.Ticket {
  /** What a run needs of the engine: the configuration, the owners it deals with, the pools. */
  record Context(PipelineConfig pipeline, Admission admission, Flights flights, Devices devices, StopSignal stop,
      ExecutorService decode, ExecutorService feeders, ExecutorService segments, FoleyEventListener events) {

    /** The same with another video source (the engine's warm-up request reads a synthetic clip). */
    Context withVideoSources(io.foley4j.video.VideoSourceFactory videoSources) {
      return new Context(pipeline.withVideoSources(videoSources), admission, flights, devices, stop, decode, feeders,
          segments, events);
    }

    /** The event listener for {@code job}'s events: none for the engine's warm-up request. */
    FoleyEventListener events(Job job) {
      return job.isWarmUp() ? NO_EVENTS : events;
    }
  }

  private static final FoleyEventListener NO_EVENTS = new FoleyEventListener() {};

  private final Context cx;
  private final Job job;
  private final boolean rerun; // a second run of a job whose shared computation stopped under it
  // Set by the probe; read by the second run or by abandon() on another thread, after Admission's
  // monitor (enqueue, then promotion) ordered them.
  private volatile boolean probed;
  private Flight flight;
  private String key; // the flight's key: the result key for one variant, else the keys of all variants
  private String[] variantKeys; // the result-cache key of each variant (that of its seed alone)
  private ResultCacheLink results;
  private FeatureStream features;
  private Sampler.Settings settings;
  private GrowingBytes streamed; // the video's bytes, for a job that decodes them while they arrive
  private boolean streamKeyed; // its key is computed (and its result stored) once they all arrived
  private int inFlight;
  private long need;

  RequestRun(Context cx, Job job, boolean rerun) {
    this.cx = cx;
    this.job = job;
    this.rerun = rerun;
  }

  /** Queues {@code job} to run again on its own (its shared computation stopped under it). */
  static void rerun(Context cx, Job job) {
    if (cx.stop().isClosing()) {
      job.fail(cx.admission().closedError());
      return;
    }
    cx.admission().requeue(job.request().priority());
    cx.admission().enqueue(new RequestRun(cx, job, true));
  }

  Job job() {
    return job;
  }

  // ---- Admission.Ticket ----------------------------------------------------------------------------

  @Override
  public int priority() {
    return probed ? flight.priority() : job.priority();
  }

  @Override
  public long sequence() {
    return job.sequence();
  }

  @Override
  public long need() {
    return probed ? need : 0;
  }

  @Override
  public boolean stillWanted() {
    if (probed) {
      return flight.expireAndCheck();
    }
    if (job.isDone()) {
      return false;
    }
    FoleyException expired = job.stopReason();
    if (expired != null) {
      job.fail(expired);
      return false;
    }
    return true;
  }

  @Override
  public long nanosToDeadline() {
    return probed ? flight.nanosToDeadline() : job.nanosToDeadline();
  }

  @Override
  public void run() {
    if (probed) {
      runAdmitted();
    } else {
      probe();
    }
  }

  @Override
  public void abandon(FoleyException why) {
    if (!probed) { // it never started
      cx.admission().unqueue(job.request().priority());
      if (!rerun) {
        long waited = System.nanoTime() - job.submittedNanos;
        UserCode.run("event listener", () -> cx.events(job).queueEnd(job.id(), waited));
      }
      if (why != null) {
        job.fail(why);
      }
      return;
    }
    try {
      features.close();
      if (why != null) {
        failAll(why);
      } else {
        stopped();
      }
    } finally {
      cx.admission().finished();
    }
  }

  // ---- the probe -------------------------------------------------------------------------------------

  /** The first run: up to knowing the job's memory need; then it waits again (or is done). */
  private void probe() {
    cx.admission().firstStart(job.request().priority());
    if (!rerun) {
      long started = System.nanoTime();
      job.clock.add(Phase.QUEUE_WAIT, started - job.submittedNanos);
      UserCode.run("event listener", () -> cx.events(job).queueEnd(job.id(), started - job.submittedNanos));
    }
    boolean handedOver = false;
    try {
      handedOver = prepare();
    } catch (StopJob e) {
      stopped();
    } catch (FoleyException e) {
      failAll(e);
    } catch (Throwable e) { // also what user code may throw undeclared (a Kotlin store's IOException)
      failAll(new FoleyException(FoleyException.Code.INTERNAL, "job " + job.id() + " failed unexpectedly: " + e, e));
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
    } finally {
      if (!handedOver) {
        cx.admission().finished();
      }
    }
  }

  /**
   * Keys the job, joins or leads its computation, answers it from the result cache, or opens its
   * features and queues it again with its memory need (true: from then on the second run or
   * {@link #abandon} owns it).
   */
  private boolean prepare() {
    if (job.isDone()) {
      return false;
    }
    FoleyException expired = job.stopReason();
    if (expired != null) {
      throw expired;
    }
    PipelineConfig p = cx.pipeline();
    FoleyRequest req = job.request();
    settings = Sampler.Settings.of(p.manifest(), req);
    job.stampSource(); // before the first read: writeVideoWithSound refuses a source changed since

    // content key: what single-flight and both caches are keyed by
    // the video: a file, bytes, or a stream read into memory now (hashed as it arrives)
    long t0 = System.nanoTime();
    boolean keyed = p.keyed() && !job.isWarmUp(); // the warm-up neither reads nor fills a cache
    boolean whileReading = req.input().isStream() && !req.readWhole() && !job.isWarmUp();
    VideoInput.Loaded video = job.video(keyed, whileReading);
    if (video.streaming() != null) {
      // decode while the bytes arrive, where the decoder and the container allow it; else wait for the end
      io.foley4j.video.VideoSource early = VideoFeatures.openWhileReading(p, video.streaming());
      if (early != null) {
        job.clock.add(Phase.DECODE, System.nanoTime() - t0);
        streamed = video.streaming();
        streamKeyed = keyed;
        flight = new Flight(null, job); // its key is known only at the end: no single-flight, no cache lookup
        try {
          features = VideoFeatures.of(p, cx.decode(), cx.feeders(), flight, req, early);
        } catch (RuntimeException | Error e) {
          early.close();
          throw e;
        }
        return admit(p);
      }
      video = job.wholeVideo();
    }
    job.clock.add(Phase.DECODE, System.nanoTime() - t0);
    String videoDigest = video.digest();
    if (keyed) {
      keys(p, req, videoDigest);
    }

    // single-flight: join an identical computation in flight, or lead one
    flight = key != null && p.singleFlight() ? cx.flights().joinOrLead(key, job) : new Flight(key, job);
    if (flight == null) {
      return false; // an identical computation in flight serves this job
    }

    // result cache
    results = ResultCacheLink.of(p, key);
    float[][] stored = results != null ? results.lookupAll(variantKeys) : null;
    if (stored != null) {
      replay(stored);
      return false;
    }

    // features (feature cache, or the video), then wait for memory
    features = features(req, video, videoDigest);
    return admit(p);
  }

  /** The result-cache key of each variant and the flight's key, from the video's digest. */
  private void keys(PipelineConfig p, FoleyRequest req, String videoDigest) {
    // variant v's key is that of the same request with one variant and seed + v, so a single
    // request hits a variant's stored result; identical multi-variant requests share one flight
    variantKeys = new String[settings.variants()];
    for (int v = 0; v < variantKeys.length; v++) {
      variantKeys[v] = CacheKeys.result(p.bundleDigest(), p.videoSourceName(), videoDigest, req.prompt(),
          settings.negativePrompt(), settings.steps(), settings.cfg(), settings.seed(v));
    }
    key = CacheKeys.flight(variantKeys);
  }

  /** Learns the job's memory need from its features' plan and queues it again (true: handed over). */
  private boolean admit(PipelineConfig p) {
    boolean handedOver = false;
    try {
      SegmentPlan plan = features.plan();
      cx.devices().checkFits(job.id(), Devices.segmentBytes(p.manifest(), plan.largest(), settings,
          p.segmentMemoryBytes()));
      inFlight = p.segmentsInFlight(plan, features.pictureBytes(), settings.variants());
      need = p.memoryNeed(plan, inFlight, features.pictureBytes(), settings.variants());
      cx.admission().checkNeed(job.id(), need);
      probed = true;
      handedOver = true;
      cx.admission().enqueue(this);
      return true;
    } finally {
      if (!handedOver) {
        features.close();
      }
    }
  }

  /** The job's features: every segment from the feature cache, or the video's, stored through it. */
  private FeatureStream features(FoleyRequest req, VideoInput.Loaded video, String videoDigest) {
    FeatureCacheLink cache = FeatureCacheLink.of(cx.pipeline(), videoDigest);
    FeatureStream cached = cache != null ? cache.lookup(req, videoDigest) : null;
    if (cached != null) {
      return cached;
    }
    FeatureStream fromVideo = VideoFeatures.open(cx.pipeline(), cx.decode(), cx.feeders(), flight, req, video);
    return cache != null ? cache.storingThrough(fromVideo, videoDigest) : fromVideo;
  }

  /** A result-cache hit of every variant: the stored audio, as the chunks a computation would have emitted. */
  private void replay(float[][] audio) {
    BundleManifest m = cx.pipeline().manifest();
    SegmentPlan plan = new SegmentPlan(m, audio[0].length);
    for (int k = 0; k < plan.count; k++) {
      long start = plan.sampleStart(k);
      long end = plan.chunkEnd(k);
      for (int v = 0; v < audio.length; v++) {
        flight.chunk(new AudioChunk(v, k, start, Arrays.copyOfRange(audio[v], (int) start, (int) end),
            m.audio().sampleRate(), k == plan.count - 1));
      }
    }
    job.clock.add(Phase.TOTAL, System.nanoTime() - job.submittedNanos);
    end();
    flight.complete(audio, m.audio().sampleRate(), job.clock.snapshot(true));
  }

  // ---- the second run ----------------------------------------------------------------------------------

  /** Runs the admitted job to completion, with its memory reserved by Admission. */
  private void runAdmitted() {
    try {
      execute();
    } catch (StopJob e) {
      stopped();
    } catch (FoleyException e) {
      failAll(e);
    } catch (Throwable e) {
      failAll(new FoleyException(FoleyException.Code.INTERNAL, "job " + job.id() + " failed unexpectedly: " + e, e));
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
    } finally {
      cx.admission().finished();
    }
  }

  private void execute() {
    PipelineConfig p = cx.pipeline();
    FoleyRequest req = job.request();
    float[][] audio;
    long durationTicks;
    long durationTimescale;
    try (FeatureStream f = features; Devices.Home home = cx.devices().home()) {
      checkLive();
      durationTicks = f.durationTicks();
      durationTimescale = f.durationTimescale();
      flight.place(home.device.scheduler);
      StageCalls calls = new DeviceCalls(flight, home.device.scheduler, cx.events(job));
      f.start(calls);
      audio = new SegmentPipeline(p, cx.devices(), cx.segments(), flight, calls, f, settings, inFlight, this::checkLive)
          .run(req.prompt(), req.negativePrompt() != null);
    }
    if (streamed != null) {
      // decoded while it arrived: the stream must still end within its bound, and its digest is
      // final only then; the result is stored under the key it would have had read whole
      streamed.awaitAll();
      if (streamKeyed) {
        keys(p, req, streamed.digest());
        results = ResultCacheLink.of(p, key);
      }
    }
    if (results != null) {
      for (int v = 0; v < audio.length; v++) {
        results.store(variantKeys[v], audio[v], durationTicks, durationTimescale);
      }
    }
    job.clock.add(Phase.TOTAL, System.nanoTime() - job.submittedNanos);
    StageTimings timings = job.clock.snapshot(false);
    end();
    flight.complete(audio, p.manifest().audio().sampleRate(), timings);
  }

  // ---- endings -------------------------------------------------------------------------------------------

  /**
   * The work stopped because no job wanted it. Jobs past their deadline fail with their own
   * reason; a job that joined the flight after the work decided to stop is not left waiting: the
   * flight closes to joiners and each such job runs again on its own.
   */
  private void stopped() {
    if (flight == null) {
      return;
    }
    flight.expireAndCheck();
    if (flight.stopIfAllDone()) {
      end();
      return;
    }
    List<Job> orphans = flight.closeAndTakeUnfinished();
    end();
    for (Job orphan : orphans) {
      rerun(cx, orphan);
    }
  }

  private void failAll(FoleyException e) {
    end();
    if (flight != null) {
      flight.fail(e);
    } else {
      job.fail(e);
    }
  }

  /** Takes the flight out of the single-flight table, so later identical requests start afresh. */
  private void end() {
    if (flight != null) {
      cx.flights().end(flight);
    }
  }

  /** Stops the work when no job wants it any more (cancelled, failed or past its deadline). */
  private void checkLive() {
    if (!flight.expireAndCheck()) {
      throw new StopJob();
    }
    cx.stop().check(job.id());
  }

  /** Unwinds a job that already completed (cancelled); never reaches the user. */
  static final class StopJob extends FoleyException {
    StopJob() {
      super(Code.CANCELLED, "job stopped");
    }
  }
}
