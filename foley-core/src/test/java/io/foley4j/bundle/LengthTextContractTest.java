package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.foley4j.InvalidBundleException;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The v2 fields for pass length and text: text.padding, singlePassMaxSeconds, explicit counts. */
class LengthTextContractTest {

  @Test
  void hvfV2ReadsPairLongestAndSinglePass() {
    BundleManifest m = TestManifests.parse(TestManifests.hvfV2());
    assertEquals(BundleManifest.TextPadding.PAIR_LONGEST, m.text().padding());
    assertEquals(512, m.text().encoderMaxTokens());
    assertEquals(77, m.text().maxTokens());
    assertEquals(15.0, m.segment().singlePassMaxSeconds().getAsDouble());
    assertEquals(BundleManifest.PassLength.SYNC_FRAMES, m.segment().singlePassLength());
    assertEquals(BundleManifest.FrameGrid.ACCUMULATED, m.frameGrid());
    assertEquals(400, m.segment().latents());
    assertEquals(384000, m.segment().decodedSamples());
    assertEquals(384000, m.segment().keptSamples());
  }

  @Test
  void v1DefaultsAreFixedTextAndFixedSegments() {
    BundleManifest m = TestManifests.parse(TestManifests.hvf());
    assertEquals(BundleManifest.TextPadding.FIXED, m.text().padding());
    assertEquals(77, m.text().encoderMaxTokens());
    assertTrue(m.segment().singlePassMaxSeconds().isEmpty());
    assertEquals(BundleManifest.PassLength.DURATION, m.segment().singlePassLength());
    assertEquals(BundleManifest.FrameGrid.EXACT, m.frameGrid());
  }

  @Test
  void mmaudioStatesItsCountsExplicitlyAndTrims() {
    BundleManifest m = TestManifests.parse(TestManifests.mmaudio());
    assertEquals(345, m.segment().latents());
    assertEquals(1024, m.segment().samplesPerLatent());
    assertEquals(353280, m.segment().decodedSamples());
    assertEquals(352800, m.segment().keptSamples());
    assertEquals(44100, m.segment().overlapSamples());
    assertEquals(308700, m.segment().stepSamples());
    assertEquals(BundleManifest.TextPadding.FIXED, m.text().padding());
  }

  @Test
  void fractionalLatentRateWithoutExplicitCountsIsRefusedWithTheWayOut() {
    JsonObject r = TestManifests.mmaudio();
    r.getAsJsonObject("segment").remove("latents");
    r.getAsJsonObject("segment").remove("samples");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(r));
    assertTrue(e.getMessage().contains("segment.seconds × latent.rate") && e.getMessage().contains("segment.latents"),
        e.getMessage());
  }

  @Test
  void samplesMustBeAWholeHopPerLatentAndCoverTheSegment() {
    refused(r -> r.getAsJsonObject("segment").addProperty("samples", 353281), "positive multiple of segment.latents");
    refused(r -> r.getAsJsonObject("segment").remove("latents"), "segment.samples needs segment.latents");
    refused(r -> {
      r.getAsJsonObject("segment").addProperty("latents", 300);
      r.getAsJsonObject("segment").addProperty("samples", 307200);
    }, "do not cover");
  }

  @Test
  void pairLongestNeedsSymbolicTextAxes() {
    JsonObject r = TestManifests.hvf();
    r.addProperty("formatVersion", 2);
    r.getAsJsonObject("text").addProperty("padding", "pair-longest");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(r));
    assertTrue(e.getMessage().contains("text_encoder") && e.getMessage().contains("pair-longest needs symbolic"),
        e.getMessage());
  }

  @Test
  void singlePassNeedsSymbolicLengthAxes() {
    JsonObject r = TestManifests.hvf();
    r.addProperty("formatVersion", 2);
    r.getAsJsonObject("segment").addProperty("singlePassMaxSeconds", 15.0);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(r));
    assertTrue(e.getMessage().contains("denoiser") && e.getMessage().contains("need symbolic length axes"),
        e.getMessage());
  }

  @Test
  void symbolicAxesAreAllowedWithoutASinglePass() {
    JsonObject r = TestManifests.hvfV2();
    r.getAsJsonObject("segment").remove("singlePassMaxSeconds");
    r.getAsJsonObject("segment").remove("singlePassLength");
    BundleManifest m = TestManifests.parse(r);
    assertTrue(m.segment().singlePassMaxSeconds().isEmpty());
  }

  @Test
  void v2FieldsInAV1ManifestAreRefused() {
    JsonObject grid = TestManifests.hvf();
    grid.addProperty("frameGrid", "accumulated");
    InvalidBundleException g = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(grid));
    assertTrue(g.getMessage().contains("need formatVersion 2"), g.getMessage());
    for (String[] f : new String[][] {{"text", "padding", "fixed"}, {"segment", "latents", "400"}}) {
      JsonObject r = TestManifests.hvf();
      JsonObject o = r.getAsJsonObject(f[0]);
      if (f[1].equals("latents")) {
        o.addProperty(f[1], Integer.parseInt(f[2]));
      } else {
        o.addProperty(f[1], f[2]);
      }
      InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(r));
      assertTrue(e.getMessage().contains("need formatVersion 2"), e.getMessage());
    }
  }

  @Test
  void badTextSettingsAreRefused() {
    refusedHvf(r -> r.getAsJsonObject("text").addProperty("padding", "longest"), "text.padding must be");
    refusedHvf(r -> r.getAsJsonObject("text").addProperty("encoderMaxTokens", 50), "must be at least text.maxTokens");
    refused(r -> r.getAsJsonObject("text").addProperty("encoderMaxTokens", 512), "only text.padding");
    refusedHvf(r -> r.getAsJsonObject("segment").addProperty("singlePassMaxSeconds", 4.0),
        "singlePassMaxSeconds must be in [segment.seconds, 600]");
    refusedHvf(r -> r.getAsJsonObject("segment").add("singlePassMaxSeconds", new JsonPrimitive("15")),
        "singlePassMaxSeconds");
    refusedHvf(r -> r.getAsJsonObject("segment").add("latents", new JsonArray()), "segment.latents");
    refusedHvf(r -> r.getAsJsonObject("segment").addProperty("singlePassLength", "clip"),
        "segment.singlePassLength must be");
    refusedHvf(r -> r.getAsJsonObject("segment").remove("singlePassMaxSeconds"),
        "singlePassLength needs segment.singlePassMaxSeconds");
    refusedHvf(r -> r.addProperty("frameGrid", "drifting"), "frameGrid must be");
  }

  private static void refused(Consumer<JsonObject> edit, String message) {
    JsonObject r = TestManifests.mmaudio();
    edit.accept(r);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(r));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  private static void refusedHvf(Consumer<JsonObject> edit, String message) {
    JsonObject r = TestManifests.hvfV2();
    edit.accept(r);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(r));
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }
}
