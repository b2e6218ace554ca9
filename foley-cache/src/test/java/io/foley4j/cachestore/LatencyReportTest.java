package io.foley4j.cachestore;

import static io.foley4j.cachestore.Entries.entry;
import static io.foley4j.cachestore.Entries.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.TensorCache;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Prints get/put latency of each store for a 4 KB and a 1 MB entry (rough numbers, one thread). */
class LatencyReportTest {
  @TempDir Path dir;

  @Test
  void printLatencies() throws Exception {
    TensorCache memory = TensorCaches.memory().maximumBytes(64L << 20).build();
    TensorCache disk = TensorCaches.disk(dir.resolve("disk")).maximumBytes(256L << 20).build();
    measure("memory", memory);
    measure("disk", disk);
    if (RedisServer.executable() == null) {
      System.out.println("[latency] redis: redis-server not installed, skipped");
      return;
    }
    try (RedisServer server = RedisServer.start(dir);
        CloseableTensorCache redis = TensorCaches.redis().host("127.0.0.1", server.port())
            .commandTimeout(Duration.ofSeconds(2)).build()) {
      RedisTensorCacheTest.ready(redis);
      measure("redis", redis);
      assertEquals(0, redis.stats().errors());
    }
  }

  private static void measure(String store, TensorCache cache) {
    for (int[] size : new int[][] {{1024, 300}, {262_144, 40}}) {
      int n = size[0];
      int rounds = size[1];
      CacheEntry e = entry(n, 1);
      long[] put = new long[rounds];
      long[] get = new long[rounds];
      for (int warm = 0; warm < 10; warm++) {
        cache.put(key(1_000_000 + warm), e);
        assertNotNull(cache.get(key(1_000_000 + warm)));
      }
      for (int i = 0; i < rounds; i++) {
        String k = key(n * 10_000L + i);
        long t0 = System.nanoTime();
        cache.put(k, e);
        long t1 = System.nanoTime();
        assertNotNull(cache.get(k), store + " lost an entry just written");
        long t2 = System.nanoTime();
        put[i] = t1 - t0;
        get[i] = t2 - t1;
      }
      System.out.printf("[latency] %-6s %-5s put p50 %8.1f us p90 %8.1f us | get p50 %8.1f us p90 %8.1f us%n",
          store, n * 4 >= 1 << 20 ? "1MB" : "4KB", pct(put, 50), pct(put, 90), pct(get, 50), pct(get, 90));
    }
  }

  private static double pct(long[] nanos, int p) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return s[Math.min(s.length - 1, s.length * p / 100)] / 1000.0;
  }
}
