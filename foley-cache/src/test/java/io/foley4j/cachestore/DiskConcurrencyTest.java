package io.foley4j.cachestore;

import static io.foley4j.cachestore.Entries.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.Safetensors;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two caches on one directory (as two JVMs would share it), 8 threads each, overlapping keys. */
class DiskConcurrencyTest {
  private static final int KEYS = 64;
  private static final long RUN_NANOS = 3_000_000_000L;

  @TempDir Path dir;

  /** The one value ever written under key i: its size and content depend on i. */
  private static CacheEntry value(int i) {
    int n = 256 + i * 16;
    float[] data = new float[n];
    for (int j = 0; j < n; j++) {
      data[j] = i * 100_000 + j;
    }
    return CacheEntry.of(Map.of("audio", Safetensors.Tensor.f32(data, n)), Map.of("key", Integer.toString(i)));
  }

  @Test
  void twoCachesOnOneDirectoryNeverReturnWrongBytes() throws Exception {
    long bound = 24L * DiskTensorCache.encode(value(KEYS / 2)).length; // about a third of all keys: eviction runs
    DiskTensorCache a = (DiskTensorCache) TensorCaches.disk(dir).maximumBytes(bound).build();
    DiskTensorCache b = (DiskTensorCache) TensorCaches.disk(dir).maximumBytes(bound).build();
    CacheEntry[] values = new CacheEntry[KEYS];
    for (int i = 0; i < KEYS; i++) {
      values[i] = value(i);
    }
    Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
    LongAdder verifiedHits = new LongAdder();
    List<Thread> threads = new ArrayList<>();
    long end = System.nanoTime() + RUN_NANOS;
    for (int t = 0; t < 16; t++) {
      DiskTensorCache cache = t % 2 == 0 ? a : b;
      Thread thread = new Thread(() -> {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        try {
          while (System.nanoTime() < end) {
            int i = rnd.nextInt(KEYS);
            if (rnd.nextInt(3) == 0) {
              cache.put(key(i), values[i]);
            } else {
              CacheEntry got = cache.get(key(i));
              if (got != null) {
                if (!got.tensors().equals(values[i].tensors()) || !got.metadata().equals(values[i].metadata())) {
                  throw new AssertionError("key " + i + " returned " + got + " " + got.metadata());
                }
                verifiedHits.increment();
              }
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }, "disk-test-" + t);
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    if (!failures.isEmpty()) {
      AssertionError error = new AssertionError(failures.size() + " threads failed");
      failures.forEach(error::addSuppressed);
      throw error;
    }
    CacheStats sa = a.stats();
    CacheStats sb = b.stats();
    System.out.println("[disk-concurrency] a=" + sa + " b=" + sb + " verified hits=" + verifiedHits.sum());
    assertEquals(0, sa.errors(), "cache a counted errors");
    assertEquals(0, sb.errors(), "cache b counted errors");
    assertTrue(verifiedHits.sum() > 1000, "too few hits to prove anything: " + verifiedHits.sum());
    assertTrue(sa.evictions() + sb.evictions() > 0, "eviction never ran");
    a.sweep();
    long size;
    long temps;
    try (Stream<Path> s = Files.walk(dir)) {
      size = s.filter(p -> p.toString().endsWith(".safetensors")).mapToLong(p -> p.toFile().length()).sum();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      temps = s.filter(p -> p.toString().endsWith(".tmp")).count();
    }
    assertTrue(size <= bound, "directory holds " + size + " > bound " + bound);
    assertEquals(0, temps, "temporary files left behind");
  }
}
