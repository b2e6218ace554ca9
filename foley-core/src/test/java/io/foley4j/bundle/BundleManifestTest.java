package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import org.junit.jupiter.api.Test;

class BundleManifestTest {

  @Test
  void derivesSegmentSizesFromRates() {
    BundleManifest m = TestManifests.parse(TestManifests.hvf());
    assertEquals(64, m.visualFramesPerSegment());
    assertEquals(200, m.syncFramesPerSegment());
    assertEquals(24, m.syncWindowsPerSegment());
    assertEquals(192, m.syncTokensPerSegment());
    assertEquals(400, m.latentLength());
    assertEquals(960, m.hop());
    assertEquals(384000, m.samplesPerSegment());
    assertEquals(48000, m.overlapSamples());
    assertEquals(336000, m.hopSamples());
    assertEquals(768, m.visualDim());
    assertEquals(4.5f, m.sampler().cfgScale());
    assertEquals("noisy, harsh", m.sampler().negativePrompt());
  }

  @Test
  void refusesNewerFormatVersion() {
    JsonObject o = TestManifests.hvf();
    o.addProperty("formatVersion", 2);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("version 2 is newer"), e.getMessage());
    assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
  }

  @Test
  void refusesMissingStage() {
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject("stages").remove("denoiser");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("missing stage \"denoiser\""), e.getMessage());
  }

  @Test
  void refusesShapeThatDisagreesWithRates() {
    JsonObject o = TestManifests.hvf();
    // 7 s of latents instead of 8
    JsonArray shape = o.getAsJsonObject("stages").getAsJsonObject("denoiser").getAsJsonArray("inputs").get(0)
        .getAsJsonObject().getAsJsonArray("shape");
    shape.set(2, new com.google.gson.JsonPrimitive(350));
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("shape mismatch") && e.getMessage().contains("denoiser"), e.getMessage());
  }

  @Test
  void refusesHopThatIsNotWholeFrames() {
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject("segment").addProperty("overlapSeconds", 0.9);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("whole number"), e.getMessage());
  }

  @Test
  void refusesFileNamesThatLeaveTheBundle() {
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject("stages").getAsJsonObject("vae_decoder").addProperty("file", "../evil.onnx");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("plain file name"), e.getMessage());
  }

  @Test
  void refusesAbsurdSizes() {
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject("text").addProperty("maxTokens", 1_000_000_000);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("text.maxTokens") && e.getMessage().contains("more than"), e.getMessage());
  }

  @Test
  void refusesGarbage() {
    assertThrows(InvalidBundleException.class, () -> BundleManifest.parse("{not json"));
    assertThrows(InvalidBundleException.class, () -> BundleManifest.parse("[]"));
    JsonObject o = TestManifests.hvf();
    o.remove("sampler");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("sampler"), e.getMessage());
  }
}
