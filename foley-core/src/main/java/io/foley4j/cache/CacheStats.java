package io.foley4j.cache;

/**
 * A snapshot of a cache's counters. {@code errors} counts operations that failed inside the cache
 * (a corrupt file, an unreachable Redis) and were turned into misses or dropped writes.
 */
public record CacheStats(long hits, long misses, long puts, long evictions, long errors, long entries, long bytes) {
  public static CacheStats empty() {
    return new CacheStats(0, 0, 0, 0, 0, 0, 0);
  }

  /** hits / (hits + misses), 0 when nothing was asked. */
  public double hitRate() {
    long n = hits + misses;
    return n == 0 ? 0 : hits / (double) n;
  }
}
