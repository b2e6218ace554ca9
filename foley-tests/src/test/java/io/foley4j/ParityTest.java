package io.foley4j;



import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Npz;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The heart of bundle format v2: foley4j on a bundle exported by tools/export matches an
 * independent Python implementation of the model's own inference (tools/export's
 * {@code foley_export reference}: HunyuanVideo-Foley's frame picking, PIL resizing, text pairing,
 * scheduler, CFG and trimming, on the unwrapped PyTorch modules; or MMAudio's).
 *
 * <p>Tiny, randomly initialised PyTorch modules with the models' stage interfaces are exported by
 * the tool under Debian's torch 1.13 ({@code /usr/bin/python3}). For each generated clip both sides
 * start from the same noise (foley4j's, written to .npy):
 *
 * <ul>
 *   <li>with the frames foley4j decoded (written to .npy), the latents before the VAE and the
 *       audio must agree within a relative L2 distance of 1e-3;
 *   <li>with the reference decoding the file itself through the ffmpeg CLI (another decoder and
 *       colour conversion), the audio must agree within 1e-2.
 * </ul>
 *
 * Skips without torch, onnx, numpy and PIL, unless FOLEY_REQUIRE_TORCH=1 (CI), where it fails.
 */
class ParityTest {
  private static final double SAME_FRAMES = 1e-3;
  private static final double WHOLE_PIPELINE = 1e-2;
  private static final int STEPS = 10;
  private static final long SEED = 11;
  private static final String PROMPT = "glass breaking on a wooden floor";
  private static final String NEGATIVE = "noisy, harsh";

  private static Path work;
  private static Map<String, String> env;

  @BeforeAll
  static void exportBundles() throws IOException {
    SystemPython.requireTorch("FOLEY_REQUIRE_TORCH", 2, 4, "onnx", "numpy", "PIL"); // the tool's floor: PyTorch 2.4
    Path tool = Path.of("").toAbsolutePath().getParent().resolve("tools").resolve("export");
    assertTrue(Files.isDirectory(tool.resolve("foley_export")), "tools/export not found at " + tool);
    env = Map.of("PYTHONPATH", tool.toString(), "OMP_NUM_THREADS", "2");
    work = Files.createTempDirectory("foley-parity");
    for (String kind : new String[] {"hvf", "mmaudio"}) {
      SystemPython.run(work, env, 300, "-m", "foley_export", "tiny", "--kind", kind, "--seed", "3", "--out",
          kind + "-ckpt");
      SystemPython.run(work, env, 300, "-m", "foley_export", "export", "--kind", kind, "--checkpoint", kind + "-ckpt",
          "--out", kind + "-bundle");
    }
  }

  @AfterAll
  static void cleanUp() {
    if (work != null) {
      ModelBundle.deleteQuietly(work);
    }
  }

  /**
   * {@code foley bundle verify}'s run on exports with symbolic lengths (single passes): each stage
   * runs once at the shortest pass (one sync window), shorter than the trained segment, and passes.
   */
  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"hvf", "mmaudio"})
  void deepVerifyRunsEachExportedStageAtTheShortestPass(String kind) {
    try (ModelBundle b = ModelBundle.open(work.resolve(kind + "-bundle"))) {
      io.foley4j.bundle.BundleVerification v = b.verifyDeep();
      String denoiser = v.checks().stream().filter(c -> c.startsWith("stage denoiser:")).findFirst().orElseThrow();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("run once on latents\\[1, \\d+, (\\d+)\\]")
          .matcher(denoiser);
      assertTrue(m.find(), denoiser);
      int latents = Integer.parseInt(m.group(1));
      BundleManifest mf = b.manifest();
      // one window of sync frames: window / sync.fps seconds of latents, well under the trained segment
      int expected = (int) Math.floor(mf.sync().window() / mf.sync().fps() * mf.latent().rate());
      assertTrue(Math.abs(latents - expected) <= 1 && latents < mf.segment().latents(), denoiser);
      assertTrue(denoiser.contains("gives finite velocity[1, " + mf.latent().channels() + ", " + latents + "]"), denoiser);
      String vae = v.checks().stream().filter(c -> c.startsWith("stage vae_decoder:")).findFirst().orElseThrow();
      assertTrue(vae.contains("gives finite audio[1, " + (long) latents * mf.segment().samplesPerLatent() + "]"), vae);
    }
  }

  @ParameterizedTest(name = "{0} {3} frames at {1}/{2} fps, cfg {4}")
  @CsvSource({
      "hvf, 25, 1, 75, 4.5", // 3 s
      "hvf, 25, 1, 75, 1.0", // 3 s, no guidance (HVF guides only above 1): the pair is still padded together
      "hvf, 25, 1, 200, 4.5", // 8 s
      "hvf, 30000, 1001, 240, 4.5", // 8.008 s at 29.97 fps
      "hvf, 25, 1, 287, 4.5", // 11.48 s, still one pass (HVF runs up to 15 s)
      "mmaudio, 25, 1, 75, 4.5", // 3 s
      "mmaudio, 25, 1, 75, 0.5", // 3 s, the conditional branch alone (MMAudio: cfg < 1)
      "mmaudio, 25, 1, 200, 4.5", // 8 s
      "mmaudio, 30000, 1001, 240, 4.5", // 8.008 s: longer than MMAudio's 8 s, so two segments
      "mmaudio, 25, 1, 288, 4.5"}) // 11.52 s: two segments, the last end-aligned
  void foley4jMatchesTheModelsOwnInference(String kind, int num, int den, int frames, double cfg) throws Exception {
    Path dir = Files.createTempDirectory(work, kind + "-" + frames + "-" + cfg + "-");
    // the frames as foley4j decodes them, and the video's exact length
    ParityClip clip = ParityClip.write(dir, num, den, frames);
    Path video = clip.video();
    long ticks = clip.ticks();
    long timescale = clip.timescale();
    double seconds = frames * (double) den / num;

    Path bundleDir = work.resolve(kind + "-bundle");
    try (ModelBundle bundle = ModelBundle.open(bundleDir)) {
      BundleManifest m = bundle.manifest();
      long total = SegmentPlan.samplesFor(ticks, timescale, m.audio().sampleRate());
      SegmentPlan plan = new SegmentPlan(m, total);
      for (int k = 0; k < plan.count; k++) {
        int l = plan.segment(k).latents();
        NpyWriter.floats(dir.resolve("noise_" + k + ".npy"), Sampler.noise(SEED, k, m.latent().channels() * l),
            m.latent().channels(), l);
      }
      List<String> common = new ArrayList<>(List.of("-m", "foley_export", "reference", "--kind", kind,
          "--checkpoint", work.resolve(kind + "-ckpt").toString(), "--prompt", PROMPT, "--negative", NEGATIVE,
          "--cfg", Double.toString(cfg), "--steps", Integer.toString(STEPS)));
      if (plan.singlePass) {
        common.addAll(List.of("--noise", "noise_0.npy"));
      } else {
        common.addAll(List.of("--segments", "--noise", "noise_{k}.npy"));
      }
      if (kind.equals("mmaudio") || !plan.singlePass) {
        common.addAll(List.of("--duration", Double.toString(total / (double) m.audio().sampleRate())));
      }
      List<String> sameFrames = new ArrayList<>(common);
      sameFrames.addAll(List.of("--frames", "frames.npy", "--pts", "pts.npy", "--out", "expected.npz"));
      SystemPython.run(dir, env, 600, sameFrames.toArray(String[]::new));
      List<String> ownDecode = new ArrayList<>(common);
      ownDecode.addAll(List.of("--video", video.toString(), "--out", "expected-ffmpeg.npz"));
      SystemPython.run(dir, env, 600, ownDecode.toArray(String[]::new));

      // foley4j, recording the latents that reach the VAE
      List<float[]> latents = new CopyOnWriteArrayList<>();
      List<String> textShapes = new CopyOnWriteArrayList<>();
      List<Long> denoiserRows = new CopyOnWriteArrayList<>();
      InterceptingBackend spy = new InterceptingBackend();
      spy.observe = (in, out) -> {
        if (out.containsKey("audio")) {
          latents.add(in.get("latents").floats().clone());
        } else if (in.containsKey("input_ids")) {
          textShapes.add(java.util.Arrays.toString(in.get("input_ids").shape()));
        } else if (out.containsKey("velocity")) {
          denoiserRows.add(in.get("latents").dim(0));
        }
      };
      float[] audio;
      // one segment at a time, so that the VAE calls come in segment order
      try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(spy).maxBatchSize(1).segmentsInFlight(1)
          .build()) {
        latents.clear(); // the warm-up's calls
        textShapes.clear();
        denoiserRows.clear();
        audio = engine.generate(FoleyRequest.builder(video).prompt(PROMPT).negativePrompt(NEGATIVE).cfgScale(cfg)
            .steps(STEPS).seed(SEED).build()).toArray();
      }
      assertEquals(total, audio.length, "the output lasts exactly as long as the video");
      assertEquals(plan.count, latents.size());

      Map<String, Npz.Array> want = Npz.read(dir.resolve("expected.npz"));
      boolean guided = kind.equals("hvf") ? cfg > 1 : cfg >= 1;
      assertTrue(denoiserRows.stream().allMatch(r -> r == (guided ? 2 : 1)), "denoiser rows " + denoiserRows);
      long textTokens = want.get("text").shape()[0];
      if (kind.equals("hvf")) { // the prompt and the negative prompt, padded to the longer one, encoded together
        assertEquals(List.of("[2, " + textTokens + "]"), textShapes);
      } else { // each text padded to 77 on its own (the negative prompt only when guided)
        assertEquals(guided ? List.of("[2, 77]") : List.of("[1, 77]"), textShapes);
      }
      Map<String, Npz.Array> ffmpeg = Npz.read(dir.resolve("expected-ffmpeg.npz"));
      StringBuilder report = new StringBuilder(String.format(Locale.ROOT, "[parity] %s %.3f s (%d frames at %.3f fps,"
          + " cfg %.1f, %s):", kind, seconds, frames, num / (double) den, cfg, plan.singlePass ? "one pass"
          : plan.count + " segments"));
      for (int k = 0; k < plan.count; k++) {
        double rel = relL2(latents.get(k), want.get("latents_" + k).floats(), Integer.MAX_VALUE);
        report.append(String.format(Locale.ROOT, " latents[%d] %.2e", k, rel));
        assertTrue(rel <= SAME_FRAMES, report.toString());
      }
      if (plan.singlePass) {
        // MMAudio's demo keeps all latents × hop samples; foley4j trims to the pass (audio_trimmed)
        String key = want.containsKey("audio_trimmed") ? "audio_trimmed" : "audio";
        float[] ref = want.get(key).floats();
        float[] refFfmpeg = ffmpeg.get(key).floats();
        int n = Math.min(ref.length, audio.length);
        for (int i = n; i < audio.length; i++) { // the pass ends before the video does: silence
          assertEquals(0f, audio[i], "sample " + i + " after the pass");
        }
        double same = relL2(audio, ref, n);
        double whole = relL2(audio, refFfmpeg, n);
        report.append(String.format(Locale.ROOT, "; audio %.2e (same frames), %.2e (ffmpeg decode), reference %d"
            + " samples, foley4j %d", same, whole, ref.length, audio.length));
        assertTrue(same <= SAME_FRAMES, report.toString());
        assertTrue(whole <= WHOLE_PIPELINE, report.toString());
      } else {
        for (int k = 0; k < plan.count; k++) {
          double whole = relL2(latents.get(k), ffmpeg.get("latents_" + k).floats(), Integer.MAX_VALUE);
          report.append(String.format(Locale.ROOT, "; latents[%d] %.2e (ffmpeg decode)", k, whole));
          assertTrue(whole <= WHOLE_PIPELINE, report.toString());
        }
      }
      System.out.println(report);
    }
  }

  /** ||a − b|| / ||b|| over the first n elements; with n = MAX_VALUE, over equally long arrays. */
  static double relL2(float[] a, float[] b, int n) {
    if (n == Integer.MAX_VALUE) {
      assertEquals(b.length, a.length, "lengths differ");
      n = b.length;
    }
    return TestSupport.distance(a, b, n)[0];
  }

}
