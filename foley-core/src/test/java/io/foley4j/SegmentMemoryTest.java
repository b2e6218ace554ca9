package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.TestManifests;
import org.junit.jupiter.api.Test;

/** A segment's device charge: the stages' declared working memory, else the shape estimate. */
class SegmentMemoryTest {
  private static BundleManifest hvf(String denoiserMemory, String vaeMemory) {
    JsonObject o = TestManifests.hvfV2();
    if (denoiserMemory != null) {
      o.getAsJsonObject("stages").getAsJsonObject("denoiser").add("workingMemory",
          JsonParser.parseString(denoiserMemory));
    }
    if (vaeMemory != null) {
      o.getAsJsonObject("stages").getAsJsonObject("vae_decoder").add("workingMemory", JsonParser.parseString(vaeMemory));
    }
    return TestManifests.parse(o);
  }

  private static SegmentPlan.Segment trained(BundleManifest m) {
    return new SegmentPlan(m, 30L * m.audio().sampleRate()).largest();
  }

  @Test
  void withoutAWorkingMemoryTheShapeEstimateStays() {
    BundleManifest m = hvf(null, null);
    // the denoiser's inputs and output for a CFG pair x 16, whatever the network: 43.7 MiB at HVF's 8 s
    assertEquals(4L * 16 * 2 * (2 * 128 * 400 + 1 + 64 * 768 + 192 * 768 + 77 * 768),
        Devices.segmentBytes(m, trained(m), 2, 0));
  }

  @Test
  void theDeclaredWorkingMemoryIsChargedPerRowAtTheSegmentsLength() {
    // HunyuanVideo-Foley-XL's width, 4 + 4 blocks, as the export tool measured it (one row)
    BundleManifest m = hvf("{\"batch\": 1, \"method\": \"measured\", \"points\": [{\"latents\": 100, \"bytes\": 56000000},"
        + " {\"latents\": 400, \"bytes\": 232000000}, {\"latents\": 750, \"bytes\": 560000000}]}", null);
    SegmentPlan.Segment seg = trained(m);
    assertEquals(400, seg.latents());
    assertEquals(2 * 232_000_000L, Devices.segmentBytes(m, seg, 2, 0), "a CFG pair");
    assertEquals(232_000_000L, Devices.segmentBytes(m, seg, 1, 0), "unguided");
    SegmentPlan.Segment shortPass = new SegmentPlan(m, 4L * m.audio().sampleRate()).largest();
    assertEquals(198, shortPass.latents(), "a 4 s clip's single pass (sync-frames: 99 sync frames)");
    assertEquals((long) Math.ceil(2 * (56e6 + 98 * 176e6 / 300)), Devices.segmentBytes(m, shortPass, 2, 0),
        "between the points");
    // the builder's measured figure still replaces it
    assertEquals(1000, Devices.segmentBytes(m, seg, 2, 1000));
  }

  @Test
  void theLargerOfTheDenoiserAndTheDecoderCounts() {
    BundleManifest m = hvf("{\"batch\": 2, \"points\": [{\"latents\": 400, \"bytes\": 1000}]}",
        "{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": 300000}]}");
    SegmentPlan.Segment seg = trained(m);
    assertEquals(300_000, Devices.segmentBytes(m, seg, 2, 0));
    // four variants: the decoder runs one row per variant, the denoiser 8 rows of 500 bytes
    assertEquals(4 * 300_000, SegmentMemory.bytes(m, seg, 8, 4, 0));
  }

  @Test
  void aBudgetThatHeldManySegmentsUnderTheShapeEstimateHoldsFewerUnderTheWorkingMemory() {
    BundleManifest old = hvf(null, null);
    BundleManifest measured = hvf("{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": 232000000}]}", null);
    long budget = (long) ((4L << 30) * Devices.MEMORY_FRACTION); // a 4 GiB device
    long before = budget / Devices.segmentBytes(old, trained(old), 2, 0);
    long after = budget / Devices.segmentBytes(measured, trained(measured), 2, 0);
    assertEquals(84, before, "43.7 MiB a segment");
    assertEquals(8, after, "442 MiB a segment");
    assertTrue(after < before);
  }
}
