package io.foley4j.bundle;

import io.foley4j.InvalidBundleException;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.ResizeFilter;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * The parsed and validated {@code foley-bundle.json} (format versions 1 and 2, see
 * docs/bundle-format.md): the stages with their declared tensors, the files, and the model's
 * streams and rates, one immutable value record per manifest section. Immutable.
 *
 * <p>{@link #segment()} also holds what the rates imply for one trained segment (frames, sync
 * windows and tokens, latents, samples), which every stage shape is checked against, and
 * {@link #widths()} the feature widths the encoders declare.
 *
 * <p>Two step sizes must not be confused: {@link SegmentSpec#samplesPerLatent()} is the VAE
 * decoder's (audio samples per latent), {@link SegmentSpec#stepSamples()} and
 * {@link SegmentSpec#stepSeconds()} the distance between the starts of consecutive segments
 * ({@code segment.seconds − segment.overlapSeconds}).
 */
public final class BundleManifest {

  /** The manifest format version this foley4j reads. */
  public static final int FORMAT_VERSION = 2;


  /**
   * Frames of the visual stream ({@code visual}). {@code resize} is "squash" or "center_crop";
   * {@code filter} is "bilinear-2tap" (the default), "pil-bilinear" or "pil-bicubic" (see
   * {@link ResizeFilter}); each frame is normalised as {@code (v/255 − mean[c]) / std[c]}.
   *
   * @param fps frames sampled per second
   * @param size the side of the square frame the visual encoder takes, in pixels
   * @param resize how a frame is brought to {@code size}
   * @param mean the per-channel mean (R, G, B) of the normalisation
   * @param std the per-channel standard deviation (R, G, B) of the normalisation
   * @param filter the resampling filter's manifest name
   */
  public record VisualSpec(double fps, int size, String resize, float[] mean, float[] std, String filter) {
    /** {@link #filter()} as the enum {@link DecodedFrame#toTensor} takes. */
    public ResizeFilter resizeFilter() {
      return ResizeFilter.fromManifestName(filter);
    }
  }

  /**
   * Frames of the sync stream ({@code sync}), grouped in windows of {@code window} frames every
   * {@code stride}; {@code resize}, {@code filter}, {@code mean} and {@code std} as in
   * {@link VisualSpec}.
   *
   * @param fps frames sampled per second
   * @param size the side of the square frame the sync encoder takes, in pixels
   * @param resize how a frame is brought to {@code size}
   * @param window frames per window
   * @param stride frames between the starts of consecutive windows
   * @param tokensPerWindow tokens the sync encoder returns for one window
   * @param mean the per-channel mean (R, G, B) of the normalisation
   * @param std the per-channel standard deviation (R, G, B) of the normalisation
   * @param filter the resampling filter's manifest name
   */
  public record SyncSpec(double fps, int size, String resize, int window, int stride, int tokensPerWindow,
      float[] mean, float[] std, String filter) {
    /** {@link #filter()} as the enum {@link DecodedFrame#toTensor} takes. */
    public ResizeFilter resizeFilter() {
      return ResizeFilter.fromManifestName(filter);
    }
  }

  /**
   * The text stream ({@code text}).
   *
   * @param maxTokens the denoiser's text rows ({@code text.maxTokens})
   * @param padding how the prompt and the negative prompt are padded ({@code text.padding})
   * @param encoderMaxTokens the most tokens the text encoder takes ({@code text.encoderMaxTokens};
   *     {@code maxTokens} unless {@code padding} is {@link TextPadding#PAIR_LONGEST})
   */
  public record TextSpec(int maxTokens, TextPadding padding, int encoderMaxTokens) {
  }

  /**
   * The latent space ({@code latent}).
   *
   * @param rate latents per second of audio (may be fractional)
   * @param channels channels of one latent
   */
  public record LatentSpec(double rate, int channels) {
  }

  /**
   * The audio the VAE decoder returns ({@code audio}).
   *
   * @param sampleRate samples per second
   * @param channels audio channels: always 1 (mono), the only layout the format has
   */
  public record AudioSpec(int sampleRate, int channels) {
  }

  /**
   * The feature widths the encoders declare: the last dimension of each encoder's output.
   *
   * @param visual the width of the visual features (visual_encoder)
   * @param sync the width of the sync tokens (sync_encoder)
   * @param text the width of the text embeddings (text_encoder)
   */
  public record Widths(int visual, int sync, int text) {
  }

  /**
   * The bundle's files besides the stages' models ({@code files} and each stage's
   * {@code externalData}), as plain file names inside the bundle.
   *
   * @param tokenizer the tokenizer ({@code files.tokenizer.file})
   * @param unconditional the unconditional embeddings ({@code files.unconditional.file})
   * @param externalData for every stage, the ONNX external-data files beside its model (format
   *     version 2), verified like every other file and covered by the digest; an empty list for
   *     weights inside the model
   * @param digests every file the manifest lists (stages, their external data, tokenizer,
   *     embeddings) to its SHA-256 (lower-case hex), in the manifest's order
   */
  public record FileSpec(String tokenizer, String unconditional, Map<Stage, List<String>> externalData,
      Map<String, String> digests) {
    /** Keeps unmodifiable copies of the maps, in their order. */
    public FileSpec {
      Map<Stage, List<String>> x = new EnumMap<>(Stage.class);
      externalData.forEach((s, l) -> x.put(s, List.copyOf(l)));
      externalData = Collections.unmodifiableMap(x);
      digests = Collections.unmodifiableMap(new LinkedHashMap<>(digests));
    }
  }

  /**
   * One trained segment ({@code segment}), and what the manifest's rates make of it. Every pass
   * but a single pass ({@code singlePassMaxSeconds}) has exactly these sizes.
   *
   * <p>{@code samplesPerLatent} is the VAE decoder's step (audio samples per latent);
   * {@link #stepSamples()} is the segments' step (samples between the starts of consecutive
   * segments). They are unrelated.
   *
   * @param seconds the segment's length ({@code segment.seconds})
   * @param overlapSeconds the overlap of consecutive segments ({@code segment.overlapSeconds})
   * @param singlePassMaxSeconds the longest clip that runs as one pass at its own length
   *     ({@code segment.singlePassMaxSeconds}), or empty when every pass has this segment's shape
   * @param singlePassLength the rule for a single pass's length and frame counts
   * @param visualFrames visual frames of a segment: round(seconds × visual.fps)
   * @param syncFrames sync frames of a segment: round(seconds × sync.fps)
   * @param syncWindows sync windows of a segment: (syncFrames − window) / stride + 1
   * @param syncTokens sync tokens of a segment: syncWindows × tokensPerWindow
   * @param latents latents of a segment ({@code segment.latents}, else seconds × latent.rate)
   * @param samplesPerLatent audio samples the decoder returns per latent ({@code segment.samples /
   *     segment.latents}, else audio.sampleRate / latent.rate)
   * @param keptSamples samples a segment keeps after trimming: round(seconds × sampleRate)
   * @param overlapSamples samples of overlap between consecutive segments:
   *     round(overlapSeconds × sampleRate)
   */
  public record SegmentSpec(double seconds, double overlapSeconds, OptionalDouble singlePassMaxSeconds,
      PassLength singlePassLength, int visualFrames, int syncFrames, int syncWindows, int syncTokens, int latents,
      int samplesPerLatent, int keptSamples, int overlapSamples) {

    /** Samples the decoder returns for one segment (latents × samplesPerLatent), before trimming. */
    public int decodedSamples() {
      return latents * samplesPerLatent;
    }

    /** Seconds between the starts of consecutive segments: seconds − overlapSeconds. */
    public double stepSeconds() {
      return seconds - overlapSeconds;
    }

    /** Samples between the starts of consecutive segments (all but the last, which ends at the end). */
    public int stepSamples() {
      return keptSamples - overlapSamples;
    }

    /**
     * Segments needed for {@code totalSamples} of audio: one if it fits a segment, otherwise as
     * many as it takes for the last one to reach the end (none wasted).
     */
    public int count(long totalSamples) {
      if (totalSamples <= keptSamples) {
        return 1;
      }
      return (int) -Math.floorDiv(-(totalSamples - overlapSamples), (long) stepSamples());
    }
  }

  /**
   * Defaults of the flow-matching sampler ({@code sampler}), and the model's rule for when
   * classifier-free guidance runs ({@code sampler.guidance}).
   *
   * @param steps Euler steps
   * @param cfgScale the classifier-free guidance scale
   * @param shift the time warp of the schedule (1: the plain linear schedule)
   * @param negativePrompt the negative prompt when a request gives none
   * @param guidance when guidance runs
   */
  public record SamplerSpec(int steps, float cfgScale, float shift, String negativePrompt, Guidance guidance) {
    /** Refuses a null {@code guidance}. */
    public SamplerSpec {
      Objects.requireNonNull(guidance, "guidance");
    }

    /** When a model runs the unconditional branch: its inference code decides on the cfg scale. */
    public enum Guidance {
      /**
       * {@code "above-one"}, HunyuanVideo-Foley: guidance (a conditional and an unconditional row
       * per step, {@code vu + cfg (vc − vu)}) only when cfg &gt; 1; otherwise the conditional
       * branch alone. The default.
       */
      ABOVE_ONE("above-one"),
      /**
       * {@code "at-least-one"}, MMAudio: the conditional branch alone only when cfg &lt; 1; at
       * cfg = 1 both rows still run (the same velocity up to rounding).
       */
      AT_LEAST_ONE("at-least-one");

      private final String manifestName;

      Guidance(String manifestName) {
        this.manifestName = manifestName;
      }

      /** The value of {@code sampler.guidance} that names this rule. */
      public String manifestName() {
        return manifestName;
      }

      /** Whether a request with this cfg scale runs the unconditional branch too. */
      public boolean guides(double cfg) {
        return this == ABOVE_ONE ? cfg > 1 : cfg >= 1;
      }

      static Guidance fromManifest(String name) {
        return byName(values(), Guidance::manifestName, name, () -> "foley-bundle.json: sampler.guidance must be \"above-one\" "
            + "(HunyuanVideo-Foley: guide only when cfg > 1) or \"at-least-one\" (MMAudio: the conditional "
            + "branch alone only when cfg < 1), found \"" + name + "\"");
      }
    }
  }

  /**
   * Which decoded frame stands for a sampling time t on the visual and sync grids
   * ({@code frameRule}; one rule for both, as frames are read once, front to back, for both).
   */
  public enum FrameRule {
    /** {@code "at-or-before"}: the frame on screen at t (largest pts ≤ t). The default. */
    AT_OR_BEFORE("at-or-before"),
    /**
     * {@code "at-or-after"}: the first frame whose pts ≥ t, as HunyuanVideo-Foley and MMAudio pick
     * them; past the last frame, the last frame.
     */
    AT_OR_AFTER("at-or-after");

    private final String manifestName;

    FrameRule(String manifestName) {
      this.manifestName = manifestName;
    }

    /** The value of {@code frameRule} that names this rule. */
    public String manifestName() {
      return manifestName;
    }

    static FrameRule fromManifest(String name) {
      return byName(values(), FrameRule::manifestName, name, () -> "foley-bundle.json: frameRule must be \"at-or-before\" (the frame on "
          + "screen at t) or \"at-or-after\" (the first frame whose pts >= t, as HunyuanVideo-Foley and MMAudio), "
          + "found \"" + name + "\"");
    }
  }

  /**
   * How the prompt and the negative prompt become the denoiser's text rows ({@code text.padding}).
   */
  public enum TextPadding {
    /**
     * {@code "fixed"} (the default; MMAudio): every text is padded or truncated to
     * {@code text.maxTokens} ids and encoded on its own; the padded rows are kept as the encoder
     * returns them.
     */
    FIXED("fixed"),
    /**
     * {@code "pair-longest"} (HunyuanVideo-Foley): the negative prompt and the prompt are tokenized
     * (each up to {@code text.encoderMaxTokens}), padded to the longer of the two, encoded together,
     * and the hidden states cut to the first {@code text.maxTokens} rows. The text axes are symbolic.
     */
    PAIR_LONGEST("pair-longest");

    private final String manifestName;

    TextPadding(String manifestName) {
      this.manifestName = manifestName;
    }

    /** The value of {@code text.padding} that names this rule. */
    public String manifestName() {
      return manifestName;
    }

    static TextPadding fromManifest(String name) {
      return byName(values(), TextPadding::manifestName, name, () -> "foley-bundle.json: text.padding must be \"fixed\" (pad every text to "
          + "text.maxTokens, as MMAudio) or \"pair-longest\" (pad the prompt and the negative prompt to the longer of "
          + "the two, as HunyuanVideo-Foley), found \"" + name + "\"");
    }
  }

  /**
   * How the sampling times of a grid are computed ({@code frameGrid}): {@code t_i = i / fps}
   * ({@code "exact"}, the default), or by repeated addition of {@code 1/fps} in binary64 arithmetic
   * ({@code "accumulated"}), as HunyuanVideo-Foley's {@code get_frames_av} and MMAudio's
   * {@code read_frames} compute them. With {@code accumulated} a time is compared with the frames'
   * timestamps exactly, without foley4j's 1 ns tolerance: at 25 fps a drifted time just above a
   * frame's timestamp takes the next frame, as the models do.
   */
  public enum FrameGrid {
    /** {@code "exact"}: {@code t_i = i / fps}. The default. */
    EXACT("exact"),
    /** {@code "accumulated"}: {@code t_i} is {@code 1/fps} added i times in binary64. */
    ACCUMULATED("accumulated");

    private final String manifestName;

    FrameGrid(String manifestName) {
      this.manifestName = manifestName;
    }

    /**
     * How many sampling times {@code t_0 = 0, t_1, ...} of this grid at {@code fps} are at or before
     * {@code limit} seconds (1 for a negative limit): {@code t_i = i / fps} with 1 ns of tolerance
     * ({@code EXACT}), or {@code t_{i+1} = t_i + 1/fps} compared exactly ({@code ACCUMULATED}, as the
     * models' frame loops).
     */
    public int timesAtOrBefore(double fps, double limit) {
      if (limit < 0) {
        return 1;
      }
      if (this == ACCUMULATED) {
        double delta = 1 / fps;
        double t = 0;
        int n = 0;
        while (t <= limit) {
          n++;
          t += delta;
        }
        return n;
      }
      return (int) Math.floor((limit + 1e-9) * fps) + 1;
    }

    /** The value of {@code frameGrid} that names this rule. */
    public String manifestName() {
      return manifestName;
    }

    static FrameGrid fromManifest(String name) {
      return byName(values(), FrameGrid::manifestName, name, () -> "foley-bundle.json: frameGrid must be \"exact\" (t = i / fps) or "
          + "\"accumulated\" (t advanced by adding 1/fps, as HunyuanVideo-Foley and MMAudio), found \"" + name + "\"");
    }
  }

  /**
   * How long a single pass over a clip is, and how many frames each stream gives it
   * ({@code segment.singlePassLength}; only with {@code singlePassMaxSeconds}). D is the clip's
   * duration, "the times the frames reach" the grid times up to the last frame's timestamp.
   */
  public enum PassLength {
    /**
     * {@code "duration"} (the default): {@code round(D × fps)} frames per stream; the pass lasts the
     * sync frames' span.
     */
    DURATION("duration"),
    /**
     * {@code "sync-frames"} (HunyuanVideo-Foley): every grid time the frames reach, per stream; the
     * pass lasts {@code n_sync / sync.fps}, with {@code int(length × latent.rate)} latents and
     * {@code int(length × sampleRate)} samples kept.
     */
    SYNC_FRAMES("sync-frames"),
    /**
     * {@code "shortest-stream"} (MMAudio): the pass lasts D, shortened to what the frames of both
     * streams cover ({@code n / fps} each); each stream keeps {@code int(length × fps)} frames,
     * with {@code ceil(length × sampleRate / samplesPerLatent)} latents.
     */
    SHORTEST_STREAM("shortest-stream");

    private final String manifestName;

    PassLength(String manifestName) {
      this.manifestName = manifestName;
    }

    /** The value of {@code segment.singlePassLength} that names this rule. */
    public String manifestName() {
      return manifestName;
    }

    static PassLength fromManifest(String name) {
      return byName(values(), PassLength::manifestName, name, () -> "foley-bundle.json: segment.singlePassLength must be \"duration\", "
          + "\"sync-frames\" (HunyuanVideo-Foley) or \"shortest-stream\" (MMAudio), found \"" + name + "\"");
    }
  }

  private final String name;
  private final Map<Stage, StageSpec> stages;
  private final FileSpec files;
  private final VisualSpec visual;
  private final SyncSpec sync;
  private final TextSpec text;
  private final LatentSpec latent;
  private final AudioSpec audio;
  private final SegmentSpec segment;
  private final SamplerSpec sampler;
  private final Widths widths;
  private final FrameRule frameRule;
  private final FrameGrid frameGrid;
  private final List<String> ignoredKeys;

  /** A manifest of these sections, which {@link ManifestReader} has read and checked. */
  BundleManifest(String name, Map<Stage, StageSpec> stages, FileSpec files, VisualSpec visual, SyncSpec sync,
      TextSpec text, LatentSpec latent, AudioSpec audio, SegmentSpec segment, SamplerSpec sampler, Widths widths,
      FrameRule frameRule, FrameGrid frameGrid, List<String> ignoredKeys) {
    this.name = name;
    this.stages = stages;
    this.files = files;
    this.visual = visual;
    this.sync = sync;
    this.text = text;
    this.latent = latent;
    this.audio = audio;
    this.segment = segment;
    this.sampler = sampler;
    this.widths = widths;
    this.frameRule = frameRule;
    this.frameGrid = frameGrid;
    this.ignoredKeys = List.copyOf(ignoredKeys);
  }

  /**
   * Parses and validates a manifest, strictly (docs/bundle-format.md, "Strictness"): strict JSON
   * without repeated keys, integers where integers are expected, every number in range. Unknown
   * keys outside {@code stages} are ignored with a warning and listed by {@link #ignoredKeys()}.
   *
   * @throws InvalidBundleException naming the field that is missing or wrong
   */
  public static BundleManifest parse(String json) {
    return ManifestReader.read(json);
  }

  // ---- accessors -------------------------------------------------------------------------------

  /** The bundle's {@code name}, or "unnamed". */
  public String name() {
    return name;
  }

  /** A stage's model file, hash and declared tensors. */
  public StageSpec stage(Stage s) {
    return stages.get(s);
  }

  /** The tokenizer, the embeddings, each stage's external data, and every file's SHA-256. */
  public FileSpec files() {
    return files;
  }

  /** The visual stream. */
  public VisualSpec visual() {
    return visual;
  }

  /** The sync stream. */
  public SyncSpec sync() {
    return sync;
  }

  /** The text stream. */
  public TextSpec text() {
    return text;
  }

  /** The latent space. */
  public LatentSpec latent() {
    return latent;
  }

  /** The audio the decoder returns. */
  public AudioSpec audio() {
    return audio;
  }

  /** One trained segment, with the sizes the rates imply for it. */
  public SegmentSpec segment() {
    return segment;
  }

  /** The sampler's defaults and guidance rule. */
  public SamplerSpec sampler() {
    return sampler;
  }

  /** The feature widths the encoders declare. */
  public Widths widths() {
    return widths;
  }

  /** The frame rule of both sampling grids. */
  public FrameRule frameRule() {
    return frameRule;
  }

  /** How the sampling times of both grids are computed. */
  public FrameGrid frameGrid() {
    return frameGrid;
  }

  /**
   * Keys of the manifest this foley4j does not know and ignored, as paths ("colour",
   * "sampler.eta"); {@code description} and {@code reference} are known provenance blocks and not
   * listed. Empty for a manifest written for exactly this format revision.
   */
  public List<String> ignoredKeys() {
    return ignoredKeys;
  }

  /** The constant whose manifest name is {@code value}, else the refusal {@code message} gives. */
  static <E extends Enum<E>> E byName(E[] values, java.util.function.Function<E, String> manifestName, String value,
      java.util.function.Supplier<String> message) {
    for (E e : values) {
      if (manifestName.apply(e).equals(value)) {
        return e;
      }
    }
    throw new InvalidBundleException(message.get());
  }

  @Override
  public String toString() {
    return "BundleManifest[" + name + ", segment " + segment.seconds() + " s, " + audio.sampleRate() + " Hz]";
  }
}
