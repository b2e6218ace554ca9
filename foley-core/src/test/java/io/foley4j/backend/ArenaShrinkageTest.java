package io.foley4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.TestSupport;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.video.SyntheticVideo;
import org.junit.jupiter.api.Test;

/**
 * Which CPU sessions give their memory arena's free chunks back after each call (the encoders and
 * the VAE decoder, not the denoiser), how the backend's settings choose it, and that the audio does
 * not depend on it.
 */
class ArenaShrinkageTest {
  private static boolean shrinks(CpuBackend cpu, ModelBundle b, Stage s) {
    try (StageSession session = cpu.open(b.manifest().stage(s), b.stageFile(s))) {
      return ((OrtStageSession) session).shrinksArena();
    }
  }

  @Test
  void stagesCalledOncePerSegmentShrinkTheDenoiserKeepsItsArena() {
    try (ModelBundle b = TestSupport.referenceBundle()) {
      CpuBackend standard = Backends.cpu();
      assertTrue(standard.arenaShrinkage());
      for (Stage s : Stage.values()) {
        assertEquals(s != Stage.DENOISER, shrinks(standard, b, s), s.key());
        assertFalse(shrinks(CpuBackend.builder().arenaShrinkage(false).build(), b, s), s.key());
        assertFalse(shrinks(CpuBackend.builder().memoryArena(false).build(), b, s), "no arena: " + s.key());
      }
      // the GPU backends' path through OrtSessions follows the same CPU settings
      try (StageSession s = OrtSessions.open(b.manifest().stage(Stage.VAE_DECODER), b.stageFile(Stage.VAE_DECODER),
          standard, so -> { })) {
        assertTrue(((OrtStageSession) s).shrinksArena());
      }
    }
    assertThrows(IllegalStateException.class, () -> CpuBackend.builder().arenaShrinkage(true).arenaShrinkage(false));
    assertTrue(CpuBackend.builder().arenaShrinkage(false).build().toString().contains("arenaShrinkage=false"));
  }

  @Test
  void theAudioIsTheSameWithAndWithout() {
    float[][] out = new float[2][];
    for (int i = 0; i < 2; i++) {
      try (ModelBundle b = TestSupport.referenceBundle();
          FoleyEngine e = FoleyEngine.builder().bundle(b).backend(CpuBackend.builder().arenaShrinkage(i == 0).build())
              .videoSources(SyntheticVideo.builder().durationSeconds(2).build().asFactory()).build()) {
        out[i] = e.generate(FoleyRequest.builder(new byte[] {1, 2, 3}) /* the synthetic source makes the frames */.prompt("rain").steps(3).seed(2).build()).toArray();
      }
    }
    assertArrayEquals(out[1], out[0]);
  }
}
