package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.foley4j.InvalidBundleException;
import org.junit.jupiter.api.Test;

/** The manifest's optional {@code weights} per stage ({@code "bfloat16"}: stored in bfloat16 behind casts). */
class ManifestWeightsTest {
  private static JsonObject with(JsonObject manifest, String stage, String weights) {
    manifest.getAsJsonObject("stages").getAsJsonObject(stage).add("weights", new JsonPrimitive(weights));
    return manifest;
  }

  @Test
  void isReadPerStageAndAbsentMeansFloat32() {
    for (JsonObject base : new JsonObject[] {TestManifests.hvf(), TestManifests.hvfV2()}) {
      BundleManifest m = TestManifests.parse(with(with(base, "denoiser", "bfloat16"), "vae_decoder", "float32"));
      assertTrue(m.stage(Stage.DENOISER).bfloat16Weights());
      assertFalse(m.stage(Stage.VAE_DECODER).bfloat16Weights());
      assertFalse(m.stage(Stage.TEXT_ENCODER).bfloat16Weights());
      assertTrue(m.ignoredKeys().isEmpty(), m.ignoredKeys().toString());
    }
  }

  @Test
  void anotherValueIsRefusedNamingTheField() {
    InvalidBundleException e = assertThrows(InvalidBundleException.class,
        () -> TestManifests.parse(with(TestManifests.hvfV2(), "denoiser", "int8")));
    assertEquals("foley-bundle.json: stages.denoiser.weights must be \"float32\" or \"bfloat16\", found \"int8\";"
        + " re-export the stage", e.getMessage());
  }
}
