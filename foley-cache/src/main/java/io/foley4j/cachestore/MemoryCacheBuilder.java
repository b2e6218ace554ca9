package io.foley4j.cachestore;

import io.foley4j.cache.TensorCache;

/**
 * Builds an in-memory {@link TensorCache} bounded by the sum of its entries'
 * {@link io.foley4j.cache.CacheEntry#byteSize()}. Entries are kept as objects (not serialized); the
 * eviction policy is Caffeine's W-TinyLFU, which keeps frequently read entries over entries that
 * were written once and never read (it is not strict LRU). An entry larger than the bound is not
 * kept and counts as an eviction.
 *
 * <p>Each option may be set once; {@link #build()} may be called many times and does not change the
 * builder.
 */
public final class MemoryCacheBuilder {
  static final long DEFAULT_MAXIMUM_BYTES = 256L << 20;

  private long maximumBytes = -1;

  MemoryCacheBuilder() {}

  /** Bound on the bytes held (default 256 MiB). */
  public MemoryCacheBuilder maximumBytes(long maximumBytes) {
    if (this.maximumBytes != -1) {
      throw new IllegalStateException("maximum bytes was already set to " + this.maximumBytes);
    }
    if (maximumBytes < 0) {
      throw new IllegalArgumentException("maximum bytes must not be negative: " + maximumBytes);
    }
    this.maximumBytes = maximumBytes;
    return this;
  }

  /** A new, empty cache. */
  public TensorCache build() {
    return new MemoryTensorCache(maximumBytes == -1 ? DEFAULT_MAXIMUM_BYTES : maximumBytes);
  }
}
