package io.foley4j;

import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.foley4j.cache.TensorCache;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A map as a store (tests read and change {@link #map} directly); no statistics. */
final class MapCache implements TensorCache {
  final Map<String, CacheEntry> map = new ConcurrentHashMap<>();

  @Override
  public CacheEntry get(String key) {
    return map.get(key);
  }

  @Override
  public void put(String key, CacheEntry entry) {
    map.put(key, entry);
  }

  @Override
  public CacheStats stats() {
    return null;
  }
}
