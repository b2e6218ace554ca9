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
  BATCH_BUCKETS
}
