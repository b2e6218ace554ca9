package io.foley4j;

import io.foley4j.jcodec.JcodecVideoSources;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.video.DecodedFrame;
import io.foley4j.jcodec.Ffmpeg;
import io.foley4j.video.ResizeMode;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSources;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FrameSamplerTest {
  @TempDir Path tmp;

  private static final float[] HALF = {0.5f, 0.5f, 0.5f};

  /** Mean of the normalised tensor: about -0.75 for a dark grey frame, +1 for white. */
  private static double brightness(DecodedFrame f) {
    float[] t = new float[3 * 16 * 16];
    f.toTensor(16, ResizeMode.SQUASH, HALF, HALF, t, 0);
    double s = 0;
    for (float v : t) {
      s += v;
    }
    return s / t.length;
  }

  /**
   * The models' running grid time: 0.04 added six times is 0.24000000000000002, just past the frame
   * at 0.24, which HunyuanVideo-Foley's exact comparison skips (it takes the next frame); foley4j's
   * 1 ns tolerance takes the frame at 0.24.
   */
  @Test
  void exactComparisonOfAccumulatedTimesSkipsAFrameAsTheModelsDo() {
    Path p = tmp.resolve("grid-25.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(48, 32).fps(25, 1).durationSeconds(1.0).background(0x202020).build(), p);
    double t = 0;
    for (int i = 0; i < 6; i++) {
      t += 1 / 25.0;
    }
    assertTrue(t > 0.24, "accumulated " + t);
    try (VideoSource a = JcodecVideoSources.jcodec().open(p); VideoSource b = JcodecVideoSources.jcodec().open(p)) {
      assertEquals(0.28, FrameSampler.over(a, BundleManifest.FrameRule.AT_OR_AFTER, 0).frameAt(t).ptsSeconds(), 1e-12);
      assertEquals(0.24, FrameSampler.over(b, BundleManifest.FrameRule.AT_OR_AFTER).frameAt(t).ptsSeconds(), 1e-12);
    }
  }

  @ParameterizedTest(name = "{0}/{1} fps")
  @CsvSource({"24,1", "25,1", "30,1", "30000,1001"})
  void picksTheFrameDisplayedAtEachTimestamp(int num, int den) {
    double frame = den / (double) num;
    double flashStart = 1.0;
    double flashDur = 3 * frame;
    Path p = tmp.resolve("flash-" + num + ".mp4");
    SyntheticVideo v = SyntheticVideo.builder().size(48, 32).fps(num, den).durationSeconds(2.0)
        .background(0x202020).flash(flashStart, flashDur, 0xffffff).build();
    SyntheticMp4.write(v, p);
    int first = (int) Math.ceil(flashStart / frame - 1e-9); // first frame at/after the start
    double firstPts = first * frame;
    try (VideoSource s = JcodecVideoSources.jcodec().open(p)) {
      FrameSampler sampler = FrameSampler.over(s);
      assertEquals(s.info(), sampler.info());
      DecodedFrame before = sampler.frameAt(firstPts - frame / 2);
      assertEquals(first - 1, Math.round(before.ptsSeconds() / frame));
      assertTrue(brightness(before) < -0.5, "dark before the flash: " + brightness(before));

      DecodedFrame at = sampler.frameAt(firstPts);
      assertEquals(first, Math.round(at.ptsSeconds() / frame));
      assertTrue(brightness(at) > 0.9, "bright at the flash: " + brightness(at));

      DecodedFrame during = sampler.frameAt(firstPts + frame / 2);
      assertSame(at, during, "same frame until the next pts");

      int end = (int) Math.ceil((flashStart + flashDur) / frame - 1e-9); // first dark again
      assertTrue(brightness(sampler.frameAt(end * frame - frame / 2)) > 0.9);
      DecodedFrame after = sampler.frameAt(end * frame + frame / 2);
      assertEquals(end, Math.round(after.ptsSeconds() / frame));
      assertTrue(brightness(after) < -0.5, "dark after the flash: " + brightness(after));

      // Padding: past the end gives the last frame, forever.
      DecodedFrame past = sampler.frameAt(100.0);
      assertEquals(v.frameCount() - 1, Math.round(past.ptsSeconds() / frame));
      assertSame(past, sampler.frameAt(1000.0));

      FoleyException e = assertThrows(FoleyException.class, () -> sampler.frameAt(1.0));
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    }
  }

  /**
   * HVF's and MMAudio's rule: the first frame whose pts is at or after t. Between two frames it is
   * the next one, not the one on screen; at a frame's own pts both rules agree.
   */
  @ParameterizedTest(name = "{0}/{1} fps")
  @CsvSource({"24,1", "30000,1001"})
  void atOrAfterPicksTheFirstFrameAtOrAfterEachTime(int num, int den) {
    double frame = den / (double) num;
    Path p = tmp.resolve("after-" + num + ".mp4");
    SyntheticVideo v = SyntheticVideo.builder().size(48, 32).fps(num, den).durationSeconds(2.0).background(0x202020)
        .flash(1.0, 3 * frame, 0xffffff).build();
    SyntheticMp4.write(v, p);
    try (VideoSource before = JcodecVideoSources.jcodec().open(p); VideoSource after = JcodecVideoSources.jcodec().open(p)) {
      FrameSampler onScreen = FrameSampler.over(before, io.foley4j.bundle.BundleManifest.FrameRule.AT_OR_BEFORE);
      FrameSampler next = FrameSampler.over(after, io.foley4j.bundle.BundleManifest.FrameRule.AT_OR_AFTER);
      for (int k = 0; k < 2 * 25; k++) {
        double t = k / 25.0; // the sync grid, off the video's own grid
        long want = (long) Math.ceil(t / frame - 1e-9);
        long wantBefore = (long) Math.floor(t / frame + 1e-9);
        assertEquals(Math.min(want, v.frameCount() - 1), Math.round(next.frameAt(t).ptsSeconds() / frame),
            "at-or-after at t=" + t);
        assertEquals(wantBefore, Math.round(onScreen.frameAt(t).ptsSeconds() / frame), "at-or-before at t=" + t);
      }
      // past the end both stay on the last frame
      assertEquals(v.frameCount() - 1, Math.round(next.frameAt(100).ptsSeconds() / frame));
    }
  }

  @Test
  void beforeTheFirstFrameGivesTheFirstFrame() {
    Path p = tmp.resolve("s.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(32, 32).durationSeconds(0.5).build(), p);
    try (VideoSource s = JcodecVideoSources.jcodec().open(p)) {
      FrameSampler sampler = FrameSampler.over(s);
      DecodedFrame f = sampler.frameAt(-1.0);
      assertEquals(0, f.ptsTicks());
      assertSame(f, sampler.frameAt(0.0));
      assertThrows(FoleyException.class, () -> sampler.frameAt(Double.NaN));
    }
  }

  @Test
  void sampling25FpsFollowsTimestampsOnBFrameClip() {
    try (VideoSource s = JcodecVideoSources.jcodec().open(Ffmpeg.bframeClip())) {
      FrameSampler sampler = FrameSampler.over(s);
      for (int k = 0; k < 75; k++) {
        double t = k / 25.0;
        DecodedFrame f = sampler.frameAt(t);
        assertEquals((long) Math.floor(t * 30 + 1e-9), Math.round(f.ptsSeconds() * 30), "t=" + t);
      }
    }
  }
}
