package io.foley4j.bundle;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

/** Builds manifest JSON with HunyuanVideo-Foley's shapes for tests that need one without ONNX files. */
public final class TestManifests {
  private TestManifests() {}

  public static final String ZERO_SHA = "0".repeat(64);

  public static JsonObject hvf() {
    JsonObject r = new JsonObject();
    r.addProperty("format", "foley-bundle");
    r.addProperty("formatVersion", 1);
    r.addProperty("name", "test");
    JsonObject st = new JsonObject();
    st.add("visual_encoder", stage("visual_encoder.onnx", arr(t("pixels", "float32", "batch", 3, 512, 512)),
        arr(t("features", "float32", "batch", 768))));
    st.add("sync_encoder", stage("sync_encoder.onnx", arr(t("frames", "float32", "batch", 16, 3, 224, 224)),
        arr(t("tokens", "float32", "batch", 8, 768))));
    st.add("text_encoder", stage("text_encoder.onnx",
        arr(t("input_ids", "int64", "batch", 77), t("attention_mask", "int64", "batch", 77)),
        arr(t("text_embeds", "float32", "batch", 77, 768))));
    st.add("denoiser", stage("denoiser.onnx", arr(t("latents", "float32", "batch", 128, 400),
        t("timestep", "float32", "batch"), t("visual", "float32", "batch", 64, 768),
        t("sync", "float32", "batch", 192, 768), t("text", "float32", "batch", 77, 768)),
        arr(t("velocity", "float32", "batch", 128, 400))));
    st.add("vae_decoder", stage("vae_decoder.onnx", arr(t("latents", "float32", "batch", 128, 400)),
        arr(t("audio", "float32", "batch", 384000))));
    r.add("stages", st);
    JsonObject files = new JsonObject();
    files.add("tokenizer", file("tokenizer.json"));
    files.add("unconditional", file("unconditional.safetensors"));
    r.add("files", files);
    JsonObject v = new JsonObject();
    v.addProperty("fps", 8);
    v.addProperty("size", 512);
    v.addProperty("resize", "squash");
    v.add("mean", nums(0.5, 0.5, 0.5));
    v.add("std", nums(0.5, 0.5, 0.5));
    r.add("visual", v);
    JsonObject s = new JsonObject();
    s.addProperty("fps", 25);
    s.addProperty("size", 224);
    s.addProperty("resize", "center_crop");
    s.addProperty("window", 16);
    s.addProperty("stride", 8);
    s.addProperty("tokensPerWindow", 8);
    s.add("mean", nums(0.5, 0.5, 0.5));
    s.add("std", nums(0.5, 0.5, 0.5));
    r.add("sync", s);
    JsonObject text = new JsonObject();
    text.addProperty("maxTokens", 77);
    r.add("text", text);
    JsonObject lat = new JsonObject();
    lat.addProperty("rate", 50);
    lat.addProperty("channels", 128);
    r.add("latent", lat);
    JsonObject au = new JsonObject();
    au.addProperty("sampleRate", 48000);
    au.addProperty("channels", 1);
    r.add("audio", au);
    JsonObject seg = new JsonObject();
    seg.addProperty("seconds", 8.0);
    seg.addProperty("overlapSeconds", 1.0);
    r.add("segment", seg);
    JsonObject sa = new JsonObject();
    sa.addProperty("steps", 50);
    sa.addProperty("cfgScale", 4.5);
    sa.addProperty("shift", 1.0);
    sa.addProperty("negativePrompt", "noisy, harsh");
    r.add("sampler", sa);
    return r;
  }

  /**
   * HunyuanVideo-Foley's v2 contract: pair-longest text on symbolic text axes, one pass up to 15 s
   * on symbolic length axes, frames at or after t, PIL filters.
   */
  public static JsonObject hvfV2() {
    JsonObject r = hvf();
    r.addProperty("formatVersion", 2);
    r.addProperty("frameRule", "at-or-after");
    JsonObject st = r.getAsJsonObject("stages");
    st.add("text_encoder", stage("text_encoder.onnx",
        arr(t("input_ids", "int64", "batch", "tokens"), t("attention_mask", "int64", "batch", "tokens")),
        arr(t("text_embeds", "float32", "batch", "tokens", 768))));
    st.add("denoiser", stage("denoiser.onnx", arr(t("latents", "float32", "batch", 128, "latent_len"),
        t("timestep", "float32", "batch"), t("visual", "float32", "batch", "visual_len", 768),
        t("sync", "float32", "batch", "sync_len", 768), t("text", "float32", "batch", "text_len", 768)),
        arr(t("velocity", "float32", "batch", 128, "latent_len"))));
    st.add("vae_decoder", stage("vae_decoder.onnx", arr(t("latents", "float32", "batch", 128, "latent_len")),
        arr(t("audio", "float32", "batch", "audio_len"))));
    r.getAsJsonObject("text").addProperty("padding", "pair-longest");
    r.getAsJsonObject("text").addProperty("encoderMaxTokens", 512);
    r.getAsJsonObject("segment").addProperty("singlePassMaxSeconds", 15.0);
    r.getAsJsonObject("segment").addProperty("singlePassLength", "sync-frames");
    r.addProperty("frameGrid", "accumulated");
    r.getAsJsonObject("visual").addProperty("filter", "pil-bilinear");
    r.getAsJsonObject("sync").addProperty("filter", "pil-bicubic");
    return r;
  }

  /**
   * MMAudio's 44.1 kHz shape: 345 latents and 353,280 samples per 8 s segment (hop 1024, trimmed
   * to 352,800), fixed 77-token text, single passes up to 8 s, guidance at-least-one.
   */
  public static JsonObject mmaudio() {
    JsonObject r = hvfV2();
    JsonObject st = r.getAsJsonObject("stages");
    st.add("visual_encoder", stage("visual_encoder.onnx", arr(t("pixels", "float32", "batch", 3, 384, 384)),
        arr(t("features", "float32", "batch", 1024))));
    st.add("text_encoder", stage("text_encoder.onnx",
        arr(t("input_ids", "int64", "batch", 77), t("attention_mask", "int64", "batch", 77)),
        arr(t("text_embeds", "float32", "batch", 77, 1024))));
    st.add("denoiser", stage("denoiser.onnx", arr(t("latents", "float32", "batch", 40, "latent_len"),
        t("timestep", "float32", "batch"), t("visual", "float32", "batch", "visual_len", 1024),
        t("sync", "float32", "batch", "sync_len", 768), t("text", "float32", "batch", 77, 1024)),
        arr(t("velocity", "float32", "batch", 40, "latent_len"))));
    st.add("vae_decoder", stage("vae_decoder.onnx", arr(t("latents", "float32", "batch", 40, "latent_len")),
        arr(t("audio", "float32", "batch", "audio_len"))));
    r.getAsJsonObject("visual").addProperty("size", 384);
    JsonObject text = new JsonObject();
    text.addProperty("maxTokens", 77);
    text.addProperty("padding", "fixed");
    r.add("text", text);
    r.getAsJsonObject("latent").addProperty("rate", 44100 / 1024.0);
    r.getAsJsonObject("latent").addProperty("channels", 40);
    r.getAsJsonObject("audio").addProperty("sampleRate", 44100);
    JsonObject seg = r.getAsJsonObject("segment");
    seg.addProperty("singlePassMaxSeconds", 8.0);
    seg.addProperty("singlePassLength", "shortest-stream");
    seg.addProperty("latents", 345);
    seg.addProperty("samples", 353280);
    r.getAsJsonObject("sampler").addProperty("guidance", "at-least-one");
    r.getAsJsonObject("sampler").addProperty("negativePrompt", "");
    return r;
  }

  public static BundleManifest parse(JsonObject o) {
    return BundleManifest.parse(new GsonBuilder().create().toJson(o));
  }

  private static JsonObject stage(String file, JsonArray in, JsonArray out) {
    JsonObject o = file(file);
    o.add("inputs", in);
    o.add("outputs", out);
    return o;
  }

  private static JsonObject file(String f) {
    JsonObject o = new JsonObject();
    o.addProperty("file", f);
    o.addProperty("sha256", ZERO_SHA);
    return o;
  }

  private static JsonArray arr(JsonObject... ts) {
    JsonArray a = new JsonArray();
    for (JsonObject t : ts) {
      a.add(t);
    }
    return a;
  }

  private static JsonObject t(String name, String dtype, Object... shape) {
    JsonObject o = new JsonObject();
    o.addProperty("name", name);
    o.addProperty("dtype", dtype);
    JsonArray s = new JsonArray();
    for (Object d : shape) {
      if (d instanceof String str) {
        s.add(str);
      } else {
        s.add((Integer) d);
      }
    }
    o.add("shape", s);
    return o;
  }

  private static JsonArray nums(double... v) {
    JsonArray a = new JsonArray();
    for (double d : v) {
      a.add(d);
    }
    return a;
  }
}
