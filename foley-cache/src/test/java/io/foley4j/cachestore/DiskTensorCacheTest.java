package io.foley4j.cachestore;

import static io.foley4j.cachestore.Entries.entry;
import static io.foley4j.cachestore.Entries.key;
import static io.foley4j.cachestore.Entries.same;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.foley4j.cache.TensorCache;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DiskTensorCacheTest {
  @TempDir Path dir;

  /** A clock that moves one second forward on every reading: file times are strictly ordered. */
  static Clock tickingClock() {
    AtomicLong seconds = new AtomicLong(1_700_000_000L);
    return new Clock() {
      @Override public ZoneOffset getZone() {
        return ZoneOffset.UTC;
      }

      @Override public Clock withZone(java.time.ZoneId zone) {
        throw new UnsupportedOperationException();
      }

      @Override public Instant instant() {
        return Instant.ofEpochSecond(seconds.incrementAndGet());
      }
    };
  }

  private DiskTensorCache cache(long maximumBytes) {
    return (DiskTensorCache) TensorCaches.disk(dir).maximumBytes(maximumBytes).clock(tickingClock()).build();
  }

  @Test
  void hitAndMissRoundTripTheEntry() {
    DiskTensorCache cache = cache(1 << 20);
    CacheEntry e = entry(300, 7);
    assertNull(cache.get(key(7)));
    cache.put(key(7), e);
    Path file = dir.resolve(key(7).substring(0, 2)).resolve(key(7) + ".safetensors");
    assertTrue(Files.isRegularFile(file), "content-addressed file " + file);
    CacheEntry back = cache.get(key(7));
    assertNotNull(back);
    assertTrue(same(e, back), "round trip changed the entry: " + back.metadata());
    CacheStats s = cache.stats();
    assertEquals(1, s.hits());
    assertEquals(1, s.misses());
    assertEquals(1, s.puts());
    assertEquals(0, s.errors());
    assertEquals(1, s.entries());
    assertEquals(DiskTensorCache.encode(e).length, s.bytes());
  }

  @Test
  void replacingAnEntryKeepsOneFileAndTheNewValue() throws IOException {
    DiskTensorCache cache = cache(1 << 20);
    cache.put(key(1), entry(10, 1));
    cache.put(key(1), entry(20, 2));
    assertTrue(same(entry(20, 2), cache.get(key(1))));
    assertEquals(1, cache.stats().entries());
    assertEquals(DiskTensorCache.encode(entry(20, 2)).length, cache.stats().bytes());
    try (Stream<Path> s = Files.list(cache.file(key(1)).getParent())) {
      assertEquals(1, s.count(), "no temporary file left behind");
    }
  }

  @Test
  void evictsLeastRecentlyUsedFilesDownToTheBound() throws IOException {
    long size = DiskTensorCache.encode(entry(256, 0)).length;
    long bound = 10 * size + size / 2;
    DiskTensorCache cache = cache(bound);
    for (int i = 0; i < 10; i++) {
      cache.put(key(i), entry(256, i));
    }
    assertEquals(10, cache.stats().entries());
    assertNotNull(cache.get(key(0))); // 0 is now the most recently used of the first ten
    for (int i = 10; i < 15; i++) {
      cache.put(key(i), entry(256, i));
    }
    long actual = directorySize();
    assertTrue(actual <= bound, "directory holds " + actual + " bytes > bound " + bound);
    assertEquals(actual, cache.stats().bytes());
    assertTrue(Files.exists(cache.file(key(0))), "recently read entry was evicted");
    assertFalse(Files.exists(cache.file(key(1))), "least recently used entry survived");
    assertFalse(Files.exists(cache.file(key(2))), "second least recently used entry survived");
    assertTrue(Files.exists(cache.file(key(14))), "newest entry was evicted");
    assertTrue(cache.stats().evictions() >= 2);
  }

  @Test
  void entryLargerThanTheBoundIsNotStored() {
    DiskTensorCache cache = cache(1000);
    cache.put(key(1), entry(1000, 1));
    assertFalse(Files.exists(cache.file(key(1))));
    assertEquals(1, cache.stats().evictions());
    assertEquals(0, cache.stats().puts());
  }

  @Test
  void aNewCacheLearnsTheDirectorySizeAndEvictsIfOver() throws IOException {
    DiskTensorCache first = cache(1 << 20);
    for (int i = 0; i < 6; i++) {
      first.put(key(i), entry(256, i));
    }
    long size = DiskTensorCache.encode(entry(256, 0)).length;
    DiskTensorCache second = cache(1 << 20);
    assertEquals(6, second.stats().entries());
    assertEquals(6 * size, second.stats().bytes());
    assertTrue(same(entry(256, 3), second.get(key(3))));
    DiskTensorCache small = cache(3 * size);
    assertTrue(directorySize() <= 3 * size);
    assertEquals(directorySize(), small.stats().bytes());
  }

  @ParameterizedTest(name = "flip byte at {0}")
  @ValueSource(ints = {3, 12, 60, -1, -2000})
  void aFlippedByteIsAMissAndTheFileIsRemoved(int position) throws IOException {
    DiskTensorCache cache = cache(1 << 20);
    cache.put(key(5), entry(1000, 5));
    Path file = cache.file(key(5));
    byte[] data = Files.readAllBytes(file);
    int at = position >= 0 ? position : data.length + position;
    data[at] ^= 0x20;
    Files.write(file, data);
    assertNull(cache.get(key(5)));
    assertFalse(Files.exists(file), "corrupt file was not removed");
    CacheStats s = cache.stats();
    assertEquals(1, s.errors());
    assertEquals(1, s.misses());
    assertEquals(0, s.hits());
    assertEquals(0, s.entries());
    cache.put(key(5), entry(1000, 5));
    assertTrue(same(entry(1000, 5), cache.get(key(5))), "the key is usable again");
  }

  @Test
  void aTruncatedFileIsAMissAndIsRemoved() throws IOException {
    DiskTensorCache cache = cache(1 << 20);
    cache.put(key(6), entry(1000, 6));
    Path file = cache.file(key(6));
    byte[] data = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(data, data.length / 2));
    assertNull(cache.get(key(6)));
    assertFalse(Files.exists(file));
    assertEquals(1, cache.stats().errors());
    Files.write(file, new byte[0]);
    assertNull(cache.get(key(6)));
    assertFalse(Files.exists(file));
    assertEquals(2, cache.stats().errors());
  }

  @Test
  void staleTemporaryFilesAreRemovedBySweeps() throws IOException {
    Path shard = Files.createDirectories(dir.resolve("ab"));
    Path stale = Files.write(shard.resolve("ab12.deadbeef.tmp"), new byte[10]);
    Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.from(1_000, TimeUnit.SECONDS));
    Path fresh = Files.write(shard.resolve("ab34.feedface.tmp"), new byte[10]);
    cache(1 << 20).sweep();
    assertFalse(Files.exists(stale));
    assertTrue(Files.exists(fresh), "a temporary file being written must not be removed");
  }

  @Test
  void keysAndBuilderAreValidated() {
    DiskTensorCache cache = cache(1 << 20);
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> cache.get("../../etc/passwd"));
    assertTrue(bad.getMessage().contains("lowercase hex"), bad.getMessage());
    assertThrows(IllegalArgumentException.class, () -> cache.put("ABCD", entry(1, 1)));
    assertEquals("maximum bytes was already set to 5", assertThrows(IllegalStateException.class,
        () -> TensorCaches.disk(dir).maximumBytes(5).maximumBytes(5)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> TensorCaches.disk(dir).maximumBytes(-5));
    assertThrows(NullPointerException.class, () -> TensorCaches.disk(null));
  }

  @Test
  void fileIsPlainSafetensorsWithAChecksumInTheMetadata() throws Exception {
    TensorCache cache = TensorCaches.disk(dir).build();
    int n = 64;
    CacheEntry e = entry(n, 3);
    cache.put(key(3), e);
    Path file = ((DiskTensorCache) cache).file(key(3));
    byte[] data = Files.readAllBytes(file);

    // A minimal reader written from the safetensors spec, independent of foley-core's Safetensors.
    long headerLength = ByteBuffer.wrap(data, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLength % 8, "header is padded to 8 bytes");
    String json = new String(data, 8, (int) headerLength, StandardCharsets.UTF_8);
    JsonObject header = JsonParser.parseString(json).getAsJsonObject();
    JsonObject audio = header.getAsJsonObject("audio");
    assertEquals("F32", audio.get("dtype").getAsString());
    assertEquals(n, audio.getAsJsonArray("shape").get(0).getAsLong());
    assertEquals(0, audio.getAsJsonArray("data_offsets").get(0).getAsLong());
    assertEquals(4L * n, audio.getAsJsonArray("data_offsets").get(1).getAsLong());
    JsonObject meta = header.getAsJsonObject("__metadata__");
    assertEquals("48000", meta.get("sampleRate").getAsString());
    String sha = meta.get("foley.sha256").getAsString();
    assertTrue(sha.matches("[0-9a-f]{64}"), sha);
    assertEquals(8 + headerLength + 4L * n, data.length);
    float[] values = new float[n];
    ByteBuffer.wrap(data, 8 + (int) headerLength, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    assertArrayEquals(e.tensor("audio").floats(), values);

    // The checksum, as docs/caching.md describes it: SHA-256 of the file with its 64 digits zeroed.
    String text = new String(data, StandardCharsets.ISO_8859_1).replace(sha, "0".repeat(64));
    String recomputed = HexFormat.of().formatHex(
        MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.ISO_8859_1)));
    assertEquals(sha, recomputed);

    PythonCheck.readWithNumpy(file, n, e.tensor("audio").floats());
  }

  private long directorySize() throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.toString().endsWith(".safetensors")).mapToLong(p -> p.toFile().length()).sum();
    }
  }
}
