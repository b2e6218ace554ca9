package io.foley4j.ffmpeg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.TestSupport;
import io.foley4j.UnsupportedVideoException;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Files the FFmpeg source must refuse, each with a typed error that says why. */
class FfmpegRejectionTest {
  @TempDir
  static Path dir;
  static VideoSourceFactory ffmpeg;

  @BeforeAll
  static void load() {
    Clips.require();
    ffmpeg = FfmpegVideoSources.ffmpeg();
  }

  /** Opens and decodes everything; returns the error. */
  private static UnsupportedVideoException refused(Path f) {
    return assertThrows(UnsupportedVideoException.class, () -> {
      try (VideoSource s = ffmpeg.open(f)) {
        for (DecodedFrame fr; (fr = s.next()) != null; ) {
          assertTrue(fr.width() > 0);
        }
      }
    }, f.getFileName() + " must be refused");
  }

  @ParameterizedTest
  // not MPEG-TS: it states no duration, so a cut one is a shorter stream (docs/video.md)
  @ValueSource(strings = {"h264-mp4", "h264-mkv", "vp9-webm", "h264-fmp4", "hevc-mp4"})
  void truncatedFilesAreCorrupt(String variant) throws IOException {
    Path whole = Clips.variant(dir, variant);
    byte[] b = Files.readAllBytes(whole);
    String ext = whole.getFileName().toString().replaceAll(".*\\.", "");
    Path cut = Files.write(dir.resolve(variant + "-cut." + ext), Arrays.copyOf(b, b.length / 2));
    UnsupportedVideoException e = refused(cut);
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains(cut.toString()), e.getMessage());
    System.out.println(variant + " cut in half: " + e.getMessage());
  }

  @Test
  void faststartMp4CutInHalfIsTruncated() throws IOException {
    Path whole = Clips.make(dir.resolve("fast.mp4"), Clips.source(6.5, 0, "96x64"), "-c:v", "libx264", "-movflags",
        "+faststart");
    byte[] b = Files.readAllBytes(whole);
    Path cut = Files.write(dir.resolve("fast-cut.mp4"), Arrays.copyOf(b, b.length / 2));
    UnsupportedVideoException e = refused(cut);
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void randomBytesAreCorrupt() throws IOException {
    byte[] b = new byte[200_000];
    new Random(7).nextBytes(b);
    Path f = Files.write(dir.resolve("noise.mp4"), b);
    UnsupportedVideoException e = refused(f);
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code(), e.getMessage());
  }

  @Test
  void emptyFileIsCorrupt() throws IOException {
    Path f = Files.write(dir.resolve("empty.mkv"), new byte[0]);
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, refused(f).code());
  }

  @Test
  void audioOnlyFileHasNoVideo() {
    Path f = dir.resolve("tone.m4a");
    TestSupport.run("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=2", "-c:a", "aac",
        f.toString());
    UnsupportedVideoException e = refused(f);
    assertEquals(FoleyException.Code.UNSUPPORTED_VIDEO, e.code());
    assertTrue(e.getMessage().contains("no video stream"), e.getMessage());
  }

  @Test
  void directoryAndMissingFileAreTyped() {
    FoleyException e = assertThrows(FoleyException.class, () -> ffmpeg.open(dir));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    e = assertThrows(FoleyException.class, () -> ffmpeg.open(dir.resolve("missing.mp4")));
    assertEquals(FoleyException.Code.IO, e.code());
    e = assertThrows(FoleyException.class, () -> ffmpeg.open(null));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
  }
}
