package io.foley4j;

/**
 * Fine-grained timing events of every job of an engine, for tracing and metrics
 * ({@code FoleyEngine.builder().eventListener(...)}). Every {@code callStart} is followed by
 * exactly one matching {@code callEnd} on the same thread, also when the call fails. Every
 * {@code queueStart} (on the submitting thread) is followed by exactly one {@code queueEnd}: when
 * the job starts, or when it leaves the queue without starting (cancelled, or the engine closed).
 * Methods are no-ops by default, so new events never break implementations. Calls must be fast and
 * non-blocking; exceptions are logged and ignored.
 */
public abstract class FoleyEventListener {

  /** The job was queued (at submission). */
  public void queueStart(long jobId) {}

  /** The job left the queue and started. */
  public void queueEnd(long jobId, long waitedNanos) {}

  /**
   * A backend call for this job begins: {@code phase} is TEXT, VISUAL, SYNC, DENOISE or VAE;
   * {@code segment} and {@code step} are -1 where they do not apply.
   */
  public void callStart(long jobId, StageTimings.Phase phase, int segment, int step) {}

  /** The matching end; {@code failed} when the call threw. */
  public void callEnd(long jobId, StageTimings.Phase phase, int segment, int step, long nanos, boolean failed) {}
}
