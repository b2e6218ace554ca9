package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.backend.CpuBackend;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bundle whose denoiser and VAE store their weights in bfloat16 ({@code foley_export export
 * --dtype STAGE=bfloat16}) computes exactly what the float32 bundle of the same values computes,
 * and ONNX Runtime keeps the weights in bfloat16 when foley4j loads it: the casts that widen them
 * are not folded into float32 constants (the stage's session turns constant folding off).
 *
 * <p>Both bundles come from one tiny model set, in one Python process: the bfloat16 export rounds
 * the stages' parameters to bfloat16 in place, and the float32 export then writes those values.
 * Skips without torch and onnx, unless FOLEY_REQUIRE_TORCH=1 (CI), where it fails.
 */
class Bfloat16WeightsTest {
  private static final String EXPORT = String.join("\n",
      "import sys",
      "from foley_export import export, tiny",
      "config, models = tiny.create('hvf', 5, 'ckpt')",
      "export.export_bundle('hvf', models, config, 'bf16', external_data=True,",
      "                     dtypes={'denoiser': 'bfloat16', 'vae_decoder': 'bfloat16'}, working_memory='graph')",
      "export.export_bundle('hvf', models, config, 'f32', external_data=True, working_memory='graph')");

  /** Prints, for each ONNX file named, its count of bfloat16 initializers, float32 ones and Cast nodes. */
  private static final String COUNT = String.join("\n",
      "import sys, onnx",
      "for p in sys.argv[1:]:",
      "    g = onnx.load(p, load_external_data=False).graph",
      "    t = [i.data_type for i in g.initializer]",
      "    print(p.split('/')[-1].split('-')[0], t.count(onnx.TensorProto.BFLOAT16), t.count(onnx.TensorProto.FLOAT),",
      "          sum(n.op_type == 'Cast' for n in g.node))");

  @TempDir
  Path work;

  @Test
  void computesTheFloat32ArithmeticAndKeepsTheWeightsInBfloat16() throws Exception {
    SystemPython.requireTorch("FOLEY_REQUIRE_TORCH", 2, 4, "onnx", "numpy");
    Path tool = Path.of("").toAbsolutePath().getParent().resolve("tools").resolve("export");
    Map<String, String> env = Map.of("PYTHONPATH", tool.toString(), "OMP_NUM_THREADS", "2");
    SystemPython.run(work, env, 600, "-c", EXPORT);
    Path video = ParityClip.write(Files.createDirectory(work.resolve("clip")), 25, 1, 75).video();
    FoleyRequest request = FoleyRequest.builder(video).prompt("rain on a tin roof").steps(4).seed(5).build();

    Path cache = Files.createDirectory(work.resolve("optimized"));
    float[] bf16;
    float[] f32;
    try (ModelBundle b = ModelBundle.open(work.resolve("bf16"));
        FoleyEngine e = FoleyEngine.builder().bundle(b).backend(CpuBackend.builder().optimizedModelCache(cache).build())
            .build()) {
      assertTrue(b.manifest().stage(Stage.DENOISER).bfloat16Weights());
      assertTrue(!b.manifest().stage(Stage.TEXT_ENCODER).bfloat16Weights());
      bf16 = e.generate(request).toArray();
    }
    try (ModelBundle b = ModelBundle.open(work.resolve("f32"));
        FoleyEngine e = FoleyEngine.builder().bundle(b).build()) {
      assertTrue(!b.manifest().stage(Stage.DENOISER).bfloat16Weights());
      f32 = e.generate(request).toArray();
    }
    assertTrue(f32.length > 0 && !java.util.Arrays.equals(f32, new float[f32.length]), "audio, not silence");
    assertArrayEquals(f32, bf16, "the same float32 arithmetic on the same values");

    // the graphs ONNX Runtime optimized for foley4j: the denoiser's and the VAE's still hold bfloat16
    // weights and the casts that widen them (constant folding would have made them float32)
    List<String> files;
    try (Stream<Path> s = Files.list(cache)) {
      files = s.map(Path::toString).filter(p -> p.endsWith(".ort.onnx")).sorted().toList();
    }
    String[] args = Stream.concat(Stream.of("-c", COUNT), files.stream()).toArray(String[]::new);
    String out = SystemPython.run(work, env, 120, args);
    int checked = 0;
    for (String line : out.lines().toList()) {
      String[] f = line.trim().split("\\s+");
      if (f.length != 4 || !f[1].matches("\\d+")) {
        continue;
      }
      int bfloat16 = Integer.parseInt(f[1]);
      int casts = Integer.parseInt(f[3]);
      if (f[0].equals("denoiser") || f[0].equals("vae_decoder")) {
        assertTrue(bfloat16 > 0 && casts >= bfloat16, out);
        checked++;
      } else {
        assertEquals(0, bfloat16, out);
      }
    }
    assertEquals(2, checked, out);
  }
}
