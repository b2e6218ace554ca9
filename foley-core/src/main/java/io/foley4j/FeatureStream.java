package io.foley4j;

/**
 * The encoder features of one job, segment by segment in order: what the sampler consumes. They
 * come from the video ({@link VideoFeatures}: decode, sample, encode) or from the feature cache
 * ({@link FeatureCacheLink}), which can also store a video's features as they pass through.
 */
interface FeatureStream extends AutoCloseable {

  /** How the job's audio is cut into segments (known before any feature is produced). */
  SegmentPlan plan();

  /** The container's duration, as ticks of {@link #durationTimescale()}. */
  long durationTicks();

  long durationTimescale();

  /**
   * Bytes of one decoded picture of the video this stream decodes ({@link
   * PipelineConfig#pictureBytes}), or 0 when it decodes nothing (features from the cache).
   */
  default long pictureBytes() {
    return 0;
  }

  /**
   * Starts producing (after the job was admitted), encoding through {@code home}; a no-op for
   * features already at hand.
   */
  default void start(StageCalls home) {}

  /**
   * The features of segment {@code k}; segments are taken in order, each once.
   *
   * @param whileWaiting runs at each poll interval while the features are not ready; may throw to
   *     stop the job (deadline, engine closing)
   */
  SegmentFeatures take(int k, Runnable whileWaiting);

  /** Releases the decoder (if it never started) and everything else held; idempotent. */
  @Override
  void close();
}
