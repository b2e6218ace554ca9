package io.foley4j.cachestore;

import io.foley4j.FoleyException;
import io.foley4j.bundle.Safetensors;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.foley4j.cache.TensorCache;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/** A size-bounded, LRU directory of checksummed safetensors files; see {@link DiskCacheBuilder}. */
final class DiskTensorCache implements TensorCache {
  /** Reserved metadata key holding the file's checksum. */
  static final String CHECKSUM_KEY = "foley.sha256";
  static final String SUFFIX = ".safetensors";
  static final String TEMP_SUFFIX = ".tmp";
  static final String LOCK_FILE = ".lock";
  private static final Duration STALE_TEMP = Duration.ofHours(1);
  private static final Pattern KEY = Pattern.compile("[0-9a-f]{2,128}");
  private static final byte[] MARKER = ("\"" + CHECKSUM_KEY + "\":\"").getBytes(StandardCharsets.US_ASCII);
  private static final String ZEROS = "0".repeat(64);
  private static final byte[] ZERO_BYTES = ZEROS.getBytes(StandardCharsets.US_ASCII);

  private final Path directory;
  private final long maximumBytes;
  private final long lowWater;
  private final long rescanAfter;
  private final Clock clock;

  private final AtomicLong bytes = new AtomicLong();
  private final AtomicLong entries = new AtomicLong();
  private final AtomicLong writtenSinceScan = new AtomicLong();
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder puts = new LongAdder();
  private final LongAdder evictions = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final ReentrantLock sweepLock = new ReentrantLock();
  private final WarningLimiter warnings = new WarningLimiter(TimeUnit.SECONDS.toNanos(10));

  DiskTensorCache(Path directory, long maximumBytes, Clock clock) {
    this.directory = directory.toAbsolutePath().normalize();
    this.maximumBytes = maximumBytes;
    this.lowWater = maximumBytes - maximumBytes / 10;
    this.rescanAfter = Math.max(1, maximumBytes / 10);
    this.clock = clock;
    try {
      Files.createDirectories(this.directory);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO,
          "cannot create cache directory " + this.directory + ": " + e, e);
    }
    try {
      scan(false);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot read cache directory " + this.directory + ": " + e, e);
    }
    if (bytes.get() > maximumBytes) {
      sweep();
    }
  }

  @Override
  public CacheEntry get(String key) {
    Path file = file(key);
    byte[] data;
    Object fileKey;
    try {
      fileKey = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
      data = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      misses.increment();
      return null;
    } catch (IOException | RuntimeException e) {
      misses.increment();
      errors.increment();
      warnings.warn("cannot read cache file " + file, e);
      return null;
    }
    CacheEntry entry;
    try {
      entry = decode(data);
    } catch (RuntimeException e) {
      misses.increment();
      errors.increment();
      WarningLimiter.LOG.log(System.Logger.Level.WARNING,
          "removing corrupt cache file " + file + " (" + data.length + " bytes): " + e.getMessage());
      removeIfUnchanged(file, fileKey);
      return null;
    }
    try {
      Files.setLastModifiedTime(file, FileTime.from(clock.instant()));
    } catch (IOException | RuntimeException e) {
      // Removed by an eviction meanwhile: the caller still gets what was read.
    }
    hits.increment();
    return entry;
  }

  @Override
  public void put(String key, CacheEntry entry) {
    Path file = file(key);
    Objects.requireNonNull(entry, "entry");
    byte[] data = encode(entry);
    if (data.length > maximumBytes) {
      evictions.increment();
      return;
    }
    Path shard = file.getParent();
    Path temp = null;
    try {
      Files.createDirectories(shard);
      temp = shard.resolve(key + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + TEMP_SUFFIX);
      Files.write(temp, data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      Files.setLastModifiedTime(temp, FileTime.from(clock.instant()));
      long old = sizeOrMinusOne(file);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
      temp = null;
      if (old >= 0) {
        bytes.addAndGet(data.length - old);
      } else {
        bytes.addAndGet(data.length);
        entries.incrementAndGet();
      }
      puts.increment();
      writtenSinceScan.addAndGet(data.length);
    } catch (AtomicMoveNotSupportedException e) {
      errors.increment();
      warnings.warn("file system of " + directory + " cannot rename atomically; entry not stored", e);
    } catch (IOException | RuntimeException e) {
      errors.increment();
      warnings.warn("cannot write cache file " + file, e);
    } finally {
      if (temp != null) {
        deleteQuietly(temp);
      }
    }
    if (bytes.get() > maximumBytes || writtenSinceScan.get() >= rescanAfter) {
      sweep();
    }
  }

  @Override
  public CacheStats stats() {
    return new CacheStats(hits.sum(), misses.sum(), puts.sum(), evictions.sum(), errors.sum(),
        Math.max(0, entries.get()), Math.max(0, bytes.get()));
  }

  /** The file of {@code key}. */
  Path file(String key) {
    Objects.requireNonNull(key, "key");
    if (!KEY.matcher(key).matches()) {
      throw new IllegalArgumentException("disk cache keys must be 2 to 128 lowercase hex digits, got '" + key + "'");
    }
    return directory.resolve(key.substring(0, 2)).resolve(key + SUFFIX);
  }

  Path directory() {
    return directory;
  }

  /**
   * Rescans the directory and, if it is over the bound, evicts the least recently used files down to
   * 90% of it. Runs under a file lock so that processes sharing the directory do not sweep at once;
   * if another one is sweeping, this returns at once.
   */
  void sweep() {
    if (!sweepLock.tryLock()) {
      return;
    }
    try {
      writtenSinceScan.set(0);
      try (FileChannel channel = FileChannel.open(directory.resolve(LOCK_FILE),
          StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock;
        try {
          lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
          return; // another cache in this JVM is sweeping the same directory
        }
        if (lock == null) {
          return; // another process is sweeping
        }
        try {
          scan(true);
        } finally {
          lock.release();
        }
      }
    } catch (IOException | RuntimeException e) {
      errors.increment();
      warnings.warn("cannot sweep cache directory " + directory, e);
    } finally {
      sweepLock.unlock();
    }
  }

  private record FileInfo(Path path, long size, FileTime lastModified) {}

  private void scan(boolean evict) throws IOException {
    List<FileInfo> files = new ArrayList<>();
    long total = 0;
    FileTime staleBefore = FileTime.from(clock.instant().minus(STALE_TEMP));
    try (DirectoryStream<Path> shards = Files.newDirectoryStream(directory)) {
      for (Path shard : shards) {
        if (shard.getFileName().toString().length() != 2 || !Files.isDirectory(shard)) {
          continue;
        }
        try (DirectoryStream<Path> names = Files.newDirectoryStream(shard)) {
          for (Path f : names) {
            String name = f.getFileName().toString();
            BasicFileAttributes a;
            try {
              a = Files.readAttributes(f, BasicFileAttributes.class);
            } catch (NoSuchFileException e) {
              continue;
            }
            if (!a.isRegularFile()) {
              continue;
            }
            if (name.endsWith(SUFFIX)) {
              files.add(new FileInfo(f, a.size(), a.lastModifiedTime()));
              total += a.size();
            } else if (name.endsWith(TEMP_SUFFIX) && a.lastModifiedTime().compareTo(staleBefore) < 0) {
              deleteQuietly(f); // left by a writer that crashed
            }
          }
        } catch (NoSuchFileException | NotDirectoryException e) {
          // removed meanwhile
        }
      }
    }
    long count = files.size();
    if (evict && total > maximumBytes) {
      files.sort(Comparator.comparing(FileInfo::lastModified).thenComparing(FileInfo::path));
      for (FileInfo f : files) {
        if (total <= lowWater) {
          break;
        }
        try {
          if (Files.deleteIfExists(f.path())) {
            evictions.increment();
          }
          total -= f.size();
          count--;
        } catch (IOException e) {
          errors.increment();
          warnings.warn("cannot evict cache file " + f.path(), e);
        }
      }
    }
    bytes.set(total);
    entries.set(count);
  }

  private void removeIfUnchanged(Path file, Object fileKey) {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      if (fileKey != null && !fileKey.equals(a.fileKey())) {
        return; // replaced by a writer since it was read
      }
      if (Files.deleteIfExists(file)) {
        bytes.addAndGet(-a.size());
        entries.decrementAndGet();
      }
    } catch (IOException | RuntimeException e) {
      // already gone, or cannot be removed: the next reader will try again
    }
  }

  private static long sizeOrMinusOne(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return -1;
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException | RuntimeException e) {
      // best effort
    }
  }

  /**
   * The safetensors bytes of {@code entry} with metadata {@code foley.sha256}: the lowercase hex
   * SHA-256 of the whole file as it reads with those 64 digits replaced by '0's.
   */
  static byte[] encode(CacheEntry entry) {
    Map<String, String> metadata = new TreeMap<>(entry.metadata());
    metadata.put(CHECKSUM_KEY, ZEROS);
    byte[] data = Safetensors.toBytes(entry.tensors(), metadata);
    int at = checksumOffset(data);
    if (at < 0) {
      throw new IllegalStateException("checksum placeholder not found in the safetensors header");
    }
    byte[] hex = HexFormat.of().formatHex(sha256().digest(data)).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(hex, 0, data, at, hex.length);
    return data;
  }

  /**
   * Verifies and parses a file's bytes, dropping the checksum from the metadata.
   *
   * @throws RuntimeException if the bytes are truncated, corrupt or not safetensors
   */
  static CacheEntry decode(byte[] data) {
    int at = checksumOffset(data);
    if (at < 0) {
      throw new IllegalStateException("no " + CHECKSUM_KEY + " checksum in the header (truncated or not a cache file)");
    }
    String stored = new String(data, at, 64, StandardCharsets.US_ASCII);
    MessageDigest sha = sha256();
    sha.update(data, 0, at);
    sha.update(ZERO_BYTES);
    sha.update(data, at + 64, data.length - at - 64);
    String actual = HexFormat.of().formatHex(sha.digest());
    if (!actual.equals(stored)) {
      throw new IllegalStateException("checksum mismatch: file says " + stored + ", content hashes to " + actual);
    }
    CacheEntry parsed = CacheEntry.fromBytes(data);
    Map<String, String> metadata = new LinkedHashMap<>(parsed.metadata());
    metadata.remove(CHECKSUM_KEY);
    return CacheEntry.of(parsed.tensors(), metadata);
  }

  /** Offset of the 64 checksum digits inside the JSON header, or -1. */
  private static int checksumOffset(byte[] data) {
    if (data.length < 8) {
      return -1;
    }
    long headerLength = ByteBuffer.wrap(data, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength < 2 || headerLength > data.length - 8L) {
      return -1;
    }
    int end = 8 + (int) headerLength;
    outer:
    for (int i = 8; i + MARKER.length + 64 <= end; i++) {
      for (int j = 0; j < MARKER.length; j++) {
        if (data[i + j] != MARKER[j]) {
          continue outer;
        }
      }
      return i + MARKER.length;
    }
    return -1;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("SHA-256 is required on every JVM", e);
    }
  }

  @Override
  public String toString() {
    return "DiskTensorCache[" + directory + ", maximumBytes=" + maximumBytes + "]";
  }

}
