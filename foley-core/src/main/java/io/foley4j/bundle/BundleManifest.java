package io.foley4j.bundle;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import io.foley4j.text.StrictJson;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.ResizeFilter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated {@code foley-bundle.json} (format v1, see docs/bundle-format.md): the
 * stages with their declared tensors, and the model's rates. Immutable.
 *
 * <p>Besides the declared numbers it offers the derived per-segment sizes (visual frames, sync
 * frames and windows, latent length, samples) that every stage shape is checked against.
 */
public final class BundleManifest {

  /** The manifest format version this foley4j reads. */
  public static final int FORMAT_VERSION = 2;

  /** The resampling filter a stream gets when its manifest names none: foley4j's original one. */
  public static final String DEFAULT_FILTER = "bilinear-2tap";

  /**
   * Frames of the visual stream. {@code resize} is "squash" or "center_crop"; {@code filter} is
   * "bilinear-2tap" (the default), "pil-bilinear" or "pil-bicubic" (see {@link ResizeFilter}).
   */
  public record VisualSpec(double fps, int size, String resize, float[] mean, float[] std, String filter) {
    /** A spec with the default filter ("bilinear-2tap"). */
    public VisualSpec(double fps, int size, String resize, float[] mean, float[] std) {
      this(fps, size, resize, mean, std, DEFAULT_FILTER);
    }

    /** {@link #filter()} as the enum {@link DecodedFrame#toTensor} takes. */
    public ResizeFilter resizeFilter() {
      return ResizeFilter.fromManifestName(filter);
    }
  }

  /**
   * Frames of the sync stream, grouped in windows of {@code window} frames every {@code stride};
   * {@code resize} and {@code filter} as in {@link VisualSpec}.
   */
  public record SyncSpec(double fps, int size, String resize, int window, int stride, int tokensPerWindow,
      float[] mean, float[] std, String filter) {
    /** A spec with the default filter ("bilinear-2tap"). */
    public SyncSpec(double fps, int size, String resize, int window, int stride, int tokensPerWindow,
        float[] mean, float[] std) {
      this(fps, size, resize, window, stride, tokensPerWindow, mean, std, DEFAULT_FILTER);
    }

    /** {@link #filter()} as the enum {@link DecodedFrame#toTensor} takes. */
    public ResizeFilter resizeFilter() {
      return ResizeFilter.fromManifestName(filter);
    }
  }

  /**
   * Defaults of the flow-matching sampler, and the model's rule for when classifier-free guidance
   * runs ({@code sampler.guidance}).
   */
  public record SamplerSpec(int steps, float cfgScale, float shift, String negativePrompt, Guidance guidance) {
    public SamplerSpec {
      java.util.Objects.requireNonNull(guidance, "guidance");
    }

    /** With HunyuanVideo-Foley's guidance rule. */
    public SamplerSpec(int steps, float cfgScale, float shift, String negativePrompt) {
      this(steps, cfgScale, shift, negativePrompt, Guidance.ABOVE_ONE);
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

  private final String name;
  private final Map<Stage, StageSpec> stages;
  private final Map<String, String[]> files; // key -> {file, sha256}
  private final VisualSpec visual;
  private final SyncSpec sync;
  private final int maxTokens;
  private final TextPadding textPadding;
  private final int encoderMaxTokens;
  private final double latentRate;
  private final int latentsPerSegment;
  private final int decoderHop;
  private final double singlePassMaxSeconds;
  private final PassLength passLength;
  private final FrameGrid frameGrid;
  private final int latentChannels;
  private final int sampleRate;
  private final int audioChannels;
  private final double segmentSeconds;
  private final double overlapSeconds;
  private final SamplerSpec sampler;
  private final FrameRule frameRule;
  private final Map<Stage, List<String[]>> external; // stage -> {file, sha256} of its ONNX external data
  private final List<String> ignoredKeys;

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
    EXACT("exact"),
    ACCUMULATED("accumulated");

    private final String manifestName;

    FrameGrid(String manifestName) {
      this.manifestName = manifestName;
    }

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
     * with {@code ceil(length × sampleRate / hop)} latents.
     */
    SHORTEST_STREAM("shortest-stream");

    private final String manifestName;

    PassLength(String manifestName) {
      this.manifestName = manifestName;
    }

    public String manifestName() {
      return manifestName;
    }

    static PassLength fromManifest(String name) {
      return byName(values(), PassLength::manifestName, name, () -> "foley-bundle.json: segment.singlePassLength must be \"duration\", "
          + "\"sync-frames\" (HunyuanVideo-Foley) or \"shortest-stream\" (MMAudio), found \"" + name + "\"");
    }
  }

  /** How the sampling times of both grids are computed. */
  public FrameGrid frameGrid() {
    return frameGrid;
  }

  /** The rule for a single pass's length and frame counts. */
  public PassLength singlePassLength() {
    return passLength;
  }

  /** The frame rule of both sampling grids. */
  public FrameRule frameRule() {
    return frameRule;
  }

  private BundleManifest(String name, Map<Stage, StageSpec> stages, Map<String, String[]> files,
      VisualSpec visual, SyncSpec sync, int maxTokens, TextPadding textPadding, int encoderMaxTokens,
      double latentRate, int latentChannels, int latentsPerSegment, int decoderHop,
      int sampleRate, int audioChannels, double segmentSeconds, double overlapSeconds, double singlePassMaxSeconds,
      PassLength passLength, FrameGrid frameGrid, SamplerSpec sampler, FrameRule frameRule, Map<Stage, List<String[]>> external, List<String> ignoredKeys) {
    this.name = name;
    this.stages = stages;
    this.files = files;
    this.visual = visual;
    this.sync = sync;
    this.maxTokens = maxTokens;
    this.textPadding = textPadding;
    this.encoderMaxTokens = encoderMaxTokens;
    this.latentRate = latentRate;
    this.latentsPerSegment = latentsPerSegment;
    this.decoderHop = decoderHop;
    this.singlePassMaxSeconds = singlePassMaxSeconds;
    this.passLength = passLength;
    this.frameGrid = frameGrid;
    this.latentChannels = latentChannels;
    this.sampleRate = sampleRate;
    this.audioChannels = audioChannels;
    this.segmentSeconds = segmentSeconds;
    this.overlapSeconds = overlapSeconds;
    this.sampler = sampler;
    this.frameRule = frameRule;
    this.external = new EnumMap<>(Stage.class);
    this.external.putAll(external);
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
    JsonElement e = StrictJson.parse(json, ModelBundle.MANIFEST, FoleyException.Code.INVALID_BUNDLE);
    if (!e.isJsonObject()) {
      throw new InvalidBundleException("foley-bundle.json must hold a JSON object, found " + kind(e));
    }
    JsonObject root = e.getAsJsonObject();
    List<String> ignored = new ArrayList<>();
    known(root, null, ignored, "format", "formatVersion", "name", "description", "reference", "stages", "files",
        "visual", "sync", "text", "latent", "audio", "segment", "sampler", "frameRule", "frameGrid");
    String format = str(root, "format");
    if (!"foley-bundle".equals(format)) {
      throw new InvalidBundleException("foley-bundle.json: \"format\" must be \"foley-bundle\", found \"" + format + "\"");
    }
    int version = integer(root, "formatVersion");
    if (version > FORMAT_VERSION) {
      throw new InvalidBundleException("bundle format version " + version + " is newer than this foley4j supports ("
          + FORMAT_VERSION + "); upgrade foley4j or re-export the bundle as version " + FORMAT_VERSION);
    }
    if (version < 1) {
      throw new InvalidBundleException("foley-bundle.json: invalid formatVersion " + version);
    }
    String name = root.has("name") ? str(root, "name") : "unnamed";

    JsonObject st = obj(root, "stages");
    for (String key : st.keySet()) {
      if (java.util.Arrays.stream(Stage.values()).noneMatch(s -> s.key().equals(key))) {
        throw new InvalidBundleException("foley-bundle.json: unknown stage \"" + key + "\" in \"stages\" (format v1 has "
            + java.util.Arrays.stream(Stage.values()).map(Stage::key).toList() + "); a bundle with other stages needs"
            + " a newer foley4j or a re-export");
      }
    }
    Map<Stage, StageSpec> stages = new EnumMap<>(Stage.class);
    Map<Stage, List<String[]>> external = new EnumMap<>(Stage.class);
    for (Stage s : Stage.values()) {
      if (!st.has(s.key())) {
        throw new InvalidBundleException("bundle is missing stage \"" + s.key() + "\" in foley-bundle.json (a bundle needs all of "
            + java.util.Arrays.stream(Stage.values()).map(Stage::key).toList() + ")");
      }
      JsonObject so = obj(st, s.key(), "stages");
      String where = "stages." + s.key();
      known(so, where, ignored, "file", "sha256", "inputs", "outputs", "externalData");
      stages.put(s, new StageSpec(s, safeName(str(so, "file", where), where), sha(str(so, "sha256", where), where),
          tensors(so, "inputs", where, ignored), tensors(so, "outputs", where, ignored)));
      if (version < 2) {
        for (TensorSpec t : java.util.stream.Stream.concat(stages.get(s).inputs().stream(),
            stages.get(s).outputs().stream()).toList()) {
          if (t.isHalf()) {
            throw new InvalidBundleException("foley-bundle.json: " + where + " tensor \"" + t.name() + "\" has dtype "
                + t.dtype() + ", which needs formatVersion 2 (this manifest says " + version + "); write \"formatVersion\": 2");
          }
        }
      }
      if (so.has("externalData")) {
        if (version < 2) {
          throw new InvalidBundleException("foley-bundle.json: " + where + ".externalData needs formatVersion 2 (this "
              + "manifest says " + version + "); write \"formatVersion\": 2");
        }
        if (!so.get("externalData").isJsonArray()) {
          throw new InvalidBundleException("foley-bundle.json: " + where + ".externalData must be an array of "
              + "{\"file\", \"sha256\"} objects");
        }
        List<String[]> list = new ArrayList<>();
        int k = 0;
        for (JsonElement el : so.getAsJsonArray("externalData")) {
          String w = where + ".externalData[" + k++ + "]";
          if (!el.isJsonObject()) {
            throw new InvalidBundleException("foley-bundle.json: " + w + " must be an object {\"file\", \"sha256\"}");
          }
          JsonObject xo = el.getAsJsonObject();
          known(xo, w, ignored, "file", "sha256");
          list.add(new String[] {safeName(str(xo, "file", w), w), sha(str(xo, "sha256", w), w)});
        }
        external.put(s, List.copyOf(list));
      }
    }
    Map<String, String[]> files = new java.util.LinkedHashMap<>();
    JsonObject fo = obj(root, "files");
    known(fo, "files", ignored, "tokenizer", "unconditional");
    for (String key : new String[] {"tokenizer", "unconditional"}) {
      if (!fo.has(key)) {
        throw new InvalidBundleException("foley-bundle.json: files." + key + " is missing");
      }
      JsonObject f = obj(fo, key, "files");
      String where = "files." + key;
      known(f, where, ignored, "file", "sha256");
      files.put(key, new String[] {safeName(str(f, "file", where), where), sha(str(f, "sha256", where), where)});
    }

    JsonObject v = obj(root, "visual");
    known(v, "visual", ignored, "fps", "size", "resize", "filter", "mean", "std");
    VisualSpec visual = new VisualSpec(num(v, "fps", "visual"), integer(v, "size", "visual"),
        resize(str(v, "resize", "visual"), "visual"), floats3(v, "mean", "visual"), floats3(v, "std", "visual"),
        filter(v, "visual"));
    JsonObject sy = obj(root, "sync");
    known(sy, "sync", ignored, "fps", "size", "resize", "filter", "window", "stride", "tokensPerWindow", "mean", "std");
    SyncSpec sync = new SyncSpec(num(sy, "fps", "sync"), integer(sy, "size", "sync"), resize(str(sy, "resize", "sync"), "sync"),
        integer(sy, "window", "sync"), integer(sy, "stride", "sync"), integer(sy, "tokensPerWindow", "sync"),
        floats3(sy, "mean", "sync"), floats3(sy, "std", "sync"), filter(sy, "sync"));
    JsonObject tx = obj(root, "text");
    known(tx, "text", ignored, "maxTokens", "padding", "encoderMaxTokens");
    int maxTokens = integer(tx, "maxTokens", "text");
    TextPadding padding = present(tx, "padding") ? TextPadding.fromManifest(str(tx, "padding", "text")) : TextPadding.FIXED;
    int encoderMax = present(tx, "encoderMaxTokens") ? integer(tx, "encoderMaxTokens", "text") : maxTokens;
    JsonObject lat = obj(root, "latent");
    known(lat, "latent", ignored, "rate", "channels");
    JsonObject au = obj(root, "audio");
    known(au, "audio", ignored, "sampleRate", "channels");
    JsonObject seg = obj(root, "segment");
    known(seg, "segment", ignored, "seconds", "overlapSeconds", "singlePassMaxSeconds", "singlePassLength", "latents",
        "samples");
    double segSeconds = num(seg, "seconds", "segment");
    boolean v2Only = present(seg, "singlePassMaxSeconds") || present(seg, "singlePassLength")
        || present(seg, "latents") || present(seg, "samples") || present(tx, "padding")
        || present(tx, "encoderMaxTokens") || present(root, "frameGrid");
    if (v2Only && version < 2) {
      throw new InvalidBundleException("foley-bundle.json: text.padding, text.encoderMaxTokens, "
          + "segment.singlePassMaxSeconds, segment.singlePassLength, segment.latents, segment.samples and frameGrid "
          + "need formatVersion 2 (this manifest says " + version + "); write \"formatVersion\": 2");
    }
    if (present(seg, "singlePassLength") && !present(seg, "singlePassMaxSeconds")) {
      throw new InvalidBundleException("foley-bundle.json: segment.singlePassLength needs segment.singlePassMaxSeconds "
          + "(it is the rule for single passes)");
    }
    PassLength passLength = present(seg, "singlePassLength")
        ? PassLength.fromManifest(str(seg, "singlePassLength", "segment")) : PassLength.DURATION;
    FrameGrid grid = present(root, "frameGrid") ? FrameGrid.fromManifest(str(root, "frameGrid")) : FrameGrid.EXACT;
    if (present(seg, "samples") && !present(seg, "latents")) {
      throw new InvalidBundleException("foley-bundle.json: segment.samples needs segment.latents (the decoder's hop is "
          + "samples / latents)");
    }
    double rate = num(lat, "rate", "latent");
    int sampleRate = integer(au, "sampleRate", "audio");
    int latents = present(seg, "latents") ? integer(seg, "latents", "segment") : wholeOrRefuse(
        "segment.seconds × latent.rate", segSeconds * rate, "or state segment.latents and segment.samples");
    int hop;
    if (present(seg, "samples")) {
      int samples = integer(seg, "samples", "segment");
      positive("segment.latents", latents);
      if (samples <= 0 || samples % latents != 0) {
        throw new InvalidBundleException("foley-bundle.json: segment.samples must be a positive multiple of "
            + "segment.latents (the decoder's hop is samples / latents), found " + samples + " samples for " + latents
            + " latents");
      }
      hop = samples / latents;
    } else {
      hop = wholeOrRefuse("audio.sampleRate / latent.rate (the decoder hop)", sampleRate / rate,
          "or state segment.latents and segment.samples");
    }
    double singlePass = present(seg, "singlePassMaxSeconds") ? num(seg, "singlePassMaxSeconds", "segment") : Double.NaN;
    JsonObject sa = obj(root, "sampler");
    known(sa, "sampler", ignored, "steps", "cfgScale", "shift", "negativePrompt", "guidance");
    int steps = integer(sa, "steps", "sampler");
    double cfg = num(sa, "cfgScale", "sampler");
    double shift = num(sa, "shift", "sampler");
    if (!(cfg >= 0 && cfg <= 100)) {
      throw new InvalidBundleException("foley-bundle.json: sampler.cfgScale must be in [0, 100] (1 = no guidance), found "
          + cfg);
    }
    if (!(shift > 0 && shift <= 100)) {
      throw new InvalidBundleException("foley-bundle.json: sampler.shift must be in (0, 100] (1 = the plain linear"
          + " schedule), found " + shift);
    }
    SamplerSpec.Guidance guidance = !sa.has("guidance") || sa.get("guidance").isJsonNull()
        ? SamplerSpec.Guidance.ABOVE_ONE : SamplerSpec.Guidance.fromManifest(str(sa, "guidance", "sampler"));
    SamplerSpec sampler = new SamplerSpec(steps, (float) cfg, (float) shift, str(sa, "negativePrompt", "sampler"),
        guidance);
    BundleManifest m = new BundleManifest(name, stages, files, visual, sync, maxTokens, padding, encoderMax,
        rate, integer(lat, "channels", "latent"), latents, hop,
        sampleRate, integer(au, "channels", "audio"),
        segSeconds, num(seg, "overlapSeconds", "segment"), singlePass, passLength, grid, sampler,
        root.has("frameRule") && !root.get("frameRule").isJsonNull() ? FrameRule.fromManifest(str(root, "frameRule"))
            : FrameRule.AT_OR_BEFORE, external, ignored);
    m.validate();
    if (!ignored.isEmpty()) {
      System.getLogger("io.foley4j.bundle").log(System.Logger.Level.WARNING, "foley-bundle.json of " + name
          + ": ignoring keys this foley4j does not know: " + ignored + " (a newer format revision or a typo)");
    }
    return m;
  }

  /** Records the keys of {@code o} that are not {@code names} (provenance and future additions). */
  private static void known(JsonObject o, String where, List<String> ignored, String... names) {
    List<String> k = List.of(names);
    for (String key : o.keySet()) {
      if (!k.contains(key)) {
        ignored.add(where == null ? key : where + "." + key);
      }
    }
  }

  private void validate() {
    java.util.Set<String> seen = new java.util.HashSet<>();
    List<String> all = new ArrayList<>();
    stages.values().forEach(st -> all.add(st.file()));
    external.values().forEach(l -> l.forEach(x -> all.add(x[0])));
    files.values().forEach(x -> all.add(x[0]));
    for (String name : all) {
      if (!seen.add(name)) {
        throw new InvalidBundleException("foley-bundle.json: the file \"" + name + "\" is listed twice; every file "
            + "of a bundle has one role (a stage, its external data, the tokenizer or the embeddings)");
      }
    }
    positive("visual.fps", visual.fps);
    positive("visual.size", visual.size);
    positive("sync.fps", sync.fps);
    positive("sync.size", sync.size);
    positive("sync.window", sync.window);
    positive("sync.stride", sync.stride);
    positive("sync.tokensPerWindow", sync.tokensPerWindow);
    positive("text.maxTokens", maxTokens);
    positive("latent.rate", latentRate);
    positive("latent.channels", latentChannels);
    positive("audio.sampleRate", sampleRate);
    positive("segment.seconds", segmentSeconds);
    positive("sampler.steps", sampler.steps);
    // sanity bounds: a typo or a hostile manifest must not make the engine allocate gigabytes
    atMost("visual.size", visual.size, 4096);
    atMost("sync.size", sync.size, 4096);
    atMost("visual.fps", visual.fps, 240);
    atMost("sync.fps", sync.fps, 240);
    atMost("sync.window", sync.window, 1024);
    atMost("sync.tokensPerWindow", sync.tokensPerWindow, 4096);
    atMost("text.maxTokens", maxTokens, 8192);
    atMost("latent.rate", latentRate, 48000);
    atMost("latent.channels", latentChannels, 8192);
    atMost("audio.sampleRate", sampleRate, 384000);
    atMost("segment.seconds", segmentSeconds, 600);
    atMost("sampler.steps", sampler.steps, 1000);
    if (audioChannels != 1) {
      throw new InvalidBundleException("audio.channels is " + audioChannels + "; foley4j format v1 supports mono (1) only");
    }
    if (overlapSeconds < 0 || overlapSeconds >= segmentSeconds) {
      throw new InvalidBundleException("segment.overlapSeconds must be in [0, segment.seconds), found " + overlapSeconds);
    }
    for (float s : visual.std) {
      positive("visual.std", s);
    }
    for (float s : sync.std) {
      positive("sync.std", s);
    }
    positive("text.encoderMaxTokens", encoderMaxTokens);
    atMost("text.encoderMaxTokens", encoderMaxTokens, 8192);
    if (textPadding == TextPadding.FIXED && encoderMaxTokens != maxTokens) {
      throw new InvalidBundleException("foley-bundle.json: text.encoderMaxTokens (" + encoderMaxTokens + ") differs from "
          + "text.maxTokens (" + maxTokens + "), which only text.padding \"pair-longest\" allows (with \"fixed\" every "
          + "text is encoded at exactly maxTokens)");
    }
    if (encoderMaxTokens < maxTokens) {
      throw new InvalidBundleException("foley-bundle.json: text.encoderMaxTokens (" + encoderMaxTokens + ") must be at "
          + "least text.maxTokens (" + maxTokens + ")");
    }
    positive("segment.latents", latentsPerSegment);
    atMost("segment.latents", latentsPerSegment, 1 << 20);
    positive("the decoder hop (samples per latent)", decoderHop);
    atMost("the decoder hop (samples per latent)", decoderHop, 1 << 16);
    integral("segment.seconds × visual.fps", segmentSeconds * visual.fps);
    integral("segment.seconds × sync.fps", segmentSeconds * sync.fps);
    if ((long) latentsPerSegment * decoderHop < keepSamplesPerSegment()) {
      throw new InvalidBundleException("foley-bundle.json: a segment's " + latentsPerSegment + " latents × hop "
          + decoderHop + " = " + (long) latentsPerSegment * decoderHop + " samples do not cover segment.seconds × "
          + "audio.sampleRate = " + keepSamplesPerSegment() + " samples");
    }
    if (!Double.isNaN(singlePassMaxSeconds)
        && !(singlePassMaxSeconds >= segmentSeconds && singlePassMaxSeconds <= 600)) {
      throw new InvalidBundleException("foley-bundle.json: segment.singlePassMaxSeconds must be in [segment.seconds, "
          + "600], found " + singlePassMaxSeconds);
    }
    double hop = segmentSeconds - overlapSeconds;
    // Consecutive segments must advance by whole frames, so that they share sampling times.
    positiveWhole("(segment.seconds − overlapSeconds) × visual.fps", hop * visual.fps);
    positiveWhole("(segment.seconds − overlapSeconds) × sync.fps", hop * sync.fps);
    if (syncFramesPerSegment() < sync.window || (syncFramesPerSegment() - sync.window) % sync.stride != 0) {
      throw new InvalidBundleException("sync windows do not tile the segment: " + syncFramesPerSegment()
          + " frames, window " + sync.window + ", stride " + sync.stride);
    }
    long b = -1;
    boolean single = !Double.isNaN(singlePassMaxSeconds);
    long vn = length(visualFramesPerSegment(), single);
    long sn = length(syncTokensPerSegment(), single);
    long ln = length(latentLength(), single);
    long tn = length(maxTokens, textPadding == TextPadding.PAIR_LONGEST);
    expect(Stage.VISUAL_ENCODER, true, "pixels", "float32", b, 3, visual.size, visual.size);
    expect(Stage.VISUAL_ENCODER, false, "features", "float32", b, -2);
    long vd = stages.get(Stage.VISUAL_ENCODER).outputs().get(0).dim(1);
    expect(Stage.SYNC_ENCODER, true, "frames", "float32", b, sync.window, 3, sync.size, sync.size);
    expect(Stage.SYNC_ENCODER, false, "tokens", "float32", b, sync.tokensPerWindow, -2);
    long sd = stages.get(Stage.SYNC_ENCODER).outputs().get(0).dim(2);
    expect(Stage.TEXT_ENCODER, true, "input_ids", "int64", b, tn);
    expect(Stage.TEXT_ENCODER, true, "attention_mask", "int64", b, tn);
    expect(Stage.TEXT_ENCODER, false, "text_embeds", "float32", b, tn, -2);
    long td = stages.get(Stage.TEXT_ENCODER).outputs().get(0).dim(2);
    expect(Stage.DENOISER, true, "latents", "float32", b, latentChannels, ln);
    expect(Stage.DENOISER, true, "timestep", "float32", b);
    expect(Stage.DENOISER, true, "visual", "float32", b, vn, vd);
    expect(Stage.DENOISER, true, "sync", "float32", b, sn, sd);
    expect(Stage.DENOISER, true, "text", "float32", b, tn, td);
    expect(Stage.DENOISER, false, "velocity", "float32", b, latentChannels, ln);
    expect(Stage.VAE_DECODER, true, "latents", "float32", b, latentChannels, ln);
    expect(Stage.VAE_DECODER, false, "audio", "float32", b, single ? SYMBOLIC : length(samplesPerSegment(), false));
  }

  /** In {@link #expect}: the dimension must be symbolic. */
  private static final long SYMBOLIC = -3;

  /**
   * In {@link #expect}: a length axis, which must be symbolic when {@code mustBeSymbolic}, else may
   * be symbolic or exactly {@code fixed} (encoded below -9).
   */
  private static long length(long fixed, boolean mustBeSymbolic) {
    return mustBeSymbolic ? SYMBOLIC : -10 - fixed;
  }

  /** Checks that a stage declares exactly one tensor of this name, type and shape (-1: batch, -2: any positive). */
  private void expect(Stage stage, boolean input, String tensor, String dtype, long... shape) {
    StageSpec s = stages.get(stage);
    List<TensorSpec> list = input ? s.inputs() : s.outputs();
    String kind = input ? "input" : "output";
    TensorSpec t = list.stream().filter(x -> x.name().equals(tensor)).findFirst().orElseThrow(() ->
        new InvalidBundleException("stage " + stage.key() + " must declare " + kind + " \"" + tensor + "\"; it declares "
            + list));
    // Every float tensor may be declared in any float type (float32, float16, bfloat16): the backend converts.
    boolean ok = (dtype.equals("float32") ? t.isFloat() : t.dtype().equals(dtype)) && t.rank() == shape.length;
    for (int i = 0; ok && i < shape.length; i++) {
      long want = shape[i];
      long got = t.dim(i);
      ok = want == -2 ? got > 0 : want == SYMBOLIC ? got == -1 : want <= -10 ? got == -1 || got == -10 - want
          : want == got;
    }
    if (!ok) {
      // a float tensor's wanted type is shown as declared when it is a float: the shape is what differs
      StringBuilder w = new StringBuilder(dtype.equals("float32") && t.isFloat() ? t.dtype() : dtype).append('[');
      for (int i = 0; i < shape.length; i++) {
        long d = shape[i];
        w.append(i > 0 ? "," : "").append(d == -1 ? "batch" : d == -2 ? "D" : d == SYMBOLIC ? "<symbolic>"
            : d <= -10 ? (-10 - d) + "|<symbolic>" : Long.toString(d));
      }
      throw new InvalidBundleException("shape mismatch: stage " + stage.key() + " " + kind + " " + t
          + " does not match what the manifest's rates imply: " + tensor + ":" + w + "] (segment "
          + segmentSeconds + " s, visual " + visual.fps + " fps, sync " + sync.fps + " fps, latent " + latentRate
          + "/s, " + sampleRate + " Hz" + (Double.isNaN(singlePassMaxSeconds) ? "" : ", single passes up to "
          + singlePassMaxSeconds + " s need symbolic length axes") + (textPadding == TextPadding.PAIR_LONGEST
          ? ", text.padding pair-longest needs symbolic text axes" : "") + ")");
    }
  }

  // ---- accessors -------------------------------------------------------------------------------

  public String name() {
    return name;
  }

  public StageSpec stage(Stage s) {
    return stages.get(s);
  }

  /** File name of the tokenizer ({@code files.tokenizer.file}). */
  public String tokenizerFile() {
    return files.get("tokenizer")[0];
  }

  /** File name of the unconditional embeddings ({@code files.unconditional.file}). */
  public String unconditionalFile() {
    return files.get("unconditional")[0];
  }

  /**
   * The ONNX external-data files of a stage (format v2), beside its model file: verified like
   * every other file and covered by the digest. Empty for weights inside the model.
   */
  public List<String> externalDataFiles(Stage stage) {
    return external.getOrDefault(stage, List.of()).stream().map(f -> f[0]).toList();
  }

  /** All files the manifest lists (stages, their external data, tokenizer, embeddings), to SHA-256 (hex). */
  public Map<String, String> fileDigests() {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (StageSpec s : stages.values()) {
      m.put(s.file(), s.sha256());
      for (String[] x : external.getOrDefault(s.stage(), List.of())) {
        m.put(x[0], x[1]);
      }
    }
    for (String[] f : files.values()) {
      m.put(f[0], f[1]);
    }
    return m;
  }

  public VisualSpec visual() {
    return visual;
  }

  public SyncSpec sync() {
    return sync;
  }

  public int maxTokens() {
    return maxTokens;
  }

  public double latentRate() {
    return latentRate;
  }

  public int latentChannels() {
    return latentChannels;
  }

  public int sampleRate() {
    return sampleRate;
  }

  public double segmentSeconds() {
    return segmentSeconds;
  }

  public double overlapSeconds() {
    return overlapSeconds;
  }

  public SamplerSpec sampler() {
    return sampler;
  }

  /**
   * Keys of the manifest this foley4j does not know and ignored, as paths ("colour",
   * "sampler.eta"); {@code description} and {@code reference} are known provenance blocks and not
   * listed. Empty for a manifest written for exactly this format revision.
   */
  public List<String> ignoredKeys() {
    return ignoredKeys;
  }

  /** Width of the visual features (D of visual_encoder's output). */
  public int visualDim() {
    return (int) stages.get(Stage.VISUAL_ENCODER).outputs().get(0).dim(1);
  }

  /** Width of the sync tokens. */
  public int syncDim() {
    return (int) stages.get(Stage.SYNC_ENCODER).outputs().get(0).dim(2);
  }

  /** Width of the text embeddings. */
  public int textDim() {
    return (int) stages.get(Stage.TEXT_ENCODER).outputs().get(0).dim(2);
  }

  public int visualFramesPerSegment() {
    return (int) Math.round(segmentSeconds * visual.fps);
  }

  public int syncFramesPerSegment() {
    return (int) Math.round(segmentSeconds * sync.fps);
  }

  public int syncWindowsPerSegment() {
    return (syncFramesPerSegment() - sync.window) / sync.stride + 1;
  }

  public int syncTokensPerSegment() {
    return syncWindowsPerSegment() * sync.tokensPerWindow;
  }

  /** Latents of one trained segment ({@code segment.latents}, else seconds × rate). */
  public int latentLength() {
    return latentsPerSegment;
  }

  /** Audio samples per latent (the VAE decoder's hop: samples / latents, else sampleRate / rate). */
  public int hop() {
    return decoderHop;
  }

  /** Samples the decoder returns for one trained segment (latents × hop), before trimming. */
  public int samplesPerSegment() {
    return latentLength() * hop();
  }

  /** Samples one trained segment keeps after trimming: round(seconds × sampleRate). */
  public int keepSamplesPerSegment() {
    return (int) Math.round(segmentSeconds * sampleRate);
  }

  /** How the text rows are padded ({@code text.padding}). */
  public TextPadding textPadding() {
    return textPadding;
  }

  /** Most tokens the text encoder takes ({@code text.encoderMaxTokens}; maxTokens unless pair-longest). */
  public int encoderMaxTokens() {
    return encoderMaxTokens;
  }

  /**
   * The longest clip that runs as one pass at its own length ({@code segment.singlePassMaxSeconds}),
   * or empty when every pass has the trained segment's fixed shape.
   */
  public java.util.OptionalDouble singlePassMaxSeconds() {
    return Double.isNaN(singlePassMaxSeconds) ? java.util.OptionalDouble.empty()
        : java.util.OptionalDouble.of(singlePassMaxSeconds);
  }

  /** Samples of overlap between consecutive segments. */
  public int overlapSamples() {
    return (int) Math.round(overlapSeconds * sampleRate);
  }

  /** Samples between the starts of consecutive segments (all but the last, which ends at the end). */
  public int hopSamples() {
    return keepSamplesPerSegment() - overlapSamples();
  }

  /**
   * Fixed-length segments needed for {@code totalSamples} of audio: one if it fits a segment,
   * otherwise as many as it takes for the last one to reach the end (none wasted).
   */
  public int segmentCount(long totalSamples) {
    if (totalSamples <= keepSamplesPerSegment()) {
      return 1;
    }
    return (int) -Math.floorDiv(-(totalSamples - overlapSamples()), (long) hopSamples());
  }

  // ---- JSON helpers ----------------------------------------------------------------------------

  private static String path(String where, String key) {
    return where == null ? key : where + "." + key;
  }

  private static String kind(JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return "null";
    }
    if (e.isJsonObject()) {
      return "an object";
    }
    if (e.isJsonArray()) {
      return "an array";
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    String v = p.toString();
    v = v.length() > 40 ? v.substring(0, 37) + "..." : v;
    return p.isString() ? "the string " + v : v;
  }

  private static JsonObject obj(JsonObject o, String key) {
    return obj(o, key, null);
  }

  private static JsonObject obj(JsonObject o, String key, String where) {
    JsonElement e = o.get(key);
    if (e == null || !e.isJsonObject()) {
      throw new InvalidBundleException("foley-bundle.json: \"" + path(where, key) + "\" must be an object, found "
          + (e == null ? "nothing" : kind(e)));
    }
    return e.getAsJsonObject();
  }

  private static JsonElement field(JsonObject o, String key, String where) {
    JsonElement e = o.get(key);
    if (e == null || e.isJsonNull()) {
      throw new InvalidBundleException("foley-bundle.json: " + path(where, key) + " is missing");
    }
    return e;
  }

  private static String str(JsonObject o, String key) {
    return str(o, key, null);
  }

  private static String str(JsonObject o, String key, String where) {
    JsonElement e = field(o, key, where);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new InvalidBundleException("foley-bundle.json: " + path(where, key) + " must be a string, found " + kind(e));
    }
    return e.getAsString();
  }

  /** A finite JSON number. */
  private static double num(JsonObject o, String key, String where) {
    JsonElement e = field(o, key, where);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw new InvalidBundleException("foley-bundle.json: " + path(where, key) + " must be a number, found " + kind(e));
    }
    double d = e.getAsDouble();
    if (!Double.isFinite(d)) {
      throw new InvalidBundleException("foley-bundle.json: " + path(where, key) + " must be finite, found " + kind(e));
    }
    return d;
  }

  private static int integer(JsonObject o, String key) {
    return integer(o, key, null);
  }

  /** A JSON number with an integral value that fits an int (512 and 512.0, not 512.5 or 2^32). */
  private static int integer(JsonObject o, String key, String where) {
    JsonElement e = field(o, key, where);
    long v = integralValue(e, Integer.MIN_VALUE, Integer.MAX_VALUE);
    if (v == Long.MIN_VALUE) {
      throw new InvalidBundleException("foley-bundle.json: " + path(where, key) + " must be an integer, found " + kind(e));
    }
    return (int) v;
  }

  /** The integral value of a JSON number in [min, max], or Long.MIN_VALUE if it is anything else. */
  private static long integralValue(JsonElement e, long min, long max) {
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      return Long.MIN_VALUE;
    }
    java.math.BigDecimal d;
    try {
      d = e.getAsBigDecimal();
    } catch (NumberFormatException ex) {
      return Long.MIN_VALUE;
    }
    // compareTo instead of conversions: a huge exponent must not be expanded
    if (d.compareTo(java.math.BigDecimal.valueOf(min)) < 0 || d.compareTo(java.math.BigDecimal.valueOf(max)) > 0
        || d.signum() != 0 && d.stripTrailingZeros().scale() > 0) {
      return Long.MIN_VALUE;
    }
    return d.longValueExact();
  }

  private static float[] floats3(JsonObject o, String key, String where) {
    JsonElement e = field(o, key, where);
    String what = "foley-bundle.json: " + path(where, key) + " must be an array of 3 numbers (R, G, B)";
    if (!e.isJsonArray() || e.getAsJsonArray().size() != 3) {
      throw new InvalidBundleException(what + ", found " + kind(e));
    }
    float[] f = new float[3];
    for (int i = 0; i < 3; i++) {
      JsonElement x = e.getAsJsonArray().get(i);
      if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
        throw new InvalidBundleException(what + ", found " + kind(x) + " at index " + i);
      }
      f[i] = x.getAsFloat();
      if (!Float.isFinite(f[i])) {
        throw new InvalidBundleException("foley-bundle.json: " + path(where, key)
            + " must be an array of 3 finite numbers (float32), found " + kind(x) + " at index " + i);
      }
    }
    return f;
  }

  private static String resize(String s, String where) {
    if (!s.equals("squash") && !s.equals("center_crop")) {
      throw new InvalidBundleException("foley-bundle.json: " + where + ".resize must be \"squash\" or \"center_crop\", found \"" + s + "\"");
    }
    return s;
  }

  /** The optional {@code filter} of a stream: one of {@link ResizeFilter}'s names, else the default. */
  private static String filter(JsonObject o, String where) {
    if (!o.has("filter") || o.get("filter").isJsonNull()) {
      return DEFAULT_FILTER;
    }
    String s = str(o, "filter", where);
    if (ResizeFilter.fromManifestName(s) == null) {
      throw new InvalidBundleException("foley-bundle.json: " + where + ".filter must be one of "
          + ResizeFilter.allowedNames() + ", found \"" + s + "\"");
    }
    return s;
  }

  private static String sha(String s, String where) {
    if (!s.matches("[0-9a-fA-F]{64}")) {
      throw new InvalidBundleException("foley-bundle.json: " + where + ".sha256 must be 64 hex digits");
    }
    return s.toLowerCase(java.util.Locale.ROOT);
  }

  /** File names must be plain names inside the bundle: no separators, no "..". */
  private static String safeName(String f, String where) {
    if (f.isEmpty() || f.contains("/") || f.contains("\\") || f.equals("..") || f.equals(".") || f.contains("\0")) {
      throw new InvalidBundleException("foley-bundle.json: " + where + ".file \"" + f + "\" must be a plain file name inside the bundle");
    }
    return f;
  }

  private static List<TensorSpec> tensors(JsonObject o, String key, String where, List<String> ignored) {
    JsonElement e = field(o, key, where);
    String list = where + "." + key;
    if (!e.isJsonArray()) {
      throw new InvalidBundleException("foley-bundle.json: " + list + " must be an array, found " + kind(e));
    }
    List<TensorSpec> out = new ArrayList<>();
    JsonArray a = e.getAsJsonArray();
    for (int n = 0; n < a.size(); n++) {
      JsonElement t = a.get(n);
      String w = list + "[" + n + "]";
      if (!t.isJsonObject()) {
        throw new InvalidBundleException("foley-bundle.json: " + w + " must be an object, found " + kind(t));
      }
      JsonObject to = t.getAsJsonObject();
      known(to, w, ignored, "name", "dtype", "shape");
      String name = str(to, "name", w);
      String dtype = str(to, "dtype", w);
      if (!TensorSpec.DTYPES.contains(dtype)) {
        throw new InvalidBundleException("foley-bundle.json: " + w + " dtype \"" + dtype + "\" is not supported (float32,"
            + " float16, bfloat16, int64)");
      }
      JsonElement she = field(to, "shape", w);
      if (!she.isJsonArray()) {
        throw new InvalidBundleException("foley-bundle.json: " + w + ".shape must be an array, found " + kind(she));
      }
      JsonArray sh = she.getAsJsonArray();
      long[] shape = new long[sh.size()];
      String[] symbols = new String[shape.length];
      for (int i = 0; i < shape.length; i++) {
        JsonElement d = sh.get(i);
        boolean symbolic = d.isJsonPrimitive() && d.getAsJsonPrimitive().isString() && !d.getAsString().isEmpty();
        symbols[i] = symbolic ? d.getAsString() : null;
        shape[i] = symbolic ? -1 : integralValue(d, 1, Integer.MAX_VALUE);
        if (shape[i] == Long.MIN_VALUE) {
          throw new InvalidBundleException("foley-bundle.json: " + w + ".shape[" + i + "] must be a positive integer or a"
              + " name (such as \"batch\") for a symbolic dimension, found " + kind(d));
        }
      }
      if (out.stream().anyMatch(x -> x.name().equals(name))) {
        throw new InvalidBundleException("foley-bundle.json: " + list + " declares \"" + name + "\" twice");
      }
      out.add(new TensorSpec(name, dtype, shape, symbols));
    }
    return out;
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

  private static boolean present(JsonObject o, String key) {
    return o.has(key) && !o.get(key).isJsonNull();
  }

  /** {@code v} as an int when it is whole (within 1e-9), else a refusal naming {@code what}. */
  private static int wholeOrRefuse(String what, double v, String alternative) {
    long r = Math.round(v);
    if (!(Math.abs(v - r) <= 1e-9 * Math.max(1, Math.abs(v))) || r <= 0 || r > Integer.MAX_VALUE) {
      throw new InvalidBundleException("foley-bundle.json: " + what + " must be a positive whole number, found " + v
          + " (" + alternative + ")");
    }
    return (int) r;
  }

  private static void positive(String what, double v) {
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new InvalidBundleException("foley-bundle.json: " + what + " must be positive, found " + v);
    }
  }

  private static void atMost(String what, double v, double max) {
    if (v > max) {
      throw new InvalidBundleException("foley-bundle.json: " + what + " is " + v + ", more than foley4j accepts (" + max
          + "); check the manifest");
    }
  }

  private static void integral(String what, double v) {
    if (Math.abs(v - Math.rint(v)) > 1e-6) {
      throw new InvalidBundleException("foley-bundle.json: " + what + " must be a whole number, found " + v
          + " (fixed-length segments need whole frames, latents and samples)");
    }
  }

  private static void positiveWhole(String what, double v) {
    if (Math.abs(v - Math.rint(v)) > 1e-6 || Math.rint(v) < 1) {
      throw new InvalidBundleException("foley-bundle.json: " + what + " must be a positive whole number, found " + v
          + " (each segment starts whole frames, latents and samples after the previous one)");
    }
  }

  @Override
  public String toString() {
    return "BundleManifest[" + name + ", segment " + segmentSeconds + " s, " + sampleRate + " Hz]";
  }
}
