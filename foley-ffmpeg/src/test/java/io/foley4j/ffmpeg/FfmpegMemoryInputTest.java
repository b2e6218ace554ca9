package io.foley4j.ffmpeg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.UnsupportedVideoException;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.foley4j.cache.TensorCache;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Videos from memory through FFmpeg's custom AVIOContext (read and seek callbacks over the bytes). */
class FfmpegMemoryInputTest extends ReferenceBundleTest {
  /** A map store that counts hits and puts. */
  static final class MapCache implements TensorCache {
    final Map<String, CacheEntry> map = new ConcurrentHashMap<>();
    final AtomicInteger hits = new AtomicInteger();
    final AtomicInteger puts = new AtomicInteger();

    @Override
    public CacheEntry get(String key) {
      CacheEntry e = map.get(key);
      if (e != null) {
        hits.incrementAndGet();
      }
      return e;
    }

    @Override
    public void put(String key, CacheEntry entry) {
      puts.incrementAndGet();
      map.put(key, CacheEntry.fromBytes(entry.toBytes()));
    }

    @Override
    public CacheStats stats() {
      return new CacheStats(hits.get(), 0, puts.get(), 0, 0, map.size(), 0);
    }
  }

  private static FoleyRequest.Builder settings(FoleyRequest.Builder b) {
    return b.prompt("door knock").steps(3).seed(11);
  }

  /** HEVC in MP4 (moov at the end: the demuxer must seek), H.264 in Matroska. */
  @ParameterizedTest
  @ValueSource(strings = {"hevc-mp4", "h264-mkv"})
  void pathBytesAndStreamGiveIdenticalAudioAndTheSameKey(String variant) throws IOException {
    Path video = Clips.variant(dir, variant);
    byte[] bytes = Files.readAllBytes(video);
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).videoSources(FfmpegVideoSources.ffmpeg()).build()) {
      float[] fromPath = engine.generate(settings(FoleyRequest.builder(video)).build()).toArray();
      float[] fromBytes = engine.generate(settings(FoleyRequest.builder(bytes)).build()).toArray();
      float[] fromStream = engine.generate(settings(FoleyRequest.builder(new ByteArrayInputStream(bytes))).build())
          .toArray();
      assertEquals(Math.round(6.52 * 48_000) > 0, fromPath.length > 0);
      assertArrayEquals(fromPath, fromBytes, variant + ": bytes");
      assertArrayEquals(fromPath, fromStream, variant + ": stream");
    }
    MapCache cache = new MapCache();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).videoSources(FfmpegVideoSources.ffmpeg())
        .resultCache(cache).build()) {
      engine.generate(settings(FoleyRequest.builder(video)).build());
      FoleyResult b = engine.generate(settings(FoleyRequest.builder(bytes)).build());
      // read whole, a stream is keyed before it runs (decoded while it arrives, it would only store at the end)
      FoleyResult s = engine.generate(settings(FoleyRequest.builder(new ByteArrayInputStream(bytes))).readWhole()
          .build());
      assertEquals(1, cache.puts.get(), "one key for all three");
      assertEquals(2, cache.hits.get());
      assertTrue(b.timings().resultCacheHit() && s.timings().resultCacheHit());
    }
    assertEquals(0, MemoryIo.live(), "every AVIOContext freed");
  }

  @Test
  void framesFromMemoryEqualFramesFromTheFile() throws IOException {
    Path video = Clips.variant(dir, "hevc-mp4");
    byte[] bytes = Files.readAllBytes(video);
    VideoSourceFactory f = FfmpegVideoSources.ffmpeg();
    int n = 0;
    try (VideoSource a = f.open(video, 2); VideoSource b = f.open(ByteBuffer.wrap(bytes), 2)) {
      assertEquals(a.info().frameCount(), b.info().frameCount());
      assertEquals(a.info().durationTicks(), b.info().durationTicks());
      for (DecodedFrame fa = a.next(); fa != null; fa = a.next(), n++) {
        DecodedFrame fb = b.next();
        assertNotNull(fb);
        assertEquals(fa.ptsTicks(), fb.ptsTicks());
        assertArrayEquals(fa.yPlane(), fb.yPlane());
        assertArrayEquals(fa.uPlane(), fb.uPlane());
      }
      assertNull(b.next());
    }
    assertEquals(163, n);
    assertEquals(0, MemoryIo.live());
  }

  @ParameterizedTest
  @ValueSource(strings = {"hevc-mp4", "h264-mkv"})
  void truncatedInMemoryIsCorruptLikeTheFile(String variant) throws IOException {
    Path video = Clips.variant(dir, variant);
    byte[] cut = Arrays.copyOf(Files.readAllBytes(video), (int) (Files.size(video) * 6 / 10));
    Path file = dir.resolve("cut-" + video.getFileName());
    Files.write(file, cut);
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).videoSources(FfmpegVideoSources.ffmpeg()).build()) {
      FoleyException fromFile = assertThrows(FoleyException.class, () -> engine.generate(FoleyRequest.of(file, "x")));
      FoleyException fromMemory = assertThrows(FoleyException.class,
          () -> engine.generate(FoleyRequest.builder(cut).prompt("x").build()));
      assertEquals(FoleyException.Code.CORRUPT_VIDEO, fromFile.code(), fromFile.getMessage());
      assertEquals(FoleyException.Code.CORRUPT_VIDEO, fromMemory.code(), fromMemory.getMessage());
      assertTrue(fromMemory instanceof UnsupportedVideoException);
      assertTrue(fromMemory.getMessage().contains("video from memory (" + cut.length + " bytes)"),
          fromMemory.getMessage());
      assertEquals(fromFile.getMessage().replace(file.toString(), "from memory (" + cut.length + " bytes)"),
          fromMemory.getMessage());
    }
    byte[] noise = new byte[50_000];
    new Random(1).nextBytes(noise);
    FoleyException e = assertThrows(FoleyException.class,
        () -> FfmpegVideoSources.ffmpeg().open(ByteBuffer.wrap(noise), 1));
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code(), e.getMessage());
    assertEquals(0, MemoryIo.live(), "freed on the failure paths too");
  }

  private static long status(String key) throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith(key + ":")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    throw new AssertionError(key + " not in /proc/self/status");
  }

  private static void cycle(VideoSourceFactory f, ByteBuffer video, int n) {
    for (int i = 0; i < n; i++) {
      VideoSource s = f.open(video, 2);
      assertNotNull(s.next());
      if (i % 2 == 0) {
        assertNotNull(s.next());
      }
      s.close();
      s.close();
      assertEquals(0, MemoryIo.live());
    }
  }

  @Test
  void twoHundredOpensFromMemoryFreeEveryContext() throws IOException {
    Path video = Clips.make(dir.resolve("leak.mp4"), "testsrc2=s=640x360:r=25:d=2", "-c:v", "libx264", "-pix_fmt",
        "yuv420p", "-g", "10");
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(video));
    VideoSourceFactory f = FfmpegVideoSources.ffmpeg();
    cycle(f, bytes, 30);
    System.gc();
    long rss0 = status("VmRSS");
    long threads0 = status("Threads");
    cycle(f, bytes, 200);
    System.gc();
    long rss1 = status("VmRSS");
    long threads1 = status("Threads");
    System.out.printf("200 open/close from memory: RSS %d -> %d kB (%+d kB), threads %d -> %d%n", rss0, rss1,
        rss1 - rss0, threads0, threads1);
    assertTrue(rss1 - rss0 < 40_000, "RSS grew by " + (rss1 - rss0) + " kB");
    assertTrue(threads1 <= threads0 + 2, "threads " + threads0 + " -> " + threads1);
    List<Thread> java = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().contains("ffmpeg")).toList();
    assertTrue(java.isEmpty(), "threads left: " + java);
    assertEquals(0, MemoryIo.live());
    assertEquals(0, bytes.position(), "the caller's buffer is not moved");
  }
}
