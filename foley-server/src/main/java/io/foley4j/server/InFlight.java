package io.foley4j.server;

/**
 * Counts requests of one kind that are in progress (uploads being accepted, open SSE streams), so
 * that shutdown can wait for them: an upload answered 202 is in the job store before the drain
 * looks at it, and a stream sends its job's final event before the server stops.
 */
final class InFlight {
  private int count;

  synchronized void enter() {
    count++;
  }

  synchronized void exit() {
    if (--count == 0) {
      notifyAll();
    }
  }

  /**
   * Waits until none is in progress or {@code deadlineNanos} (System.nanoTime) passes; returns
   * whether none is. An interrupt does not cut the wait short (shutdown must not skip it); the flag
   * is restored on return.
   */
  synchronized boolean awaitNone(long deadlineNanos) {
    boolean interrupted = false;
    try {
      while (count > 0) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      return true;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  synchronized int count() {
    return count;
  }
}
