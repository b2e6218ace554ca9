package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.foley4j.FoleyException;

/**
 * Fuzz target of the safetensors reader (docs/testing.md); corpus under
 * {@code src/test/resources/io/foley4j/bundle/SafetensorsFuzzTestInputs/parse/}.
 */
class SafetensorsFuzzTest {

  /** Any bytes: a typed {@code INVALID_ARGUMENT} error, or contents that survive a write and re-read. */
  @FuzzTest(maxDuration = "60s")
  void parse(byte[] data) {
    Safetensors.Contents c;
    try {
      c = Safetensors.parse(data);
    } catch (FoleyException e) {
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code(), e.toString());
      return;
    }
    Safetensors.Contents again = Safetensors.parse(Safetensors.toBytes(c.tensors(), c.metadata()));
    assertEquals(c.tensors(), again.tensors());
    assertEquals(c.metadata(), again.metadata());
  }
}
