package io.foley4j;

/**
 * What {@link FoleyEngine.Builder#build()} runs through each stage before it returns, so the first
 * request does not pay for the runtime's lazy initialisation (memory planning, kernel choice,
 * TensorRT engine builds), each on every device.
 */
public enum WarmUp {
  /** Nothing: the first request of each shape pays instead. */
  NONE,
  /**
   * One call per stage with a request's batch (the default): a CFG pair for the denoiser, the
   * configured frames or windows for the encoders, one latent for the VAE decoder.
   */
  TRAINED_SHAPE,
  /**
   * As {@link #TRAINED_SHAPE}, and for the denoiser and VAE decoder also every batch the scheduler
   * can form (1 to {@code maxBatchSize} items): what GPU runtimes that prepare per shape need, at
   * {@code maxBatchSize} more calls of those stages per device.
   */
  BATCH_BUCKETS,
  /**
   * As {@link #BATCH_BUCKETS}, then one whole request through the engine before build() returns: a
   * synthetic clip of one and a half segments (at most {@code maxVideoDuration}; written to a
   * temporary file and deleted), 2 steps,
   * through the configured video source, the encoders, the sampler, the VAE and the stitcher. It
   * loads and compiles the Java side (decoding, resizing, feature assembly), which is most of what
   * a first request pays beyond a steady one. No cache, single-flight or event listener sees it;
   * its backend calls count in {@link EngineStats}. If it fails (a video source that cannot read
   * H.264 in MP4, say), a WARNING is logged and the engine is still returned.
   */
  FULL
}
