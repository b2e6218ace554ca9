package io.foley4j.cachestore;

import static io.foley4j.cachestore.Entries.entry;
import static io.foley4j.cachestore.Entries.key;
import static io.foley4j.cachestore.Entries.same;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real redis-server on loopback; skipped when it is not installed (see RedisServer). */
class RedisTensorCacheTest {
  private static final Duration TIMEOUT = Duration.ofMillis(200);
  /** Slack on top of the command timeout for scheduling and GC. */
  private static final long SLACK_MS = 1500; // bounded, not fast: a loaded CI machine may pause for GC

  @TempDir Path dir;
  private RedisServer server;

  @BeforeEach
  void startServer() throws Exception {
    RedisServer.assumeInstalled();
    server = RedisServer.start(dir);
  }

  @AfterEach
  void stopServer() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private RedisCacheBuilder builder() {
    return TensorCaches.redis().uri("redis://127.0.0.1:" + server.port()).commandTimeout(TIMEOUT);
  }

  /**
   * Waits until the cache's background connect has finished (the first one in a JVM can take longer
   * than the command timeout; until then operations are counted misses), then returns it.
   */
  static CloseableTensorCache ready(CloseableTensorCache cache) throws InterruptedException {
    assertTrue(eventually(() -> {
      long errors = cache.stats().errors();
      cache.get(key(999_999));
      return cache.stats().errors() == errors;
    }), "cache never connected");
    return cache;
  }

  /** A plain Lettuce connection to inspect what the cache stored. */
  private <T> T inspect(java.util.function.Function<RedisCommands<String, String>, T> f) {
    RedisClient client = RedisClient.create("redis://127.0.0.1:" + server.port());
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      return f.apply(c.sync());
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  @Test
  void putGetWithPrefixAndTimeToLive() throws Exception {
    try (CloseableTensorCache cache = ready(builder().keyPrefix("t1:").timeToLive(Duration.ofHours(1)).build())) {
      long errors0 = cache.stats().errors();
      long misses0 = cache.stats().misses();
      assertNull(cache.get(key(1)));
      cache.put(key(1), entry(500, 1));
      CacheEntry back = cache.get(key(1));
      assertNotNull(back);
      assertTrue(same(entry(500, 1), back));
      long ttl = inspect(r -> r.ttl("t1:" + key(1)));
      assertTrue(ttl > 3600 - 10 && ttl <= 3600, "TTL " + ttl);
      assertEquals(0L, (long) inspect(r -> r.exists("foley4j:" + key(1))), "prefix not applied");
      CacheStats s = cache.stats();
      assertEquals(1, s.hits());
      assertEquals(1, s.misses() - misses0);
      assertEquals(1, s.puts());
      assertEquals(errors0, s.errors());
    }
  }

  @Test
  void defaultsArePrefixFoley4jAndSevenDays() throws Exception {
    try (CloseableTensorCache cache = ready(builder().build())) {
      cache.put(key(2), entry(10, 2));
      long ttl = inspect(r -> r.ttl("foley4j:" + key(2)));
      long week = Duration.ofDays(7).toSeconds();
      assertTrue(ttl > week - 10 && ttl <= week, "TTL " + ttl);
    }
  }

  @Test
  void valuesOverTheMaximumAreNotStored() throws Exception {
    int small = entry(100, 1).toBytes().length;
    try (CloseableTensorCache cache = ready(builder().maximumValueBytes(small).build())) {
      long errors0 = cache.stats().errors();
      cache.put(key(1), entry(100, 1));
      cache.put(key(2), entry(101, 2));
      assertNotNull(cache.get(key(1)));
      assertNull(cache.get(key(2)));
      assertEquals(0L, (long) inspect(r -> r.exists("foley4j:" + key(2))));
      assertEquals(1, cache.stats().evictions());
      assertEquals(1, cache.stats().puts());
      assertEquals(errors0, cache.stats().errors());
    }
  }

  @Test
  void redisDownMidRunIsAMissWithinTheTimeoutAndRecovers() throws Exception {
    try (CloseableTensorCache cache = ready(builder().build())) {
      cache.put(key(1), entry(100, 1));
      assertNotNull(cache.get(key(1)));
      long errors0 = cache.stats().errors();
      server.kill();
      for (int i = 0; i < 5; i++) {
        long t0 = System.nanoTime();
        assertNull(cache.get(key(1)));
        cache.put(key(3), entry(100, 3));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms <= 2 * TIMEOUT.toMillis() + SLACK_MS, "get+put took " + ms + " ms with Redis down");
      }
      long errors = cache.stats().errors() - errors0;
      assertEquals(10, errors, "each failed get and put counts one error");
      server.start(); // same port, empty (no persistence)
      assertTrue(eventually(() -> {
        cache.put(key(4), entry(100, 4));
        return cache.get(key(4)) != null;
      }), "cache did not recover after Redis came back");
      assertTrue(same(entry(100, 4), cache.get(key(4))));
    }
  }

  @Test
  void redisDownAtConstructionNeitherFailsNorBlocks() throws Exception {
    server.kill();
    long t0 = System.nanoTime();
    try (CloseableTensorCache cache = builder().build()) {
      long buildMs = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(buildMs < 3_000, "build took " + buildMs + " ms");
      long t1 = System.nanoTime();
      assertNull(cache.get(key(1)));
      cache.put(key(1), entry(10, 1));
      long ms = (System.nanoTime() - t1) / 1_000_000;
      assertTrue(ms <= 2 * TIMEOUT.toMillis() + SLACK_MS, "get+put took " + ms + " ms");
      assertEquals(2, cache.stats().errors());
      server.start();
      assertTrue(eventually(() -> {
        cache.put(key(1), entry(10, 1));
        return cache.get(key(1)) != null;
      }), "cache never connected after Redis started");
    }
  }

  @Test
  void closeStopsAllThreadsAndIsIdempotent() throws Exception {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    CloseableTensorCache cache = ready(builder().build());
    cache.put(key(1), entry(10, 1));
    assertNotNull(cache.get(key(1)));
    List<String> started = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> !before.contains(t)).map(Thread::getName).collect(Collectors.toList());
    assertTrue(started.stream().anyMatch(n -> n.startsWith("foley-redis")), "threads: " + started);
    cache.close();
    cache.close();
    // the client's own threads end with close(): join them instead of polling
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive() && !before.contains(t) && (!t.isDaemon() || t.getName().startsWith("foley-redis"))) {
        t.join(5_000);
      }
    }
    List<String> left = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && !before.contains(t))
        .filter(t -> !t.isDaemon() || t.getName().startsWith("foley-redis"))
        .map(t -> t.getName() + (t.isDaemon() ? "" : " (non-daemon)")).collect(Collectors.toList());
    assertTrue(left.isEmpty(), "threads left after close: " + left);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> cache.get(key(1)));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
  }

  @Test
  void builderValidates() {
    assertThrows(IllegalArgumentException.class, () -> TensorCaches.redis().uri("http://x"));
    assertEquals("uri was already set to redis://***@h", assertThrows(IllegalStateException.class,
        () -> TensorCaches.redis().uri("redis://:secret@h").uri("redis://h")).getMessage());
    assertThrows(IllegalArgumentException.class, () -> TensorCaches.redis().host("h", 0));
    assertThrows(IllegalArgumentException.class, () -> TensorCaches.redis().timeToLive(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> TensorCaches.redis().commandTimeout(Duration.ofMinutes(2)));
    assertThrows(IllegalArgumentException.class, () -> TensorCaches.redis().maximumValueBytes(0));
    assertEquals("key prefix was already set to 'a'", assertThrows(IllegalStateException.class,
        () -> TensorCaches.redis().keyPrefix("a").keyPrefix("b")).getMessage());
    IllegalStateException both = assertThrows(IllegalStateException.class,
        () -> TensorCaches.redis().uri("redis://h").host("h", 1).build());
    assertTrue(both.getMessage().startsWith("set either uri or host"), both.getMessage());
    assertFalse(RedisCacheBuilder.redact("redis://u:pw@h:1").contains("pw"));
  }

  /** Polls {@code check} for up to 10 s. */
  static boolean eventually(java.util.function.BooleanSupplier check) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (check.getAsBoolean()) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

}
