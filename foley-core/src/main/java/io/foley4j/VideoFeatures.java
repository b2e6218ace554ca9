package io.foley4j;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executor;

/**
 * Features computed from the video: the source is opened (and the plan made from its duration)
 * when the stream is created; {@link #start()} hands the source to a {@link FeatureExtractor},
 * which decodes and encodes on the engine's pools and closes the source on every path.
 */
final class VideoFeatures implements FeatureStream {
  private final PipelineConfig pipeline;
  private final Executor decodePool;
  private final Executor feederPool;
  private final Flight flight;
  private final SegmentPlan plan;
  private final long durationTicks;
  private final long durationTimescale;
  private final long pictureBytes;
  private final Channel<SegmentFeatures> out;
  private VideoSource source; // owned here until start() hands it over

  private VideoFeatures(PipelineConfig pipeline, Executor decodePool, Executor feederPool, Flight flight,
      VideoSource source, SegmentPlan plan, VideoInfo info) {
    this.pipeline = pipeline;
    this.decodePool = decodePool;
    this.feederPool = feederPool;
    this.flight = flight;
    this.source = source;
    this.plan = plan;
    this.durationTicks = info.durationTicks();
    this.durationTimescale = info.durationTimescale();
    this.pictureBytes = PipelineConfig.pictureBytes(info.width(), info.height());
    this.out = new Channel<>(2, flight::isDone);
  }

  /** Opens the job's video and plans its segments; the time it takes counts as decoding. */
  static VideoFeatures open(PipelineConfig pipeline, Executor decodePool, Executor feederPool, Flight flight,
      FoleyRequest request, VideoInput.Loaded video) {
    long t0 = System.nanoTime();
    VideoSource source = UserCode.call("video source factory",
        () -> video.open(pipeline.videoSources(), request.video(), pipeline.decoderThreads()));
    flight.clock().add(StageTimings.Phase.DECODE, System.nanoTime() - t0);
    return of(pipeline, decodePool, feederPool, flight, request, source);
  }

  /**
   * Opens a video whose bytes are still arriving, or returns null when the decoder or the
   * container needs them all first ({@link io.foley4j.video.VideoSourceFactory#openWhileReading}).
   */
  static VideoSource openWhileReading(PipelineConfig pipeline, io.foley4j.video.StreamingVideo video) {
    return UserCode.call("video source factory",
        () -> pipeline.videoSources().openWhileReading(video, pipeline.decoderThreads()));
  }

  /** The features of an opened source (closed here if its plan fails), its segments planned from its duration. */
  static VideoFeatures of(PipelineConfig pipeline, Executor decodePool, Executor feederPool, Flight flight,
      FoleyRequest request, VideoSource source) {
    try {
      VideoInfo info = source.info();
      checkPicture(pipeline, request, info);
      SegmentPlan plan = plan(pipeline, request, info.durationTicks(), info.durationTimescale(),
          info.lastFrameSeconds());
      return new VideoFeatures(pipeline, decodePool, feederPool, flight, source, plan, info);
    } catch (RuntimeException | Error e) {
      source.close();
      throw e;
    }
  }

  /**
   * The plan for a video of {@code ticks / timescale} seconds, after the engine's limits: zero
   * length, longer than {@code maxVideoDuration}, or more audio than one array can hold.
   */
  static SegmentPlan plan(PipelineConfig pipeline, FoleyRequest request, long ticks, long timescale,
      double lastFrame) {
    BundleManifest m = pipeline.manifest();
    double seconds = timescale > 0 ? ticks / (double) timescale : Double.NaN;
    if (ticks <= 0 || timescale <= 0) {
      throw new UnsupportedVideoException(FoleyException.Code.CORRUPT_VIDEO,
          name(request) + " has zero duration; nothing to generate");
    }
    Duration max = pipeline.maxVideoDuration();
    if (seconds > max.toNanos() / 1e9) {
      throw new UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, String.format(Locale.ROOT,
          "%s lasts %.1f s, longer than this engine's maxVideoDuration of %.1f s: trim the video or raise "
              + "the limit", name(request), seconds, max.toNanos() / 1e9));
    }
    long total;
    try {
      total = SegmentPlan.samplesFor(ticks, timescale, m.audio().sampleRate());
    } catch (ArithmeticException e) {
      total = Long.MAX_VALUE;
    }
    if (total > Integer.MAX_VALUE - 16) {
      throw new UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, String.format(Locale.ROOT,
          "%s lasts %.1f hours; one request can produce at most %.1f hours of audio at %d Hz: split the video",
          name(request), seconds / 3600, (Integer.MAX_VALUE - 16) / (double) m.audio().sampleRate() / 3600,
          m.audio().sampleRate()));
    }
    return new SegmentPlan(m, total, lastFrame);
  }

  /**
   * Refuses a picture larger than the engine's {@code maxPicturePixels}: each decoded frame of it is
   * a copy on the heap, and a job holds many (see {@link PipelineConfig#memoryNeed}).
   */
  static void checkPicture(PipelineConfig pipeline, FoleyRequest request, VideoInfo info) {
    long pixels = (long) info.width() * info.height();
    if (pixels > pipeline.maxPicturePixels()) {
      throw new UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, String.format(Locale.ROOT,
          "%s has %d x %d pictures (%d pixels, %.0f MiB per decoded frame), more than this engine's"
              + " maxPicturePixels of %d: the model sees frames of at most %d px, so scale the video down first"
              + " (e.g. ffmpeg -vf scale=-2:1080), or raise FoleyEngine.Builder.maxPicturePixels",
          name(request), info.width(), info.height(), pixels,
          PipelineConfig.pictureBytes(info.width(), info.height()) / (double) (1 << 20), pipeline.maxPicturePixels(),
          Math.max(pipeline.manifest().visual().size(), pipeline.manifest().sync().size())));
    }
  }

  @Override
  public long pictureBytes() {
    return pictureBytes;
  }

  /** How messages name the request's video: "video PATH", or "video from memory (N bytes)". */
  static String name(FoleyRequest request) {
    return request.video() != null ? "video " + request.video() : request.input().describe();
  }

  @Override
  public SegmentPlan plan() {
    return plan;
  }

  @Override
  public long durationTicks() {
    return durationTicks;
  }

  @Override
  public long durationTimescale() {
    return durationTimescale;
  }

  @Override
  public void start(StageCalls home) {
    VideoSource owned = source;
    source = null; // from here the extractor owns it and closes it on every path
    new FeatureExtractor(pipeline, home, flight.clock(), flight::isDone, plan, owned, out)
        .start(decodePool, feederPool);
  }

  @Override
  public SegmentFeatures take(int k, Runnable whileWaiting) {
    SegmentFeatures sf = out.take(whileWaiting);
    if (sf == null) {
      if (flight.isDone()) {
        throw new RequestRun.StopJob();
      }
      throw new FoleyException(FoleyException.Code.INTERNAL, "feature extraction ended before segment " + k);
    }
    if (sf.index() != k) {
      throw new FoleyException(FoleyException.Code.INTERNAL, "segment " + sf.index() + " arrived, expected " + k);
    }
    return sf;
  }

  @Override
  public void close() {
    VideoSource s = source;
    source = null;
    if (s != null) {
      s.close();
    }
  }
}
