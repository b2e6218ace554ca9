package io.foley4j;

import io.foley4j.EngineStats.BreakerState;

/**
 * Stops sending work to a failing backend. CLOSED counts consecutive failed backend calls; at
 * {@code threshold} it opens. OPEN rejects everything for {@code openNanos}; then the next call is
 * let through as a probe (HALF_OPEN): success closes the breaker, failure opens it again. Thread-safe.
 */
final class CircuitBreaker {
  private final int threshold;
  private final long openNanos;
  private final Ticker ticker;
  private BreakerState state = BreakerState.CLOSED;
  private int failures;
  private long openedAt;
  private boolean probing;

  CircuitBreaker(int threshold, long openNanos, Ticker ticker) {
    if (threshold < 1) {
      throw new IllegalArgumentException("breaker threshold must be at least 1, was " + threshold);
    }
    this.threshold = threshold;
    this.openNanos = openNanos;
    this.ticker = ticker;
  }

  /** Whether a call may go to the backend now (a true in HALF_OPEN makes that call the probe). */
  synchronized boolean tryAcquire() {
    assert LockOrder.taken(this);
    switch (state) {
      case CLOSED:
        return true;
      case OPEN:
        if (ticker.nanos() - openedAt >= openNanos) {
          state = BreakerState.HALF_OPEN;
          probing = true;
          return true;
        }
        return false;
      default: // HALF_OPEN: one probe at a time
        if (probing) {
          return false;
        }
        probing = true;
        return true;
    }
  }

  /** Whether new work would be rejected right now (OPEN and not yet due for a probe). */
  synchronized boolean isRejecting() {
    assert LockOrder.taken(this);
    return state == BreakerState.OPEN && ticker.nanos() - openedAt < openNanos;
  }

  synchronized void onSuccess() {
    assert LockOrder.taken(this);
    failures = 0;
    probing = false;
    state = BreakerState.CLOSED;
  }

  /** A call ended without telling anything about the backend (it was stopped): frees the probe slot. */
  synchronized void onAbandoned() {
    assert LockOrder.taken(this);
    probing = false;
  }

  synchronized void onFailure() {
    assert LockOrder.taken(this);
    probing = false;
    if (state == BreakerState.HALF_OPEN || ++failures >= threshold) {
      state = BreakerState.OPEN;
      openedAt = ticker.nanos();
      failures = 0;
    }
  }

  synchronized BreakerState state() {
    assert LockOrder.taken(this);
    if (state == BreakerState.OPEN && ticker.nanos() - openedAt >= openNanos) {
      return BreakerState.HALF_OPEN; // due for a probe
    }
    return state;
  }

  /** Nanoseconds until an OPEN breaker lets a probe through (0 otherwise). */
  synchronized long nanosUntilProbe() {
    assert LockOrder.taken(this);
    return state == BreakerState.OPEN ? Math.max(0, openNanos - (ticker.nanos() - openedAt)) : 0;
  }

  int threshold() {
    return threshold;
  }
}
