package io.foley4j.cachestore;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Policy;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.foley4j.cache.TensorCache;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/** Byte-bounded Caffeine cache of {@link CacheEntry} objects. */
final class MemoryTensorCache implements TensorCache {
  private final Cache<String, CacheEntry> cache;
  private final Policy.Eviction<String, CacheEntry> eviction;
  private final LongAdder puts = new LongAdder();

  MemoryTensorCache(long maximumBytes) {
    this.cache = Caffeine.newBuilder()
        .maximumWeight(maximumBytes)
        .weigher((String k, CacheEntry v) -> (int) Math.min(Integer.MAX_VALUE, v.byteSize()))
        // Maintenance (eviction) runs on the calling thread: no background work, and the bound holds
        // when put() returns.
        .executor(Runnable::run)
        .recordStats()
        .build();
    this.eviction = cache.policy().eviction().orElseThrow();
  }

  @Override
  public CacheEntry get(String key) {
    Objects.requireNonNull(key, "key");
    return cache.getIfPresent(key);
  }

  @Override
  public void put(String key, CacheEntry entry) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(entry, "entry");
    cache.put(key, entry);
    puts.increment();
  }

  @Override
  public CacheStats stats() {
    com.github.benmanes.caffeine.cache.stats.CacheStats s = cache.stats();
    long bytes = eviction.weightedSize().orElse(0);
    return new CacheStats(s.hitCount(), s.missCount(), puts.sum(), s.evictionCount(), 0,
        cache.estimatedSize(), bytes);
  }

  /** Runs pending maintenance (tests). */
  void cleanUp() {
    cache.cleanUp();
  }

  @Override
  public String toString() {
    return "MemoryTensorCache[maximumBytes=" + eviction.getMaximum() + "]";
  }
}
