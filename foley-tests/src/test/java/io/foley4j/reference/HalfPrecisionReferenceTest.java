package io.foley4j.reference;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.platform.Fp16Conversions;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference model with a float16 and a bfloat16 boundary, run end to end on ONNX Runtime CPU
 * against the float32 bundle with the same seed: a 5 s, 25 fps clip with three flashes, prompt
 * "glass breaking", seed 7, the bundle's 50 steps with CFG 4.5 (batch of two per step, every
 * denoiser input and output rounded to the half type at each step, the VAE's latents and audio
 * too).
 *
 * <p>Measured (ONNX Runtime 1.23.2 CPU, x86-64): float16 relative L2 5.7e-4, max |diff| 4.8e-4;
 * bfloat16 relative L2 5.0e-3, max |diff| 5.2e-3 (another prompt, seed and five flashes gave
 * 5.3e-4 / 5.1e-4 and 4.5e-3 / 4.3e-3). That is about 1.2 unit roundoffs of each type (u = 2^-11
 * = 4.9e-4 for float16, 2^-8 = 3.9e-3 for bfloat16). Rounding the float32 audio once to the half
 * type gives 2.0e-4 / 2.4e-4 and 1.6e-3 / 2.0e-3 (0.42 u, printed by the test); the rest comes
 * from the rounded denoiser inputs and velocities of the 50 steps and the decoder's rounded
 * latents, and stays near one u because the latents are accumulated in float32 in Java. The
 * tolerances are 4 u for float16 (2e-3 for both measures) and 5 u for bfloat16 (2e-2), 3.5–4× the
 * measurement: loose enough for other CPUs' kernels, tight enough that a conversion error (wrong
 * byte order, fp16 bits read as bf16, truncation instead of rounding that drifts over the steps)
 * or an error growing over the steps fails. The peak of the float32 audio is asserted above 0.1 so
 * that max |diff| is small against the signal, not against silence.
 */
class HalfPrecisionReferenceTest {
  @TempDir static Path tmp;
  static Path video;
  static float[] fp32;

  @BeforeAll
  static void reference() {
    SyntheticVideo.Builder vb = SyntheticVideo.builder().size(96, 64).fps(25, 1).durationSeconds(5).background(0x101010);
    for (double t : new double[] {1.0, 2.4, 3.8}) {
      vb.flash(t, 0.12, 0xFFFFFF);
    }
    video = tmp.resolve("flashes.mp4");
    SyntheticMp4.write(vb.build(), video);
    fp32 = generate(ReferenceModel.Precision.FLOAT32);
    float peak = 0;
    for (float x : fp32) {
      peak = Math.max(peak, Math.abs(x));
    }
    System.out.printf(Locale.ROOT, "fp32 reference audio: %d samples, peak %.3f%n", fp32.length, peak);
    assertTrue(peak > 0.1, "the flashes must sound: peak " + peak);
  }

  static final double FP16_TOLERANCE = 2e-3;
  static final double BF16_TOLERANCE = 2e-2;

  static float[] generate(ReferenceModel.Precision precision) {
    Path dir = tmp.resolve(precision.dtype());
    ReferenceModel.writeBundle(dir, ReferenceModel.options().precision(precision).build());
    try (ModelBundle b = ModelBundle.open(dir);
        FoleyEngine engine = FoleyEngine.builder().bundle(b).name("half-" + precision.dtype()).build()) {
      return engine.generate(FoleyRequest.builder(video).prompt("glass breaking").seed(7).build()).toArray();
    }
  }

  /** The float32 audio rounded once to the half type: the error floor of a half output. */
  static float[] rounded(boolean bf16) {
    float[] out = new float[fp32.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = bf16 ? Fp16Conversions.bf16ToFloat(Fp16Conversions.floatToBf16(fp32[i]))
          : Fp16Conversions.fp16ToFloat(Fp16Conversions.floatToFp16(fp32[i]));
    }
    return out;
  }

  /** {relative L2, max |diff|} of {@code got} against {@link #fp32}. */
  static double[] distance(float[] got) {
    assertEquals(fp32.length, got.length);
    return io.foley4j.TestSupport.distance(got, fp32, got.length);
  }

  @Test
  void float16BundleSoundsLikeTheFloat32One() {
    double[] d = distance(generate(ReferenceModel.Precision.FLOAT16));
    double[] last = distance(rounded(false));
    System.out.printf(Locale.ROOT, "fp16 vs fp32 reference audio: relative L2 %.3g, max |diff| %.3g (rounding the"
        + " fp32 audio alone: %.3g, %.3g)%n", d[0], d[1], last[0], last[1]);
    assertTrue(d[0] > 0, "the fp16 boundary must round something");
    assertTrue(d[0] <= FP16_TOLERANCE, "fp16 relative L2 " + d[0] + " above " + FP16_TOLERANCE);
    assertTrue(d[1] <= FP16_TOLERANCE, "fp16 max |diff| " + d[1] + " above " + FP16_TOLERANCE);
  }

  @Test
  void bfloat16BundleSoundsLikeTheFloat32One() {
    double[] d = distance(generate(ReferenceModel.Precision.BFLOAT16));
    double[] last = distance(rounded(true));
    System.out.printf(Locale.ROOT, "bf16 vs fp32 reference audio: relative L2 %.3g, max |diff| %.3g (rounding the"
        + " fp32 audio alone: %.3g, %.3g)%n", d[0], d[1], last[0], last[1]);
    assertTrue(d[0] > 0, "the bf16 boundary must round something");
    assertTrue(d[0] <= BF16_TOLERANCE, "bf16 relative L2 " + d[0] + " above " + BF16_TOLERANCE);
    assertTrue(d[1] <= BF16_TOLERANCE, "bf16 max |diff| " + d[1] + " above " + BF16_TOLERANCE);
  }

  @Test
  void halfManifestDeclaresTheHalfTypeForFloatTensorsAndKeepsInt64() throws Exception {
    Path dir = tmp.resolve("manifest16");
    ReferenceModel.writeBundle(dir, ReferenceModel.options().precision(ReferenceModel.Precision.FLOAT16).build());
    JsonObject m = JsonParser.parseString(Files.readString(dir.resolve("foley-bundle.json"))).getAsJsonObject();
    assertEquals(2, m.get("formatVersion").getAsInt());
    assertEquals("float16", m.getAsJsonObject("reference").get("precision").getAsString());
    int half = 0;
    int longs = 0;
    for (String stage : ReferenceModelTest.STAGES) {
      for (String list : new String[] {"inputs", "outputs"}) {
        for (JsonElement t : m.getAsJsonObject("stages").getAsJsonObject(stage).getAsJsonArray(list)) {
          String name = t.getAsJsonObject().get("name").getAsString();
          String dtype = t.getAsJsonObject().get("dtype").getAsString();
          boolean ids = name.equals("input_ids") || name.equals("attention_mask");
          assertEquals(ids ? "int64" : "float16", dtype, stage + "." + name);
          half += ids ? 0 : 1;
          longs += ids ? 1 : 0;
        }
      }
    }
    assertEquals(13, half);
    assertEquals(2, longs);
    // the float32 default is unchanged: format v1, no precision entry
    Path d32 = tmp.resolve("manifest32");
    ReferenceModel.writeBundle(d32, ReferenceModel.defaults());
    JsonObject m32 = JsonParser.parseString(Files.readString(d32.resolve("foley-bundle.json"))).getAsJsonObject();
    assertEquals(1, m32.get("formatVersion").getAsInt());
    assertTrue(!m32.getAsJsonObject("reference").has("precision"));
  }
}
