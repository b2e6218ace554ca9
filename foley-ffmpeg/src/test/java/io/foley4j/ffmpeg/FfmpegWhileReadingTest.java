package io.foley4j.ffmpeg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.AudioChunk;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyListener;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.UnsupportedVideoException;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.StreamingVideo;
import io.foley4j.video.VideoSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Decoding while the bytes arrive: gated streams hold back the rest of a video until the test
 * (or the job's first chunk) opens the gate, so that "before the end" is an ordering, not a timing.
 */
@org.junit.jupiter.api.Timeout(600)
class FfmpegWhileReadingTest extends ReferenceBundleTest {
  /** The flash clip ({@code seconds} long) in a container that can be decoded as it arrives, or not. */
  static Path clip(String name, double seconds) {
    // a moving test picture: its bytes spread over its frames, so a fraction of them is a fraction of the time
    String src = String.format(java.util.Locale.ROOT, "testsrc2=s=128x96:r=25:d=%.3f", seconds);
    String[] x264 = {"-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-g", "25"};
    Path out = dir.resolve(name + "-" + seconds + (name.endsWith("mkv") ? ".mkv" : name.endsWith("webm") ? ".webm"
        : name.endsWith("ts") ? ".ts" : ".mp4"));
    if (Files.exists(out)) {
      return out;
    }
    switch (name) {
      case "faststart-mp4":
        return Clips.make(out, src, concat(x264, "-movflags", "+faststart"));
      case "moovlast-mp4":
        return Clips.make(out, src, x264);
      case "fragmented-mp4":
        return Clips.make(out, src, concat(x264, "-movflags", "frag_keyframe+empty_moov+default_base_moof"));
      case "h264-mkv":
        return Clips.make(out, src, x264);
      case "vp9-webm":
        return Clips.make(out, src, "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "32", "-deadline", "realtime",
            "-cpu-used", "8");
      case "h264-ts":
        return Clips.make(out, src, x264);
      default:
        throw new IllegalArgumentException(name);
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /** A video whose bytes past {@code allowed} wait until the test lets them through. */
  static final class GatedVideo implements StreamingVideo {
    final byte[] all;
    private long allowed;

    GatedVideo(byte[] all, long allowed) {
      this.all = all;
      this.allowed = allowed;
    }

    synchronized void allow(long n) {
      allowed = Math.min(all.length, Math.max(allowed, n));
      notifyAll();
    }

    @Override
    public synchronized int read(long position, byte[] dst, int offset, int length) {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (position >= allowed && allowed < all.length) {
        if (System.nanoTime() > until) {
          throw new FoleyException(FoleyException.Code.IO, "the test's gate at " + allowed + " of " + all.length
              + " bytes was never opened (position " + position + " wanted)");
        }
        try {
          wait(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new FoleyException(FoleyException.Code.CANCELLED, "interrupted");
        }
      }
      if (position >= all.length) {
        return -1;
      }
      int n = (int) Math.min(length, allowed - position);
      System.arraycopy(all, (int) position, dst, offset, n);
      return n;
    }

    @Override
    public synchronized long received() {
      return allowed;
    }

    @Override
    public synchronized boolean complete() {
      return allowed == all.length;
    }

    @Override
    public String describe() {
      return "video from a test stream";
    }
  }

  /** An InputStream that stops at {@code gateAt} bytes until {@link #open()}, and notes that it ended. */
  static final class GatedStream extends InputStream {
    private final byte[] all;
    private final long gateAt;
    private final CountDownLatch gate = new CountDownLatch(1);
    private int pos;
    final AtomicBoolean ended = new AtomicBoolean();
    final AtomicBoolean closed = new AtomicBoolean();
    final CountDownLatch atGate = new CountDownLatch(1);

    GatedStream(byte[] all, long gateAt) {
      this.all = all;
      this.gateAt = gateAt;
    }

    void open() {
      gate.countDown();
    }

    @Override
    public int read() throws IOException {
      byte[] b = new byte[1];
      int n = read(b, 0, 1);
      return n < 0 ? -1 : b[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (pos >= gateAt) {
        atGate.countDown();
        try {
          if (!gate.await(120, TimeUnit.SECONDS)) {
            throw new IOException("the gate was never opened");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("interrupted at the gate");
        }
      }
      if (pos >= all.length) {
        ended.set(true);
        return -1;
      }
      long limit = pos < gateAt ? gateAt : all.length;
      int n = (int) Math.min(Math.min(len, 16 * 1024), limit - pos);
      System.arraycopy(all, pos, b, off, n);
      pos += n;
      return n;
    }

    @Override
    public void close() {
      closed.set(true);
    }
  }

  private static List<DecodedFrame> frames(VideoSource s) {
    List<DecodedFrame> out = new ArrayList<>();
    for (DecodedFrame f = s.next(); f != null; f = s.next()) {
      out.add(f);
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"faststart-mp4", "h264-mkv", "vp9-webm"})
  void framesDecodedWhileReadingAreTheWholeVideosFrames(String variant) throws IOException {
    byte[] bytes = Files.readAllBytes(clip(variant, 6.5));
    GatedVideo video = new GatedVideo(bytes, bytes.length / 3);
    List<DecodedFrame> whole;
    io.foley4j.video.VideoInfo wholeInfo;
    try (VideoSource s = FfmpegVideoSources.ffmpeg().open(ByteBuffer.wrap(bytes), 1)) {
      wholeInfo = s.info();
      whole = frames(s);
    }
    VideoSource s = FfmpegVideoSources.ffmpeg().openWhileReading(video, 1);
    assertNotNull(s, variant + " states its duration in its header: it is decoded as it arrives");
    try (s) {
      DecodedFrame first = s.next();
      assertFalse(video.complete(), "the first frame is out before the rest of the bytes");
      assertEquals(wholeInfo.durationTicks(), s.info().durationTicks(), "the duration the header states");
      assertEquals(wholeInfo.durationTimescale(), s.info().durationTimescale());
      assertEquals(wholeInfo.width(), s.info().width());
      video.allow(bytes.length);
      List<DecodedFrame> streamed = new ArrayList<>(List.of(first));
      streamed.addAll(frames(s));
      assertEquals(whole.size(), streamed.size());
      for (int i = 0; i < whole.size(); i++) {
        assertEquals(whole.get(i).ptsTicks(), streamed.get(i).ptsTicks(), "frame " + i);
        assertArrayEquals(whole.get(i).yPlane(), streamed.get(i).yPlane(), "frame " + i);
        assertArrayEquals(whole.get(i).uPlane(), streamed.get(i).uPlane(), "frame " + i);
      }
    }
    assertEquals(0, MemoryIo.live(), "every AVIOContext freed");
  }

  @ParameterizedTest
  @ValueSource(strings = {"moovlast-mp4", "fragmented-mp4", "h264-ts"})
  void aContainerThatNeedsItsEndIsLeftToTheWholeRead(String variant) throws Exception {
    byte[] bytes = Files.readAllBytes(clip(variant, 6.5));
    GatedVideo video = new GatedVideo(bytes, bytes.length / 3);
    // an MP4 whose index is last makes FFmpeg read to it: let the rest through while it waits
    Thread rest = new Thread(() -> video.allow(bytes.length));
    if (variant.equals("moovlast-mp4")) {
      rest.start();
    }
    assertNull(FfmpegVideoSources.ffmpeg().openWhileReading(video, 1), variant);
    rest.join();
    assertEquals(0, MemoryIo.live());
    // and a request with it as a stream still works, from the whole bytes
    try (FoleyEngine engine = engine()) {
      float[] fromPath = engine.generate(settings(FoleyRequest.builder(clip(variant, 6.5))).build()).toArray();
      GatedStream in = new GatedStream(bytes, bytes.length / 3);
      in.open();
      float[] fromStream = engine.generate(settings(FoleyRequest.builder(in)).build()).toArray();
      assertArrayEquals(fromPath, fromStream, variant);
    }
  }

  @Test
  void aTruncatedStreamIsCorruptWhenItsFramesEnd() throws IOException {
    byte[] bytes = Files.readAllBytes(clip("faststart-mp4", 6.5));
    byte[] cut = Arrays.copyOf(bytes, bytes.length * 6 / 10);
    GatedVideo video = new GatedVideo(cut, cut.length / 3);
    VideoSource s = FfmpegVideoSources.ffmpeg().openWhileReading(video, 1);
    assertNotNull(s);
    try (s) {
      assertNotNull(s.next());
      video.allow(cut.length);
      UnsupportedVideoException e = assertThrows(UnsupportedVideoException.class, () -> frames(s));
      assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code(), e.getMessage());
      assertTrue(e.getMessage().contains("video from a test stream"), e.getMessage());
    }
    // garbage after a valid header: typed, never a crash or a silent short result
    byte[] garbled = bytes.clone();
    new java.util.Random(7).ints(garbled.length / 2, 0, 256).forEach(new java.util.function.IntConsumer() {
      int i = garbled.length / 4;

      @Override
      public void accept(int b) {
        garbled[i++] = (byte) b;
      }
    });
    try (FoleyEngine engine = engine()) {
      FoleyException e = assertThrows(FoleyException.class, () -> {
        GatedStream in = new GatedStream(cut, cut.length / 3);
        in.open();
        engine.generate(settings(FoleyRequest.builder(in)).build());
      });
      assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code(), e.getMessage());
      FoleyException g = assertThrows(FoleyException.class, () -> {
        GatedStream in = new GatedStream(garbled, garbled.length / 3);
        in.open();
        engine.generate(settings(FoleyRequest.builder(in)).build());
      });
      assertEquals(FoleyException.Code.CORRUPT_VIDEO, g.code(), g.getMessage());
    }
    assertEquals(0, MemoryIo.live());
  }

  private static FoleyEngine engine() {
    return FoleyEngine.builder().bundle(bundle).videoSources(FfmpegVideoSources.ffmpeg()).build();
  }

  private static FoleyRequest.Builder settings(FoleyRequest.Builder b) {
    return b.prompt("door knock").steps(2).seed(5);
  }

  /**
   * A 20 s clip (3 segments of the reference model) as a stream held at 60 % of its bytes until
   * the job's first chunk: the chunk comes, so the job started before the end. The audio is the
   * file's, and the result is stored under the key the file has.
   */
  @ParameterizedTest
  @ValueSource(strings = {"faststart-mp4", "h264-mkv"})
  void theFirstChunkComesBeforeTheStreamEnds(String variant) throws Exception {
    Path file = clip(variant, 20);
    byte[] bytes = Files.readAllBytes(file);
    FfmpegMemoryInputTest.MapCache cache = new FfmpegMemoryInputTest.MapCache();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).videoSources(FfmpegVideoSources.ffmpeg())
        .resultCache(cache).build()) {
      GatedStream in = new GatedStream(bytes, bytes.length * 6 / 10);
      AtomicBoolean endedBeforeFirstChunk = new AtomicBoolean(true);
      List<AudioChunk> chunks = new java.util.concurrent.CopyOnWriteArrayList<>();
      FoleyJob job = engine.submit(settings(FoleyRequest.builder(in)).build(), new FoleyListener() {
        @Override
        public void onChunk(AudioChunk chunk) {
          if (chunks.isEmpty()) {
            endedBeforeFirstChunk.set(in.ended.get());
            in.open();
          }
          chunks.add(chunk);
        }
      });
      FoleyResult streamed = job.result().get(300, TimeUnit.SECONDS);
      assertFalse(endedBeforeFirstChunk.get(), "chunk 0 came before the stream's end");
      assertTrue(in.ended.get() && in.closed.get(), "read to its end and closed");
      assertTrue(chunks.size() >= 3, "three segments: " + chunks.size());
      assertEquals(1, cache.puts.get(), "stored once its digest was known");
      FoleyResult fromPath = engine.generate(settings(FoleyRequest.builder(file)).build());
      assertTrue(fromPath.timings().resultCacheHit(), "the file's request finds what the stream stored");
      assertArrayEquals(fromPath.toArray(), streamed.toArray());
    }
    try (FoleyEngine engine = engine()) {
      float[] computed = engine.generate(settings(FoleyRequest.builder(file)).build()).toArray();
      GatedStream in = new GatedStream(bytes, bytes.length * 6 / 10);
      in.open();
      assertArrayEquals(computed, engine.generate(settings(FoleyRequest.builder(in)).build()).toArray(),
          "decoded while reading: the same audio as the file's, computed");
    }
    assertEquals(0, MemoryIo.live());
  }

  @Test
  void cancellingWhileTheBytesAreAwaitedFreesEverything() throws Exception {
    byte[] bytes = Files.readAllBytes(clip("faststart-mp4", 20));
    try (FoleyEngine engine = engine()) {
      GatedStream in = new GatedStream(bytes, bytes.length / 2);
      FoleyJob job = engine.submit(settings(FoleyRequest.builder(in)).build());
      assertTrue(in.atGate.await(60, TimeUnit.SECONDS));
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (MemoryIo.live() == 0 && System.nanoTime() < until) {
        Thread.sleep(5); // the decoder opened and now waits for the bytes held at the gate
      }
      assertEquals(1, MemoryIo.live(), "the decoder is open, waiting");
      assertTrue(job.cancel());
      CompletionException c = assertThrows(CompletionException.class, () -> job.result().join());
      assertEquals(FoleyException.Code.CANCELLED, ((FoleyException) c.getCause()).code());
      until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while ((MemoryIo.live() > 0 || !in.closed.get()) && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      assertEquals(0, MemoryIo.live(), "the AVIOContext is freed after the cancel");
      assertTrue(in.closed.get(), "the stream is closed");
      assertFalse(in.ended.get());
      in.open();
      // the engine is free for the next job
      assertTrue(engine.generate(settings(FoleyRequest.builder(clip("faststart-mp4", 6.5))).build()).toArray().length
          > 0);
    }
  }

  @Test
  void theBoundHoldsWhileDecoding() throws Exception {
    byte[] bytes = Files.readAllBytes(clip("faststart-mp4", 20));
    try (FoleyEngine engine = engine()) {
      GatedStream in = new GatedStream(bytes, bytes.length / 3);
      FoleyJob job = engine.submit(settings(FoleyRequest.builder(in)).maxStreamBytes(bytes.length * 8L / 10).build(),
          new FoleyListener() {
            @Override
            public void onChunk(AudioChunk chunk) {
              in.open();
            }
          });
      assertTrue(in.atGate.await(60, TimeUnit.SECONDS));
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (MemoryIo.live() == 0 && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      in.open(); // the decoder is open (decoding while reading); the rest goes over the bound
      CompletionException e = assertThrows(CompletionException.class, () -> job.result().join());
      FoleyException f = (FoleyException) e.getCause();
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, f.code(), f.getMessage());
      assertTrue(f.getMessage().contains("maxStreamBytes"), f.getMessage());
    }
    assertEquals(0, MemoryIo.live());
  }
}
