package io.foley4j.cachestore;

import io.foley4j.cache.TensorCache;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Objects;

/**
 * Builds a {@link TensorCache} that keeps each entry in a file
 * {@code <directory>/<key[0..2]>/<key>.safetensors}: the entry's safetensors bytes with a SHA-256
 * checksum in the {@code __metadata__} entry {@code foley.sha256} (see {@code docs/caching.md}).
 *
 * <ul>
 *   <li>Writes go to a temporary file in the same folder that is then renamed over the target
 *       (atomic move), so a reader — in this or another process — sees a whole file or none.
 *   <li>Reads verify the checksum; a corrupt or truncated file is a miss: it is removed, a WARNING is
 *       logged and {@code errors} is counted. Nothing is thrown to the caller.
 *   <li>The files are kept under {@link #maximumBytes(long)} by evicting the least recently used
 *       (a hit sets the file's last-modified time) down to 90% of the bound. The cache learns the
 *       directory's size by scanning it when built, and scans again when its estimate passes the
 *       bound or after it has written a tenth of the bound, so files that other processes add are
 *       seen; with N processes sharing a directory the size may briefly exceed the bound by up to
 *       about N tenths of it.
 *   <li>Several caches, in one or many JVMs, may share a directory: a file removed by another
 *       process is a miss, and eviction sweeps are serialised by a lock on {@code <directory>/.lock}.
 * </ul>
 *
 * <p>Keys must be lowercase hexadecimal (2 to 128 digits), as the engine's SHA-256 keys are; other
 * keys are rejected with {@link IllegalArgumentException}. Each option may be set once;
 * {@link #build()} does not change the builder.
 */
public final class DiskCacheBuilder {
  static final long DEFAULT_MAXIMUM_BYTES = 4L << 30;

  private final Path directory;
  private long maximumBytes = -1;
  private Clock clock;

  DiskCacheBuilder(Path directory) {
    this.directory = directory;
  }

  /** Bound on the total size of the entry files (default 4 GiB). */
  public DiskCacheBuilder maximumBytes(long maximumBytes) {
    if (this.maximumBytes != -1) {
      throw new IllegalStateException("maximum bytes was already set to " + this.maximumBytes);
    }
    if (maximumBytes < 0) {
      throw new IllegalArgumentException("maximum bytes must not be negative: " + maximumBytes);
    }
    this.maximumBytes = maximumBytes;
    return this;
  }

  /** The clock that stamps files' access times (tests). */
  DiskCacheBuilder clock(Clock clock) {
    Objects.requireNonNull(clock, "clock");
    if (this.clock != null) {
      throw new IllegalStateException("clock was already set to " + this.clock);
    }
    this.clock = clock;
    return this;
  }

  /**
   * Creates the directory if needed, scans it to learn its size (evicting if it is over the bound)
   * and returns the cache.
   *
   * @throws io.foley4j.FoleyException with code IO if the directory cannot be created or read
   */
  public TensorCache build() {
    return new DiskTensorCache(directory, maximumBytes == -1 ? DEFAULT_MAXIMUM_BYTES : maximumBytes,
        clock == null ? Clock.systemUTC() : clock);
  }
}
