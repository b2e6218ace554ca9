package io.foley4j;

import io.foley4j.jcodec.Mp4Outputs;

import io.foley4j.jcodec.JcodecVideoSources;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A request's video from memory (bytes, a buffer, a stream, a channel) through jcodec. */
class MemoryInputTest {
  static ModelBundle bundle;

  @TempDir
  static Path dir;
  static Path video;
  static byte[] bytes;

  @BeforeAll
  static void setUp() throws IOException {
    bundle = TestSupport.referenceBundle();
    video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(10).flash(1, 0.12, 0xFFFFFF)
        .flash(8.5, 0.12, 0xFFFFFF).build(), video);
    bytes = Files.readAllBytes(video);
  }

  @AfterAll
  static void tearDown() {
    bundle.close();
  }

  /** Hands out at most 7000 bytes per read, records whether it was closed and how much was read. */
  static class Trickle extends FilterInputStream {
    final AtomicBoolean closed = new AtomicBoolean();
    final AtomicLong read = new AtomicLong();

    Trickle(byte[] b) {
      super(new ByteArrayInputStream(b));
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, Math.min(len, 7000));
      if (n > 0) {
        read.addAndGet(n);
      }
      return n;
    }

    @Override
    public void close() throws IOException {
      closed.set(true);
      super.close();
    }
  }

  private static FoleyRequest.Builder settings(FoleyRequest.Builder b) {
    return b.prompt("bell").steps(4).seed(7);
  }

  @Test
  void pathBytesBufferStreamAndChannelGiveTheSameAudio() {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      float[] fromPath = engine.generate(settings(FoleyRequest.builder(video)).build()).toArray();
      float[] fromBytes = engine.generate(settings(FoleyRequest.builder(bytes)).build()).toArray();
      ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 10);
      direct.put(new byte[10]).put(bytes).position(10); // from its position to its limit
      float[] fromBuffer = engine.generate(settings(FoleyRequest.builder(direct)).build()).toArray();
      assertEquals(10, direct.position(), "the buffer's position is left alone");
      Trickle in = new Trickle(bytes);
      float[] fromStream = engine.generate(settings(FoleyRequest.builder(in)).build()).toArray();
      assertTrue(in.closed.get(), "the stream is closed once read");
      assertEquals(bytes.length, in.read.get(), "read once");
      float[] fromChannel = engine.generate(settings(FoleyRequest.builder(
          Channels.newChannel(new ByteArrayInputStream(bytes)))).build()).toArray();
      assertTrue(fromPath.length > 0);
      assertArrayEquals(fromPath, fromBytes);
      assertArrayEquals(fromPath, fromBuffer);
      assertArrayEquals(fromPath, fromStream);
      assertArrayEquals(fromPath, fromChannel);
    }
  }

  @Test
  void identicalBytesGiveTheSameCacheKeyAsTheFile() {
    assertEquals(CacheKeys.videoDigest(video), CacheKeys.videoDigest(ByteBuffer.wrap(bytes)));
    VideoInput.Loaded streamed = VideoInput.of(new Trickle(bytes), FoleyRequest.DEFAULT_MAX_STREAM_BYTES).load(true, () -> null, "foley-test-stream-0");
    assertEquals(CacheKeys.videoDigest(video), streamed.digest(), "hashed as it streamed in");
    assertEquals(ByteBuffer.wrap(bytes), streamed.bytes(), "the decoder reads the same bytes");
    assertEquals("video from memory (" + bytes.length + " bytes)", streamed.name());

    CachingTest.MapCache cache = new CachingTest.MapCache();
    CachingTest.Calls calls = new CachingTest.Calls();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).resultCache(cache).eventListener(calls).build()) {
      float[] a = engine.generate(settings(FoleyRequest.builder(video)).build()).toArray();
      assertEquals(1, cache.puts.get());
      calls.reset();
      FoleyResult b = engine.generate(settings(FoleyRequest.builder(bytes)).build());
      FoleyResult c = engine.generate(settings(FoleyRequest.builder(new Trickle(bytes))).build());
      assertTrue(b.timings().resultCacheHit() && c.timings().resultCacheHit(), "the file's key");
      assertEquals(2, cache.hits.get());
      assertEquals(1, cache.puts.get());
      assertTrue(calls.n.isEmpty(), "no backend call: " + calls.n);
      assertArrayEquals(a, b.toArray());
      assertArrayEquals(a, c.toArray());
    }
  }

  @Test
  void aStreamOverTheBoundIsRefusedAndNothingRuns() {
    CachingTest.Calls calls = new CachingTest.Calls();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).eventListener(calls).build()) {
      Trickle in = new Trickle(bytes);
      long bound = bytes.length / 3;
      FoleyRequest r = settings(FoleyRequest.builder(in).maxStreamBytes(bound)).build();
      assertEquals(bound, r.maxStreamBytes());
      assertTrue(r.videoInMemory());
      assertNull(r.video());
      FoleyException e = assertThrows(FoleyException.class, () -> engine.generate(r));
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
      assertTrue(e.getMessage().contains("longer than " + bound + " bytes") && e.getMessage().contains("file"),
          e.getMessage());
      assertTrue(calls.n.isEmpty(), "no backend call: " + calls.n);
      assertTrue(in.read.get() <= bound + 7000, "stopped reading at the bound: " + in.read.get());
      assertTrue(in.closed.get());
      // exactly at the bound is fine
      FoleyRequest exact = settings(FoleyRequest.builder(new Trickle(bytes)).maxStreamBytes(bytes.length)).build();
      assertTrue(engine.generate(exact).sampleCount() > 0);
    }
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class,
        () -> FoleyRequest.builder(bytes).maxStreamBytes(10)).code(), "bytes are not buffered: no bound");
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class,
        () -> FoleyRequest.builder(new Trickle(bytes)).maxStreamBytes(0)).code());
  }

  @Test
  void aStreamThatThrowsAnUncheckedExceptionFailsTheJobAsIoWithTheCause() {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      for (RuntimeException thrown : new RuntimeException[] {new IllegalStateException("the socket went away"),
          new java.io.UncheckedIOException(new IOException("the socket went away"))}) {
        Trickle in = new Trickle(bytes) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            if (read.get() >= 14_000) {
              throw thrown;
            }
            return super.read(b, off, len);
          }
        };
        FoleyException e = assertThrows(FoleyException.class, () -> engine.generate(settings(FoleyRequest.builder(in))
            .build()));
        assertEquals(FoleyException.Code.IO, e.code(), e.toString());
        assertTrue(e.getMessage().contains("cannot read the video stream after ")
            && e.getMessage().contains("the socket went away"), e.getMessage());
        assertEquals(thrown, e.getCause());
        assertTrue(in.closed.get(), "the stream is closed");
      }
    }
  }

  @Test
  void theBytesAreHeldOnlyWhileTheJobRuns() throws Exception {
    java.util.concurrent.CountDownLatch opening = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch goOn = new java.util.concurrent.CountDownLatch(1);
    VideoSourceFactory gated = new VideoSourceFactory() { // holds the job inside open, its bytes loaded
      @Override
      public VideoSource open(Path file) {
        return JcodecVideoSources.jcodec().open(file);
      }

      @Override
      public VideoSource open(ByteBuffer video, int threads) {
        opening.countDown();
        try {
          goOn.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        return JcodecVideoSources.jcodec().open(video, threads);
      }
    };
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).videoSources(gated).build()) {
      Trickle in = new Trickle(bytes);
      FoleyJob job = engine.submit(settings(FoleyRequest.builder(in)).build());
      opening.await();
      assertTrue(((Job) job).holdsVideo(), "held while running");
      goOn.countDown();
      job.await();
      assertFalse(((Job) job).holdsVideo(), "dropped when done");
      // a queued job cancelled before it ran: its stream is closed unread
      Trickle unread = new Trickle(bytes);
      FoleyEngine one = FoleyEngine.builder().bundle(bundle).maxConcurrentRequests(1).build();
      try (one) {
        FoleyJob blocker = one.submit(settings(FoleyRequest.builder(bytes)).build());
        FoleyJob queued = one.submit(settings(FoleyRequest.builder(unread)).build());
        queued.cancel();
        blocker.await();
        assertTrue(unread.closed.get());
        assertEquals(0, unread.read.get());
      }
    }
  }

  @Test
  void aStreamRequestIsSubmittedOnce() {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      FoleyRequest r = settings(FoleyRequest.builder(new Trickle(bytes))).build();
      assertTrue(engine.generate(r).sampleCount() > 0);
      FoleyException e = assertThrows(FoleyException.class, () -> engine.generate(r));
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
      assertTrue(e.getMessage().contains("read only once"), e.getMessage());
      // bytes can be submitted again
      FoleyRequest b = settings(FoleyRequest.builder(bytes)).build();
      assertArrayEquals(engine.generate(b).toArray(), engine.generate(b).toArray());
    }
  }

  @Test
  void aTruncatedMp4InMemoryIsCorruptLikeTheFile() throws IOException {
    byte[] cut = Arrays.copyOf(bytes, bytes.length / 2);
    Path file = dir.resolve("cut.mp4");
    Files.write(file, cut);
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      FoleyException fromFile = assertThrows(FoleyException.class,
          () -> engine.generate(FoleyRequest.of(file, "x")));
      FoleyException fromMemory = assertThrows(FoleyException.class,
          () -> engine.generate(FoleyRequest.builder(cut).prompt("x").build()));
      FoleyException fromStream = assertThrows(FoleyException.class,
          () -> engine.generate(FoleyRequest.builder(new Trickle(cut)).prompt("x").build()));
      assertEquals(FoleyException.Code.CORRUPT_VIDEO, fromFile.code());
      assertEquals(FoleyException.Code.CORRUPT_VIDEO, fromMemory.code());
      assertEquals(FoleyException.Code.CORRUPT_VIDEO, fromStream.code());
      assertTrue(fromMemory instanceof UnsupportedVideoException);
      String label = "video from memory (" + cut.length + " bytes)";
      assertTrue(fromMemory.getMessage().contains(label), fromMemory.getMessage());
      assertTrue(fromStream.getMessage().contains(label), fromStream.getMessage());
      // the same reason, only the name differs
      assertEquals(fromFile.getMessage().replace("cut.mp4", label), fromMemory.getMessage());
    }
  }

  @Test
  void aResultFromMemoryCannotBeMuxedAndSaysWhy() {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      FoleyResult r = engine.generate(settings(FoleyRequest.builder(bytes)).build());
      FoleyException e = assertThrows(FoleyException.class, () -> Mp4Outputs.writeVideoWithSound(r, dir.resolve("out.mov")));
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
      assertTrue(e.getMessage().contains("from memory (video from memory (" + bytes.length + " bytes))")
          || e.getMessage().contains("video from memory (" + bytes.length + " bytes)"), e.getMessage());
      assertFalse(Files.exists(dir.resolve("out.mov")));
      r.writeWav(dir.resolve("out.wav")); // the audio is fine
      assertTrue(Files.exists(dir.resolve("out.wav")));
    }
  }

  @Test
  void jcodecOpensFromMemoryAndOtherFactoriesRefuseByDefault() {
    try (VideoSource a = JcodecVideoSources.jcodec().open(video); VideoSource b = JcodecVideoSources.jcodec()
        .open(ByteBuffer.wrap(bytes).asReadOnlyBuffer(), 1)) {
      assertEquals(a.info().frameCount(), b.info().frameCount());
      for (var fa = a.next(); fa != null; fa = a.next()) {
        var fb = b.next();
        assertEquals(fa.ptsTicks(), fb.ptsTicks());
      }
      assertNull(b.next());
    }
    VideoSourceFactory old = file -> JcodecVideoSources.jcodec().open(file); // written before open(ByteBuffer, int)
    FoleyException e = assertThrows(FoleyException.class, () -> old.open(ByteBuffer.wrap(bytes), 1));
    assertEquals(FoleyException.Code.UNSUPPORTED_VIDEO, e.code());
    assertTrue(e.getMessage().contains("cannot read a video from memory"), e.getMessage());
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).videoSources(old).build()) {
      FoleyException viaEngine = assertThrows(FoleyException.class,
          () -> engine.generate(FoleyRequest.builder(bytes).prompt("x").build()));
      assertEquals(FoleyException.Code.UNSUPPORTED_VIDEO, viaEngine.code());
    }
  }
}
