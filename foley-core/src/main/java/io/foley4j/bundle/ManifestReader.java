package io.foley4j.bundle;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import io.foley4j.bundle.BundleManifest.AudioSpec;
import io.foley4j.bundle.BundleManifest.FileSpec;
import io.foley4j.bundle.BundleManifest.FrameGrid;
import io.foley4j.bundle.BundleManifest.FrameRule;
import io.foley4j.bundle.BundleManifest.LatentSpec;
import io.foley4j.bundle.BundleManifest.PassLength;
import io.foley4j.bundle.BundleManifest.SamplerSpec;
import io.foley4j.bundle.BundleManifest.SegmentSpec;
import io.foley4j.bundle.BundleManifest.SyncSpec;
import io.foley4j.bundle.BundleManifest.TextPadding;
import io.foley4j.bundle.BundleManifest.TextSpec;
import io.foley4j.bundle.BundleManifest.VisualSpec;
import io.foley4j.bundle.BundleManifest.Widths;
import io.foley4j.text.StrictJson;
import io.foley4j.video.ResizeFilter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Reads {@code foley-bundle.json} into a {@link BundleManifest}: one method per manifest section,
 * then the checks that relate the sections, always in the same order, then what a valid manifest
 * derives (the segment's sizes, the feature widths, the file list).
 */
final class ManifestReader {

  /** The resampling filter a stream gets when its manifest names none: foley4j's original one. */
  private static final String DEFAULT_FILTER = "bilinear-2tap";

  private ManifestReader() {}

  /** The {@code stages} section as read: each stage, and the {file, sha256} of the ONNX external data of those that have some. */
  private record StageSection(Map<Stage, StageSpec> specs, Map<Stage, List<String[]>> external) {
  }

  /**
   * The {@code segment} section as read, before the rates turn it into a {@link SegmentSpec};
   * {@code singlePassMaxSeconds} is NaN when absent.
   */
  private record SegmentSection(double seconds, double overlapSeconds, double singlePassMaxSeconds,
      PassLength passLength, int latents, int samplesPerLatent) {
  }

  static BundleManifest read(String json) {
    JsonObject root = rootObject(json);
    List<String> ignored = new ArrayList<>();
    known(root, null, ignored, "format", "formatVersion", "name", "description", "reference", "stages", "files",
        "visual", "sync", "text", "latent", "audio", "segment", "sampler", "frameRule", "frameGrid");
    int version = formatVersion(root);
    String name = root.has("name") ? str(root, "name") : "unnamed";
    StageSection stages = stages(root, version, ignored);
    Map<String, String[]> files = files(root, ignored);
    VisualSpec visual = visual(root, ignored);
    SyncSpec sync = sync(root, ignored);
    TextSpec text = text(root, version, ignored);
    LatentSpec latent = latent(root, ignored);
    AudioSpec audio = audio(root, ignored);
    SegmentSection segment = segment(root, version, latent.rate(), audio.sampleRate(), ignored);
    FrameGrid frameGrid = frameGrid(root, version);
    SamplerSpec sampler = sampler(root, ignored);
    FrameRule frameRule = present(root, "frameRule") ? FrameRule.fromManifest(str(root, "frameRule"))
        : FrameRule.AT_OR_BEFORE;

    validate(stages, files, visual, sync, text, latent, audio, segment, sampler);

    BundleManifest m = new BundleManifest(name, stages.specs(), fileSpec(stages, files), visual, sync, text, latent,
        audio, segmentSpec(segment, visual, sync, audio), sampler, widths(stages.specs()), frameRule, frameGrid,
        ignored);
    if (!ignored.isEmpty()) {
      System.getLogger("io.foley4j.bundle").log(System.Logger.Level.WARNING, "foley-bundle.json of " + name
          + ": ignoring keys this foley4j does not know: " + ignored + " (a newer format revision or a typo)");
    }
    return m;
  }

  private static JsonObject rootObject(String json) {
    JsonElement e = StrictJson.parse(json, ModelBundle.MANIFEST, FoleyException.Code.INVALID_BUNDLE);
    if (!e.isJsonObject()) {
      throw new InvalidBundleException("foley-bundle.json must hold a JSON object, found " + kind(e));
    }
    return e.getAsJsonObject();
  }

  /** {@code format} and {@code formatVersion}: the version, 1 up to {@link BundleManifest#FORMAT_VERSION}. */
  private static int formatVersion(JsonObject root) {
    String format = str(root, "format");
    if (!"foley-bundle".equals(format)) {
      throw new InvalidBundleException("foley-bundle.json: \"format\" must be \"foley-bundle\", found \"" + format + "\"");
    }
    int version = integer(root, "formatVersion");
    if (version > BundleManifest.FORMAT_VERSION) {
      throw new InvalidBundleException("bundle format version " + version + " is newer than this foley4j supports ("
          + BundleManifest.FORMAT_VERSION + "); upgrade foley4j or re-export the bundle as version " + BundleManifest.FORMAT_VERSION);
    }
    if (version < 1) {
      throw new InvalidBundleException("foley-bundle.json: invalid formatVersion " + version);
    }
    return version;
  }

  /** {@code stages}: exactly the five stages, each with its file, hash, tensors and external data. */
  private static StageSection stages(JsonObject root, int version, List<String> ignored) {
    JsonObject st = obj(root, "stages");
    for (String key : st.keySet()) {
      if (java.util.Arrays.stream(Stage.values()).noneMatch(s -> s.key().equals(key))) {
        throw new InvalidBundleException("foley-bundle.json: unknown stage \"" + key + "\" in \"stages\" (format v1 has "
            + java.util.Arrays.stream(Stage.values()).map(Stage::key).toList() + "); a bundle with other stages needs"
            + " a newer foley4j or a re-export");
      }
    }
    Map<Stage, StageSpec> specs = new EnumMap<>(Stage.class);
    Map<Stage, List<String[]>> external = new EnumMap<>(Stage.class);
    for (Stage s : Stage.values()) {
      if (!st.has(s.key())) {
        throw new InvalidBundleException("bundle is missing stage \"" + s.key() + "\" in foley-bundle.json (a bundle needs all of "
            + java.util.Arrays.stream(Stage.values()).map(Stage::key).toList() + ")");
      }
      JsonObject so = obj(st, s.key(), "stages");
      String where = "stages." + s.key();
      known(so, where, ignored, "file", "sha256", "inputs", "outputs", "externalData", "workingMemory", "weights");
      boolean bf16 = false;
      if (present(so, "weights")) {
        String w = str(so, "weights", where);
        if (!w.equals("bfloat16") && !w.equals("float32")) {
          throw new InvalidBundleException("foley-bundle.json: " + where + ".weights must be \"float32\" or \"bfloat16\","
              + " found \"" + w + "\"; re-export the stage");
        }
        bf16 = w.equals("bfloat16");
      }
      StageSpec spec = new StageSpec(s, safeName(str(so, "file", where), where), sha(str(so, "sha256", where), where),
          tensors(so, "inputs", where, ignored), tensors(so, "outputs", where, ignored),
          present(so, "workingMemory") ? workingMemory(so, s, where, ignored) : null, bf16);
      specs.put(s, spec);
      if (version < 2) {
        for (TensorSpec t : java.util.stream.Stream.concat(spec.inputs().stream(), spec.outputs().stream()).toList()) {
          if (t.isHalf()) {
            throw new InvalidBundleException("foley-bundle.json: " + where + " tensor \"" + t.name() + "\" has dtype "
                + t.dtype() + ", which needs formatVersion 2 (this manifest says " + version + "); write \"formatVersion\": 2");
          }
        }
      }
      if (so.has("externalData")) {
        external.put(s, externalData(so, where, version, ignored));
      }
    }
    return new StageSection(specs, external);
  }

  /** Largest byte count a working-memory point may give: 1 PiB, far above any device. */
  static final long MAX_WORKING_BYTES = 1L << 50;

  /**
   * A stage's {@code workingMemory}: {@code batch}, {@code points} ({@code latents}, {@code bytes}
   * and an optional {@code fixed} each; the denoiser's and the VAE decoder's with increasing latents
   * and bytes that do not decrease, the encoders' one point without latents), an optional {@code
   * method} and an optional {@code fixed}.
   */
  private static WorkingMemory workingMemory(JsonObject so, Stage s, String stageWhere, List<String> ignored) {
    JsonObject wo = obj(so, "workingMemory", stageWhere);
    String where = stageWhere + ".workingMemory";
    known(wo, where, ignored, "batch", "points", "method", "fixed");
    long fixed = 0;
    if (present(wo, "fixed")) {
      fixed = integralValue(field(wo, "fixed", where), 0, MAX_WORKING_BYTES);
      if (fixed == Long.MIN_VALUE) {
        throw new InvalidBundleException("foley-bundle.json: " + where + ".fixed must be an integer in 0..2^50, found "
            + kind(wo.get("fixed")));
      }
    }
    int batch = integer(wo, "batch", where);
    if (batch < 1 || batch > 65536) {
      throw new InvalidBundleException("foley-bundle.json: " + where + ".batch must be in 1..65536, found " + batch);
    }
    WorkingMemory.Method method = null;
    if (present(wo, "method")) {
      String m = str(wo, "method", where);
      method = java.util.Arrays.stream(WorkingMemory.Method.values()).filter(x -> x.manifestName().equals(m))
          .findFirst().orElseThrow(() -> new InvalidBundleException("foley-bundle.json: " + where
              + ".method must be \"measured\" or \"graph\", found \"" + m + "\""));
    }
    JsonElement pe = field(wo, "points", where);
    boolean lengths = s == Stage.DENOISER || s == Stage.VAE_DECODER;
    if (!pe.isJsonArray() || pe.getAsJsonArray().isEmpty() || pe.getAsJsonArray().size() > 64
        || !lengths && pe.getAsJsonArray().size() != 1) {
      throw new InvalidBundleException("foley-bundle.json: " + where + ".points must be an array of "
          + (lengths ? "1 to 64 {\"latents\", \"bytes\"} objects" : "one {\"bytes\"} object") + ", found "
          + (pe.isJsonArray() ? "an array of " + pe.getAsJsonArray().size() : kind(pe))
          + "; re-measure it with the export tool (foley_export memory) or remove " + where);
    }
    int n = pe.getAsJsonArray().size();
    int[] latents = lengths ? new int[n] : null;
    long[] bytes = new long[n];
    long[] pointFixed = null;
    for (int i = 0; i < n; i++) {
      String w = where + ".points[" + i + "]";
      JsonElement el = pe.getAsJsonArray().get(i);
      if (!el.isJsonObject()) {
        throw new InvalidBundleException("foley-bundle.json: " + w + " must be an object, found " + kind(el));
      }
      JsonObject po = el.getAsJsonObject();
      known(po, w, ignored, "latents", "bytes", "fixed");
      if (present(po, "fixed")) {
        long f = integralValue(field(po, "fixed", w), 0, MAX_WORKING_BYTES);
        if (f == Long.MIN_VALUE) {
          throw new InvalidBundleException("foley-bundle.json: " + w + ".fixed must be an integer in 0..2^50, found "
              + kind(po.get("fixed")));
        }
        if (pointFixed == null) {
          pointFixed = new long[n];
        }
        pointFixed[i] = f;
      }
      long b = integralValue(field(po, "bytes", w), 0, MAX_WORKING_BYTES);
      if (b == Long.MIN_VALUE) {
        throw new InvalidBundleException("foley-bundle.json: " + w + ".bytes must be an integer in 0..2^50, found "
            + kind(po.get("bytes")));
      }
      bytes[i] = b;
      if (lengths) {
        int l = integer(po, "latents", w);
        if (l < 1 || l > (1 << 20)) {
          throw new InvalidBundleException("foley-bundle.json: " + w + ".latents must be in 1..2^20, found " + l);
        }
        if (i > 0 && l <= latents[i - 1]) {
          throw new InvalidBundleException("foley-bundle.json: " + w + ".latents must be larger than the point"
              + " before it (" + latents[i - 1] + "), found " + l);
        }
        if (i > 0 && b < bytes[i - 1]) {
          throw new InvalidBundleException("foley-bundle.json: " + w + ".bytes (" + b + ") is less than the shorter"
              + " pass's before it (" + bytes[i - 1] + "): a longer pass cannot work in less memory; re-export the"
              + " bundle or remove " + where);
        }
        latents[i] = l;
      } else if (present(po, "latents")) {
        throw new InvalidBundleException("foley-bundle.json: " + w + " has latents, but stage " + s.key()
            + " has no pass length (only the denoiser's and the VAE decoder's points do)");
      }
    }
    return new WorkingMemory(batch, latents, bytes, pointFixed, method, fixed);
  }

  /** A stage's {@code externalData} (format version 2): {file, sha256} per file. */
  private static List<String[]> externalData(JsonObject so, String where, int version, List<String> ignored) {
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
    return List.copyOf(list);
  }

  /** {@code files}: the tokenizer and the unconditional embeddings, key to {file, sha256}. */
  private static Map<String, String[]> files(JsonObject root, List<String> ignored) {
    Map<String, String[]> files = new LinkedHashMap<>();
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
    return files;
  }

  private static VisualSpec visual(JsonObject root, List<String> ignored) {
    JsonObject v = obj(root, "visual");
    known(v, "visual", ignored, "fps", "size", "resize", "filter", "mean", "std");
    return new VisualSpec(num(v, "fps", "visual"), integer(v, "size", "visual"),
        resize(str(v, "resize", "visual"), "visual"), floats3(v, "mean", "visual"), floats3(v, "std", "visual"),
        filter(v, "visual"));
  }

  private static SyncSpec sync(JsonObject root, List<String> ignored) {
    JsonObject sy = obj(root, "sync");
    known(sy, "sync", ignored, "fps", "size", "resize", "filter", "window", "stride", "tokensPerWindow", "mean", "std");
    return new SyncSpec(num(sy, "fps", "sync"), integer(sy, "size", "sync"), resize(str(sy, "resize", "sync"), "sync"),
        integer(sy, "window", "sync"), integer(sy, "stride", "sync"), integer(sy, "tokensPerWindow", "sync"),
        floats3(sy, "mean", "sync"), floats3(sy, "std", "sync"), filter(sy, "sync"));
  }

  private static TextSpec text(JsonObject root, int version, List<String> ignored) {
    JsonObject tx = obj(root, "text");
    known(tx, "text", ignored, "maxTokens", "padding", "encoderMaxTokens");
    int maxTokens = integer(tx, "maxTokens", "text");
    TextPadding padding = present(tx, "padding") ? TextPadding.fromManifest(str(tx, "padding", "text")) : TextPadding.FIXED;
    int encoderMax = present(tx, "encoderMaxTokens") ? integer(tx, "encoderMaxTokens", "text") : maxTokens;
    if (present(tx, "padding") || present(tx, "encoderMaxTokens")) {
      requireVersion2(version);
    }
    return new TextSpec(maxTokens, padding, encoderMax);
  }

  private static LatentSpec latent(JsonObject root, List<String> ignored) {
    JsonObject lat = obj(root, "latent");
    known(lat, "latent", ignored, "rate", "channels");
    return new LatentSpec(num(lat, "rate", "latent"), integer(lat, "channels", "latent"));
  }

  private static AudioSpec audio(JsonObject root, List<String> ignored) {
    JsonObject au = obj(root, "audio");
    known(au, "audio", ignored, "sampleRate", "channels");
    return new AudioSpec(integer(au, "sampleRate", "audio"), integer(au, "channels", "audio"));
  }

  /**
   * {@code segment}: its length and overlap, single passes, and the latents and samples per latent
   * (stated, or implied by {@code latentRate} and {@code sampleRate}).
   */
  private static SegmentSection segment(JsonObject root, int version, double latentRate, int sampleRate,
      List<String> ignored) {
    JsonObject seg = obj(root, "segment");
    known(seg, "segment", ignored, "seconds", "overlapSeconds", "singlePassMaxSeconds", "singlePassLength", "latents",
        "samples");
    double seconds = num(seg, "seconds", "segment");
    if (present(seg, "singlePassMaxSeconds") || present(seg, "singlePassLength") || present(seg, "latents")
        || present(seg, "samples")) {
      requireVersion2(version);
    }
    if (present(seg, "singlePassLength") && !present(seg, "singlePassMaxSeconds")) {
      throw new InvalidBundleException("foley-bundle.json: segment.singlePassLength needs segment.singlePassMaxSeconds "
          + "(it is the rule for single passes)");
    }
    PassLength passLength = present(seg, "singlePassLength")
        ? PassLength.fromManifest(str(seg, "singlePassLength", "segment")) : PassLength.DURATION;
    if (present(seg, "samples") && !present(seg, "latents")) {
      throw new InvalidBundleException("foley-bundle.json: segment.samples needs segment.latents (the decoder's hop is "
          + "samples / latents)");
    }
    int latents = present(seg, "latents") ? integer(seg, "latents", "segment") : wholeOrRefuse(
        "segment.seconds × latent.rate", seconds * latentRate, "or state segment.latents and segment.samples");
    int samplesPerLatent;
    if (present(seg, "samples")) {
      int samples = integer(seg, "samples", "segment");
      positive("segment.latents", latents);
      if (samples <= 0 || samples % latents != 0) {
        throw new InvalidBundleException("foley-bundle.json: segment.samples must be a positive multiple of "
            + "segment.latents (the decoder's hop is samples / latents), found " + samples + " samples for " + latents
            + " latents");
      }
      samplesPerLatent = samples / latents;
    } else {
      samplesPerLatent = wholeOrRefuse("audio.sampleRate / latent.rate (the decoder hop)", sampleRate / latentRate,
          "or state segment.latents and segment.samples");
    }
    double singlePass = present(seg, "singlePassMaxSeconds") ? num(seg, "singlePassMaxSeconds", "segment") : Double.NaN;
    return new SegmentSection(seconds, num(seg, "overlapSeconds", "segment"), singlePass, passLength, latents,
        samplesPerLatent);
  }

  private static SamplerSpec sampler(JsonObject root, List<String> ignored) {
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
    SamplerSpec.Guidance guidance = present(sa, "guidance")
        ? SamplerSpec.Guidance.fromManifest(str(sa, "guidance", "sampler")) : SamplerSpec.Guidance.ABOVE_ONE;
    return new SamplerSpec(steps, (float) cfg, (float) shift, str(sa, "negativePrompt", "sampler"), guidance);
  }

  private static FrameGrid frameGrid(JsonObject root, int version) {
    if (!present(root, "frameGrid")) {
      return FrameGrid.EXACT;
    }
    requireVersion2(version);
    return FrameGrid.fromManifest(str(root, "frameGrid"));
  }

  /** Refuses a version-1 manifest that uses a field of version 2. */
  private static void requireVersion2(int version) {
    if (version < 2) {
      throw new InvalidBundleException("foley-bundle.json: text.padding, text.encoderMaxTokens, "
          + "segment.singlePassMaxSeconds, segment.singlePassLength, segment.latents, segment.samples and frameGrid "
          + "need formatVersion 2 (this manifest says " + version + "); write \"formatVersion\": 2");
    }
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

  // ---- what a validated manifest derives ---------------------------------------------------------

  private static FileSpec fileSpec(StageSection stages, Map<String, String[]> files) {
    Map<Stage, List<String>> external = new EnumMap<>(Stage.class);
    Map<String, String> digests = new LinkedHashMap<>();
    for (StageSpec s : stages.specs().values()) {
      digests.put(s.file(), s.sha256());
      List<String[]> x = stages.external().getOrDefault(s.stage(), List.of());
      x.forEach(f -> digests.put(f[0], f[1]));
      external.put(s.stage(), x.stream().map(f -> f[0]).toList());
    }
    files.values().forEach(f -> digests.put(f[0], f[1]));
    return new FileSpec(files.get("tokenizer")[0], files.get("unconditional")[0], external, digests);
  }

  private static SegmentSpec segmentSpec(SegmentSection s, VisualSpec visual, SyncSpec sync, AudioSpec audio) {
    int syncFrames = (int) Math.round(s.seconds() * sync.fps());
    int windows = (syncFrames - sync.window()) / sync.stride() + 1;
    return new SegmentSpec(s.seconds(), s.overlapSeconds(),
        Double.isNaN(s.singlePassMaxSeconds()) ? OptionalDouble.empty() : OptionalDouble.of(s.singlePassMaxSeconds()),
        s.passLength(), (int) Math.round(s.seconds() * visual.fps()), syncFrames, windows,
        windows * sync.tokensPerWindow(), s.latents(), s.samplesPerLatent(),
        (int) Math.round(s.seconds() * audio.sampleRate()), (int) Math.round(s.overlapSeconds() * audio.sampleRate()));
  }

  /** The widths of the encoders' first outputs, which {@link #shapes} has checked. */
  private static Widths widths(Map<Stage, StageSpec> stages) {
    return new Widths((int) stages.get(Stage.VISUAL_ENCODER).outputs().get(0).dim(1),
        (int) stages.get(Stage.SYNC_ENCODER).outputs().get(0).dim(2),
        (int) stages.get(Stage.TEXT_ENCODER).outputs().get(0).dim(2));
  }

  // ---- validation across sections ----------------------------------------------------------------

  /** The checks that relate the sections, always in this order (a manifest with several faults names the same one). */
  private static void validate(StageSection stages, Map<String, String[]> files, VisualSpec visual, SyncSpec sync,
      TextSpec text, LatentSpec latent, AudioSpec audio, SegmentSection segment, SamplerSpec sampler) {
    oneRolePerFile(stages, files);
    ranges(visual, sync, text, latent, audio, segment, sampler);
    wholeSegments(visual, sync, audio, segment);
    shapes(stages.specs(), visual, sync, text, latent, audio, segment);
  }

  private static void oneRolePerFile(StageSection stages, Map<String, String[]> files) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    List<String> all = new ArrayList<>();
    stages.specs().values().forEach(st -> all.add(st.file()));
    stages.external().values().forEach(l -> l.forEach(x -> all.add(x[0])));
    files.values().forEach(x -> all.add(x[0]));
    for (String name : all) {
      if (!seen.add(name)) {
        throw new InvalidBundleException("foley-bundle.json: the file \"" + name + "\" is listed twice; every file "
            + "of a bundle has one role (a stage, its external data, the tokenizer or the embeddings)");
      }
    }
  }

  /** Every number in its range, and the text limits consistent. */
  private static void ranges(VisualSpec visual, SyncSpec sync, TextSpec text, LatentSpec latent, AudioSpec audio,
      SegmentSection segment, SamplerSpec sampler) {
    positive("visual.fps", visual.fps());
    positive("visual.size", visual.size());
    positive("sync.fps", sync.fps());
    positive("sync.size", sync.size());
    positive("sync.window", sync.window());
    positive("sync.stride", sync.stride());
    positive("sync.tokensPerWindow", sync.tokensPerWindow());
    positive("text.maxTokens", text.maxTokens());
    positive("latent.rate", latent.rate());
    positive("latent.channels", latent.channels());
    positive("audio.sampleRate", audio.sampleRate());
    positive("segment.seconds", segment.seconds());
    positive("sampler.steps", sampler.steps());
    // sanity bounds: a typo or a hostile manifest must not make the engine allocate gigabytes
    atMost("visual.size", visual.size(), 4096);
    atMost("sync.size", sync.size(), 4096);
    atMost("visual.fps", visual.fps(), 240);
    atMost("sync.fps", sync.fps(), 240);
    atMost("sync.window", sync.window(), 1024);
    atMost("sync.tokensPerWindow", sync.tokensPerWindow(), 4096);
    atMost("text.maxTokens", text.maxTokens(), 8192);
    atMost("latent.rate", latent.rate(), 48000);
    atMost("latent.channels", latent.channels(), 8192);
    atMost("audio.sampleRate", audio.sampleRate(), 384000);
    atMost("segment.seconds", segment.seconds(), 600);
    atMost("sampler.steps", sampler.steps(), 1000);
    if (audio.channels() != 1) {
      throw new InvalidBundleException("audio.channels is " + audio.channels() + "; foley4j format v1 supports mono (1) only");
    }
    if (segment.overlapSeconds() < 0 || segment.overlapSeconds() >= segment.seconds()) {
      throw new InvalidBundleException("segment.overlapSeconds must be in [0, segment.seconds), found "
          + segment.overlapSeconds());
    }
    for (float s : visual.std()) {
      positive("visual.std", s);
    }
    for (float s : sync.std()) {
      positive("sync.std", s);
    }
    int maxTokens = text.maxTokens();
    int encoderMaxTokens = text.encoderMaxTokens();
    positive("text.encoderMaxTokens", encoderMaxTokens);
    atMost("text.encoderMaxTokens", encoderMaxTokens, 8192);
    if (text.padding() == TextPadding.FIXED && encoderMaxTokens != maxTokens) {
      throw new InvalidBundleException("foley-bundle.json: text.encoderMaxTokens (" + encoderMaxTokens + ") differs from "
          + "text.maxTokens (" + maxTokens + "), which only text.padding \"pair-longest\" allows (with \"fixed\" every "
          + "text is encoded at exactly maxTokens)");
    }
    if (encoderMaxTokens < maxTokens) {
      throw new InvalidBundleException("foley-bundle.json: text.encoderMaxTokens (" + encoderMaxTokens + ") must be at "
          + "least text.maxTokens (" + maxTokens + ")");
    }
    positive("segment.latents", segment.latents());
    atMost("segment.latents", segment.latents(), 1 << 20);
    positive("the decoder hop (samples per latent)", segment.samplesPerLatent());
    atMost("the decoder hop (samples per latent)", segment.samplesPerLatent(), 1 << 16);
  }

  /**
   * Segments of whole frames, covered by the decoded samples, advancing by whole frames (so that
   * consecutive segments share sampling times), tiled by whole sync windows.
   */
  private static void wholeSegments(VisualSpec visual, SyncSpec sync, AudioSpec audio, SegmentSection segment) {
    double seconds = segment.seconds();
    integral("segment.seconds × visual.fps", seconds * visual.fps());
    integral("segment.seconds × sync.fps", seconds * sync.fps());
    int latents = segment.latents();
    int samplesPerLatent = segment.samplesPerLatent();
    int kept = (int) Math.round(seconds * audio.sampleRate());
    if ((long) latents * samplesPerLatent < kept) {
      throw new InvalidBundleException("foley-bundle.json: a segment's " + latents + " latents × hop "
          + samplesPerLatent + " = " + (long) latents * samplesPerLatent + " samples do not cover segment.seconds × "
          + "audio.sampleRate = " + kept + " samples");
    }
    double singlePass = segment.singlePassMaxSeconds();
    if (!Double.isNaN(singlePass) && !(singlePass >= seconds && singlePass <= 600)) {
      throw new InvalidBundleException("foley-bundle.json: segment.singlePassMaxSeconds must be in [segment.seconds, "
          + "600], found " + singlePass);
    }
    double step = seconds - segment.overlapSeconds();
    positiveWhole("(segment.seconds − overlapSeconds) × visual.fps", step * visual.fps());
    positiveWhole("(segment.seconds − overlapSeconds) × sync.fps", step * sync.fps());
    int syncFrames = (int) Math.round(seconds * sync.fps());
    if (syncFrames < sync.window() || (syncFrames - sync.window()) % sync.stride() != 0) {
      throw new InvalidBundleException("sync windows do not tile the segment: " + syncFrames
          + " frames, window " + sync.window() + ", stride " + sync.stride());
    }
  }

  /** Every stage declares the tensors, element types and sizes the rates imply. */
  private static void shapes(Map<Stage, StageSpec> stages, VisualSpec visual, SyncSpec sync, TextSpec text,
      LatentSpec latent, AudioSpec audio, SegmentSection segment) {
    boolean single = !Double.isNaN(segment.singlePassMaxSeconds());
    boolean pairLongest = text.padding() == TextPadding.PAIR_LONGEST;
    String rates = "(segment " + segment.seconds() + " s, visual " + visual.fps() + " fps, sync " + sync.fps()
        + " fps, latent " + latent.rate() + "/s, " + audio.sampleRate() + " Hz" + (single ? ", single passes up to "
        + segment.singlePassMaxSeconds() + " s need symbolic length axes" : "") + (pairLongest
        ? ", text.padding pair-longest needs symbolic text axes" : "") + ")";
    int visualFrames = (int) Math.round(segment.seconds() * visual.fps());
    int syncFrames = (int) Math.round(segment.seconds() * sync.fps());
    int syncTokens = ((syncFrames - sync.window()) / sync.stride() + 1) * sync.tokensPerWindow();
    int channels = latent.channels();
    long b = -1;
    long vn = length(visualFrames, single);
    long sn = length(syncTokens, single);
    long ln = length(segment.latents(), single);
    long tn = length(text.maxTokens(), pairLongest);
    expect(stages, rates, Stage.VISUAL_ENCODER, true, StageContract.Visual.PIXELS, "float32", b, 3, visual.size(), visual.size());
    expect(stages, rates, Stage.VISUAL_ENCODER, false, StageContract.Visual.FEATURES, "float32", b, -2);
    long vd = stages.get(Stage.VISUAL_ENCODER).outputs().get(0).dim(1);
    expect(stages, rates, Stage.SYNC_ENCODER, true, StageContract.Sync.FRAMES, "float32", b, sync.window(), 3, sync.size(), sync.size());
    expect(stages, rates, Stage.SYNC_ENCODER, false, StageContract.Sync.TOKENS, "float32", b, sync.tokensPerWindow(), -2);
    long sd = stages.get(Stage.SYNC_ENCODER).outputs().get(0).dim(2);
    expect(stages, rates, Stage.TEXT_ENCODER, true, StageContract.Text.INPUT_IDS, "int64", b, tn);
    expect(stages, rates, Stage.TEXT_ENCODER, true, StageContract.Text.ATTENTION_MASK, "int64", b, tn);
    expect(stages, rates, Stage.TEXT_ENCODER, false, StageContract.Text.EMBEDS, "float32", b, tn, -2);
    long td = stages.get(Stage.TEXT_ENCODER).outputs().get(0).dim(2);
    expect(stages, rates, Stage.DENOISER, true, StageContract.Denoiser.LATENTS, "float32", b, channels, ln);
    expect(stages, rates, Stage.DENOISER, true, StageContract.Denoiser.TIMESTEP, "float32", b);
    expect(stages, rates, Stage.DENOISER, true, StageContract.Denoiser.VISUAL, "float32", b, vn, vd);
    expect(stages, rates, Stage.DENOISER, true, StageContract.Denoiser.SYNC, "float32", b, sn, sd);
    expect(stages, rates, Stage.DENOISER, true, StageContract.Denoiser.TEXT, "float32", b, tn, td);
    expect(stages, rates, Stage.DENOISER, false, StageContract.Denoiser.VELOCITY, "float32", b, channels, ln);
    expect(stages, rates, Stage.VAE_DECODER, true, StageContract.Vae.LATENTS, "float32", b, channels, ln);
    expect(stages, rates, Stage.VAE_DECODER, false, StageContract.Vae.AUDIO, "float32", b,
        single ? SYMBOLIC : length(segment.latents() * segment.samplesPerLatent(), false));
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

  /**
   * Checks that a stage declares exactly one tensor of this name, type and shape (-1: batch, -2: any
   * positive); {@code rates} ends the refusal.
   */
  private static void expect(Map<Stage, StageSpec> stages, String rates, Stage stage, boolean input, String tensor,
      String dtype, long... shape) {
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
          + " does not match what the manifest's rates imply: " + tensor + ":" + w + "] " + rates);
    }
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
}
