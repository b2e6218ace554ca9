package io.foley4j.ffmpeg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.TestSupport;
import io.foley4j.UnsupportedVideoException;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Timelines and sizes that the container misstates: discontinuities, missing timestamps, truncation, sizes. */
class FfmpegTimelineTest {
  @TempDir
  static Path dir;
  static VideoSourceFactory ffmpeg;

  @BeforeAll
  static void load() {
    Clips.require();
    ffmpeg = FfmpegVideoSources.ffmpeg();
  }

  /** What ffmpeg itself decodes: {@code ffprobe -count_frames}. */
  private static long probeFrames(Path f) {
    return Long.parseLong(TestSupport.run("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
        "-show_entries", "stream=nb_read_frames", "-of", "default=nw=1:nk=1", f.toString()).trim().split("\\s+")[0]);
  }

  /** Every frame's timestamp in seconds; asserts they strictly increase. */
  private static List<Double> times(VideoSource s) {
    List<Double> t = new ArrayList<>();
    for (DecodedFrame fr; (fr = s.next()) != null; ) {
      double x = fr.ptsSeconds();
      assertTrue(t.isEmpty() || x > t.get(t.size() - 1), "timestamps must increase: " + t + " then " + x);
      t.add(x);
    }
    return t;
  }

  @Test
  void concatenatedTsIsMadeContinuous() throws IOException {
    Path a = Clips.make(dir.resolve("seg-a.ts"), "testsrc2=s=96x64:r=25:d=2", "-c:v", "libx264", "-g", "25");
    Path b = Clips.make(dir.resolve("seg-b.ts"), "testsrc2=s=96x64:r=25:d=2", "-c:v", "libx264", "-g", "25");
    Path ab = dir.resolve("joined.ts");
    byte[] ba = Files.readAllBytes(a);
    byte[] bb = Files.readAllBytes(b);
    byte[] all = Arrays.copyOf(ba, ba.length + bb.length);
    System.arraycopy(bb, 0, all, ba.length, bb.length);
    Files.write(ab, all);
    long expected = probeFrames(ab);
    assertEquals(100, expected, "ffmpeg decodes both segments");

    List<String> warnings = new ArrayList<>();
    Logger log = Logger.getLogger("io.foley4j.video");
    Handler h = new Handler() {
      @Override
      public void publish(LogRecord r) {
        if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
          warnings.add(r.getMessage());
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    log.addHandler(h);
    try (VideoSource s = ffmpeg.open(a)) {
      assertEquals(50, times(s).size(), "one segment alone");
      assertEquals(2.0, s.info().durationSeconds(), 0.05);
      assertEquals(List.of(), warnings, "a segment alone (B-frames, starting at 1.4 s) has no discontinuity");
    }
    try (VideoSource s = ffmpeg.open(ab)) {
      VideoInfo info = s.info();
      assertEquals(4.0, info.durationSeconds(), 0.05, "the video lasts both segments");
      assertEquals(expected, info.frameCount());
      List<Double> t = times(s);
      assertEquals(expected, t.size(), "every frame ffmpeg decodes");
      assertEquals(3.96, t.get(t.size() - 1), 0.01);
      assertEquals(info.lastFrameSeconds(), t.get(t.size() - 1), 1e-9);
    } finally {
      log.removeHandler(h);
    }
    assertEquals(1, warnings.stream().filter(m -> m.contains("continuous")).count(), warnings.toString());
    assertTrue(warnings.get(0).contains("jump 1 time "), warnings.toString());
    try (VideoSource s = ffmpeg.open(java.nio.ByteBuffer.wrap(all), 1)) {
      assertEquals(expected, times(s).size(), "the same from memory");
      assertEquals(4.0, s.info().durationSeconds(), 0.05);
    }
    assertTrue(warnings.stream().anyMatch(m -> m.contains(ab.toString())), warnings.toString());
  }

  @Test
  void truncatedAviIsCorrupt() throws IOException {
    Path whole = Clips.make(dir.resolve("whole.avi"), "testsrc2=s=96x64:r=25:d=2", "-c:v", "mjpeg", "-q:v", "3");
    try (VideoSource s = ffmpeg.open(whole)) {
      assertEquals(50, times(s).size(), "the whole AVI is fine");
    }
    byte[] b = Files.readAllBytes(whole);
    Path cut = Files.write(dir.resolve("cut.avi"), Arrays.copyOf(b, b.length / 2));
    long decodable = probeFrames(cut);
    assertTrue(decodable > 5 && decodable < 40, "ffmpeg decodes part of it: " + decodable);
    UnsupportedVideoException e = assertThrows(UnsupportedVideoException.class, () -> {
      try (VideoSource s = ffmpeg.open(cut)) {
        times(s);
      }
    });
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("50 frames"), e.getMessage());
    assertTrue(e.getMessage().contains(decodable + " frames"), e.getMessage());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  /**
   * A raw H.264 stream carries no timestamps: every packet's pts and dts are AV_NOPTS_VALUE (checked
   * with ffprobe). Matroska cannot hold such packets (each block has a timestamp; ffmpeg's muxer
   * makes one up), so the raw stream is the container-less case.
   */
  @Test
  void packetsWithoutTimestampsAreTimedFromTheFrameRate() {
    Path raw = Clips.make(dir.resolve("raw.h264"), "testsrc2=s=96x64:r=25:d=2", "-c:v", "libx264", "-bf", "2");
    String packets = TestSupport.run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
        "packet=pts,dts", "-of", "csv=p=0", raw.toString()).trim();
    assertEquals(50, packets.lines().count(), packets);
    assertTrue(packets.lines().allMatch(l -> l.equals("N/A,N/A")), "no packet has a timestamp: " + packets);
    long expected = probeFrames(raw);
    assertEquals(50, expected);
    try (VideoSource s = ffmpeg.open(raw)) {
      assertEquals(expected, s.info().frameCount());
      assertEquals(2.0, s.info().durationSeconds(), 1e-6, "50 frames at 25 fps");
      List<Double> t = times(s);
      assertEquals(expected, t.size(), "every frame ffmpeg decodes");
      assertEquals(0.0, t.get(0), 1e-9);
      assertEquals(1.96, t.get(t.size() - 1), 1e-6);
      assertEquals(s.info().lastFrameSeconds(), t.get(t.size() - 1), 1e-9);
    }
  }

  /**
   * A Matroska header that declares 200x240 over a 96x64 H.264 stream (PixelWidth/PixelHeight
   * patched in place, same element lengths): the info gives the decoded pictures' size.
   */
  @Test
  void infoGivesTheDecodedSizeNotTheDeclaredOne() throws IOException {
    Path mkv = Clips.make(dir.resolve("size.mkv"), "testsrc2=s=96x64:r=25:d=1", "-c:v", "libx264");
    byte[] b = Files.readAllBytes(mkv);
    byte[] declared = {(byte) 0xB0, (byte) 0x81, 0x60, (byte) 0xBA, (byte) 0x81, 0x40}; // PixelWidth 96, PixelHeight 64
    int at = -1;
    for (int i = 0; i + declared.length <= b.length && at < 0; i++) {
      if (Arrays.equals(b, i, i + declared.length, declared, 0, declared.length)) {
        at = i;
      }
    }
    assertTrue(at >= 0, "the clip's Video element declares 96x64");
    b[at + 2] = (byte) 200;
    b[at + 5] = (byte) 240;
    Path lying = Files.write(dir.resolve("size-lying.mkv"), b);
    String probed = TestSupport.run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
        "stream=width,height", "-of", "csv=p=0", lying.toString()).trim();
    assertEquals("96,64", probed, "ffmpeg's decoder finds 96x64");
    try (VideoSource s = ffmpeg.open(lying)) {
      VideoInfo info = s.info();
      assertEquals(96, info.width(), info.toString());
      assertEquals(64, info.height(), info.toString());
      DecodedFrame first = s.next();
      assertEquals(info.width(), first.width());
      assertEquals(info.height(), first.height());
      assertEquals(info.width(), s.info().width(), "the same info after decoding");
      assertEquals(25, 1 + times(s).size());
    }
  }
}
