package io.foley4j.jcodec;

import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoSources;
import io.foley4j.video.SyntheticVideo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.UnsupportedVideoException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JcodecVideoSourceTest {
  @TempDir Path tmp;

  private static JcodecVideoSource open(Path p) {
    return (JcodecVideoSource) JcodecVideoSources.jcodec().open(p);
  }

  @Test
  void bFrameClipComesOutInPresentationOrderMatchingFfmpeg() {
    Path clip = Ffmpeg.bframeClip();
    List<Double> expected = Ffmpeg.frameTimes(clip);
    List<Double> got = new ArrayList<>();
    try (JcodecVideoSource s = open(clip)) {
      assertEquals(320, s.info().width());
      assertEquals(240, s.info().height());
      assertEquals("h264", s.info().codec());
      assertEquals(90, s.info().frameCount());
      assertEquals(3.0, s.info().durationSeconds(), 1e-9);
      assertTrue(s.reorderDepth() > 1, "a B-frame clip needs reordering");
      long last = Long.MIN_VALUE;
      DecodedFrame f;
      while ((f = s.next()) != null) {
        assertTrue(f.ptsTicks() > last, "pts must strictly increase: " + f);
        assertTrue(s.bufferedFrames() <= s.reorderDepth());
        last = f.ptsTicks();
        got.add(f.ptsSeconds());
      }
      assertTrue(s.maxBufferedFrames() <= s.reorderDepth());
      assertTrue(s.reorderDepth() <= JcodecVideoSource.MAX_REORDER_DEPTH);
      assertNull(s.next(), "stays at the end");
    }
    assertEquals(expected.size(), got.size());
    for (int i = 0; i < got.size(); i++) {
      assertEquals(expected.get(i), got.get(i), 1e-3, "frame " + i);
    }
  }

  @Test
  void bFrameClipPixelsMatchFfmpegDecode() {
    Path clip = Ffmpeg.bframeClip();
    byte[] raw = Ffmpeg.run("ffmpeg", "-v", "error", "-i", clip.toString(), "-frames:v", "12",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-").stdout;
    int frameBytes = 320 * 240;
    int stride = frameBytes * 3 / 2;
    assertEquals(12 * stride, raw.length);
    try (VideoSource s = JcodecVideoSources.jcodec().open(clip)) {
      for (int i = 0; i < 12; i++) {
        byte[] y = s.next().yPlane();
        double diff = 0;
        for (int k = 0; k < frameBytes; k++) {
          diff += Math.abs((y[k] & 0xff) - (raw[i * stride + k] & 0xff));
        }
        assertTrue(diff / frameBytes < 1.0, "frame " + i + " mean |diff| " + diff / frameBytes);
      }
    }
  }

  @Test
  void durationIsExactFromContainer() {
    Path a = tmp.resolve("a.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(32, 32).fps(30, 1).durationSeconds(8.5).build(), a);
    try (VideoSource s = JcodecVideoSources.jcodec().open(a)) {
      VideoInfo i = s.info();
      assertEquals(255, i.frameCount());
      assertEquals(255, i.durationTicks());
      assertEquals(30, i.durationTimescale());
      assertEquals(8.5, i.durationSeconds(), 0);
      assertEquals(30.0, i.averageFps(), 1e-9);
    }
    Path b = tmp.resolve("b.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(32, 32).fps(30000, 1001).durationSeconds(100 * 1001 / 30000.0)
        .build(), b);
    try (VideoSource s = JcodecVideoSources.jcodec().open(b)) {
      VideoInfo i = s.info();
      assertEquals(100, i.frameCount());
      assertEquals(100100, i.durationTicks());
      assertEquals(30000, i.durationTimescale());
      assertEquals(3.336666, i.durationSeconds(), 1e-6);
      assertEquals(30000 / 1001.0, i.averageFps(), 1e-9);
    }
    if (Ffmpeg.available()) {
      assertEquals(3.336667, Double.parseDouble(Ffmpeg.streamValue(b, "v:0", "duration")), 1e-6);
    }
  }

  @Test
  void editListIsHonoured() {
    // ffmpeg writes an edit list for B-frame clips (media_time = the initial composition delay).
    Mp4Movie m = Mp4Movie.read(Ffmpeg.bframeClip());
    assertNotNull(m.video.edts);
    assertEquals(0, Arrays.stream(m.video.pts).min().getAsLong(), "first frame shown at 0");
  }

  @Test
  void noThreadsLeakFromJcodecDecoder() throws Exception {
    Path sliced = Ffmpeg.media("sliced.mp4", "-f", "lavfi", "-i",
        "testsrc2=size=320x240:rate=30", "-t", "0.5", "-c:v", "libx264", "-x264-params",
        "slices=4", "-pix_fmt", "yuv420p");
    try (JcodecVideoSource s = open(sliced)) {
      assertNotNull(s.next());
    }
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    for (int k = 0; k < 20; k++) {
      try (JcodecVideoSource s = open(sliced)) {
        assertNull(s.jcodecPool(), "jcodec's pool must be disabled");
        int n = 0;
        while (s.next() != null) {
          n++;
        }
        assertEquals(15, n);
      }
    }
    for (Thread t : Thread.getAllStackTraces().keySet()) { // threads that are ending: let them end
      if (!before.contains(t) && !t.getName().startsWith("ffmpeg-stderr")) {
        t.join(5_000);
      }
    }
    List<String> leaked = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> !before.contains(t) && t.isAlive())
        .map(Thread::getName)
        .filter(n -> !n.startsWith("ffmpeg-stderr"))
        .collect(Collectors.toList());
    assertTrue(leaked.isEmpty(), "threads started and left running: " + leaked);
  }

  @Test
  void memoryStaysFlatOnALongVideo() {
    Path longVideo = tmp.resolve("long.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(30, 1).durationSeconds(120)
        .movingSquare(0, 120, 0xffffff).flash(60, 1, 0xff0000).build(), longVideo);
    int n = 0;
    try (JcodecVideoSource s = open(longVideo)) {
      assertEquals(3600, s.info().frameCount());
      DecodedFrame f;
      long last = -1;
      while ((f = s.next()) != null) {
        assertTrue(s.bufferedFrames() <= s.reorderDepth());
        assertTrue(f.ptsTicks() > last);
        last = f.ptsTicks();
        n++;
      }
      assertTrue(s.maxBufferedFrames() <= s.reorderDepth(), "held " + s.maxBufferedFrames());
      assertTrue(s.reorderDepth() <= JcodecVideoSource.MAX_REORDER_DEPTH);
    }
    assertEquals(3600, n);
  }

  @Test
  void closeIsIdempotentAndNextAfterCloseFails() {
    Path a = tmp.resolve("c.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(32, 32).durationSeconds(0.2).build(), a);
    VideoSource s = JcodecVideoSources.jcodec().open(a);
    s.close();
    s.close();
    FoleyException e = assertThrows(FoleyException.class, s::next);
    assertEquals(FoleyException.Code.CLOSED, e.code());
  }

  // ---------------- bad inputs ----------------

  private static void rejects(Path p, FoleyException.Code code, String... words) {
    UnsupportedVideoException e =
        assertThrows(UnsupportedVideoException.class, () -> JcodecVideoSources.jcodec().open(p).close());
    assertEquals(code, e.code(), e.getMessage());
    for (String w : words) {
      assertTrue(e.getMessage().toLowerCase().contains(w.toLowerCase()),
          "message should mention '" + w + "': " + e.getMessage());
    }
  }

  @Test
  void hevcIsUnsupportedAndNamed() {
    Path p = Ffmpeg.media("hevc.mp4", "-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25", "-t",
        "0.2", "-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p");
    rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "HEVC", "only H.264");
  }

  @Test
  void tenBitIsUnsupported() {
    Path p = Ffmpeg.media("10bit.mp4", "-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25", "-t",
        "0.2", "-c:v", "libx264", "-pix_fmt", "yuv420p10le");
    rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "10-bit");
  }

  @Test
  void chroma422IsUnsupported() {
    Path p = Ffmpeg.media("422.mp4", "-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25", "-t",
        "0.2", "-c:v", "libx264", "-pix_fmt", "yuv422p");
    rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "4:2:2");
  }

  @Test
  void interlacedIsUnsupported() {
    Path p = Ffmpeg.media("interlaced.mp4", "-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25",
        "-t", "0.2", "-c:v", "libx264", "-flags", "+ildct+ilme", "-pix_fmt", "yuv420p");
    rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "interlaced");
  }

  @Test
  void absurdDimensionsAreUnsupported() {
    Path p = Ffmpeg.media("wide.mp4", "-f", "lavfi", "-i", "color=c=red:size=8224x16:rate=25",
        "-frames:v", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p");
    rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "8224x16", "limit");
  }

  @Test
  void audioOnlyFilesAreNotVideos() {
    Path m4a = Ffmpeg.media("audio.m4a", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.5",
        "-c:a", "aac");
    rejects(m4a, FoleyException.Code.CORRUPT_VIDEO, "no video track", "audio");
    Path mp4 = Ffmpeg.media("audio.mp4", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.5",
        "-c:a", "aac");
    rejects(mp4, FoleyException.Code.CORRUPT_VIDEO, "no video track");
  }

  @Test
  void truncatedFilesAreCorrupt() throws IOException {
    byte[] whole = Files.readAllBytes(Ffmpeg.bframeClip());
    Path half = tmp.resolve("half.mp4");
    Files.write(half, Arrays.copyOf(whole, whole.length / 2));
    rejects(half, FoleyException.Code.CORRUPT_VIDEO, "truncated");

    Path fast = Ffmpeg.media("faststart.mp4", "-f", "lavfi", "-i",
        "testsrc2=size=128x96:rate=25", "-t", "1", "-c:v", "libx264", "-movflags", "+faststart",
        "-pix_fmt", "yuv420p");
    byte[] f = Files.readAllBytes(fast);
    Path halfFast = tmp.resolve("half-fast.mp4");
    Files.write(halfFast, Arrays.copyOf(f, f.length / 2));
    rejects(halfFast, FoleyException.Code.CORRUPT_VIDEO, "truncated");
  }

  @Test
  void randomBytesAndEmptyFilesAreCorrupt() throws IOException {
    Path rnd = tmp.resolve("random.mp4");
    byte[] b = new byte[100_000];
    new Random(42).nextBytes(b);
    Files.write(rnd, b);
    rejects(rnd, FoleyException.Code.CORRUPT_VIDEO, "not an MP4/MOV");

    Path empty = tmp.resolve("empty.mp4");
    Files.write(empty, new byte[0]);
    rejects(empty, FoleyException.Code.CORRUPT_VIDEO, "empty");

    Path tiny = tmp.resolve("tiny.mp4");
    Files.write(tiny, new byte[] {0, 0, 0, 9, 'f', 't', 'y', 'p', 0});
    rejects(tiny, FoleyException.Code.CORRUPT_VIDEO);

    Path text = tmp.resolve("notes.mp4");
    Files.writeString(text, "hello, this is not a video at all\n".repeat(10));
    rejects(text, FoleyException.Code.CORRUPT_VIDEO);
  }

  @Test
  void zeroFramesIsCorrupt() throws IOException {
    Path a = tmp.resolve("z.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(32, 32).durationSeconds(0.2).build(), a);
    byte[] b = Files.readAllBytes(a);
    int at = indexOf(b, "stsz".getBytes(StandardCharsets.ISO_8859_1));
    assertTrue(at > 0);
    // after 'stsz': version/flags, sample_size, sample_count -> zero the count.
    Arrays.fill(b, at + 12, at + 16, (byte) 0);
    Path z = tmp.resolve("zero.mp4");
    Files.write(z, b);
    rejects(z, FoleyException.Code.CORRUPT_VIDEO, "zero frames");
  }

  @Test
  void missingFileIsAnIoError() {
    FoleyException e = assertThrows(FoleyException.class,
        () -> JcodecVideoSources.jcodec().open(tmp.resolve("nope.mp4")));
    assertEquals(FoleyException.Code.IO, e.code());
  }

  @Test
  void damagedFrameDataIsReportedNotThrownRaw() throws IOException {
    Path a = tmp.resolve("d.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).durationSeconds(1).movingSquare(0, 1, 0xffffff).build(), a);
    Mp4Movie m = Mp4Movie.read(a);
    byte[] b = Files.readAllBytes(a);
    Random r = new Random(7);
    for (int i = 0; i < m.video.sampleCount; i++) {
      // keep the NAL length prefix and header, scribble over the slice data
      for (long k = m.video.offsets[i] + 6; k < m.video.offsets[i] + m.video.sizes[i]; k++) {
        b[(int) k] = (byte) r.nextInt();
      }
    }
    Path bad = tmp.resolve("damaged.mp4");
    Files.write(bad, b);
    try (VideoSource s = JcodecVideoSources.jcodec().open(bad)) {
      try {
        while (s.next() != null) {
          // decode all we can
        }
      } catch (UnsupportedVideoException e) {
        assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code());
        assertTrue(e.getMessage().contains("cannot be decoded"), e.getMessage());
      }
    }
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
