package io.foley4j.server;

import java.util.concurrent.ConcurrentHashMap;

/** Per-client token buckets: {@code rate} requests per second with a burst. */
final class ClientLimits {
  private final double rate;
  private final int burst;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  ClientLimits(double rate, int burst) {
    this.rate = rate;
    this.burst = burst;
  }

  /** 0 when the client may go on (a token is taken), else the seconds until it may retry (>= 1). */
  long tryAcquire(String client) {
    if (rate <= 0) {
      return 0;
    }
    if (buckets.size() > 100_000) {
      buckets.clear(); // forget idle clients rather than grow without bound
    }
    return buckets.computeIfAbsent(client, c -> new Bucket()).take();
  }

  private final class Bucket {
    private double tokens = burst;
    private long at = System.nanoTime();

    synchronized long take() {
      long now = System.nanoTime();
      tokens = Math.min(burst, tokens + (now - at) / 1e9 * rate);
      at = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, (long) Math.ceil((1 - tokens) / rate));
    }
  }
}
