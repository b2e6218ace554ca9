package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.AudioChunk;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.TestManifests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SegmentPlanTest {
  private final BundleManifest m = TestManifests.parse(TestManifests.hvf());

  @ParameterizedTest
  @CsvSource({"3.0,1", "8.0,1", "8.5,2", "15.0,2", "15.02,3", "61.0,9", "600.0,86"})
  void segmentCountCoversTheVideo(double seconds, int expected) {
    long n = Math.round(seconds * 48000);
    SegmentPlan p = new SegmentPlan(m, n);
    assertEquals(expected, p.count);
    SegmentPlan.Segment last = p.segment(p.count - 1);
    if (p.count > 1) {
      // the last segment is aligned to the end: it ends exactly there and repeats no frame
      assertEquals(n, last.sampleStart() + last.keepSamples());
      assertEquals((n - 384000) / 48000.0, last.startSeconds(), 1e-9);
      SegmentPlan.Segment prev = p.segment(p.count - 2);
      assertTrue(prev.sampleStart() + prev.keepSamples() < n, "no segment is wasted");
      assertTrue(last.sampleStart() > prev.sampleStart());
      assertTrue(prev.sampleStart() + prev.keepSamples() - last.sampleStart() >= 48000, "overlap at least 1 s");
    } else {
      assertEquals(0, last.sampleStart());
    }
    for (int k = 0; k < p.count - 1; k++) {
      assertEquals(k * 336000L, p.sampleStart(k));
      assertEquals(7.0 * k, p.segment(k).startSeconds(), 1e-12);
    }
  }

  @Test
  void exactSampleCountFromTicks() {
    // 100 frames at 29.97 fps in a 30000 timescale: 100 × 1001 ticks
    assertEquals(160160, SegmentPlan.samplesFor(100 * 1001, 30000, 48000));
    assertEquals(408000, SegmentPlan.samplesFor(8500, 1000, 48000));
    assertEquals(1, SegmentPlan.samplesFor(1, 48000, 48000));
  }

  @ParameterizedTest
  @CsvSource({"144000", "384000", "408000", "2928000", "2930000"})
  void stitchedChunksAreContiguousAndExact(long total) {
    SegmentPlan p = new SegmentPlan(m, total);
    Stitcher s = new Stitcher(p, 48000);
    long next = 0;
    for (int k = 0; k < p.count; k++) {
      float[] audio = new float[p.segment(k).decodedSamples()];
      java.util.Arrays.fill(audio, 0.5f);
      AudioChunk c = s.add(k, audio);
      assertEquals(next, c.sampleOffset());
      assertEquals(k == p.count - 1, c.isLast());
      next += c.length();
    }
    assertEquals(total, next);
  }

  @Test
  void crossfadeIsEqualPower() {
    SegmentPlan p = new SegmentPlan(m, 720_000); // 15 s: segments at 0 and 7 s, one second of overlap
    Stitcher s = new Stitcher(p, 48000);
    float[] a = new float[p.segment(0).decodedSamples()];
    java.util.Arrays.fill(a, 1f);
    s.add(0, a);
    float[] b = new float[p.segment(1).decodedSamples()]; // silence fades in while the tail of a fades out
    AudioChunk c = s.add(1, b);
    float[] x = c.toArray();
    int ov = 48000;
    // cos² + sin² = 1: the power of (1 · cos) + (0 · sin) falls from 1 to 0 as a quarter cosine
    assertEquals(Math.cos((0.5 / ov) * Math.PI / 2), x[0], 1e-6);
    assertEquals(Math.cos(((ov / 2 + 0.5) / ov) * Math.PI / 2), x[ov / 2], 1e-6);
    assertEquals(0f, x[ov], 0f);
  }

  @Test
  void endAlignedLastSegmentCrossfadesOverItsWholeOverlap() {
    SegmentPlan p = new SegmentPlan(m, 408_000); // 8.5 s: segments at 0 and 0.5 s, 7.5 s of overlap
    assertEquals(2, p.count);
    assertEquals(24_000, p.sampleStart(1));
    Stitcher s = new Stitcher(p, 48000);
    float[] a = new float[384_000];
    java.util.Arrays.fill(a, 1f);
    AudioChunk c0 = s.add(0, a);
    assertEquals(24_000, c0.length());
    float[] b = new float[384_000];
    java.util.Arrays.fill(b, 2f);
    float[] x = s.add(1, b).toArray();
    int ov = 360_000;
    assertEquals(384_000, x.length);
    assertEquals(Math.cos(0.5 / ov * Math.PI / 2) + 2 * Math.sin(0.5 / ov * Math.PI / 2), x[0], 1e-5);
    assertEquals(Math.cos((ov - 0.5) / ov * Math.PI / 2) + 2 * Math.sin((ov - 0.5) / ov * Math.PI / 2), x[ov - 1],
        1e-5);
    assertEquals(2f, x[ov], 0f);
    assertEquals(2f, x[x.length - 1], 0f);
  }

  @Test
  void shortClipOnFixedShapesRunsOneSegmentTrimmed() {
    SegmentPlan p = new SegmentPlan(m, 144_000);
    assertEquals(1, p.count);
    assertEquals(200, p.segment(0).syncFrames());
    assertEquals(384_000, p.segment(0).decodedSamples());
    assertTrue(!p.singlePass);
  }

  /** HVF's own counts for a clip of n sync frames at 25 fps: latents 2n, audio 1920 n (model_utils.py 407-480). */
  @ParameterizedTest
  @CsvSource({
      "144000, 75, 24, 8, 150, 144000", // 3 s
      "384000, 200, 64, 24, 400, 384000", // 8 s
      "384384, 200, 64, 24, 400, 384000", // 240 frames at 29.97 fps (8.008 s): HVF's 200 sync frames, 8 ms of tail
      "551040, 287, 92, 34, 574, 551040", // 287 frames at 25 fps (11.48 s)
      "720000, 375, 120, 45, 750, 720000"}) // 15 s: still one pass
  void singlePassByDurationRunsAtTheClipsOwnLength(long total, int sync, int visual, int windows, int latents,
      int keep) {
    com.google.gson.JsonObject r = TestManifests.hvfV2();
    r.getAsJsonObject("segment").remove("singlePassLength"); // the default: round(D × fps)
    SegmentPlan p = new SegmentPlan(TestManifests.parse(r), total);
    assertTrue(p.singlePass);
    assertEquals(1, p.count);
    SegmentPlan.Segment s = p.segment(0);
    assertEquals(sync, s.syncFrames());
    assertEquals(visual, s.visualFrames());
    assertEquals(windows, s.windows());
    assertEquals(8 * windows, s.syncTokens());
    assertEquals(latents, s.latents());
    assertEquals(latents * 960, s.decodedSamples());
    assertEquals(keep, s.keepSamples());
  }

  /**
   * HVF's own rule: every accumulated grid time up to the last frame (feature_utils.py 46-52), the
   * pass n_sync / 25 s long, int(length × 50) latents, every decoded sample kept.
   */
  @ParameterizedTest
  @CsvSource({
      "144000, 2.96, 74, 24, 8, 148, 142080", // 75 frames at 25 fps: the running grid time misses the last
      "384000, 7.96, 199, 64, 23, 398, 382080", // 200 frames at 25 fps
      "384384, 7.974641308, 200, 64, 24, 400, 384000", // 240 frames at 29.97 fps
      "551040, 11.44, 287, 92, 34, 574, 551040"}) // 287 frames at 25 fps
  void hvfsPassCoversTheGridTimesItsFramesReach(long total, double lastFrame, int sync, int visual, int windows,
      int latents, int keep) {
    SegmentPlan p = new SegmentPlan(TestManifests.parse(TestManifests.hvfV2()), total, lastFrame);
    assertTrue(p.singlePass);
    SegmentPlan.Segment s = p.segment(0);
    assertEquals(sync, s.syncFrames());
    assertEquals(visual, s.visualFrames());
    assertEquals(windows, s.windows());
    assertEquals(latents, s.latents());
    assertEquals(keep, s.keepSamples());
    assertEquals(latents * 960, s.decodedSamples());
  }

  /** MMAudio's rule: the clip shortened to what both streams cover, int(length × fps) frames each. */
  @Test
  void mmaudiosPassIsTheShorterStream() {
    BundleManifest mm = TestManifests.parse(TestManifests.mmaudio());
    SegmentPlan.Segment s = new SegmentPlan(mm, 132_300, 2.96).segment(0); // 75 frames at 25 fps
    assertEquals(74, s.syncFrames()); // 74 sync times reached: 2.96 s, shorter than the visual stream's 3.0 s
    assertEquals(23, s.visualFrames()); // int(8 × 2.96)
    assertEquals(128, s.latents()); // ceil(2.96 × 44100 / 1024)
    assertEquals(131_072, s.decodedSamples());
    assertEquals(130_536, s.keepSamples()); // round(2.96 × 44100)
  }

  @Test
  void theAccumulatedGridDriftsPastFramesThatTheExactGridReaches() {
    // 0.04 added 74 times is a little more than 2.96: the models miss a frame at 2.96
    assertEquals(74, SegmentPlan.reach(25, 2.96, BundleManifest.FrameGrid.ACCUMULATED));
    assertEquals(75, SegmentPlan.reach(25, 2.96, BundleManifest.FrameGrid.EXACT));
    assertEquals(24, SegmentPlan.reach(8, 2.96, BundleManifest.FrameGrid.ACCUMULATED)); // 1/8 adds exactly
    assertEquals(24, SegmentPlan.reach(8, 2.96, BundleManifest.FrameGrid.EXACT));
    assertEquals(1, SegmentPlan.reach(25, 0, BundleManifest.FrameGrid.ACCUMULATED));
  }

  @Test
  void singlePassOutputIsExactWithSilenceAfterThePass() {
    SegmentPlan p = new SegmentPlan(TestManifests.parse(TestManifests.hvfV2()), 384_384, 7.974641308);
    float[] audio = new float[384_000];
    java.util.Arrays.fill(audio, 0.25f);
    AudioChunk c = new Stitcher(p, 48000).add(0, audio);
    float[] x = c.toArray();
    assertEquals(384_384, x.length);
    assertEquals(0.25f, x[383_999]);
    assertEquals(0f, x[384_000]);
    assertTrue(c.isLast());
  }

  @Test
  void longerThanTheSinglePassCapIsSegmentedAtTheTrainedLength() {
    SegmentPlan p = new SegmentPlan(TestManifests.parse(TestManifests.hvfV2()), 768_000); // 16 s
    assertTrue(!p.singlePass);
    assertEquals(3, p.count); // 0, 7 and 8 s (end-aligned)
    assertEquals(8.0, p.segment(2).startSeconds(), 1e-12);
    for (int k = 0; k < 3; k++) {
      assertEquals(400, p.segment(k).latents());
      assertEquals(200, p.segment(k).syncFrames());
    }
  }

  @Test
  void mmaudioPassesTrimTheDecodersExtraSamples() {
    BundleManifest mm = TestManifests.parse(TestManifests.mmaudio());
    SegmentPlan eight = new SegmentPlan(mm, 352_800, 239 / 30.0); // 240 frames at 30 fps reach every time
    assertTrue(eight.singlePass);
    assertEquals(345, eight.segment(0).latents()); // ceil(8 × 44100 / 1024)
    assertEquals(353_280, eight.segment(0).decodedSamples());
    assertEquals(352_800, eight.segment(0).keepSamples());
    SegmentPlan three = new SegmentPlan(mm, 132_300, 89 / 30.0);
    assertEquals(130, three.segment(0).latents()); // ceil(3 × 43.066)
    assertEquals(132_300, three.segment(0).keepSamples());
    SegmentPlan longer = new SegmentPlan(mm, 507_150); // 11.5 s: 0 and 3.5 s, end-aligned
    assertEquals(2, longer.count);
    assertEquals(154_350, longer.sampleStart(1));
    assertEquals(3.5, longer.segment(1).startSeconds(), 1e-12);
    assertEquals(345, longer.segment(1).latents());
    Stitcher s = new Stitcher(longer, 44100);
    long n = s.add(0, new float[353_280]).length() + s.add(1, new float[353_280]).length();
    assertEquals(507_150, n);
  }

  @Test
  void scheduleRunsFromNoiseToData() {
    float[] t = FlowSchedule.times(50, 1.0);
    assertEquals(51, t.length);
    assertEquals(0f, t[0]);
    assertEquals(1f, t[50]);
    assertEquals(0.5f, t[25], 1e-6f);
    float[] shifted = FlowSchedule.times(10, 3.0);
    for (int i = 1; i < shifted.length; i++) {
      assertTrue(shifted[i] > shifted[i - 1]);
    }
    assertTrue(shifted[5] < 0.5f, "shift > 1 spends more steps at high noise");
  }

  @Test
  void noiseIsAPureFunctionOfSeedAndSegment() {
    assertArrayEquals(Sampler.noise(7, 1, 100), Sampler.noise(7, 1, 100));
    assertTrue(Sampler.noise(7, 1, 100)[0] != Sampler.noise(8, 1, 100)[0]);
    assertTrue(Sampler.noise(7, 1, 100)[0] != Sampler.noise(7, 2, 100)[0]);
  }
}
