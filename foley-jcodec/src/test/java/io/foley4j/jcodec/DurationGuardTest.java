package io.foley4j.jcodec;

import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSources;
import io.foley4j.video.SyntheticVideo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.UnsupportedVideoException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The container's duration must agree with the frames' timestamps (checked at open). */
class DurationGuardTest {
  @TempDir Path tmp;

  private static long u32(byte[] b, int p) {
    return ((long) (b[p] & 0xff) << 24) | ((b[p + 1] & 0xff) << 16) | ((b[p + 2] & 0xff) << 8)
        | (b[p + 3] & 0xff);
  }

  private static void put32(byte[] b, int p, long v) {
    b[p] = (byte) (v >>> 24);
    b[p + 1] = (byte) (v >>> 16);
    b[p + 2] = (byte) (v >>> 8);
    b[p + 3] = (byte) v;
  }

  /**
   * Sets the duration of every version-0 box of {@code type} to one hour of its time scale
   * ({@code tsOff}/{@code durOff}: offsets after the type, -1 for a box without its own time
   * scale, which then uses {@code scale}). Returns the time scale seen.
   */
  private static long patchHour(byte[] b, String type, int tsOff, int durOff, long scale) {
    byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
    int from = 0;
    int at;
    int patched = 0;
    while ((at = JcodecVideoSourceTest.indexOf(java.util.Arrays.copyOfRange(b, from, b.length),
        t)) >= 0) {
      int p = from + at + 4; // payload
      assertEquals(0, b[p], type + " version 0 expected");
      long ts = tsOff >= 0 ? u32(b, p + tsOff) : scale;
      put32(b, p + durOff, 3600 * ts);
      scale = ts;
      patched++;
      from = p;
    }
    assertTrue(patched > 0, "no " + type + " box");
    return scale;
  }

  private Path patched(Path src) throws IOException {
    byte[] b = Files.readAllBytes(src);
    long movieTs = patchHour(b, "mvhd", 12, 16, 0);
    patchHour(b, "tkhd", -1, 20, movieTs);
    patchHour(b, "mdhd", 12, 16, 0);
    Path out = tmp.resolve("hour-" + src.getFileName());
    Files.write(out, b);
    return out;
  }

  private static void refused(Path p) {
    UnsupportedVideoException e =
        assertThrows(UnsupportedVideoException.class, () -> JcodecVideoSources.jcodec().open(p).close());
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains("3600"), e.getMessage());
    assertTrue(e.getMessage().contains("3.0"), e.getMessage());
    assertTrue(e.getMessage().contains("remux"), e.getMessage());
  }

  @Test
  void anHourLongHeaderOverThreeSecondsOfFramesIsRefused() throws IOException {
    Path src = Ffmpeg.bframeClip();
    try (VideoSource s = JcodecVideoSources.jcodec().open(src)) {
      assertEquals(3.0, s.info().durationSeconds(), 1e-9);
    }
    refused(patched(src));
  }

  @Test
  void anHourLongHeaderWithoutEditListIsRefused() throws IOException {
    Path src = Ffmpeg.media("noedit.mp4", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30",
        "-t", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-use_editlist", "0");
    try (VideoSource s = JcodecVideoSources.jcodec().open(src)) {
      assertEquals(3.0, s.info().durationSeconds(), 1e-9);
    }
    refused(patched(src));
  }

  @Test
  void anHourLongHeaderOnAJcodecFileIsRefused() throws IOException {
    Path src = tmp.resolve("syn.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(32, 32).fps(30, 1).durationSeconds(3).build(), src);
    refused(patched(src));
  }

  @Test
  void aTooShortHeaderIsRefusedToo() throws IOException {
    Path src = Ffmpeg.media("noedit.mp4", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30",
        "-t", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-use_editlist", "0");
    byte[] b = Files.readAllBytes(src);
    int at = JcodecVideoSourceTest.indexOf(b, "mdhd".getBytes(StandardCharsets.ISO_8859_1)) + 4;
    put32(b, at + 16, u32(b, at + 12)); // 1 s over 3 s of frames
    Path out = tmp.resolve("short.mp4");
    Files.write(out, b);
    UnsupportedVideoException e =
        assertThrows(UnsupportedVideoException.class, () -> JcodecVideoSources.jcodec().open(out));
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code());
    assertTrue(e.getMessage().contains("1.0"), e.getMessage());
  }

  @Test
  void realFilesPass() {
    for (String rate : new String[] {"30000/1001", "24", "60"}) {
      Path p = Ffmpeg.media("rate" + rate.replace('/', '_') + ".mp4", "-f", "lavfi", "-i",
          "testsrc2=size=64x48:rate=" + rate, "-t", "3.3", "-c:v", "libx264", "-bf", "3",
          "-pix_fmt", "yuv420p");
      try (VideoSource s = JcodecVideoSources.jcodec().open(p)) {
        assertEquals(3.3, s.info().durationSeconds(), 0.05, p.toString());
      }
    }
  }
}
