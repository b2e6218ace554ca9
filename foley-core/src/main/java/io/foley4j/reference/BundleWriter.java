package io.foley4j.reference;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import io.foley4j.FoleyException;
import io.foley4j.bundle.Safetensors;
import io.foley4j.bundle.StageContract;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Writes the reference bundle (format v1; v2 with external data or a half-precision boundary) into a directory. */
final class BundleWriter {
  static final int VISUAL_FPS = 8;
  static final int SYNC_FPS = 25;
  static final int SYNC_WINDOW = 16;
  static final int SYNC_STRIDE = 8;
  static final int TOKENS_PER_WINDOW = 8;
  static final int LATENT_RATE = 50;
  static final int SAMPLE_RATE = 48000;
  static final int SAMPLES_PER_LATENT = SAMPLE_RATE / LATENT_RATE;
  static final int STEPS = 50;
  static final double CFG_SCALE = 4.5;
  static final String NEGATIVE_PROMPT = "noisy, harsh";
  static final String MANIFEST = "foley-bundle.json";

  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

  /** The denoiser's external-data file, when {@link ReferenceModel.Options#externalData()}. */
  static final String DENOISER_DATA = "denoiser.onnx.data";

  private BundleWriter() {}

  static void write(Path dir, ReferenceModel.Options o) {
    try {
      Files.createDirectories(dir);
      Bpe bpe = Bpe.reference();
      int d = o.embedDim();
      int c = o.latentChannels();
      int l = o.latentLength();
      String f = o.precision().dtype(); // the float tensors' dtype
      JsonObject stages = new JsonObject();
      stages.add("visual_encoder", stage(dir, "visual_encoder", Stages.visualEncoder(o),
          new Object[][] {{StageContract.Visual.PIXELS, f, new Object[] {"batch", 3, o.visualSize(), o.visualSize()}}},
          new Object[][] {{StageContract.Visual.FEATURES, f, new Object[] {"batch", d}}}));
      stages.add("sync_encoder", stage(dir, "sync_encoder", Stages.syncEncoder(o),
          new Object[][] {{StageContract.Sync.FRAMES, f, new Object[] {"batch", SYNC_WINDOW, 3, o.syncSize(), o.syncSize()}}},
          new Object[][] {{StageContract.Sync.TOKENS, f, new Object[] {"batch", TOKENS_PER_WINDOW, d}}}));
      stages.add("text_encoder", stage(dir, "text_encoder", Stages.textEncoder(o, bpe),
          new Object[][] {
            {StageContract.Text.INPUT_IDS, "int64", new Object[] {"batch", Bpe.MAX_TOKENS}},
            {StageContract.Text.ATTENTION_MASK, "int64", new Object[] {"batch", Bpe.MAX_TOKENS}}},
          new Object[][] {{StageContract.Text.EMBEDS, f, new Object[] {"batch", Bpe.MAX_TOKENS, d}}}));
      byte[] denoiserModel;
      JsonObject externalData = null;
      if (o.externalData()) {
        OnnxGraph.External ext = Stages.denoiserGraph(o).toModelWithExternalData(Stages.DENOISER_DOC,
            DENOISER_DATA);
        denoiserModel = ext.model();
        externalData = file(dir, DENOISER_DATA, ext.data());
      } else {
        denoiserModel = Stages.denoiser(o);
      }
      stages.add("denoiser", stage(dir, "denoiser", denoiserModel,
          new Object[][] {
            {StageContract.Denoiser.LATENTS, f, new Object[] {"batch", c, l}},
            {StageContract.Denoiser.TIMESTEP, f, new Object[] {"batch"}},
            {StageContract.Denoiser.VISUAL, f, new Object[] {"batch", o.visualFrames(), d}},
            {StageContract.Denoiser.SYNC, f, new Object[] {"batch", o.syncTokens(), d}},
            {StageContract.Denoiser.TEXT, f, new Object[] {"batch", Bpe.MAX_TOKENS, d}}},
          new Object[][] {{StageContract.Denoiser.VELOCITY, f, new Object[] {"batch", c, l}}}));
      if (externalData != null) {
        JsonArray list = new JsonArray();
        list.add(externalData);
        stages.getAsJsonObject("denoiser").add("externalData", list);
      }
      stages.add("vae_decoder", stage(dir, "vae_decoder", Stages.vaeDecoder(o),
          new Object[][] {{StageContract.Vae.LATENTS, f, new Object[] {"batch", c, l}}},
          new Object[][] {{StageContract.Vae.AUDIO, f, new Object[] {"batch", o.samples()}}}));

      JsonObject files = new JsonObject();
      files.add("tokenizer", file(dir, "tokenizer.json", tokenizerJson(bpe).getBytes(StandardCharsets.UTF_8)));
      files.add("unconditional", file(dir, "unconditional.safetensors", unconditional(o)));

      JsonObject m = new JsonObject();
      m.addProperty("format", "foley-bundle");
      // v2: external data, half-precision tensors
      m.addProperty("formatVersion", o.externalData() || o.precision() != ReferenceModel.Precision.FLOAT32 ? 2 : 1);
      m.addProperty("name", "foley4j-reference");
      m.addProperty("description", "Procedural reference model built into foley4j: motion in the 25 fps sync"
          + " stream makes sound at that moment, prompt words pick the timbre, still video is silent."
          + " Same stage contract as a HunyuanVideo-Foley export; no trained weights.");
      m.add("stages", stages);
      m.add("files", files);
      JsonObject visual = new JsonObject();
      visual.addProperty("fps", VISUAL_FPS);
      visual.addProperty("size", o.visualSize());
      visual.addProperty("resize", "squash");
      visual.add("mean", halfs());
      visual.add("std", halfs());
      m.add("visual", visual);
      JsonObject sync = new JsonObject();
      sync.addProperty("fps", SYNC_FPS);
      sync.addProperty("size", o.syncSize());
      sync.addProperty("resize", "center_crop");
      sync.addProperty("window", SYNC_WINDOW);
      sync.addProperty("stride", SYNC_STRIDE);
      sync.addProperty("tokensPerWindow", TOKENS_PER_WINDOW);
      sync.add("mean", halfs());
      sync.add("std", halfs());
      m.add("sync", sync);
      JsonObject text = new JsonObject();
      text.addProperty("maxTokens", Bpe.MAX_TOKENS);
      m.add("text", text);
      JsonObject latent = new JsonObject();
      latent.addProperty("rate", LATENT_RATE);
      latent.addProperty("channels", c);
      m.add("latent", latent);
      JsonObject audio = new JsonObject();
      audio.addProperty("sampleRate", SAMPLE_RATE);
      audio.addProperty("channels", 1);
      m.add("audio", audio);
      JsonObject segment = new JsonObject();
      segment.addProperty("seconds", o.segmentSeconds());
      segment.addProperty("overlapSeconds", o.overlapSeconds());
      m.add("segment", segment);
      JsonObject sampler = new JsonObject();
      sampler.addProperty("steps", STEPS);
      sampler.addProperty("cfgScale", CFG_SCALE);
      sampler.addProperty("shift", 1.0);
      sampler.addProperty("negativePrompt", NEGATIVE_PROMPT);
      sampler.addProperty("guidance", "above-one"); // as HunyuanVideo-Foley: guide only when cfg > 1
      m.add("sampler", sampler);
      JsonObject ref = new JsonObject();
      ref.addProperty("width", o.width());
      ref.addProperty("depth", o.depth());
      ref.addProperty("denoiserWidth", o.denoiserWidth());
      ref.addProperty("denoiserDepth", o.denoiserDepth());
      ref.addProperty("embedDim", o.embedDim());
      ref.addProperty("latentChannels", o.latentChannels());
      ref.addProperty("visualSize", o.visualSize());
      ref.addProperty("syncSize", o.syncSize());
      ref.addProperty("segmentSeconds", o.segmentSeconds());
      ref.addProperty("overlapSeconds", o.overlapSeconds());
      ref.addProperty("seed", o.seed());
      if (o.precision() != ReferenceModel.Precision.FLOAT32) {
        ref.addProperty("precision", o.precision().dtype()); // absent for float32: those bundles stay byte-identical
      }
      m.add("reference", ref);
      writeAtomically(dir.resolve(MANIFEST), (GSON.toJson(m) + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot write reference bundle to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The learned "empty" features: no brightness (visual 0..2) and no motion (sync 0/1), small noise elsewhere. */
  static byte[] unconditional(ReferenceModel.Options o) {
    int d = o.embedDim();
    Random rnd = Stages.rng(o.seed(), 6);
    float[] visual = Stages.gaussian(rnd, d, 0.02);
    float[] sync = Stages.gaussian(rnd, d, 0.02);
    visual[0] = visual[1] = visual[2] = 0f;
    sync[0] = sync[1] = 0f;
    Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
    t.put("visual", Safetensors.Tensor.f32(visual, d));
    t.put("sync", Safetensors.Tensor.f32(sync, d));
    return Safetensors.toBytes(t, Map.of("format", "pt", "producer", "foley4j-reference"));
  }

  /** A Hugging Face tokenizers file for the trained byte-level BPE. */
  static String tokenizerJson(Bpe bpe) {
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    JsonObject trunc = new JsonObject();
    trunc.addProperty("direction", "Right");
    trunc.addProperty("max_length", Bpe.MAX_TOKENS);
    trunc.addProperty("strategy", "LongestFirst");
    trunc.addProperty("stride", 0);
    root.add("truncation", trunc);
    JsonObject padding = new JsonObject();
    JsonObject strategy = new JsonObject();
    strategy.addProperty("Fixed", Bpe.MAX_TOKENS);
    padding.add("strategy", strategy);
    padding.addProperty("direction", "Right");
    padding.add("pad_to_multiple_of", JsonNull.INSTANCE);
    padding.addProperty("pad_id", Bpe.PAD_ID);
    padding.addProperty("pad_type_id", 0);
    padding.addProperty("pad_token", Bpe.PAD);
    root.add("padding", padding);
    JsonArray added = new JsonArray();
    String[] specials = {Bpe.BOS, Bpe.PAD, Bpe.EOS, Bpe.UNK};
    for (int i = 0; i < specials.length; i++) {
      JsonObject a = new JsonObject();
      a.addProperty("id", i);
      a.addProperty("content", specials[i]);
      a.addProperty("single_word", false);
      a.addProperty("lstrip", false);
      a.addProperty("rstrip", false);
      a.addProperty("normalized", false);
      a.addProperty("special", true);
      added.add(a);
    }
    root.add("added_tokens", added);
    JsonObject normalizer = new JsonObject();
    normalizer.addProperty("type", "Lowercase");
    root.add("normalizer", normalizer);
    root.add("pre_tokenizer", byteLevel());
    JsonObject post = new JsonObject();
    post.addProperty("type", "RobertaProcessing");
    post.add("sep", pair(Bpe.EOS, Bpe.EOS_ID));
    post.add("cls", pair(Bpe.BOS, Bpe.BOS_ID));
    post.addProperty("trim_offsets", true);
    post.addProperty("add_prefix_space", true);
    root.add("post_processor", post);
    root.add("decoder", byteLevel());
    JsonObject model = new JsonObject();
    model.addProperty("type", "BPE");
    model.add("dropout", JsonNull.INSTANCE);
    model.add("unk_token", JsonNull.INSTANCE);
    model.add("continuing_subword_prefix", JsonNull.INSTANCE);
    model.add("end_of_word_suffix", JsonNull.INSTANCE);
    model.addProperty("fuse_unk", false);
    model.addProperty("byte_fallback", false);
    model.addProperty("ignore_merges", false);
    JsonObject vocab = new JsonObject();
    bpe.vocab().forEach(vocab::addProperty);
    model.add("vocab", vocab);
    JsonArray merges = new JsonArray();
    for (String[] mg : bpe.merges()) {
      merges.add(mg[0] + " " + mg[1]);
    }
    model.add("merges", merges);
    root.add("model", model);
    return GSON.toJson(root) + "\n";
  }

  private static JsonObject byteLevel() {
    JsonObject o = new JsonObject();
    o.addProperty("type", "ByteLevel");
    o.addProperty("add_prefix_space", true);
    o.addProperty("trim_offsets", true);
    o.addProperty("use_regex", true);
    return o;
  }

  private static JsonArray pair(String token, int id) {
    JsonArray a = new JsonArray();
    a.add(token);
    a.add(id);
    return a;
  }

  private static JsonArray halfs() {
    JsonArray a = new JsonArray();
    a.add(0.5);
    a.add(0.5);
    a.add(0.5);
    return a;
  }

  private static JsonObject stage(Path dir, String name, byte[] model, Object[][] inputs, Object[][] outputs) throws IOException {
    JsonObject s = file(dir, name + ".onnx", model);
    s.add("inputs", ios(inputs));
    s.add("outputs", ios(outputs));
    return s;
  }

  private static JsonArray ios(Object[][] specs) {
    JsonArray a = new JsonArray();
    for (Object[] spec : specs) {
      JsonObject io = new JsonObject();
      io.addProperty("name", (String) spec[0]);
      io.addProperty("dtype", (String) spec[1]);
      JsonArray shape = new JsonArray();
      for (Object d : (Object[]) spec[2]) {
        JsonElement e = d instanceof String s ? new com.google.gson.JsonPrimitive(s)
            : new com.google.gson.JsonPrimitive(((Number) d).longValue());
        shape.add(e);
      }
      io.add("shape", shape);
      a.add(io);
    }
    return a;
  }

  private static JsonObject file(Path dir, String fileName, byte[] content) throws IOException {
    writeAtomically(dir.resolve(fileName), content);
    JsonObject f = new JsonObject();
    f.addProperty("file", fileName);
    f.addProperty("sha256", sha256(content));
    return f;
  }

  static String sha256(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new FoleyException(FoleyException.Code.INTERNAL, "SHA-256 is not available", e);
    }
  }

  private static void writeAtomically(Path target, byte[] content) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.write(tmp, content);
    try {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (java.nio.file.AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
