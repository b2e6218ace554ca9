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
    assertTrue(m.visualFramesPerSegment() > 0 && m.syncWindowsPerSegment() > 0 && m.latentLength() > 0);
    assertTrue(m.hop() > 0 && m.samplesPerSegment() > 0);
    assertTrue(m.hopSamples() > 0 && m.overlapSamples() >= 0, "segments must advance: " + m.hopSamples());
    assertTrue(m.segmentCount(1) == 1 && m.segmentCount(10L * m.samplesPerSegment()) >= 10);
    assertTrue(m.visualDim() > 0 && m.syncDim() > 0 && m.textDim() > 0);
  }
}
