package io.foley4j.reference;

import static io.foley4j.reference.OnnxGraph.FLOAT;
import static io.foley4j.reference.OnnxGraph.INT64;
import static io.foley4j.reference.OnnxGraph.in;

import io.foley4j.bundle.StageContract;
import io.foley4j.reference.OnnxGraph.Attr;
import java.util.Random;

/**
 * The five stage graphs of the reference model. See {@code ReferenceModel} and
 * docs/bundle-format.md for the contract; the constants below define the procedural behaviour.
 */
final class Stages {
  private Stages() {}

  static final String BATCH = "batch";
  static final int PATCH = 32;
  /** Motion below this (mean |Δ| in normalized units) is treated as encoder noise: silence. */
  static final float MOTION_DEAD_ZONE = 0.01f;
  /** Gate slope: motion 0.06 above the dead zone saturates the gate. */
  static final float MOTION_GAIN = 20f;
  /** Decay time constant of an impact, seconds. */
  static final double DECAY_TAU_S = 0.15;
  /** Length of the decay kernel, seconds. */
  static final double DECAY_KERNEL_S = 0.5;
  /** Width (σ) of the spectral bump over channel positions in [−1, 1]. */
  static final double SPECTRAL_SIGMA = 0.25;
  static final float TEXT_PITCH_GAIN = 0.8f;
  static final float VISUAL_BRIGHTNESS_GAIN = 0.1f;
  static final float SILENT_LATENT = -0.5f;
  static final float TIME_EPS = 0.02f;
  static final float MLP_SCALE = 1e-3f;
  /** Peak amplitude of one channel's carrier in the decoder before the soft clip. */
  static final double CARRIER_AMPLITUDE = 0.012;
  static final float SOFT_CLIP_GAIN = 1.5f;
  static final double MIN_FREQ = 60;
  static final double MAX_FREQ = 12000;

  // ---------------------------------------------------------------- visual encoder
  static byte[] visualEncoder(ReferenceModel.Options o) {
    int d = o.embedDim();
    int s = o.visualSize();
    Random rnd = rng(o.seed(), 1);
    OnnxGraph g = new OnnxGraph("visual_encoder", boundary(o));
    String px = g.input(StageContract.Visual.PIXELS, FLOAT, BATCH, 3, s, s);
    String mean = g.op("ReduceMean", in(px), Attr.ints("axes", 2, 3), Attr.i("keepdims", 0)); // [B,3]
    String exact = g.op("MatMul", in(mean, g.constant("rgb_to_d", placement(3, d, 0), 3, d)));
    String pooled = patchFeatures(g, rnd, px, o.width(), o.depth());
    String learned = g.op("MatMul", in(pooled, g.constant("proj", gaussian(rnd, o.width() * d, Math.sqrt(1.0 / o.width())), o.width(), d)));
    learned = g.op("Mul", in(learned, g.constant("proj_scale", maskedScale(d, 3, 0.1f), d)));
    g.output(g.op("Add", in(exact, learned)), StageContract.Visual.FEATURES, FLOAT, BATCH, d);
    return g.toModel("foley4j reference visual encoder: mean RGB in channels 0..2 plus a patch CNN");
  }

  // ---------------------------------------------------------------- sync encoder
  static byte[] syncEncoder(ReferenceModel.Options o) {
    int d = o.embedDim();
    int s = o.syncSize();
    int win = BundleWriter.SYNC_WINDOW;
    int tok = BundleWriter.TOKENS_PER_WINDOW;
    int perTok = win / tok; // 2 frames per token
    Random rnd = rng(o.seed(), 2);
    OnnxGraph g = new OnnxGraph("sync_encoder", boundary(o));
    String fr = g.input(StageContract.Sync.FRAMES, FLOAT, BATCH, win, 3, s, s);
    String axis1 = g.ints("axis1", 1);
    String next = g.op("Slice", in(fr, g.ints("s1", 1), g.ints("e1", win), axis1));
    String prev = g.op("Slice", in(fr, g.ints("s0", 0), g.ints("e0", win - 1), axis1));
    String diff = g.op("Abs", in(g.op("Sub", in(next, prev))));
    String motion = g.op("ReduceMean", in(diff), Attr.ints("axes", 2, 3, 4), Attr.i("keepdims", 0)); // [B,15]
    float[] shift = new float[(win - 1) * win];
    for (int j = 1; j < win; j++) {
      shift[(j - 1) * win + j] = 1f;
    }
    String d16 = g.op("MatMul", in(motion, g.constant("shift", shift, win - 1, win))); // [B,16], d0 = 0
    String pairs = g.op("Reshape", in(d16, g.ints("pairs_shape", 0, tok, perTok)));
    String exact = g.op("MatMul", in(pairs, g.constant("pair_to_d", placement(perTok, d, 0), perTok, d)));
    String flat = g.op("Reshape", in(fr, g.ints("flat_shape", -1, 3, s, s)));
    String pooled = patchFeatures(g, rnd, flat, o.width(), o.depth()); // [B*16, w]
    String grouped = g.op("Reshape", in(pooled, g.ints("group_shape", -1, tok, (long) perTok * o.width())));
    int in = perTok * o.width();
    String learned = g.op("MatMul", in(grouped, g.constant("proj", gaussian(rnd, in * d, Math.sqrt(1.0 / in)), in, d)));
    learned = g.op("Mul", in(learned, g.constant("proj_scale", maskedScale(d, perTok, 0.05f), d)));
    g.output(g.op("Add", in(exact, learned)), StageContract.Sync.TOKENS, FLOAT, BATCH, tok, d);
    return g.toModel("foley4j reference sync encoder: frame motion in channels 0/1 plus a patch CNN");
  }

  // ---------------------------------------------------------------- text encoder
  static byte[] textEncoder(ReferenceModel.Options o, Bpe bpe) {
    int d = o.embedDim();
    int w = o.width();
    int v = bpe.vocabSize();
    Random rnd = rng(o.seed(), 3);
    float[] table = gaussian(rnd, v * d, 0.1);
    for (int id = 0; id < v; id++) {
      table[id * d] = bpe.pitch(id);
      table[id * d + 1] = 1f;
    }
    OnnxGraph g = new OnnxGraph("text_encoder", boundary(o));
    String ids = g.input(StageContract.Text.INPUT_IDS, INT64, BATCH, Bpe.MAX_TOKENS);
    String mask = g.input(StageContract.Text.ATTENTION_MASK, INT64, BATCH, Bpe.MAX_TOKENS);
    String h = g.op("Gather", in(g.constant("embedding", table, v, d), ids), Attr.i("axis", 0));
    for (int layer = 0; layer < o.depth(); layer++) {
      String w1 = g.constant("w1", gaussian(rnd, d * w, Math.sqrt(2.0 / d)), d, w);
      String b1 = g.constant("b1", gaussian(rnd, w, 0.01), w);
      float[] w2v = gaussian(rnd, w * d, 0.02 / Math.sqrt(w));
      for (int r = 0; r < w; r++) {
        w2v[r * d] = 0f; // keep pitch (channel 0) and presence (channel 1) exact
        w2v[r * d + 1] = 0f;
      }
      String hidden = g.op("Relu", in(g.op("Add", in(g.op("MatMul", in(h, w1)), b1))));
      h = g.op("Add", in(h, g.op("MatMul", in(hidden, g.constant("w2", w2v, w, d)))));
    }
    String m = g.op("Cast", in(mask), Attr.i("to", FLOAT));
    m = g.op("Unsqueeze", in(m, g.ints("axis2", 2)));
    g.output(g.op("Mul", in(h, m)), StageContract.Text.EMBEDS, FLOAT, BATCH, Bpe.MAX_TOKENS, d);
    return g.toModel("foley4j reference text encoder: pitch in channel 0, presence in channel 1");
  }

  // ---------------------------------------------------------------- denoiser
  /** Channel c's position in [−1, 1] (low → high frequency). */
  static double position(int c, int channels) {
    return -1.0 + 2.0 * c / (channels - 1);
  }

  /** Carrier frequency of channel c: log-spaced 60 Hz..12 kHz, rounded to a multiple of 50 Hz. */
  static double frequency(int c, int channels) {
    double f = MIN_FREQ * StrictMath.pow(MAX_FREQ / MIN_FREQ, (position(c, channels) + 1) / 2);
    return Math.max(50, 50 * Math.rint(f / 50));
  }

  /** Sync frame j (0-based within the segment) → index into the flattened [Ns·2] motion channels, or -1. */
  static int syncSlot(int frame, int windows) {
    if (frame == 0) {
      return -1;
    }
    int stride = BundleWriter.SYNC_STRIDE;
    int w = Math.min((frame - 1) / stride, windows - 1);
    int i = frame - stride * w; // index within the window, ≥ 1 so it has a predecessor
    if (i < 1 || i >= BundleWriter.SYNC_WINDOW) {
      return -1; // not covered by any window
    }
    return w * BundleWriter.SYNC_WINDOW + i;
  }

  static final String DENOISER_DOC = "foley4j reference denoiser: one flow-matching velocity step";

  static byte[] denoiser(ReferenceModel.Options o) {
    return denoiserGraph(o).toModel(DENOISER_DOC);
  }

  static OnnxGraph denoiserGraph(ReferenceModel.Options o) {
    int d = o.embedDim();
    int c = o.latentChannels();
    int l = o.latentLength();
    int nv = o.visualFrames();
    int ns = o.syncTokens();
    int frames = o.syncFrames();
    int w = o.denoiserWidth();
    Random rnd = rng(o.seed(), 4);
    OnnxGraph g = new OnnxGraph("denoiser", boundary(o));
    String x = g.input(StageContract.Denoiser.LATENTS, FLOAT, BATCH, c, l);
    String t = g.input(StageContract.Denoiser.TIMESTEP, FLOAT, BATCH);
    String visual = g.input(StageContract.Denoiser.VISUAL, FLOAT, BATCH, nv, d);
    String sync = g.input(StageContract.Denoiser.SYNC, FLOAT, BATCH, ns, d);
    String text = g.input(StageContract.Denoiser.TEXT, FLOAT, BATCH, Bpe.MAX_TOKENS, d);
    String axis2 = g.ints("axis2", 2);

    // env: per-frame motion → gate → latents 2j-1, 2j → causal decay
    String s01 = g.op("Slice", in(sync, g.ints("s0", 0), g.ints("e2", 2), axis2));
    String sflat = g.op("Reshape", in(s01, g.ints("flat", 0, -1))); // [B, 2Ns]
    float[] sel = new float[2 * ns * frames];
    for (int j = 0; j < frames; j++) {
      int slot = syncSlot(j, o.syncWindows());
      if (slot >= 0) {
        sel[slot * frames + j] = 1f;
      }
    }
    String motion = g.op("MatMul", in(sflat, g.constant("frame_select", sel, 2L * ns, frames))); // [B,F]
    String gate = g.op("Mul", in(g.op("Sub", in(motion, g.scalar("dead_zone", MOTION_DEAD_ZONE))), g.scalar("gain", MOTION_GAIN)));
    String zero = g.scalar("zero", 0f);
    String one = g.scalar("one", 1f);
    gate = g.op("Clip", in(gate, zero, one));
    float[] map = new float[frames * l];
    for (int j = 0; j < frames; j++) {
      for (int lat = 2 * j - 1; lat <= 2 * j; lat++) {
        if (lat >= 0 && lat < l) {
          map[j * l + lat] = 1f;
        }
      }
    }
    String impulses = g.op("MatMul", in(gate, g.constant("frame_to_latent", map, frames, l))); // [B,L]
    impulses = g.op("Unsqueeze", in(impulses, g.ints("axis1", 1))); // [B,1,L]
    int k = (int) Math.round(DECAY_KERNEL_S * BundleWriter.LATENT_RATE);
    float[] kernel = new float[k];
    for (int n = 0; n < k; n++) {
      kernel[k - 1 - n] = (float) StrictMath.exp(-n / (DECAY_TAU_S * BundleWriter.LATENT_RATE));
    }
    String ring = g.op("Conv", in(impulses, g.constant("decay", kernel, 1, 1, k)),
        Attr.ints("kernel_shape", k), Attr.ints("pads", k - 1, 0), Attr.ints("strides", 1));
    String env = g.op("Clip", in(ring, zero, one)); // [B,1,L]

    // spectral weights from the prompt's pitch and the frames' brightness
    String t0 = g.op("Slice", in(text, g.ints("s0b", 0), g.ints("e1", 1), axis2));
    String pitch = g.op("ReduceSum", in(t0, g.ints("axes12", 1, 2)), Attr.i("keepdims", 0)); // [B]
    String mu = g.op("Mul", in(g.op("Tanh", in(pitch)), g.scalar("pitch_gain", TEXT_PITCH_GAIN)));
    String rgb = g.op("Slice", in(visual, g.ints("s0c", 0), g.ints("e3", 3), axis2));
    String bright = g.op("ReduceMean", in(rgb), Attr.ints("axes", 1, 2), Attr.i("keepdims", 0)); // [B]
    mu = g.op("Add", in(mu, g.op("Mul", in(bright, g.scalar("bright_gain", VISUAL_BRIGHTNESS_GAIN)))));
    mu = g.op("Unsqueeze", in(mu, g.ints("axis1b", 1))); // [B,1]
    float[] pos = new float[c];
    for (int ch = 0; ch < c; ch++) {
      pos[ch] = (float) position(ch, c);
    }
    String diff = g.op("Sub", in(g.constant("positions", pos, 1, c), mu)); // [B,C]
    String wts = g.op("Exp", in(g.op("Mul", in(g.op("Mul", in(diff, diff)),
        g.scalar("inv_two_sigma2", (float) (-1.0 / (2 * SPECTRAL_SIGMA * SPECTRAL_SIGMA)))))));
    wts = g.op("Div", in(wts, g.op("ReduceMax", in(wts), Attr.ints("axes", 1), Attr.i("keepdims", 1))));
    wts = g.op("Unsqueeze", in(wts, g.ints("axis2b", 2))); // [B,C,1]
    String target = g.op("Add", in(g.op("Mul", in(wts, env)), g.scalar("silent", SILENT_LATENT))); // [B,C,L]

    // velocity toward the target, plus the cost MLP over channels
    String t3 = g.op("Unsqueeze", in(t, g.ints("axes12b", 1, 2))); // [B,1,1]
    String denom = g.op("Sub", in(g.scalar("one_plus_eps", 1f + TIME_EPS), t3));
    String v = g.op("Div", in(g.op("Sub", in(target, x)), denom));
    String h = g.op("Transpose", in(x), Attr.ints("perm", 0, 2, 1)); // [B,L,C]
    h = dense(g, rnd, h, c, w, true, true);
    for (int layer = 1; layer < o.denoiserDepth(); layer++) {
      h = dense(g, rnd, h, w, w, true, true);
    }
    h = g.op("Tanh", in(dense(g, rnd, h, w, c, true, false)));
    h = g.op("Transpose", in(h), Attr.ints("perm", 0, 2, 1));
    String velocity = g.op("Add", in(v, g.op("Mul", in(h, g.scalar("mlp_scale", MLP_SCALE)))));
    g.output(velocity, StageContract.Denoiser.VELOCITY, FLOAT, BATCH, c, l);
    return g;
  }

  // ---------------------------------------------------------------- VAE decoder
  static byte[] vaeDecoder(ReferenceModel.Options o) {
    int c = o.latentChannels();
    int l = o.latentLength();
    int spl = BundleWriter.SAMPLES_PER_LATENT; // the decoder's audio samples per latent
    int w = o.width();
    Random rnd = rng(o.seed(), 5);
    OnnxGraph g = new OnnxGraph("vae_decoder", boundary(o));
    String x = g.input(StageContract.Vae.LATENTS, FLOAT, BATCH, c, l);
    String a = g.op("Relu", in(x));
    // cost layers without biases: zero in, zero out (silence stays exact)
    String h = g.op("Transpose", in(a), Attr.ints("perm", 0, 2, 1));
    h = dense(g, rnd, h, c, w, false, true);
    for (int layer = 1; layer < o.depth(); layer++) {
      h = dense(g, rnd, h, w, w, false, true);
    }
    h = g.op("Transpose", in(dense(g, rnd, h, w, c, false, false)), Attr.ints("perm", 0, 2, 1));
    a = g.op("Add", in(a, g.op("Mul", in(h, g.scalar("mlp_scale", MLP_SCALE)))));

    float[] kernel = new float[c * 2 * spl];
    double sr = BundleWriter.SAMPLE_RATE;
    for (int ch = 0; ch < c; ch++) {
      double f = frequency(ch, c);
      double phase = rnd.nextDouble() * 2 * Math.PI;
      for (int n = 0; n < 2 * spl; n++) {
        double tri = 1.0 - Math.abs(n - spl) / (double) spl;
        // n - spl/2 is the output sample offset after the centred slice; f·spl/sr is an integer,
        // so every latent's carrier continues the previous one's phase.
        double carrier = 0.9 * StrictMath.sin(2 * Math.PI * f * (n - spl / 2.0) / sr + phase) + 0.1 * rnd.nextGaussian();
        kernel[ch * 2 * spl + n] = (float) (CARRIER_AMPLITUDE * tri * carrier);
      }
    }
    String y = g.op("ConvTranspose", in(a, g.constant("carriers", kernel, c, 1, 2L * spl)),
        Attr.ints("kernel_shape", 2L * spl), Attr.ints("strides", spl));
    y = g.op("Slice", in(y, g.ints("start", spl / 2), g.ints("end", spl / 2 + (long) l * spl), g.ints("axis2", 2)));
    y = g.op("Reshape", in(y, g.ints("flat", 0, -1)));
    y = g.op("Tanh", in(g.op("Mul", in(y, g.scalar("soft_clip", SOFT_CLIP_GAIN)))));
    g.output(y, StageContract.Vae.AUDIO, FLOAT, BATCH, (long) l * spl);
    return g.toModel("foley4j reference VAE decoder: carriers overlap-added at hop 960");
  }

  // ---------------------------------------------------------------- helpers
  /** Patch conv (kernel = stride = 32) + ReLU, (depth−1)× 1×1 conv + ReLU, global average → [N, width]. */
  private static String patchFeatures(OnnxGraph g, Random rnd, String images, int width, int depth) {
    int fan = 3 * PATCH * PATCH;
    String h = g.op("Conv", in(images,
            g.constant("patch_w", gaussian(rnd, width * fan, Math.sqrt(2.0 / fan)), width, 3, PATCH, PATCH),
            g.constant("patch_b", gaussian(rnd, width, 0.01), width)),
        Attr.ints("kernel_shape", PATCH, PATCH), Attr.ints("strides", PATCH, PATCH));
    h = g.op("Relu", in(h));
    for (int layer = 0; layer < depth; layer++) {
      h = g.op("Relu", in(g.op("Conv", in(h,
              g.constant("conv_w", gaussian(rnd, width * width, Math.sqrt(2.0 / width)), width, width, 1, 1),
              g.constant("conv_b", gaussian(rnd, width, 0.01), width)),
          Attr.ints("kernel_shape", 1, 1))));
    }
    return g.op("Flatten", in(g.op("GlobalAveragePool", in(h))), Attr.i("axis", 1));
  }

  /** x[..., in] · W[in, out] (+ b) (→ ReLU). */
  private static String dense(OnnxGraph g, Random rnd, String x, int inDim, int outDim, boolean bias, boolean relu) {
    String y = g.op("MatMul", in(x, g.constant("w", gaussian(rnd, inDim * outDim, Math.sqrt(2.0 / inDim)), inDim, outDim)));
    if (bias) {
      y = g.op("Add", in(y, g.constant("b", gaussian(rnd, outDim, 0.01), outDim)));
    }
    return relu ? g.op("Relu", in(y)) : y;
  }

  /** rows × cols matrix placing input i into output column offset+i. */
  private static float[] placement(int rows, int cols, int offset) {
    float[] m = new float[rows * cols];
    for (int i = 0; i < rows; i++) {
      m[i * cols + offset + i] = 1f;
    }
    return m;
  }

  /** A per-channel scale: 0 for the first {@code exact} channels, {@code scale} elsewhere. */
  private static float[] maskedScale(int d, int exact, float scale) {
    float[] m = new float[d];
    for (int i = exact; i < d; i++) {
      m[i] = scale;
    }
    return m;
  }

  static float[] gaussian(Random rnd, int n, double std) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (rnd.nextGaussian() * std);
    }
    return out;
  }

  /** A deterministic generator per (seed, stream); java.util.Random's algorithm is specified. */
  /** The ONNX element type of the graphs' float inputs and outputs for the options' precision. */
  static int boundary(ReferenceModel.Options o) {
    return switch (o.precision()) {
      case FLOAT32 -> OnnxGraph.FLOAT;
      case FLOAT16 -> OnnxGraph.FLOAT16;
      case BFLOAT16 -> OnnxGraph.BFLOAT16;
    };
  }

  static Random rng(long seed, long stream) {
    long z = seed + stream * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return new Random(z ^ (z >>> 31));
  }
}
