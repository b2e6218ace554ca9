package io.foley4j;

/** A token bucket: {@code ratePerSecond} tokens refill continuously up to {@code burst}. Thread-safe. */
final class TokenBucket {
  private final double ratePerNano;
  private final double burst;
  private final Ticker ticker;
  private double tokens;
  private long last;

  TokenBucket(double ratePerSecond, int burst, Ticker ticker) {
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.ticker = ticker;
    this.tokens = burst;
    this.last = ticker.nanos();
  }

  /** Takes one token if there is one. */
  synchronized boolean tryTake() {
    assert LockOrder.taken(this);
    refill();
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }

  /** Whether the bucket has refilled completely (an idle client; it can be forgotten). */
  synchronized boolean isFull() {
    assert LockOrder.taken(this);
    refill();
    return tokens >= burst;
  }

  /** Nanoseconds until a token will be available. */
  synchronized long nanosUntilToken() {
    assert LockOrder.taken(this);
    refill();
    return tokens >= 1 ? 0 : (long) Math.ceil((1 - tokens) / ratePerNano);
  }

  private void refill() {
    long now = ticker.nanos();
    tokens = Math.min(burst, tokens + (now - last) * ratePerNano);
    last = now;
  }
}
