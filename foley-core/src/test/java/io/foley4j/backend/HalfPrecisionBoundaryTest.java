package io.foley4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.platform.Fp16Conversions;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.InvalidBundleException;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import io.foley4j.reference.ReferenceModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CPU backend's float32 ↔ float16/bfloat16 conversion at a stage's boundary, and the check that
 * a model's element types match the manifest's dtypes.
 */
class HalfPrecisionBoundaryTest {
  @TempDir static Path tmp;
  static Path fp32;
  static Path fp16;
  static Path bf16;

  @BeforeAll
  static void write() {
    ReferenceModel.Options small = ReferenceModel.options().embedDim(64).latentChannels(16).visualSize(64).syncSize(64)
        .build();
    fp32 = tmp.resolve("fp32");
    fp16 = tmp.resolve("fp16");
    bf16 = tmp.resolve("bf16");
    ReferenceModel.writeBundle(fp32, small);
    ReferenceModel.writeBundle(fp16, small.toBuilder().precision(ReferenceModel.Precision.FLOAT16).build());
    ReferenceModel.writeBundle(bf16, small.toBuilder().precision(ReferenceModel.Precision.BFLOAT16).build());
  }

  // ---------------------------------------------------------------- element conversions

  /**
   * bfloat16 is the upper half of a float32, rounded to nearest, ties to even. Hand-computed:
   * 1/3 = 0x3EAAAAAB: the dropped half 0xAAAB is above 0x8000, so 0x3EAA rounds up to 0x3EAB =
   * 2^-2 · (1 + 43/128) = 0.333984375; π = 0x40490FDB keeps 0x4049 = 3.140625; 0x3F808000 is a tie
   * and stays at the even 0x3F80 = 1.0, while the tie 0x3F818000 goes to the even 0x3F82.
   */
  @Test
  void bfloat16RoundTripMatchesHandComputedValues() {
    float[] in = {1f / 3, (float) Math.PI, Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000), -2f, 0f};
    short[] want = {0x3EAB, 0x4049, 0x3F80, 0x3F82, (short) 0xC000, 0};
    ShortBuffer sb = ByteBuffer.allocateDirect(in.length * 2).order(ByteOrder.nativeOrder()).asShortBuffer();
    HalfFloats.toHalf(in, sb, true);
    sb.flip();
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], sb.get(i), "bf16 bits of " + in[i]);
    }
    float[] back = HalfFloats.toFloat(sb, true);
    assertArrayEquals(new float[] {0.333984375f, 3.140625f, 1f, Float.intBitsToFloat(0x3F820000), -2f, 0f}, back, 0f);
    assertEquals(1.015625f, Float.intBitsToFloat(0x3F820000), 0f);
  }

  /** float16: 1/3 → 0x3555 = 0.333251953125, π → 0x4248 = 3.140625, 70000 overflows to +∞ (0x7C00). */
  @Test
  void float16RoundTripMatchesHandComputedValues() {
    float[] in = {1f / 3, (float) Math.PI, 70000f, 65504f, -0.5f};
    short[] want = {0x3555, 0x4248, 0x7C00, 0x7BFF, (short) 0xB800};
    ShortBuffer sb = ByteBuffer.allocateDirect(in.length * 2).order(ByteOrder.nativeOrder()).asShortBuffer();
    HalfFloats.toHalf(in, sb, false);
    sb.flip();
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], sb.get(i), "fp16 bits of " + in[i]);
    }
    assertArrayEquals(new float[] {0.333251953125f, 3.140625f, Float.POSITIVE_INFINITY, 65504f, -0.5f},
        HalfFloats.toFloat(sb, false), 0f);
  }

  /** Arrays longer than the conversion's chunk convert element by element like the scalar functions. */
  @Test
  void longArraysConvertLikeTheScalarFunctions() {
    Random r = new Random(3);
    float[] x = new float[20_000];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextGaussian() * 100);
    }
    for (boolean bf : new boolean[] {false, true}) {
      ShortBuffer sb = ShortBuffer.allocate(x.length);
      HalfFloats.toHalf(x, sb, bf);
      sb.flip();
      float[] back = HalfFloats.toFloat(sb, bf);
      for (int i = 0; i < x.length; i++) {
        short h = bf ? Fp16Conversions.floatToBf16(x[i]) : Fp16Conversions.floatToFp16(x[i]);
        assertEquals(bf ? Fp16Conversions.bf16ToFloat(h) : Fp16Conversions.fp16ToFloat(h), back[i], 0f, "element " + i);
      }
    }
  }

  // ---------------------------------------------------------------- through ONNX Runtime

  /**
   * The half bundles' graphs compute in float32 between a Cast on entry and a Cast on exit, so for
   * inputs that are exact in the half type the stage's output is exactly the float32 bundle's output
   * rounded to that type: this checks both directions of the backend's conversion bit for bit. The
   * text encoder's int64 inputs go in unchanged.
   */
  @Test
  void halfStagesGiveTheFloat32OutputRoundedToTheHalfType() {
    Random r = new Random(1);
    for (Path half : new Path[] {fp16, bf16}) {
      boolean bf = half == bf16;
      try (ModelBundle a = ModelBundle.open(fp32); ModelBundle b = ModelBundle.open(half)) {
        StageSpec decA = a.manifest().stage(Stage.VAE_DECODER);
        StageSpec decB = b.manifest().stage(Stage.VAE_DECODER);
        assertEquals(bf ? "bfloat16" : "float16", decB.inputs().get(0).dtype());
        long[] shape = decA.inputs().get(0).shape();
        shape[0] = 2;
        float[] latents = new float[(int) (shape[0] * shape[1] * shape[2])];
        for (int i = 0; i < latents.length; i++) { // values exact in both half types
          latents[i] = Math.round(r.nextGaussian() * 16) / 16f;
        }
        check(a, b, Stage.VAE_DECODER, Map.of("latents", Tensor.of(latents, shape)), bf);
        long[] ids = new long[2 * 77];
        long[] mask = new long[2 * 77];
        for (int i = 0; i < 77; i++) {
          ids[i] = i < 5 ? 10 + i : 1;
          mask[i] = i < 5 ? 1 : 0;
          ids[77 + i] = i < 3 ? 30 + i : 1;
          mask[77 + i] = i < 3 ? 1 : 0;
        }
        assertEquals("int64", b.manifest().stage(Stage.TEXT_ENCODER).inputs().get(0).dtype());
        check(a, b, Stage.TEXT_ENCODER, Map.of("input_ids", Tensor.ofLongs(ids, 2, 77),
            "attention_mask", Tensor.ofLongs(mask, 2, 77)), bf);
      }
    }
  }

  private static void check(ModelBundle a, ModelBundle b, Stage stage, Map<String, Tensor> in, boolean bf) {
    try (StageSession sa = Backends.cpu().open(a.manifest().stage(stage), a.stageFile(stage));
        StageSession sb = Backends.cpu().open(b.manifest().stage(stage), b.stageFile(stage))) {
      for (int call = 0; call < 2; call++) { // the second call reuses the direct input buffers
        Map<String, Tensor> oa = sa.run(in);
        Map<String, Tensor> ob = sb.run(in);
        for (String k : oa.keySet()) {
          float[] x = oa.get(k).floats();
          float[] y = ob.get(k).floats();
          assertArrayEquals(oa.get(k).shape(), ob.get(k).shape(), k);
          int nonZero = 0;
          for (int i = 0; i < x.length; i++) {
            short h = bf ? Fp16Conversions.floatToBf16(x[i]) : Fp16Conversions.floatToFp16(x[i]);
            float want = bf ? Fp16Conversions.bf16ToFloat(h) : Fp16Conversions.fp16ToFloat(h);
            assertEquals(want, y[i], 0f, stage.key() + "." + k + "[" + i + "]");
            nonZero += x[i] != 0 ? 1 : 0;
          }
          assertTrue(nonZero > x.length / 100, stage.key() + "." + k + " must not be trivially zero");
        }
      }
    }
  }

  // ---------------------------------------------------------------- type check

  @Test
  void aManifestSayingFloat16ForAFloat32ModelIsRefusedNamingTheTensor() throws Exception {
    Path d = copy(fp32, tmp.resolve("lying16"));
    editDtype(d, "denoiser", "inputs", "latents", "float16");
    try (ModelBundle b = ModelBundle.open(d)) {
      InvalidBundleException e = assertThrows(InvalidBundleException.class,
          () -> Backends.cpu().open(b.manifest().stage(Stage.DENOISER), b.stageFile(Stage.DENOISER)).close());
      assertTrue(e.getMessage().contains("input latents is float32 but the manifest declares float16")
          && e.getMessage().contains("denoiser"), e.getMessage());
    }
  }

  @Test
  void aManifestSayingFloat32ForAFloat16ModelIsRefusedNamingTheTensor() throws Exception {
    Path d = copy(fp16, tmp.resolve("lying32"));
    editDtype(d, "vae_decoder", "outputs", "audio", "float32");
    try (ModelBundle b = ModelBundle.open(d)) {
      InvalidBundleException e = assertThrows(InvalidBundleException.class,
          () -> Backends.cpu().open(b.manifest().stage(Stage.VAE_DECODER), b.stageFile(Stage.VAE_DECODER)).close());
      assertTrue(e.getMessage().contains("output audio is float16 but the manifest declares float32"), e.getMessage());
    }
  }

  @Test
  void bfloat16ForAFloat16ModelIsRefusedToo() throws Exception {
    Path d = copy(fp16, tmp.resolve("lyingbf"));
    editDtype(d, "sync_encoder", "inputs", "frames", "bfloat16");
    try (ModelBundle b = ModelBundle.open(d)) {
      InvalidBundleException e = assertThrows(InvalidBundleException.class,
          () -> Backends.cpu().open(b.manifest().stage(Stage.SYNC_ENCODER), b.stageFile(Stage.SYNC_ENCODER)).close());
      assertTrue(e.getMessage().contains("input frames is float16 but the manifest declares bfloat16"), e.getMessage());
    }
  }

  @Test
  void halfDtypesNeedFormatVersion2AndUnknownDtypesAreRefused() throws Exception {
    Path d = copy(fp16, tmp.resolve("v1"));
    Path mf = d.resolve("foley-bundle.json");
    JsonObject o = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
    o.addProperty("formatVersion", 1);
    Files.writeString(mf, o.toString());
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d).close());
    assertTrue(e.getMessage().contains("float16") && e.getMessage().contains("formatVersion 2")
        && e.getMessage().contains("pixels"), e.getMessage());

    Path d2 = copy(fp32, tmp.resolve("f64"));
    editDtype(d2, "denoiser", "inputs", "timestep", "float64");
    e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d2).close());
    assertTrue(e.getMessage().contains("dtype \"float64\" is not supported"), e.getMessage());
  }

  private static void editDtype(Path dir, String stage, String list, String tensor, String dtype) throws Exception {
    Path mf = dir.resolve("foley-bundle.json");
    JsonObject o = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
    o.addProperty("formatVersion", 2);
    for (JsonElement el : o.getAsJsonObject("stages").getAsJsonObject(stage).getAsJsonArray(list)) {
      if (el.getAsJsonObject().get("name").getAsString().equals(tensor)) {
        el.getAsJsonObject().addProperty("dtype", dtype);
      }
    }
    Files.writeString(mf, o.toString());
  }

  private static Path copy(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
    return to;
  }
}
