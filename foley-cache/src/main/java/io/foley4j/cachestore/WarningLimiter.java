package io.foley4j.cachestore;

import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Logs store failures at WARNING without flooding the log while a store is down: the first failure
 * is logged, then at most one per interval, saying how many were left out; the others go to DEBUG.
 */
final class WarningLimiter {
  static final System.Logger LOG = System.getLogger("io.foley4j.cachestore");

  private final long intervalNanos;
  private final AtomicLong nextWarning = new AtomicLong(Long.MIN_VALUE);
  private final AtomicLong suppressed = new AtomicLong();

  WarningLimiter(long intervalNanos) {
    this.intervalNanos = intervalNanos;
  }

  void warn(String message, Throwable cause) {
    long now = System.nanoTime();
    long next = nextWarning.get();
    if ((next == Long.MIN_VALUE || now - next >= 0) && nextWarning.compareAndSet(next, now + intervalNanos)) {
      long left = suppressed.getAndSet(0);
      String text = left == 0 ? message : message + " (" + left + " similar failures not logged)";
      if (cause == null) {
        LOG.log(Level.WARNING, text);
      } else {
        LOG.log(Level.WARNING, text + ": " + cause);
      }
    } else {
      suppressed.incrementAndGet();
      LOG.log(Level.DEBUG, message, cause);
    }
  }
}
