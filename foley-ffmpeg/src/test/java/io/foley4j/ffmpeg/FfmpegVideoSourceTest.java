package io.foley4j.ffmpeg;

import io.foley4j.jcodec.JcodecVideoSources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The FFmpeg source on every container and codec of the build, against ffprobe's view of each file. */
class FfmpegVideoSourceTest {
  @TempDir
  static Path dir;
  static VideoSourceFactory ffmpeg;

  @BeforeAll
  static void load() {
    Clips.require();
    ffmpeg = FfmpegVideoSources.ffmpeg();
  }

  @ParameterizedTest
  @ValueSource(strings = {"h264-mp4", "hevc-mp4", "hevc10-mp4", "h264-10bit-mkv", "vp9-webm", "av1-mkv", "h264-mkv",
      "h264-ts", "h264-fmp4", "prores-mov", "mjpeg-avi", "vfr-mp4", "editlist-mp4"})
  void decodesEveryFrameInOrderWithFlashesAtTheirTimes(String variant) {
    Path f = Clips.variant(dir, variant);
    List<DecodedFrame> frames = new ArrayList<>();
    VideoInfo info;
    try (VideoSource s = ffmpeg.open(f, 2)) {
      info = s.info();
      for (DecodedFrame fr; (fr = s.next()) != null; ) {
        frames.add(fr);
      }
      assertNull(s.next(), "stays at the end");
    }
    System.out.printf("%-15s %s, %d frames decoded, first %.3f s, last %.3f s%n", variant, info, frames.size(),
        frames.get(0).ptsSeconds(), frames.get(frames.size() - 1).ptsSeconds());
    assertEquals(96, info.width());
    assertEquals(64, info.height());
    assertEquals(info.frameCount(), frames.size(), "frame count stated at open");
    assertEquals(0.0, frames.get(0).ptsSeconds(), 1e-9, "the first frame is at the presentation start");
    assertEquals(info.lastFrameSeconds(), frames.get(frames.size() - 1).ptsSeconds(), 1e-9);
    assertEquals(Clips.SECONDS, info.durationSeconds(), 0.045, "duration");
    for (int i = 1; i < frames.size(); i++) {
      assertTrue(frames.get(i).ptsTicks() > frames.get(i - 1).ptsTicks(), "increasing timestamps at " + i);
    }
    // every flash starts on the frame stamped with its time, and only flash frames are bright
    for (DecodedFrame fr : frames) {
      boolean bright = fr.meanLuma() > 128;
      boolean inFlash = false;
      for (double t : Clips.FLASHES) {
        inFlash |= fr.ptsSeconds() > t - 0.005 && fr.ptsSeconds() < t + 0.115;
      }
      assertEquals(inFlash, bright, variant + ": frame at " + fr.ptsSeconds() + " s has luma " + fr.meanLuma());
    }
  }

  @Test
  void autoPrefersFfmpegAndNamedFindsBoth() {
    assertTrue(VideoSources.auto().id().startsWith("ffmpeg-"), VideoSources.auto().id());
    assertEquals(ffmpeg.id(), VideoSources.named("ffmpeg").id());
    assertEquals(JcodecVideoSources.jcodec().id(), VideoSources.named("jcodec").id());
    FoleyException e = assertThrows(FoleyException.class, () -> VideoSources.named("gstreamer"));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().contains("ffmpeg") && e.getMessage().contains("jcodec"), e.getMessage());
  }

  @Test
  void closeIsIdempotentAndNextAfterCloseIsTyped() {
    Path f = Clips.variant(dir, "h264-mkv");
    VideoSource s = ffmpeg.open(f);
    assertNotNull(s.next());
    s.close();
    s.close();
    FoleyException e = assertThrows(FoleyException.class, s::next);
    assertEquals(FoleyException.Code.CLOSED, e.code());
  }

  @Test
  void aCacheDirectoryCanOnlyBeChosenBeforeTheFirstLoad() {
    FoleyException e = assertThrows(FoleyException.class, () -> FfmpegVideoSources.ffmpeg(dir.resolve("other-cache")));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().contains("already loaded"), e.getMessage());
    assertEquals(FoleyException.Code.INVALID_ARGUMENT,
        assertThrows(FoleyException.class, () -> FfmpegVideoSources.ffmpeg(null)).code());
  }
}
