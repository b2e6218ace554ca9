package io.foley4j.cachestore;

import static io.foley4j.cachestore.Entries.entry;
import static io.foley4j.cachestore.Entries.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.foley4j.cache.TensorCache;
import org.junit.jupiter.api.Test;

class MemoryTensorCacheTest {

  @Test
  void hitAndMissAreCounted() {
    TensorCache cache = TensorCaches.memory().maximumBytes(1 << 20).build();
    CacheEntry e = entry(100, 1);
    assertNull(cache.get(key(1)));
    cache.put(key(1), e);
    assertSame(e, cache.get(key(1)));
    CacheStats s = cache.stats();
    assertEquals(1, s.hits());
    assertEquals(1, s.misses());
    assertEquals(1, s.puts());
    assertEquals(1, s.entries());
    assertEquals(e.byteSize(), s.bytes());
    assertEquals(0, s.errors());
  }

  @Test
  void boundedByBytesAndKeepsHotEntries() {
    long size = entry(256, 0).byteSize();
    long bound = 20 * size;
    TensorCache cache = TensorCaches.memory().maximumBytes(bound).build();
    for (int i = 0; i < 20; i++) {
      cache.put(key(i), entry(256, i));
    }
    for (int r = 0; r < 5; r++) {
      assertNotNull(cache.get(key(0)));
    }
    for (int i = 20; i < 80; i++) {
      cache.put(key(i), entry(256, i));
      cache.get(key(0)); // a hot entry, read between writes
    }
    CacheStats s = cache.stats();
    assertTrue(s.bytes() <= bound, "bytes " + s.bytes() + " > bound " + bound);
    assertTrue(s.evictions() >= 60, "evictions " + s.evictions());
    int present = 0;
    for (int i = 0; i < 80; i++) {
      if (cache.get(key(i)) != null) {
        present++;
      }
    }
    assertTrue(present * size <= bound, present + " entries present");
    assertNotNull(cache.get(key(0)), "the frequently read entry was evicted");
  }

  @Test
  void entryLargerThanBoundIsNotKept() {
    TensorCache cache = TensorCaches.memory().maximumBytes(1000).build();
    cache.put(key(1), entry(1000, 1));
    ((MemoryTensorCache) cache).cleanUp();
    assertNull(cache.get(key(1)));
    assertEquals(1, cache.stats().evictions());
    assertEquals(0, cache.stats().bytes());
  }

  @Test
  void builderValidates() {
    IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
        () -> TensorCaches.memory().maximumBytes(-1));
    assertEquals("maximum bytes must not be negative: -1", neg.getMessage());
    IllegalStateException twice = assertThrows(IllegalStateException.class,
        () -> TensorCaches.memory().maximumBytes(5).maximumBytes(6));
    assertEquals("maximum bytes was already set to 5", twice.getMessage());
    MemoryCacheBuilder b = TensorCaches.memory().maximumBytes(100);
    TensorCache first = b.build();
    first.put(key(1), entry(2, 1));
    assertNull(b.build().get(key(1)), "each build() makes a new, empty cache");
  }
}
