package io.foley4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.SystemPython;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code foley bundle check BUNDLE --against stages.npz}: the per-stage parity of an export, on a
 * tiny HVF-shaped model exported by tools/export with external data and its PyTorch recording.
 * Skips without torch and onnx, unless FOLEY_REQUIRE_TORCH=1 (CI).
 */
class BundleCheckCommandTest {
  @TempDir
  static Path dir;

  private static Map<String, String> env;

  @BeforeAll
  static void export() {
    SystemPython.requireTorch("FOLEY_REQUIRE_TORCH", 2, 4, "onnx", "numpy", "PIL"); // the tool's floor: PyTorch 2.4
    Path tool = Path.of("").toAbsolutePath().getParent().resolve("tools").resolve("export");
    env = Map.of("PYTHONPATH", tool.toString(), "OMP_NUM_THREADS", "2");
    SystemPython.run(dir, env, 300, "-m", "foley_export", "tiny", "--kind", "hvf", "--seed", "5", "--out", "ckpt");
    SystemPython.run(dir, env, 300, "-m", "foley_export", "export", "--kind", "hvf", "--checkpoint", "ckpt", "--out",
        "bundle", "--external-data", "--parity-out", "stages.npz");
  }

  @Test
  void everyStageOfTheExportMatchesPyTorch() {
    CliOutput o = CliOutput.of("bundle", "check", dir.resolve("bundle").toString(), "--against",
        dir.resolve("stages.npz").toString());
    assertEquals(0, o.rc(), o.toString());
    for (String stage : new String[] {"visual_encoder.features", "sync_encoder.tokens", "text_encoder.text_embeds",
        "denoiser.velocity", "vae_decoder.audio"}) {
      assertTrue(o.out().contains("OK   " + stage), stage + ": " + o);
    }
    assertTrue(o.out().contains("OK 5 outputs"), o.toString());
    System.out.println("[bundle check]\n" + o.out());
  }

  @Test
  void aStageThatDisagreesFailsWithExitCode1() {
    SystemPython.run(dir, env, 60, "-c", String.join("\n",
        "import numpy as np",
        "a = dict(np.load('stages.npz'))",
        "a['denoiser.velocity'] = a['denoiser.velocity'] * 1.01",
        "np.savez('off.npz', **a)"));
    CliOutput o = CliOutput.of("bundle", "check", dir.resolve("bundle").toString(), "--against",
        dir.resolve("off.npz").toString());
    assertEquals(1, o.rc(), o.toString());
    assertTrue(o.out().contains("FAIL denoiser.velocity") && o.out().contains("OK   vae_decoder.audio"), o.toString());
    // relative L2 of a 1% scale is 0.0099: within a looser tolerance
    CliOutput loose = CliOutput.of("bundle", "check", dir.resolve("bundle").toString(), "--against",
        dir.resolve("off.npz").toString(), "--tolerance", "0.02");
    assertEquals(0, loose.rc(), loose.toString());
  }

  @Test
  void aRecordingOfNoStageIsABadInput() {
    SystemPython.run(dir, env, 60, "-c", "import numpy as np; np.savez('none.npz', x=np.zeros(3))");
    CliOutput o = CliOutput.of("bundle", "check", dir.resolve("bundle").toString(), "--against",
        dir.resolve("none.npz").toString());
    assertEquals(2, o.rc(), o.toString());
    String err = o.err().strip();
    assertTrue(err.startsWith("foley: ") && err.contains("covers no stage") && err.contains("denoiser.latents"), o.toString());
    assertFalse(err.contains("\n"), o.toString());
  }
}
