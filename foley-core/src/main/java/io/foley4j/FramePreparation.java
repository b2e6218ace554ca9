package io.foley4j;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import java.time.Duration;

/**
 * foley4j's whole frame preparation for one video, without the models: the engine's own producer
 * (the code a job's decode task runs: decode every frame, sample both streams by the bundle's
 * frame rules, convert the sampled frames to RGB, resize them with the bundle's filters, normalise
 * them and pack the encoder batches) runs on the calling thread, and the batches it hands over are
 * counted and dropped instead of encoded. It is for measuring that cost ({@code foley bench
 * frames}); applications have no use for it.
 */
public final class FramePreparation {
  private FramePreparation() {}

  /**
   * What one preparation produced.
   *
   * @param segments the passes the video was planned in
   * @param visualBatches visual-encoder batches packed
   * @param visualPictures frames resized and normalised for the visual stream
   * @param visualCopies visual frames that reuse an earlier picture (the same decoded frame)
   * @param syncBatches sync-encoder batches packed
   * @param syncWindows sync windows packed
   * @param syncCopies sync windows that reuse an earlier identical window
   * @param floats floats in all the batches
   * @param decodeNanos the time the engine counts as {@code DECODE} for it (wall, the producer's
   *     decoding, sampling, converting and resizing)
   */
  public record Result(int segments, int visualBatches, int visualPictures, int visualCopies, int syncBatches,
      int syncWindows, int syncCopies, long floats, long decodeNanos) {}

  /**
   * Prepares the frames of {@code source} for a bundle of {@code manifest}, with the engine's
   * encoder batch sizes ({@code FoleyEngine.Builder.encoderBatch}; the defaults are 8 and 2). The
   * source is read from its current position and closed, on every path.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} for a null argument or a batch size below 1,
   *     {@code CORRUPT_VIDEO} for a video without duration or frames, and what the source throws
   */
  public static Result run(BundleManifest manifest, VideoSource source, int visualBatch, int syncBatch) {
    try {
      if (manifest == null || source == null) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "manifest and source must not be null");
      }
      if (visualBatch < 1 || syncBatch < 1) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "batch sizes must be at least 1, got "
            + visualBatch + " and " + syncBatch);
      }
      VideoInfo info = source.info();
      if (info.durationTicks() <= 0 || info.durationTimescale() <= 0) {
        throw new UnsupportedVideoException(FoleyException.Code.CORRUPT_VIDEO, "the video has zero duration");
      }
      long samples = SegmentPlan.samplesFor(info.durationTicks(), info.durationTimescale(),
          manifest.audio().sampleRate());
      SegmentPlan plan = new SegmentPlan(manifest, samples, info.lastFrameSeconds());
      PipelineConfig pipeline = new PipelineConfig(manifest, null, null, null, null, visualBatch, syncBatch, null, 1,
          Duration.ofDays(365), null, null, false, "", 1, 0, Long.MAX_VALUE, Long.MAX_VALUE);
      PhaseClock clock = new PhaseClock();
      VideoSource owned = source;
      source = null; // the producer closes it
      FeatureExtractor.Drained d = new FeatureExtractor(pipeline, null, clock, () -> false, plan, owned,
          new Channel<>(1, () -> false)).produceAlone();
      long decode = clock.snapshot(false).get(StageTimings.Phase.DECODE).toNanos();
      return new Result(plan.count, d.visualBatches(), d.visualPictures(), d.visualCopies(), d.syncBatches(),
          d.syncWindows(), d.syncCopies(), d.floats(), decode);
    } finally {
      if (source != null) {
        source.close();
      }
    }
  }
}
