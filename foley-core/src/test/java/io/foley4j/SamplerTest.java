package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Stage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The sampler alone, on a fake stage-call handle: what it sends each stage and what it makes of the answers. */
class SamplerTest extends SmallBundleTest {
  private static PipelineConfig pipeline;
  private static BundleManifest m;

  @BeforeAll
  static void open() {
    pipeline = FakeStageCalls.pipeline(bundle, 4, 4);
    m = bundle.manifest();
  }

  private static FoleyRequest request(int steps, double cfg) {
    return FoleyRequest.builder(Path.of("never-read.mp4")).prompt("footsteps on gravel").steps(steps).cfgScale(cfg)
        .seed(11).build();
  }

  /** A text encoder that answers row r with the value r + 1 everywhere. */
  private static Map<String, Tensor> text(FakeStageCalls.Call c) {
    long[] shape = c.inputs().get("input_ids").shape();
    int rows = (int) shape[0];
    int n = (int) shape[1];
    float[] out = new float[rows * n * m.widths().text()];
    for (int r = 0; r < rows; r++) {
      Arrays.fill(out, r * n * m.widths().text(), (r + 1) * n * m.widths().text(), r + 1);
    }
    return Map.of("text_embeds", Tensor.of(out, rows, n, m.widths().text()));
  }

  @Test
  void guidedSamplingSendsCfgPairsAndIntegratesTheGuidedVelocity() {
    Sampler.Settings settings = Sampler.Settings.of(m, request(5, 3.0));
    assertTrue(settings.guided());
    FakeStageCalls calls = new FakeStageCalls().answer(Stage.TEXT_ENCODER, SamplerTest::text)
        .answer(Stage.DENOISER, c -> { // conditional row velocity 1, unconditional 0.25
          long[] s = c.inputs().get("latents").shape();
          int size = (int) (s[1] * s[2]);
          float[] v = new float[2 * size];
          Arrays.fill(v, 0, size, 1f);
          Arrays.fill(v, size, 2 * size, 0.25f);
          return Map.of("velocity", Tensor.of(v, s));
        });
    AtomicInteger steps = new AtomicInteger();
    Sampler sampler = new Sampler(pipeline, settings, calls, () -> {}, steps::incrementAndGet);
    Tensor text = sampler.encodeText("footsteps on gravel", false);
    assertEquals(2, text.shape()[0], "a conditional and an unconditional row");

    SegmentPlan plan = new SegmentPlan(m, m.segment().decodedSamples());
    SegmentPlan.Segment seg = plan.segment(0);
    float[] visual = new float[seg.visualFrames() * m.widths().visual()];
    float[] sync = new float[seg.syncTokens() * m.widths().sync()];
    Arrays.fill(visual, 7f);
    Sampler.Conditioning c = sampler.condition(text, new SegmentFeatures(0, visual, sync), seg);
    float[] cv = c.visual().floats();
    assertEquals(7f, cv[0]);
    assertArrayEquals(pipeline.uncondVisual(), Arrays.copyOfRange(cv, visual.length, visual.length + m.widths().visual()),
        "the unconditional row is the bundle's learned empty visual feature");

    float[] x = sampler.sample(seg, c, calls)[0];
    List<FakeStageCalls.Call> den = calls.of(Stage.DENOISER);
    assertEquals(5, den.size(), "one denoiser call per step");
    assertEquals(5, steps.get());
    float[] times = settings.times();
    for (int s = 0; s < 5; s++) {
      FakeStageCalls.Call call = den.get(s);
      assertEquals(2, call.rows());
      assertEquals(Phase.DENOISE, call.phase());
      assertEquals(s, call.step());
      assertEquals(0, call.segment());
      assertEquals(times[s], call.inputs().get("timestep").floats()[1], "both rows at the step's time point");
    }
    // x = noise + Σ dt·(vu + cfg·(vc − vu)) = noise + (t_end − t_0)·(0.25 + 3·0.75)
    float[] noise = Sampler.noise(11, 0, x.length);
    double guided = 0.25 + 3.0 * 0.75;
    for (int i = 0; i < x.length; i += 97) {
      assertEquals(noise[i] + (times[5] - times[0]) * guided, x[i], 1e-4, "element " + i);
    }
    assertEquals(0, calls.parties.get(Stage.DENOISER).get(), "every enter has its exit");
    assertEquals(1, calls.maxParties.get());
  }

  @Test
  void withoutGuidanceOneRowAndThePlainVelocity() {
    Sampler.Settings settings = Sampler.Settings.of(m, request(3, 1.0));
    assertEquals(1, settings.rows());
    FakeStageCalls calls = new FakeStageCalls().answer(Stage.TEXT_ENCODER, SamplerTest::text)
        .answer(Stage.DENOISER, c -> {
          long[] s = c.inputs().get("latents").shape();
          float[] v = new float[(int) (s[0] * s[1] * s[2])];
          Arrays.fill(v, -2f);
          return Map.of("velocity", Tensor.of(v, s));
        });
    Sampler sampler = new Sampler(pipeline, settings, calls, () -> {}, () -> {});
    Tensor text = sampler.encodeText("rain", false);
    assertEquals(1, text.shape()[0]);
    SegmentPlan.Segment seg = new SegmentPlan(m, m.segment().decodedSamples()).segment(0);
    float[] x = sampler.sample(seg, sampler.condition(text, new SegmentFeatures(0,
        new float[seg.visualFrames() * m.widths().visual()], new float[seg.syncTokens() * m.widths().sync()]), seg), calls)[0];
    float[] noise = Sampler.noise(11, 0, x.length);
    float[] t = settings.times();
    assertEquals(noise[3] - 2 * (t[3] - t[0]), x[3], 1e-4);
    assertTrue(calls.of(Stage.DENOISER).stream().allMatch(c -> c.rows() == 1));
  }

  @Test
  void aStopRequestEndsSamplingBeforeTheNextStep() {
    Sampler.Settings settings = Sampler.Settings.of(m, request(10, 4.5));
    FakeStageCalls calls = new FakeStageCalls().answer(Stage.DENOISER, c -> {
      long[] s = c.inputs().get("latents").shape();
      return Map.of("velocity", Tensor.of(new float[(int) (s[0] * s[1] * s[2])], s));
    });
    AtomicInteger checks = new AtomicInteger();
    Sampler sampler = new Sampler(pipeline, settings, calls, () -> {
      if (checks.incrementAndGet() > 3) {
        throw new RequestRun.StopJob();
      }
    }, () -> {});
    SegmentPlan.Segment seg = new SegmentPlan(m, m.segment().decodedSamples()).segment(0);
    Tensor text = Tensor.of(new float[2 * m.text().maxTokens() * m.widths().text()], 2, m.text().maxTokens(), m.widths().text());
    Sampler.Conditioning c = sampler.condition(text, new SegmentFeatures(0,
        new float[seg.visualFrames() * m.widths().visual()], new float[seg.syncTokens() * m.widths().sync()]), seg);
    assertThrows(RequestRun.StopJob.class, () -> sampler.sample(seg, c, calls));
    assertEquals(3, calls.of(Stage.DENOISER).size(), "no call after the stop");
    assertEquals(0, calls.parties.get(Stage.DENOISER).get(), "the party is left on the way out");
  }

  @Test
  void aDecoderThatReturnsTheWrongLengthIsABackendFailure() {
    Sampler.Settings settings = Sampler.Settings.of(m, request(2, 4.5));
    SegmentPlan.Segment seg = new SegmentPlan(m, m.segment().decodedSamples()).segment(0);
    FakeStageCalls calls = new FakeStageCalls().answer(Stage.VAE_DECODER,
        c -> Map.of("audio", Tensor.of(new float[seg.decodedSamples() - 1], 1, seg.decodedSamples() - 1)));
    Sampler sampler = new Sampler(pipeline, settings, calls, () -> {}, () -> {});
    FoleyException e = assertThrows(FoleyException.class,
        () -> sampler.decode(seg, new float[][] {new float[m.latent().channels() * seg.latents()]}, calls));
    assertEquals(FoleyException.Code.BACKEND_FAILURE, e.code());
    assertTrue(e.getMessage().contains("vae_decoder returned"), e.getMessage());
    FakeStageCalls good = new FakeStageCalls().answer(Stage.VAE_DECODER,
        c -> Map.of("audio", Tensor.of(new float[seg.decodedSamples()], 1, seg.decodedSamples())));
    assertEquals(seg.decodedSamples(), new Sampler(pipeline, settings, good, () -> {}, () -> {})
        .decode(seg, new float[][] {new float[m.latent().channels() * seg.latents()]}, good)[0].length);
    assertEquals(1, good.of(Stage.VAE_DECODER).get(0).rows());
  }

  /** A denoiser whose velocity is a function of each row's own latent and row parity (cond, uncond). */
  private static Map<String, Tensor> rowwise(FakeStageCalls.Call c) {
    long[] s = c.inputs().get("latents").shape();
    int size = (int) (s[1] * s[2]);
    float[] lat = c.inputs().get("latents").floats();
    float[] v = new float[lat.length];
    for (int r = 0; r < s[0]; r++) {
      float gain = r % 2 == 0 ? -1f : -0.5f;
      for (int i = 0; i < size; i++) {
        v[r * size + i] = gain * lat[r * size + i] + 0.01f * i;
      }
    }
    return Map.of("velocity", Tensor.of(v, s));
  }

  @Test
  void variantsRunAsOneItemPerStepAndEachEqualsItsSeedAlone() {
    FoleyRequest three = FoleyRequest.builder(Path.of("never-read.mp4")).prompt("rain").steps(4).cfgScale(3.0)
        .seed(11).variants(3).build();
    Sampler.Settings settings = Sampler.Settings.of(m, three);
    assertEquals(6, settings.denoiserRows(), "a CFG pair per variant");
    SegmentPlan.Segment seg = new SegmentPlan(m, m.segment().decodedSamples()).segment(0);
    float[] visual = new float[seg.visualFrames() * m.widths().visual()];
    Arrays.fill(visual, 3f);
    SegmentFeatures sf = new SegmentFeatures(0, visual, new float[seg.syncTokens() * m.widths().sync()]);
    FakeStageCalls calls = new FakeStageCalls().answer(Stage.TEXT_ENCODER, SamplerTest::text)
        .answer(Stage.DENOISER, SamplerTest::rowwise)
        .answer(Stage.VAE_DECODER, c -> { // each row's audio: its latent's first value, repeated
          long[] s = c.inputs().get("latents").shape();
          float[] lat = c.inputs().get("latents").floats();
          int size = (int) (s[1] * s[2]);
          float[] a = new float[(int) s[0] * seg.decodedSamples()];
          for (int r = 0; r < s[0]; r++) {
            Arrays.fill(a, r * seg.decodedSamples(), (r + 1) * seg.decodedSamples(), lat[r * size]);
          }
          return Map.of("audio", Tensor.of(a, s[0], seg.decodedSamples()));
        });
    Sampler sampler = new Sampler(pipeline, settings, calls, () -> {}, () -> {});
    Tensor text = sampler.encodeText("rain", false);
    assertEquals(1, calls.of(Stage.TEXT_ENCODER).size(), "the text is encoded once for all variants");
    Sampler.Conditioning c = sampler.condition(text, sf, seg);
    assertEquals(6, c.visual().shape()[0]);
    assertEquals(6, c.text().shape()[0]);
    assertEquals(3f, c.visual().floats()[4 * visual.length], "variant 2's conditional row is the features");
    float[][] x = sampler.sample(seg, c, calls);
    assertEquals(4, calls.of(Stage.DENOISER).size(), "one denoiser item per step for all variants");
    assertTrue(calls.of(Stage.DENOISER).stream().allMatch(call -> call.rows() == 6));
    float[][] audio = sampler.decode(seg, x, calls);
    assertEquals(1, calls.of(Stage.VAE_DECODER).size());
    assertEquals(3, calls.of(Stage.VAE_DECODER).get(0).rows());

    for (int v = 0; v < 3; v++) {
      FoleyRequest alone = FoleyRequest.builder(Path.of("never-read.mp4")).prompt("rain").steps(4).cfgScale(3.0)
          .seed(11 + v).build();
      Sampler.Settings one = Sampler.Settings.of(m, alone);
      FakeStageCalls single = new FakeStageCalls().answer(Stage.TEXT_ENCODER, SamplerTest::text)
          .answer(Stage.DENOISER, SamplerTest::rowwise);
      Sampler s1 = new Sampler(pipeline, one, single, () -> {}, () -> {});
      float[] x1 = s1.sample(seg, s1.condition(s1.encodeText("rain", false), sf, seg), single)[0];
      assertArrayEquals(x1, x[v], "variant " + v + " is seed " + (11 + v) + " alone, bit for bit");
      assertEquals(x1[0], audio[v][0], "variant " + v + "'s decoded row");
    }
    assertTrue(x[0][0] != x[1][0], "the variants differ");
  }
}
