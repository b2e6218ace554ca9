package io.foley4j.bundle;

import io.foley4j.InvalidBundleException;
import io.foley4j.backend.Tensor;
import io.foley4j.text.Encoding;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The run of {@link ModelBundle#verifyDeep()}: inputs for one call of each stage, of the declared
 * shapes at batch 1 and at the smallest lengths a request can give them, and the checks of what the
 * call returned (every declared output, of its declared shape, finite).
 *
 * <p>The smallest lengths: fixed axes as declared; on a single-pass bundle
 * ({@code segment.singlePassMaxSeconds}) the pass of the shortest clip the engine runs, one sync
 * window ({@code sync.window} frames at {@code sync.fps}), counted by the bundle's
 * {@code singlePassLength} rule as {@code SegmentPlan} counts it; other symbolic length axes at the
 * trained segment's lengths (the only ones the engine uses there). The text axes have the test
 * prompt's length under {@code pair-longest} (cut to {@code maxTokens} for the denoiser), else
 * {@code maxTokens}. A large model therefore runs each stage once on its shortest input.
 *
 * <p>Float inputs are fixed pseudo-random values in [−1, 1] (zeros could hide a broken path behind a
 * multiplication by zero), the timestep 0.5, the token ids and mask those of the test prompt.
 */
final class StageProbe {
  private final BundleManifest m;
  private final Encoding prompt;
  final int latents;
  final int visualFrames;
  final int syncTokens;
  /** Token positions the text encoder gets, and text rows the denoiser gets. */
  final int encoderTokens;
  final int denoiserTokens;

  /** @param prompt the test prompt, encoded to {@code text.encoderMaxTokens} ids */
  StageProbe(BundleManifest m, Encoding prompt) {
    this.m = m;
    this.prompt = prompt;
    BundleManifest.SegmentSpec seg = m.segment();
    if (seg.singlePassMaxSeconds().isPresent()) {
      int[] pass = shortestPass(m);
      this.visualFrames = pass[0];
      this.syncTokens = pass[1];
      this.latents = pass[2];
    } else {
      this.visualFrames = seg.visualFrames();
      this.syncTokens = seg.syncTokens();
      this.latents = seg.latents();
    }
    if (m.text().padding() == BundleManifest.TextPadding.PAIR_LONGEST) {
      this.encoderTokens = Math.max(1, prompt.length());
      this.denoiserTokens = Math.min(encoderTokens, m.text().maxTokens());
    } else {
      this.encoderTokens = m.text().maxTokens();
      this.denoiserTokens = m.text().maxTokens();
    }
  }

  /**
   * {visual frames, sync tokens, latents} of the single pass over the shortest clip the engine
   * runs: {@code sync.window} frames at {@code sync.fps}, its last frame at {@code (window − 1) /
   * sync.fps} (SegmentPlan.ownLength's rules for that clip).
   */
  static int[] shortestPass(BundleManifest m) {
    BundleManifest.SyncSpec s = m.sync();
    double vf = m.visual().fps();
    double sf = s.fps();
    double seconds = s.window() / sf;
    double lastFrame = (s.window() - 1) / sf;
    int spl = m.segment().samplesPerLatent();
    int visual;
    int sync;
    int latents;
    switch (m.segment().singlePassLength()) {
      case SYNC_FRAMES -> {
        visual = m.frameGrid().timesAtOrBefore(vf, lastFrame);
        sync = Math.max(s.window(), m.frameGrid().timesAtOrBefore(sf, lastFrame));
        latents = (int) (sync / sf * m.latent().rate());
      }
      case SHORTEST_STREAM -> {
        double pass = Math.min(seconds, Math.min(m.frameGrid().timesAtOrBefore(vf, lastFrame) / vf,
            m.frameGrid().timesAtOrBefore(sf, lastFrame) / sf));
        visual = (int) (vf * pass);
        sync = Math.max(s.window(), (int) (sf * pass));
        latents = (int) Math.ceil(pass * m.audio().sampleRate() / spl);
      }
      default -> { // DURATION
        sync = (int) Math.max(s.window(), Math.round(seconds * sf));
        visual = (int) Math.round(seconds * vf);
        double pass = sync / sf;
        double exact = sync * m.latent().rate() / sf;
        long rounded = Math.round(exact);
        latents = Math.abs(exact - rounded) <= 1e-9 * Math.max(1, exact) ? (int) rounded
            : (int) Math.ceil(pass * m.latent().rate() - 1e-9);
      }
    }
    int windows = (sync - s.window()) / s.stride() + 1;
    return new int[] {Math.max(1, visual), windows * s.tokensPerWindow(), Math.max(1, latents)};
  }

  /** The inputs of one call of {@code spec}'s stage, batch 1. */
  Map<String, Tensor> inputs(StageSpec spec) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    SplittableRandom rnd = new SplittableRandom(spec.stage().ordinal() + 17L);
    for (TensorSpec t : spec.inputs()) {
      long[] shape = shape(spec.stage(), t);
      int n = Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
      if (!t.isFloat()) {
        long[] v = new long[n]; // [1, tokens]: the test prompt's first tokens (ids or mask)
        long[] source = t.name().equals(StageContract.Text.ATTENTION_MASK) ? prompt.attentionMask() : prompt.ids();
        int row = (int) shape[shape.length - 1];
        for (int i = 0; i < n; i++) {
          v[i] = i % row < source.length ? source[i % row] : 0;
        }
        in.put(t.name(), Tensor.ofLongs(v, shape));
      } else {
        float[] v = new float[n];
        boolean timestep = spec.stage() == Stage.DENOISER && t.name().equals(StageContract.Denoiser.TIMESTEP);
        for (int i = 0; i < n; i++) {
          v[i] = timestep ? 0.5f : (float) (rnd.nextDouble() * 2 - 1);
        }
        in.put(t.name(), Tensor.of(v, shape));
      }
    }
    return in;
  }

  /** {@code t}'s shape in this probe: batch 1, fixed axes as declared, symbolic ones at the probe's lengths. */
  private long[] shape(Stage stage, TensorSpec t) {
    long[] shape = t.shape();
    shape[0] = 1;
    for (int d = 1; d < shape.length; d++) {
      if (shape[d] < 0) {
        shape[d] = length(stage, t.name(), d);
      }
    }
    return shape;
  }

  /** The probe's size of symbolic axis {@code d} of tensor {@code name} of {@code stage} (input or output). */
  private long length(Stage stage, String name, int d) {
    return switch (stage) {
      case TEXT_ENCODER -> d == 1 ? encoderTokens : 1;
      case DENOISER -> switch (name) {
        case StageContract.Denoiser.LATENTS, StageContract.Denoiser.VELOCITY -> latents;
        case StageContract.Denoiser.VISUAL -> visualFrames;
        case StageContract.Denoiser.SYNC -> syncTokens;
        case StageContract.Denoiser.TEXT -> denoiserTokens;
        default -> 1;
      };
      case VAE_DECODER -> name.equals(StageContract.Vae.AUDIO)
          ? (long) latents * m.segment().samplesPerLatent() : latents;
      default -> 1; // the encoders' axes are all fixed by the format
    };
  }

  /**
   * Checks one call's outputs: every declared output present, of rank and sizes as declared (batch
   * 1; symbolic lengths as the probe's inputs imply), every value finite.
   *
   * @return one line saying what ran and what came back
   * @throws InvalidBundleException naming the stage, its file and the output that is wrong
   */
  String check(StageSpec spec, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
    String where = "stage " + spec.stage().key() + " (" + spec.file() + ")";
    String ran = "run once on " + describe(inputs);
    List<String> got = new ArrayList<>();
    for (TensorSpec t : spec.outputs()) {
      Tensor out = outputs.get(t.name());
      if (out == null) {
        throw new InvalidBundleException(where + " returned no output " + t.name() + " (it returned "
            + outputs.keySet() + ") when " + ran + "; re-export the stage or re-download the bundle");
      }
      long[] expected = shape(spec.stage(), t);
      if (!Arrays.equals(expected, out.shape())) {
        throw new InvalidBundleException(where + " returned output " + t.name() + " of shape "
            + Arrays.toString(out.shape()) + " when " + ran + ", but the manifest declares " + t
            + ", so it must be " + Arrays.toString(expected) + "; re-export the stage or fix the manifest");
      }
      if (out.isFloat()) {
        float[] v = out.floats();
        int bad = 0;
        int first = -1;
        for (int i = 0; i < v.length; i++) {
          if (!Float.isFinite(v[i])) {
            if (first < 0) {
              first = i;
            }
            bad++;
          }
        }
        if (bad > 0) {
          throw new InvalidBundleException(where + " produced non-finite values (NaN/Inf) in output " + t.name()
              + " (" + bad + " of " + v.length + ", the first at index " + first + ": " + v[first] + ") when " + ran
              + ": its weights or graph are broken (the bundle's hashes match, so it was exported or converted"
              + " wrongly); re-export the stage or re-download the bundle");
        }
      }
      got.add(t.name() + Arrays.toString(out.shape()));
    }
    return ran + " gives finite " + String.join(", ", got);
  }

  static String describe(Map<String, Tensor> tensors) {
    List<String> parts = new ArrayList<>();
    tensors.forEach((k, v) -> parts.add(k + Arrays.toString(v.shape())));
    return String.join(", ", parts);
  }
}
