package io.foley4j.cachestore;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Entry point to the {@link io.foley4j.cache.TensorCache} implementations of foley-cache.
 *
 * <pre>{@code
 * TensorCache memory = TensorCaches.memory().maximumBytes(512L << 20).build();
 * TensorCache disk = TensorCaches.disk(Path.of("/var/cache/foley4j")).maximumBytes(20L << 30).build();
 * try (CloseableTensorCache redis = TensorCaches.redis().uri("redis://cache-host:6379").build()) {
 *   ...
 * }
 * }</pre>
 */
public final class TensorCaches {
  private TensorCaches() {}

  /** A builder of an in-memory cache bounded by the bytes of its entries (Caffeine, W-TinyLFU). */
  public static MemoryCacheBuilder memory() {
    return new MemoryCacheBuilder();
  }

  /**
   * A builder of a cache that stores each entry as a checksummed safetensors file under
   * {@code directory} (created if missing) and keeps the directory under a size bound by evicting
   * the least recently used files. Several caches, in one or several JVMs, may share a directory.
   */
  public static DiskCacheBuilder disk(Path directory) {
    Objects.requireNonNull(directory, "directory");
    return new DiskCacheBuilder(directory);
  }

  /**
   * A builder of a Redis cache (needs {@code io.lettuce:lettuce-core} on the class path: foley-cache
   * declares it as an optional dependency).
   */
  public static RedisCacheBuilder redis() {
    return new RedisCacheBuilder();
  }
}
