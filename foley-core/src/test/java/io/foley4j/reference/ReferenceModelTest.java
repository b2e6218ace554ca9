package io.foley4j.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.bundle.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReferenceModelTest {
  static final String[] STAGES = {"visual_encoder", "sync_encoder", "text_encoder", "denoiser", "vae_decoder"};

  @TempDir static Path tmp;
  static Path dir;
  static ReferenceModel.Options o;
  static JsonObject manifest;
  static Ort visualEnc;
  static Ort syncEnc;
  static Ort textEnc;
  static Ort denoiser;
  static Ort decoder;

  @BeforeAll
  static void writeDefaultBundle() throws Exception {
    dir = tmp.resolve("bundle");
    o = ReferenceModel.defaults();
    long t0 = System.nanoTime();
    ReferenceModel.writeBundle(dir, o);
    System.out.printf("writeBundle(defaults): %.0f ms%n", (System.nanoTime() - t0) / 1e6);
    manifest = JsonParser.parseString(Files.readString(dir.resolve("foley-bundle.json"))).getAsJsonObject();
    visualEnc = new Ort(dir.resolve("visual_encoder.onnx"));
    syncEnc = new Ort(dir.resolve("sync_encoder.onnx"));
    textEnc = new Ort(dir.resolve("text_encoder.onnx"));
    denoiser = new Ort(dir.resolve("denoiser.onnx"));
    decoder = new Ort(dir.resolve("vae_decoder.onnx"));
  }

  @AfterAll
  static void close() throws Exception {
    for (Ort ort : new Ort[] {visualEnc, syncEnc, textEnc, denoiser, decoder}) {
      if (ort != null) {
        ort.close();
      }
    }
  }

  // ------------------------------------------------------------------ contract

  @Test
  void manifestMatchesTheOnnxFiles() throws Exception {
    assertEquals("foley-bundle", manifest.get("format").getAsString());
    assertEquals(1, manifest.get("formatVersion").getAsInt());
    JsonObject stages = manifest.getAsJsonObject("stages");
    assertEquals(List.of(STAGES), List.copyOf(stages.keySet()));
    Map<String, Ort> sessions = Map.of("visual_encoder", visualEnc, "sync_encoder", syncEnc,
        "text_encoder", textEnc, "denoiser", denoiser, "vae_decoder", decoder);
    for (String name : STAGES) {
      JsonObject s = stages.getAsJsonObject(name);
      byte[] bytes = Files.readAllBytes(dir.resolve(s.get("file").getAsString()));
      assertEquals(BundleWriter.sha256(bytes), s.get("sha256").getAsString(), name);
      Ort ort = sessions.get(name);
      checkIo(name, s.getAsJsonArray("inputs"), ort.session.getInputInfo());
      checkIo(name, s.getAsJsonArray("outputs"), ort.session.getOutputInfo());
    }
    JsonObject den = stages.getAsJsonObject("denoiser");
    assertEquals("[\"batch\",128,400]", den.getAsJsonArray("inputs").get(0).getAsJsonObject().get("shape").toString());
    assertEquals("[\"batch\",192,768]", den.getAsJsonArray("inputs").get(3).getAsJsonObject().get("shape").toString());
    assertEquals("[\"batch\",384000]", stages.getAsJsonObject("vae_decoder").getAsJsonArray("outputs").get(0)
        .getAsJsonObject().get("shape").toString());
    for (String f : new String[] {"tokenizer", "unconditional"}) {
      JsonObject e = manifest.getAsJsonObject("files").getAsJsonObject(f);
      assertEquals(BundleWriter.sha256(Files.readAllBytes(dir.resolve(e.get("file").getAsString()))), e.get("sha256").getAsString());
    }
    assertEquals(64, manifest.getAsJsonObject("reference").get("width").getAsInt());
    assertEquals("noisy, harsh", manifest.getAsJsonObject("sampler").get("negativePrompt").getAsString());
    Safetensors.Contents unc = Safetensors.read(dir.resolve("unconditional.safetensors"));
    assertArrayEquals(new long[] {768}, unc.tensor("visual").shape());
    assertEquals(0f, unc.tensor("sync").floats()[0]);
    assertEquals(0f, unc.tensor("sync").floats()[1]);
  }

  private static void checkIo(String stage, JsonArray declared, Map<String, NodeInfo> actual) {
    assertEquals(declared.size(), actual.size(), stage);
    int i = 0;
    for (Map.Entry<String, NodeInfo> e : actual.entrySet()) {
      JsonObject d = declared.get(i++).getAsJsonObject();
      assertEquals(d.get("name").getAsString(), e.getKey(), stage);
      TensorInfo ti = (TensorInfo) e.getValue().getInfo();
      assertEquals(d.get("dtype").getAsString().equals("int64") ? OnnxJavaType.INT64 : OnnxJavaType.FLOAT, ti.type, stage);
      JsonArray shape = d.getAsJsonArray("shape");
      long[] expected = new long[shape.size()];
      for (int k = 0; k < expected.length; k++) {
        JsonElement el = shape.get(k);
        expected[k] = el.getAsJsonPrimitive().isString() ? -1 : el.getAsLong();
      }
      assertArrayEquals(expected, ti.getShape(), stage + " " + e.getKey());
    }
  }

  @Test
  void sameOptionsGiveIdenticalBytesAndSeedChangesWeights() throws Exception {
    Path again = tmp.resolve("again");
    ReferenceModel.writeBundle(again, ReferenceModel.defaults());
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(again.resolve(f.getFileName())), f.toString());
      }
    }
    assertTrue(Arrays.equals(Stages.denoiser(o), Stages.denoiser(o)));
    ReferenceModel.Options other = o.toBuilder().seed(7).build();
    assertTrue(!Arrays.equals(Stages.vaeDecoder(o), Stages.vaeDecoder(other)), "seed changes the weights");
  }

  @Test
  void optionsAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> ReferenceModel.options().width(0));
    assertThrows(IllegalArgumentException.class, () -> ReferenceModel.options().depth(0));
    assertThrows(IllegalArgumentException.class, () -> ReferenceModel.options().visualSize(500));
    assertThrows(IllegalArgumentException.class, () -> ReferenceModel.options().syncSize(16));
    assertThrows(IllegalArgumentException.class, () -> ReferenceModel.options().segmentSeconds(7.5));
    assertThrows(IllegalArgumentException.class, () -> ReferenceModel.options().segmentSeconds(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> ReferenceModel.options().overlapSeconds(-1));
    assertThrows(IllegalArgumentException.class, () -> ReferenceModel.options().overlapSeconds(0.015));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ReferenceModel.options().segmentSeconds(2).overlapSeconds(2).build());
    assertTrue(e.getMessage().contains("overlapSeconds"), e.getMessage());
    ReferenceModel.Options ok = ReferenceModel.options().width(8).segmentSeconds(4).overlapSeconds(0.5).seed(3).build();
    assertEquals(8, ok.width());
    assertEquals(100, ok.syncFrames());
    assertEquals(11, ok.syncWindows());
    assertEquals(ok, ok.toBuilder().build());
    assertEquals(ReferenceModel.defaults(), ReferenceModel.options().build());
  }

  // ------------------------------------------------------------------ behaviour

  @Test
  void motionAtSyncFrameJSoundsFromLatent2jMinus1() throws Exception {
    int j = 77; // brightness steps from black to white at frame j
    float[] sync = syncFeatures(f -> f < j ? -1 : 1);
    float[] visual = tile(visualFeature(0f), o.visualFrames());
    float[] text = text("glass breaking");
    int c = o.latentChannels();
    int l = o.latentLength();
    float[] v = denoise(1, new float[c * l], new float[] {0f}, visual, sync, text);
    // with latents = 0 and t = 0: target = velocity · 1.02 (+ a 1e-3 MLP term)
    float[] env = new float[l];
    for (int lat = 0; lat < l; lat++) {
      float max = -1;
      for (int ch = 0; ch < c; ch++) {
        max = Math.max(max, v[ch * l + lat] * 1.02f + 0.5f);
      }
      env[lat] = max;
    }
    for (int lat = 0; lat < 2 * j - 1; lat++) {
      assertTrue(Math.abs(env[lat]) < 0.01, "no sound before the motion: latent " + lat + " = " + env[lat]);
    }
    assertTrue(env[2 * j - 1] > 0.95, "onset at latent 2j-1: " + env[2 * j - 1]);
    assertTrue(env[2 * j] > 0.95, "latent 2j: " + env[2 * j]);
    assertTrue(env[2 * j + 10] > 0.1 && env[2 * j + 10] < env[2 * j], "impact rings and decays: " + env[2 * j + 10]);
    assertTrue(env[2 * j + 40] < 0.01, "decay ends: " + env[2 * j + 40]);
  }

  @Test
  void stillVideoIsExactlySilentAfterFullCfgLoop() throws Exception {
    float[] sync = syncFeatures(f -> 0.3);
    float[] visual = tile(visualFeature(0.3f), o.visualFrames());
    float[] audio = generate(visual, sync, text("glass breaking"), 1);
    float max = 0;
    for (float a : audio) {
      max = Math.max(max, Math.abs(a));
    }
    assertEquals(o.samples(), audio.length);
    assertTrue(max < 1e-4, "still video must be silent, max |x| = " + max);
  }

  @Test
  void promptPitchMovesSpectralCentroid() throws Exception {
    int[] flashes = {40, 100, 160};
    IntToDoubleFunction video = f -> {
      for (int fl : flashes) {
        if (f >= fl && f < fl + 3) {
          return 0.8;
        }
      }
      return -0.6;
    };
    float[] sync = syncFeatures(video);
    float[] visual = tile(visualFeature(-0.2f), o.visualFrames());
    float[] glass = generate(visual, sync, text("glass breaking"), 5);
    float[] thunder = generate(visual, sync, text("low thunder rumble"), 5);
    double cg = centroid(glass);
    double ct = centroid(thunder);
    double pg = peak(glass);
    double pt = peak(thunder);
    System.out.printf("centroid glass %.0f Hz (peak %.2f), thunder %.0f Hz (peak %.2f)%n", cg, pg, ct, pt);
    assertTrue(cg > 3 * ct && cg > 2000 && ct < 1000, "glass " + cg + " vs thunder " + ct);
    assertTrue(pg > 0.2 && pg < 0.8 && pt > 0.2 && pt < 0.8, "peaks " + pg + ", " + pt);
    // nothing before the first flash's onset (latent 2·40−1 starts half a latent, SAMPLES_PER_LATENT / 2 samples, before its centre)
    int firstSample = (2 * flashes[0] - 1) * BundleWriter.SAMPLES_PER_LATENT - BundleWriter.SAMPLES_PER_LATENT / 2;
    for (int i = 0; i < firstSample; i++) {
      assertEquals(0f, glass[i], "sample " + i);
    }
    double onset = 0;
    for (int i = firstSample; i < firstSample + 3 * BundleWriter.SAMPLES_PER_LATENT; i++) {
      onset = Math.max(onset, Math.abs(glass[i]));
    }
    assertTrue(onset > 0.05, "sound right at the flash: " + onset);
  }

  @Test
  void batchOfThreeEqualsThreeSingleRuns() throws Exception {
    Random r = new Random(42);
    int c = o.latentChannels();
    int l = o.latentLength();
    int d = o.embedDim();
    int nv = o.visualFrames() * d;
    int ns = o.syncTokens() * d;
    int nt = Bpe.MAX_TOKENS * d;
    float[] x = rand(r, 3 * c * l, 1);
    float[] t = {0.1f, 0.5f, 0.9f};
    float[] vis = rand(r, 3 * nv, 0.5);
    float[] syn = rand(r, 3 * ns, 0.05);
    float[] txt = rand(r, 3 * nt, 0.3);
    float[] batch = denoise(3, x, t, vis, syn, txt);
    for (int b = 0; b < 3; b++) {
      float[] single = denoise(1, slice(x, b, c * l), new float[] {t[b]}, slice(vis, b, nv), slice(syn, b, ns), slice(txt, b, nt));
      float[] part = slice(batch, b, c * l);
      for (int i = 0; i < single.length; i++) {
        assertEquals(single[i], part[i], 1e-5, "item " + b + " index " + i);
      }
    }
    long[] ids = new long[3 * 77];
    long[] mask = new long[3 * 77];
    String[] prompts = {"glass", "low thunder rumble", "footsteps on gravel"};
    for (int b = 0; b < 3; b++) {
      System.arraycopy(Bpe.reference().encode(prompts[b]), 0, ids, b * 77, 77);
      System.arraycopy(Bpe.mask(Bpe.reference().encode(prompts[b])), 0, mask, b * 77, 77);
    }
    float[] tb = textEnc.run("input_ids", ids, new long[] {3, 77}, "attention_mask", mask, new long[] {3, 77});
    for (int b = 0; b < 3; b++) {
      assertArrayEquals(text(prompts[b]), slice(tb, b, nt), 1e-5f);
    }
  }

  @Test
  void encodersPutExactSignalsInTheirChannels() throws Exception {
    int d = o.embedDim();
    float[] vf = visualFeature(0.25f);
    assertEquals(0.25f, vf[0], 1e-6);
    assertEquals(0.25f, vf[2], 1e-6);
    float[] te = text("glass breaking");
    assertEquals(1f, te[d], 0f, "token 1 'Ġglass' pitch");
    assertEquals(1f, te[d + 1], 0f, "presence");
    assertEquals(0f, te[4 * d + 5], 0f, "padding is zero");
    assertEquals(-1f, text("thunder")[d], 0f);
  }

  @Test
  void theSizeKnobAddsRealLayers() throws Exception {
    double base = timeStep(denoiser, o);
    ReferenceModel.Options big = o.toBuilder().width(1024).depth(4).build();
    assertEquals(1024, big.denoiserWidth(), "the denoiser follows width unless sized on its own");
    byte[] bigModel = Stages.denoiser(big);
    Path f = tmp.resolve("denoiser-big.onnx");
    Files.write(f, bigModel);
    double heavy;
    try (Ort ort = new Ort(f)) {
      heavy = timeStep(ort, big);
    }
    // timings are printed, not asserted (they belong to benchmarks); the weights are what the knob adds
    System.out.printf("denoiser step, batch 2: default %.2f ms, width=1024 depth=4 %.2f ms%n", base, heavy);
    assertTrue(bigModel.length > Stages.denoiser(o).length + 3 * 1024 * 1024 * 4,
        "three 1024x1024 float layers more: " + bigModel.length);
    ReferenceModel.Options split = o.toBuilder().denoiserSize(256, 2).build();
    assertEquals(256, split.denoiserWidth());
    assertEquals(o.width(), split.width());
    assertEquals(256, split.toBuilder().build().denoiserWidth(), "toBuilder keeps an explicit denoiser size");
  }

  // ------------------------------------------------------------------ helpers

  private static double timeStep(Ort ort, ReferenceModel.Options opt) throws Exception {
    int c = opt.latentChannels();
    int l = opt.latentLength();
    int d = opt.embedDim();
    float[] x = new float[2 * c * l];
    float[] vis = new float[2 * opt.visualFrames() * d];
    float[] syn = new float[2 * opt.syncTokens() * d];
    float[] txt = new float[2 * 77 * d];
    Object[] args = inputs(2, c, l, d, opt, x, new float[] {0.5f, 0.5f}, vis, syn, txt);
    ort.run(args);
    int n = 5;
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      ort.run(args);
    }
    return (System.nanoTime() - t0) / 1e6 / n;
  }

  private static Object[] inputs(int b, int c, int l, int d, ReferenceModel.Options opt, float[] x, float[] t,
      float[] vis, float[] syn, float[] txt) {
    return new Object[] {
      "latents", x, new long[] {b, c, l},
      "timestep", t, new long[] {b},
      "visual", vis, new long[] {b, opt.visualFrames(), d},
      "sync", syn, new long[] {b, opt.syncTokens(), d},
      "text", txt, new long[] {b, 77, d}};
  }

  static float[] denoise(int b, float[] x, float[] t, float[] vis, float[] syn, float[] txt) throws Exception {
    return denoiser.run(inputs(b, o.latentChannels(), o.latentLength(), o.embedDim(), o, x, t, vis, syn, txt));
  }

  /** The runtime's sampler: 50 Euler steps, CFG 4.5 as a batch of 2, then the VAE decoder. */
  static float[] generate(float[] visual, float[] sync, float[] text, long seed) throws Exception {
    int n = o.latentChannels() * o.latentLength();
    Safetensors.Contents unc = Safetensors.read(dir.resolve("unconditional.safetensors"));
    float[] uv = tile(unc.tensor("visual").floats(), o.visualFrames());
    float[] us = tile(unc.tensor("sync").floats(), o.syncTokens());
    float[] neg = text(BundleWriter.NEGATIVE_PROMPT);
    float[] vis = concat(visual, uv);
    float[] syn = concat(sync, us);
    float[] txt = concat(text, neg);
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextGaussian();
    }
    int steps = BundleWriter.STEPS;
    float cfg = (float) BundleWriter.CFG_SCALE;
    for (int i = 0; i < steps; i++) {
      float t = (float) i / steps;
      float[] v = denoise(2, concat(x, x), new float[] {t, t}, vis, syn, txt);
      for (int k = 0; k < n; k++) {
        float vc = v[k];
        float vu = v[n + k];
        x[k] += (vu + cfg * (vc - vu)) / steps;
      }
    }
    return decoder.run("latents", x, new long[] {1, o.latentChannels(), o.latentLength()});
  }

  /** Sync tokens [Ns, D] for a segment of uniform frames whose normalized value is video(frame). */
  static float[] syncFeatures(IntToDoubleFunction video) throws Exception {
    int d = o.embedDim();
    int s = o.syncSize();
    int per = 3 * s * s;
    int tok = BundleWriter.TOKENS_PER_WINDOW;
    float[] out = new float[o.syncTokens() * d];
    Map<List<Float>, float[]> cache = new HashMap<>();
    for (int w = 0; w < o.syncWindows(); w++) {
      Float[] key = new Float[16];
      for (int i = 0; i < 16; i++) {
        key[i] = (float) video.applyAsDouble(w * 8 + i);
      }
      float[] tokens = cache.get(List.of(key));
      if (tokens == null) {
        float[] frames = new float[16 * per];
        for (int i = 0; i < 16; i++) {
          Arrays.fill(frames, i * per, (i + 1) * per, key[i]);
        }
        tokens = syncEnc.run("frames", frames, new long[] {1, 16, 3, s, s});
        cache.put(List.of(key), tokens);
      }
      System.arraycopy(tokens, 0, out, w * tok * d, tok * d);
    }
    return out;
  }

  static float[] visualFeature(float value) throws Exception {
    int s = o.visualSize();
    float[] px = new float[3 * s * s];
    Arrays.fill(px, value);
    return visualEnc.run("pixels", px, new long[] {1, 3, s, s});
  }

  static float[] text(String prompt) throws Exception {
    long[] ids = Bpe.reference().encode(prompt);
    return textEnc.run("input_ids", ids, new long[] {1, 77}, "attention_mask", Bpe.mask(ids), new long[] {1, 77});
  }

  static double centroid(float[] audio) {
    int n = 4096;
    double[] power = new double[n / 2];
    for (int start = 0; start + n <= audio.length; start += n) {
      double[] re = new double[n];
      double[] im = new double[n];
      for (int i = 0; i < n; i++) {
        re[i] = audio[start + i] * (0.5 - 0.5 * Math.cos(2 * Math.PI * i / n));
      }
      fft(re, im);
      for (int k = 0; k < n / 2; k++) {
        power[k] += re[k] * re[k] + im[k] * im[k];
      }
    }
    double num = 0;
    double den = 0;
    for (int k = 0; k < n / 2; k++) {
      num += power[k] * k * BundleWriter.SAMPLE_RATE / (double) n;
      den += power[k];
    }
    return num / den;
  }

  private static void fft(double[] re, double[] im) {
    int n = re.length;
    for (int i = 1, j = 0; i < n; i++) {
      int bit = n >> 1;
      for (; (j & bit) != 0; bit >>= 1) {
        j ^= bit;
      }
      j ^= bit;
      if (i < j) {
        double t = re[i]; re[i] = re[j]; re[j] = t;
        t = im[i]; im[i] = im[j]; im[j] = t;
      }
    }
    for (int len = 2; len <= n; len <<= 1) {
      double ang = -2 * Math.PI / len;
      for (int i = 0; i < n; i += len) {
        for (int k = 0; k < len / 2; k++) {
          double wr = Math.cos(ang * k);
          double wi = Math.sin(ang * k);
          int a = i + k;
          int b = a + len / 2;
          double xr = re[b] * wr - im[b] * wi;
          double xi = re[b] * wi + im[b] * wr;
          re[b] = re[a] - xr; im[b] = im[a] - xi;
          re[a] += xr; im[a] += xi;
        }
      }
    }
  }

  static double peak(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  static float[] tile(float[] row, int times) {
    float[] out = new float[row.length * times];
    for (int i = 0; i < times; i++) {
      System.arraycopy(row, 0, out, i * row.length, row.length);
    }
    return out;
  }

  static float[] concat(float[] a, float[] b) {
    float[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  static float[] slice(float[] a, int index, int size) {
    return Arrays.copyOfRange(a, index * size, (index + 1) * size);
  }

  static float[] rand(Random r, int n, double std) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (r.nextGaussian() * std);
    }
    return out;
  }
}
