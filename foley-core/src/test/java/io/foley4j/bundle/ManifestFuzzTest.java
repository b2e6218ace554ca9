package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.foley4j.FoleyException;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz target of the manifest reader (docs/testing.md); corpus under
 * {@code src/test/resources/io/foley4j/bundle/ManifestFuzzTestInputs/parse/}.
 */
class ManifestFuzzTest {

  /** Any text as foley-bundle.json: an {@code InvalidBundleException}, or a manifest whose sizes all work. */
  @FuzzTest(maxDuration = "60s")
  void parse(byte[] data) {
    BundleManifest m;
    try {
      m = BundleManifest.parse(new String(data, StandardCharsets.UTF_8));
    } catch (FoleyException e) {
      assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code(), e.toString());
      return;
    }
    // what the engine derives from an accepted manifest must be usable
    assertTrue(m.segment().visualFrames() > 0 && m.segment().syncWindows() > 0 && m.segment().latents() > 0);
    assertTrue(m.segment().samplesPerLatent() > 0 && m.segment().decodedSamples() > 0);
    assertTrue(m.segment().stepSamples() > 0 && m.segment().overlapSamples() >= 0, "segments must advance: " + m.segment().stepSamples());
    assertTrue(m.segment().count(1) == 1 && m.segment().count(10L * m.segment().decodedSamples()) >= 10);
    assertTrue(m.widths().visual() > 0 && m.widths().sync() > 0 && m.widths().text() > 0);
  }
}
