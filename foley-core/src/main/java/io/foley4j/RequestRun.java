package io.foley4j;

import io.foley4j.StageTimings.Phase;
import io.foley4j.bundle.BundleManifest;
import java.util.Arrays;
import java.util.List;

/**
 * Runs one job through the pipeline, each link in turn:
 *
 * <pre>
 *   content key ─► single-flight ─► result cache ─┬─ hit: replay the stored audio as chunks
 *                                                 └─ miss: features ─► sampler ─► VAE ─► stitch ─► chunks
 *   features = feature cache hit, or video ─► frames ─► visual/sync encoders (stored through the feature cache)
 * </pre>
 *
 * Single-flight lets identical concurrent requests share one computation ({@link Flight}); the
 * caches are {@link ResultCacheLink} and {@link FeatureCacheLink}; features come as a
 * {@link FeatureStream}; the {@link Sampler} runs flow matching with guidance per segment; the
 * {@link Stitcher} crossfades segments into chunks that are final.
 */
final class RequestRun implements Runnable, Comparable<RequestRun> {
  private final EngineCore engine;
  private final Job job;
  private final boolean rerun; // a second run of a job whose shared computation stopped under it
  private Flight flight;

  RequestRun(EngineCore engine, Job job) {
    this(engine, job, false);
  }

  RequestRun(EngineCore engine, Job job, boolean rerun) {
    this.engine = engine;
    this.job = job;
    this.rerun = rerun;
  }

  /** Queue order of jobs waiting to start: priority, then submission. */
  @Override
  public int compareTo(RequestRun o) {
    int c = Integer.compare(job.priority(), o.job.priority());
    return c != 0 ? c : Long.compare(job.sequence(), o.job.sequence());
  }

  Job job() {
    return job;
  }

  @Override
  public void run() {
    engine.started(this);
    if (!rerun) {
      long started = System.nanoTime();
      job.clock.add(Phase.QUEUE_WAIT, started - job.submittedNanos);
      EngineCore.guard(() -> engine.events(job).queueEnd(job.id(), started - job.submittedNanos));
    }
    try {
      execute();
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
      engine.finished(this);
    }
  }

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
    orphans.forEach(engine::rerun);
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
      engine.endFlight(flight);
    }
  }

  /** Runs the job to completion (or throws). */
  private void execute() {
    if (job.isDone()) {
      return;
    }
    FoleyException expired = job.stopReason();
    if (expired != null) {
      throw expired;
    }
    FoleyRequest req = job.request();
    Sampler.Settings settings = Sampler.Settings.of(engine.manifest(), req);
    job.stampSource(); // before the first read: writeVideoWithSound refuses a source changed since

    // content key: what single-flight and both caches are keyed by
    // the video: a file, bytes, or a stream read into memory now (hashed as it arrives)
    long t0 = System.nanoTime();
    boolean keyed = engine.keyed() && !job.isWarmUp(); // the warm-up neither reads nor fills a cache
    VideoInput.Loaded video = job.video(keyed);
    job.clock.add(Phase.DECODE, System.nanoTime() - t0);
    String videoDigest = video.digest();
    String key = null;
    if (keyed) {
      key = CacheKeys.result(engine.bundleDigest(), engine.videoSourceName(), videoDigest, req.prompt(),
          settings.negativePrompt(), settings.steps(), settings.cfg(), settings.seed());
    }

    // single-flight: join an identical computation in flight, or lead one
    flight = key != null && engine.singleFlight() ? engine.joinOrLead(key, job) : new Flight(key, job);
    if (flight == null) {
      return; // an identical computation in flight serves this job
    }

    // result cache
    ResultCacheLink results = ResultCacheLink.of(engine, key);
    float[] stored = results != null ? results.lookup(key) : null;
    if (stored != null) {
      replay(stored);
      return;
    }

    // features (feature cache, or the video) → sampler → VAE → stitch → chunks
    float[] audio;
    long durationTicks;
    long durationTimescale;
    try (FeatureStream features = features(req, video, videoDigest)) {
      durationTicks = features.durationTicks();
      durationTimescale = features.durationTimescale();
      SegmentPlan plan = features.plan();
      engine.devices().checkFits(job.id(), Devices.segmentBytes(engine.manifest(), plan.largest(), settings.rows(),
          engine.segmentMemoryBytes()));
      int inFlight = segmentsInFlight(plan);
      long need = engine.memoryNeed(plan, inFlight);
      engine.admit(flight, job, need);
      try (Devices.Home home = engine.devices().home()) {
        flight.place(home.device.scheduler);
        features.start();
        audio = new SegmentPipeline(engine, flight, features, settings, inFlight, this::checkLive)
            .run(req.prompt(), req.negativePrompt() != null);
      } finally {
        engine.release(need);
      }
    }
    if (results != null) {
      results.store(key, audio, durationTicks, durationTimescale);
    }
    job.clock.add(Phase.TOTAL, System.nanoTime() - job.submittedNanos);
    StageTimings timings = job.clock.snapshot(false);
    end();
    flight.complete(audio, engine.manifest().audio().sampleRate(), timings);
  }

  /** The job's features: every segment from the feature cache, or the video's, stored through it. */
  private FeatureStream features(FoleyRequest req, VideoInput.Loaded video, String videoDigest) {
    FeatureCacheLink cache = FeatureCacheLink.of(engine, videoDigest);
    FeatureStream cached = cache != null ? cache.lookup(req, videoDigest) : null;
    if (cached != null) {
      return cached;
    }
    FeatureStream fromVideo = VideoFeatures.open(engine, flight, req, video);
    return cache != null ? cache.storingThrough(fromVideo, videoDigest) : fromVideo;
  }

  /** A result-cache hit: the stored audio, as the chunks a computation would have emitted. */
  private void replay(float[] audio) {
    BundleManifest m = engine.manifest();
    SegmentPlan plan = new SegmentPlan(m, audio.length);
    for (int k = 0; k < plan.count; k++) {
      long start = plan.sampleStart(k);
      long end = plan.chunkEnd(k);
      flight.chunk(new AudioChunk(k, start, Arrays.copyOfRange(audio, (int) start, (int) end), m.audio().sampleRate(),
          k == plan.count - 1));
    }
    job.clock.add(Phase.TOTAL, System.nanoTime() - job.submittedNanos);
    end();
    flight.complete(audio, m.audio().sampleRate(), job.clock.snapshot(true));
  }

  /**
   * Segments the job keeps in flight: the engine's {@code segmentsInFlight}, no more than it has,
   * and fewer when the host memory budget holds only fewer (down to one).
   */
  private int segmentsInFlight(SegmentPlan plan) {
    int k = Math.max(1, Math.min(engine.segmentsInFlight(), plan.count));
    while (k > 1 && engine.memoryNeed(plan, k) > engine.memoryBudgetBytes()) {
      k--;
    }
    return k;
  }

  /** Stops the work when no job wants it any more (cancelled, failed or past its deadline). */
  private void checkLive() {
    if (!flight.expireAndCheck()) {
      throw new StopJob();
    }
    if (engine.isClosing() && engine.abortOnClose()) {
      throw new FoleyException(FoleyException.Code.CLOSED, "engine closed before job " + job.id() + " finished");
    }
  }

  /** Unwinds a job that already completed (cancelled); never reaches the user. */
  static final class StopJob extends FoleyException {
    StopJob() {
      super(Code.CANCELLED, "job stopped");
    }
  }
}
