package io.foley4j;

import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageContract;
import io.foley4j.text.Encoding;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The flow-matching sampler of one job: Euler steps over the time points of {@link FlowSchedule},
 * with classifier-free guidance on the velocity. When guided, the conditional and unconditional
 * halves run as one denoiser batch of two rows (row 0 conditional, row 1 the negative prompt with
 * the bundle's learned empty visual and sync features). Every backend call goes through the
 * engine's scheduler, batched with other jobs.
 */
final class Sampler {
  /**
   * What a request asks of the sampler, with the bundle's defaults filled in. {@code seed} is
   * variant 0's; variant v samples from the noise of seed {@code seed + v}.
   */
  record Settings(int steps, float cfg, String negativePrompt, long seed, float[] times, boolean guided, int variants) {
    static Settings of(BundleManifest m, FoleyRequest req) {
      int steps = req.steps().orElse(m.sampler().steps());
      float cfg = (float) req.cfgScale().orElse(m.sampler().cfgScale());
      String neg = req.negativePrompt() != null ? req.negativePrompt() : m.sampler().negativePrompt();
      return new Settings(steps, cfg, neg, req.seed(), FlowSchedule.times(steps, m.sampler().shift()),
          m.sampler().guidance().guides(cfg), req.variants());
    }

    /** Denoiser rows of one variant per call: 2 with guidance (conditional, unconditional), else 1. */
    int rows() {
      return guided() ? 2 : 1;
    }

    /** Denoiser rows of the request's one item per step: each variant's {@link #rows()}, variant by variant. */
    int denoiserRows() {
      return variants * rows();
    }

    /** The seed of variant {@code v}: seed + v (docs/architecture.md, "Variants"). */
    long seed(int v) {
      return seed + v;
    }
  }

  /**
   * The denoiser's conditioning for one segment, batched as the sampler's rows: each variant's
   * conditional (and unconditional) rows, repeated for every variant.
   */
  record Conditioning(Tensor text, Tensor visual, Tensor sync) {}

  private final PipelineConfig pipeline;
  private final Settings settings;
  private final BundleManifest m;
  private final Runnable checkLive;
  private final StageCalls home;
  private final Runnable onStep;

  /**
   * @param home the job's calls on the device of its text encoding
   * @param checkLive throws to stop the job; runs before each denoiser step
   * @param onStep called after each denoiser step of any segment (for progress); may be called from
   *     several threads at once when segments run in parallel
   */
  Sampler(PipelineConfig pipeline, Settings settings, StageCalls home, Runnable checkLive, Runnable onStep) {
    this.pipeline = pipeline;
    this.settings = settings;
    this.m = pipeline.manifest();
    this.checkLive = checkLive;
    this.home = home;
    this.onStep = onStep;
  }

  /**
   * Encodes the prompt (and, when guided, the negative prompt) once per job, by the bundle's
   * {@code text.padding}:
   *
   * <ul>
   *   <li>{@code fixed}: each text is padded or truncated to {@code maxTokens} ids. When guided,
   *       the request has no negative prompt, the bundle's default negative prompt is empty and the
   *       bundle carries a learned empty text ({@code unconditional.safetensors: text}, as MMAudio),
   *       the unconditional row is that tensor and only the prompt is encoded.
   *   <li>{@code pair-longest}: the prompt and the negative prompt are tokenized (each up to
   *       {@code encoderMaxTokens}), padded to the longer of the two and encoded together, as
   *       HunyuanVideo-Foley does even when it does not guide; the hidden states are cut to
   *       {@code maxTokens} rows, and without guidance only the prompt's row is kept.
   * </ul>
   */
  Tensor encodeText(String prompt, boolean requestHasNegative) {
    if (m.text().padding() == BundleManifest.TextPadding.PAIR_LONGEST) {
      return encodePair(prompt);
    }
    int n = m.text().maxTokens();
    int rows = settings.rows();
    float[] learned = pipeline.uncondText();
    boolean useLearned = settings.guided() && learned != null && !requestHasNegative
        && m.sampler().negativePrompt().isEmpty();
    int encoded = useLearned ? 1 : rows;
    long[] ids = new long[encoded * n];
    long[] mask = new long[encoded * n];
    String[] texts = settings.guided() ? new String[] {prompt, settings.negativePrompt()} : new String[] {prompt};
    for (int r = 0; r < encoded; r++) {
      Encoding e = pipeline.tokenizer().encode(texts[r], n);
      System.arraycopy(e.ids(), 0, ids, r * n, n);
      System.arraycopy(e.attentionMask(), 0, mask, r * n, n);
    }
    float[] embeds = encode(ids, mask, encoded, n);
    if (useLearned) {
      float[] both = Arrays.copyOf(embeds, 2 * n * m.widths().text());
      System.arraycopy(learned, 0, both, n * m.widths().text(), n * m.widths().text());
      embeds = both;
    }
    return Tensor.of(embeds, rows, n, m.widths().text());
  }

  /** {@code pair-longest}: [prompt, negative] padded to the longer one, encoded, cut to maxTokens. */
  private Tensor encodePair(String prompt) {
    int limit = m.text().encoderMaxTokens();
    Encoding a = pipeline.tokenizer().encode(prompt, limit);
    Encoding b = pipeline.tokenizer().encode(settings.negativePrompt(), limit);
    int len = Math.max(1, Math.max(length(a), length(b)));
    long[] ids = new long[2 * len];
    long[] mask = new long[2 * len];
    System.arraycopy(a.ids(), 0, ids, 0, len);
    System.arraycopy(a.attentionMask(), 0, mask, 0, len);
    System.arraycopy(b.ids(), 0, ids, len, len);
    System.arraycopy(b.attentionMask(), 0, mask, len, len);
    float[] embeds = encode(ids, mask, 2, len);
    int keep = Math.min(len, m.text().maxTokens());
    int d = m.widths().text();
    int rows = settings.rows();
    float[] out = new float[rows * keep * d];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(embeds, r * len * d, out, r * keep * d, keep * d);
    }
    return Tensor.of(out, rows, keep, d);
  }

  /** Tokens before the padding: the mask's ones (the tokenizer pads at the end). */
  private static int length(Encoding e) {
    int n = 0;
    for (long v : e.attentionMask()) {
      n += v != 0 ? 1 : 0;
    }
    return n;
  }

  private float[] encode(long[] ids, long[] mask, int rows, int n) {
    Map<String, Tensor> in = Map.of(StageContract.Text.INPUT_IDS, Tensor.ofLongs(ids, rows, n), StageContract.Text.ATTENTION_MASK,
        Tensor.ofLongs(mask, rows, n));
    return home.asParty(Stage.TEXT_ENCODER, () ->
        home.call(Stage.TEXT_ENCODER, Phase.TEXT, in, rows, -1, -1).get(StageContract.Text.EMBEDS)).floats();
  }

  /**
   * The segment's encoder features, with the unconditional rows added when guided, and the text's
   * rows, each repeated for every variant (the variants' rows differ only in their latents).
   */
  Conditioning condition(Tensor text, SegmentFeatures sf, SegmentPlan.Segment seg) {
    int rows = settings.rows();
    int n = settings.variants();
    float[] visual = repeat(rows(sf.visual(), pipeline.uncondVisual(), rows), n);
    float[] sync = repeat(rows(sf.sync(), pipeline.uncondSync(), rows), n);
    long[] ts = text.shape();
    Tensor texts = n == 1 ? text : Tensor.of(repeat(text.floats(), n), ts[0] * n, ts[1], ts[2]);
    return new Conditioning(texts, Tensor.of(visual, rows * n, seg.visualFrames(), m.widths().visual()),
        Tensor.of(sync, rows * n, seg.syncTokens(), m.widths().sync()));
  }

  /** {@code a} repeated {@code n} times ({@code a} itself for 1). */
  private static float[] repeat(float[] a, int n) {
    if (n == 1) {
      return a;
    }
    float[] out = new float[a.length * n];
    for (int v = 0; v < n; v++) {
      System.arraycopy(a, 0, out, v * a.length, a.length);
    }
    return out;
  }

  /**
   * Integrates segment {@code k} of every variant from its noise to a clean latent [C × L] through
   * {@code device} (the job's calls on the device the segment is placed on), one denoiser item per
   * step holding the rows of all variants; calls {@code onStep} after each step. Returns one latent
   * per variant. Thread-safe: segments of one job may sample in parallel.
   */
  float[][] sample(SegmentPlan.Segment seg, Conditioning c, StageCalls device) {
    int k = seg.index();
    int channels = m.latent().channels();
    int length = seg.latents();
    int size = channels * length;
    int rows = settings.rows();
    int n = settings.variants();
    int all = rows * n;
    int steps = settings.steps();
    float[] times = settings.times();
    float[][] x = new float[n][];
    for (int v = 0; v < n; v++) {
      x[v] = noise(settings.seed(v), k, size);
    }
    StageCalls.Chain loop = new StageCalls.Chain() {
      @Override
      public Map<String, Tensor> inputs(int s) {
        float[] lat = new float[all * size];
        for (int v = 0; v < n; v++) {
          for (int r = 0; r < rows; r++) {
            System.arraycopy(x[v], 0, lat, (v * rows + r) * size, size);
          }
        }
        float[] ts = new float[all];
        Arrays.fill(ts, times[s]);
        Map<String, Tensor> in = new HashMap<>();
        in.put(StageContract.Denoiser.LATENTS, Tensor.of(lat, all, channels, length));
        in.put(StageContract.Denoiser.TIMESTEP, Tensor.of(ts, all));
        in.put(StageContract.Denoiser.VISUAL, c.visual());
        in.put(StageContract.Denoiser.SYNC, c.sync());
        in.put(StageContract.Denoiser.TEXT, c.text());
        return in;
      }

      @Override
      public void done(int s, Map<String, Tensor> out) {
        float[] vel = out.get(StageContract.Denoiser.VELOCITY).floats();
        for (int v = 0; v < n; v++) {
          eulerStep(x[v], vel, v * rows * size, times[s + 1] - times[s], settings.guided() ? settings.cfg() : Float.NaN);
        }
      }
    };
    return device.asParty(Stage.DENOISER, () -> {
      checkLive.run();
      device.chain(Stage.DENOISER, Phase.DENOISE, all, k, steps, loop, s -> {
        onStep.run();
        if (s + 1 < steps) {
          checkLive.run();
        }
      });
      return x;
    });
  }

  /**
   * Decodes the clean latents of every variant (one VAE item of one row per variant) to the
   * decoder's audio samples of one segment (before trimming) on {@code device}; one array per variant.
   */
  float[][] decode(SegmentPlan.Segment seg, float[][] latents, StageCalls device) {
    int k = seg.index();
    int n = latents.length;
    int size = m.latent().channels() * seg.latents();
    float[] lat = n == 1 ? latents[0] : new float[n * size];
    if (n > 1) {
      for (int v = 0; v < n; v++) {
        System.arraycopy(latents[v], 0, lat, v * size, size);
      }
    }
    Map<String, Tensor> in = Map.of(StageContract.Vae.LATENTS, Tensor.of(lat, n, m.latent().channels(), seg.latents()));
    float[] audio = device.asParty(Stage.VAE_DECODER, () ->
        device.call(Stage.VAE_DECODER, Phase.VAE, in, n, k, -1).get(StageContract.Vae.AUDIO).floats());
    if (audio.length != (long) n * seg.decodedSamples()) {
      throw new FoleyException(FoleyException.Code.BACKEND_FAILURE, "the vae_decoder returned " + audio.length
          + " samples for " + n + " × " + seg.latents() + " latents, expected " + n + " × " + seg.decodedSamples()
          + " (latents × samples per latent " + m.segment().samplesPerLatent() + "); the stage does not match its manifest");
    }
    if (n == 1) {
      return new float[][] {audio};
    }
    float[][] out = new float[n][];
    for (int v = 0; v < n; v++) {
      out[v] = Arrays.copyOfRange(audio, v * seg.decodedSamples(), (v + 1) * seg.decodedSamples());
    }
    return out;
  }

  /**
   * {@code x += dt × v}; with guidance ({@code cfg} not NaN) {@code v} holds the conditional then
   * the unconditional velocity and the step uses {@code vu + cfg × (vc − vu)}.
   */
  static void eulerStep(float[] x, float[] v, float dt, float cfg) {
    eulerStep(x, v, 0, dt, cfg);
  }

  /** {@link #eulerStep(float[], float[], float, float)} with {@code x}'s velocity rows starting at {@code v[off]}. */
  static void eulerStep(float[] x, float[] v, int off, float dt, float cfg) {
    int n = x.length;
    if (Float.isNaN(cfg)) {
      for (int i = 0; i < n; i++) {
        x[i] += dt * v[off + i];
      }
    } else {
      for (int i = 0; i < n; i++) {
        float vu = v[off + n + i];
        x[i] += dt * (vu + cfg * (v[off + i] - vu));
      }
    }
  }

  /** Conditional features followed, when guided, by the unconditional vector repeated per row. */
  private static float[] rows(float[] cond, float[] uncondRow, int rows) {
    if (rows == 1) {
      return cond;
    }
    float[] out = new float[cond.length * 2];
    System.arraycopy(cond, 0, out, 0, cond.length);
    int d = uncondRow.length;
    for (int off = cond.length; off < out.length; off += d) {
      System.arraycopy(uncondRow, 0, out, off, d);
    }
    return out;
  }

  /** Gaussian noise for segment k, a pure function of (seed, k). */
  static float[] noise(long seed, int k, int n) {
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + k * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextGaussian();
    }
    return x;
  }
}
