package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Npz;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ParityTest} on a model set whose visual and text encoders are the real {@code transformers}
 * classes HunyuanVideo-Foley loads: {@code SiglipModel} (SigLIP2, google/siglip2-base-patch16-512's
 * widths: 512 px, patch 16, hidden 768, 12 heads, MLP 3072) and {@code ClapTextModelWithProjection}
 * (laion/larger_clap_general's text widths: hidden 768, 12 heads, MLP 3072, 514 positions, pad id 1),
 * one layer each, randomly initialised from their configs (nothing downloaded); Synchformer, the
 * DAC decoder and the MMDiT are tools/export's stand-ins, taking the encoders' 768-wide features
 * ({@code foley_export tiny --kind hvf --encoders transformers}).
 *
 * <p>The tool exports the set; foley4j runs the bundle end to end on a generated clip; the tool's
 * reference (HVF's own inference rules on the unwrapped PyTorch modules) runs on the frames foley4j
 * decoded and on the file decoded by the ffmpeg CLI. Same frames: latents and audio within 1e-3
 * relative L2; ffmpeg's decode: audio within 1e-2. A 2 s clip and 5 steps keep it short (the
 * SigLIP tower at 512 px is most of the time).
 *
 * <p>Skips without torch, onnx, numpy, PIL and transformers, unless FOLEY_REQUIRE_TORCH=1 (CI).
 */
class TransformersParityTest {
  private static final double SAME_FRAMES = 1e-3;
  private static final double WHOLE_PIPELINE = 1e-2;
  private static final int STEPS = 5;
  private static final double CFG = 4.5;
  private static final long SEED = 5;
  private static final int FRAMES = 50; // 2 s at 25 fps: 16 SigLIP frames, 5 sync windows, 100 latents
  private static final String PROMPT = "a door slams and footsteps on a wooden floor";
  private static final String NEGATIVE = "noisy, harsh";

  private static Path work;
  private static Map<String, String> env;

  @BeforeAll
  static void exportSet() throws Exception {
    SystemPython.require("FOLEY_REQUIRE_TORCH", "torch", "onnx", "numpy", "PIL", "transformers");
    Path tool = Path.of("").toAbsolutePath().getParent().resolve("tools").resolve("export");
    assertTrue(Files.isDirectory(tool.resolve("foley_export")), "tools/export not found at " + tool);
    env = Map.of("PYTHONPATH", tool.toString(), "OMP_NUM_THREADS", "2");
    work = Files.createTempDirectory("foley-parity-transformers");
    SystemPython.run(work, env, 300, "-m", "foley_export", "tiny", "--kind", "hvf", "--encoders", "transformers",
        "--seed", "3", "--out", "ckpt");
    String out = SystemPython.run(work, env, 300, "-m", "foley_export", "export", "--kind", "hvf", "--checkpoint",
        "ckpt", "--out", "bundle");
    assertTrue(out.contains("tiny-hvf-transformers"), out);
  }

  @AfterAll
  static void cleanUp() {
    if (work != null) {
      ModelBundle.deleteQuietly(work);
    }
  }

  @Test
  void foley4jMatchesTheSetsOwnInference() throws Exception {
    Path dir = Files.createTempDirectory(work, "clip-");
    // the frames as foley4j decodes them, and the video's exact length
    ParityClip clip = ParityClip.write(dir, 25, 1, FRAMES);
    Path video = clip.video();
    long ticks = clip.ticks();
    long timescale = clip.timescale();
    double seconds = FRAMES / 25.0;

    try (ModelBundle bundle = ModelBundle.open(work.resolve("bundle"))) {
      BundleManifest m = bundle.manifest();
      // the real encoders' widths reach the manifest, and SigLIP2's 512 px input
      assertEquals(new BundleManifest.Widths(768, 768, 768), m.widths());
      assertEquals(512, m.visual().size());
      assertEquals(512, m.text().encoderMaxTokens()); // CLAP: 514 positions = 512 tokens + pad id + 1
      long total = SegmentPlan.samplesFor(ticks, timescale, m.audio().sampleRate());
      SegmentPlan plan = new SegmentPlan(m, total);
      assertTrue(plan.singlePass && plan.count == 1, "one pass");
      int l = plan.segment(0).latents();
      NpyWriter.floats(dir.resolve("noise_0.npy"), Sampler.noise(SEED, 0, m.latent().channels() * l),
          m.latent().channels(), l);
      List<String> common = List.of("-m", "foley_export", "reference", "--kind", "hvf", "--checkpoint",
          work.resolve("ckpt").toString(), "--prompt", PROMPT, "--negative", NEGATIVE, "--cfg", Double.toString(CFG),
          "--steps", Integer.toString(STEPS), "--noise", "noise_0.npy");
      List<String> sameFrames = new ArrayList<>(common);
      sameFrames.addAll(List.of("--frames", "frames.npy", "--pts", "pts.npy", "--out", "expected.npz"));
      SystemPython.run(dir, env, 600, sameFrames.toArray(String[]::new));
      List<String> ownDecode = new ArrayList<>(common);
      ownDecode.addAll(List.of("--video", video.toString(), "--out", "expected-ffmpeg.npz"));
      SystemPython.run(dir, env, 600, ownDecode.toArray(String[]::new));

      List<float[]> latents = new CopyOnWriteArrayList<>();
      List<float[]> visual = new CopyOnWriteArrayList<>();
      InterceptingBackend spy = new InterceptingBackend();
      spy.observe = (in, out) -> {
        if (out.containsKey("audio")) {
          latents.add(in.get("latents").floats().clone());
        } else if (out.containsKey("features")) {
          visual.add(out.get("features").floats().clone());
        }
      };
      float[] audio;
      try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(spy).maxBatchSize(1).segmentsInFlight(1)
          .build()) {
        latents.clear(); // the warm-up's calls
        visual.clear();
        audio = engine.generate(FoleyRequest.builder(video).prompt(PROMPT).negativePrompt(NEGATIVE).cfgScale(CFG)
            .steps(STEPS).seed(SEED).build()).toArray();
      }
      assertEquals(total, audio.length, "the output lasts exactly as long as the video");
      assertEquals(1, latents.size());

      Map<String, Npz.Array> want = Npz.read(dir.resolve("expected.npz"));
      Map<String, Npz.Array> ffmpeg = Npz.read(dir.resolve("expected-ffmpeg.npz"));
      // SigLIP2's features of foley4j's frames (all batches, in order) against the reference's
      float[] wantVisual = want.get("visual").floats();
      float[] gotVisual = concat(visual);
      double vis = ParityTest.relL2(gotVisual, wantVisual, Integer.MAX_VALUE);
      double lat = ParityTest.relL2(latents.get(0), want.get("latents_0").floats(), Integer.MAX_VALUE);
      float[] ref = want.get("audio").floats();
      int n = Math.min(ref.length, audio.length);
      for (int i = n; i < audio.length; i++) {
        assertEquals(0f, audio[i], "sample " + i + " after the pass");
      }
      double same = ParityTest.relL2(audio, ref, n);
      double whole = ParityTest.relL2(audio, ffmpeg.get("audio").floats(), n);
      // printed only: ffmpeg's decode (another decoder and YUV->RGB) moves the 512 px features and so the latents
      double visFfmpeg = ParityTest.relL2(gotVisual, ffmpeg.get("visual").floats(), Integer.MAX_VALUE);
      double latFfmpeg = ParityTest.relL2(latents.get(0), ffmpeg.get("latents_0").floats(), Integer.MAX_VALUE);
      String report = String.format(Locale.ROOT, "[parity] hvf + transformers SigLIP2/CLAP (768 wide), %.2f s,"
          + " %d steps, cfg %.1f: same frames: visual features %.2e, latents %.2e, audio %.2e; ffmpeg decode:"
          + " visual features %.2e, latents %.2e, audio %.2e; reference %d samples, foley4j %d", seconds, STEPS, CFG,
          vis, lat, same, visFfmpeg, latFfmpeg, whole, ref.length, audio.length);
      System.out.println(report);
      assertTrue(vis <= SAME_FRAMES, report);
      assertTrue(lat <= SAME_FRAMES, report);
      assertTrue(same <= SAME_FRAMES, report);
      assertTrue(whole <= WHOLE_PIPELINE, report);
    }
  }

  private static float[] concat(List<float[]> parts) {
    int n = parts.stream().mapToInt(p -> p.length).sum();
    float[] all = new float[n];
    int at = 0;
    for (float[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return all;
  }
}
