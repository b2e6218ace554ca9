package io.foley4j;

import java.util.concurrent.CompletableFuture;

/**
 * A submitted request. Its result completes exactly once: with a {@link FoleyResult} or
 * exceptionally with a {@link FoleyException}. Thread-safe.
 */
public interface FoleyJob {

  /** Engine-unique id, for logs. */
  long id();

  FoleyRequest request();

  /**
   * The result. Completing or cancelling this future from outside has no effect on the job; use
   * {@link #cancel()}.
   */
  CompletableFuture<FoleyResult> result();

  /**
   * Cancels the job: its future fails with code CANCELLED at once, no chunk follows, and its work
   * stops at the next step boundary. Idempotent; returns false if the job had already completed.
   */
  boolean cancel();

  boolean isCancelled();

  /**
   * The job's chunks as a reactive stream: each subscriber receives every chunk from the first
   * (already emitted ones are replayed; with several variants, those of every variant, each
   * saying its {@link AudioChunk#variant()}), in order and as it requests them, then
   * {@code onComplete}, or {@code onError} with the job's {@link FoleyException}. Subscribe at
   * any time, even after the job finished. Signals come from engine threads or the requesting
   * thread, never concurrently for one subscriber.
   */
  java.util.concurrent.Flow.Publisher<AudioChunk> chunks();

  /** Blocks until done; returns the result or throws its {@link FoleyException}. */
  default FoleyResult await() {
    try {
      return result().join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof FoleyException f) {
        throw f;
      }
      throw new FoleyException(FoleyException.Code.INTERNAL, "job failed: " + e.getCause(), e.getCause());
    } catch (java.util.concurrent.CancellationException e) {
      throw new FoleyException(FoleyException.Code.CANCELLED, "job was cancelled", e);
    }
  }
}
