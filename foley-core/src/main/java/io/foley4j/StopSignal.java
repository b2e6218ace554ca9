package io.foley4j;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The engine-wide stop: set once when {@code close()} begins (no new jobs), and {@link #abort()}ed
 * when running jobs must stop at their next check (the close timeout ran out, or the engine was
 * closed from one of its own callbacks). Lock-free.
 */
final class StopSignal {
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile boolean abort;

  /** Starts closing; true for the caller that did. */
  boolean close() {
    return closing.compareAndSet(false, true);
  }

  boolean isClosing() {
    return closing.get();
  }

  /** From now on running jobs stop at their next check. */
  void abort() {
    abort = true;
  }

  /** Throws CLOSED if running jobs must stop now. */
  void check(long jobId) {
    if (abort && closing.get()) {
      throw new FoleyException(FoleyException.Code.CLOSED, "engine closed before job " + jobId + " finished");
    }
  }
}
