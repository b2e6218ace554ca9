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
    long lastEnd = p.sampleStart(p.count - 1) + p.samplesPerSegment;
    assertTrue(lastEnd >= n, "last segment must reach the end");
    if (p.count > 1) {
      long prevEnd = p.sampleStart(p.count - 2) + p.samplesPerSegment;
      assertTrue(prevEnd < n, "no segment is wasted");
    }
    assertEquals(56 * (p.count - 1) + 64, p.visualTotal());
    assertEquals(175 * (p.count - 1) + 200, p.syncTotal());
  }

  @Test
  void exactSampleCountFromTicks() {
    // 100 frames at 29.97 fps in a 30000 timescale: 100 × 1001 ticks
    assertEquals(160160, SegmentPlan.samplesFor(100 * 1001, 30000, 48000));
    assertEquals(408000, SegmentPlan.samplesFor(8500, 1000, 48000));
    assertEquals(1, SegmentPlan.samplesFor(1, 48000, 48000));
  }

  @ParameterizedTest
  @CsvSource({"144000", "384000", "408000", "2928000"})
  void stitchedChunksAreContiguousAndExact(long total) {
    SegmentPlan p = new SegmentPlan(m, total);
    Stitcher s = new Stitcher(p, 48000);
    long next = 0;
    for (int k = 0; k < p.count; k++) {
      float[] audio = new float[p.samplesPerSegment];
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
    SegmentPlan p = new SegmentPlan(m, 500_000);
    Stitcher s = new Stitcher(p, 48000);
    float[] a = new float[p.samplesPerSegment];
    java.util.Arrays.fill(a, 1f);
    s.add(0, a);
    float[] b = new float[p.samplesPerSegment]; // silence fades in while the tail of a fades out
    AudioChunk c = s.add(1, b);
    float[] x = c.toArray();
    int ov = p.overlapSamples;
    // cos² + sin² = 1: the power of (1 · cos) + (0 · sin) falls from 1 to 0 as a quarter cosine
    assertEquals(Math.cos((0.5 / ov) * Math.PI / 2), x[0], 1e-6);
    assertEquals(Math.cos(((ov / 2 + 0.5) / ov) * Math.PI / 2), x[ov / 2], 1e-6);
    assertEquals(0f, x[ov], 0f);
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
