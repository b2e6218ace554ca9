package io.foley4j;

/**
 * Receives a job's events. All methods have empty defaults; implement what you need.
 *
 * <p>Contract: events of one job arrive on foley4j's threads, one at a time (never concurrently),
 * in this order: {@code onProgress}/{@code onChunk} interleaved with chunks in time order, then
 * exactly one of {@code onComplete} or {@code onFailure}. Callbacks must be fast and must not block
 * on the engine; an exception thrown by a callback is logged and ignored, it never breaks the job
 * or other jobs.
 */
public interface FoleyListener {

  /** A listener that ignores everything. */
  FoleyListener NONE = new FoleyListener() {};

  /** Progress after each denoiser step. */
  default void onProgress(Progress progress) {}

  /**
   * Final audio for {@code [chunk.sampleOffset(), chunk.sampleOffset() + chunk.length())} of variant
   * {@code chunk.variant()} (always 0 for a request of one variant).
   */
  default void onChunk(AudioChunk chunk) {}

  /**
   * The job finished; {@code result} (variant 0) concatenates the chunks of variant 0, and {@code
   * result.variant(i)} those of variant i.
   */
  default void onComplete(FoleyResult result) {}

  /** The job failed, was cancelled or timed out. */
  default void onFailure(FoleyException error) {}
}
