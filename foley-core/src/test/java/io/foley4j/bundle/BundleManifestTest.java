package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import io.foley4j.video.ResizeFilter;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BundleManifestTest {

  @Test
  void derivesSegmentSizesFromRates() {
    BundleManifest m = TestManifests.parse(TestManifests.hvf());
    assertEquals(64, m.segment().visualFrames());
    assertEquals(200, m.segment().syncFrames());
    assertEquals(24, m.segment().syncWindows());
    assertEquals(192, m.segment().syncTokens());
    assertEquals(400, m.segment().latents());
    assertEquals(960, m.segment().samplesPerLatent());
    assertEquals(384000, m.segment().decodedSamples());
    assertEquals(48000, m.segment().overlapSamples());
    assertEquals(336000, m.segment().stepSamples());
    assertEquals(768, m.widths().visual());
    assertEquals(4.5f, m.sampler().cfgScale());
    assertEquals("noisy, harsh", m.sampler().negativePrompt());
  }

  @Test
  void refusesNewerFormatVersion() {
    JsonObject o = TestManifests.hvf();
    o.addProperty("formatVersion", BundleManifest.FORMAT_VERSION + 1);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("version " + (BundleManifest.FORMAT_VERSION + 1) + " is newer"), e.getMessage());
    JsonObject v2 = TestManifests.hvf();
    v2.addProperty("formatVersion", 2);
    assertEquals(2, BundleManifest.FORMAT_VERSION);
    assertEquals(TestManifests.parse(TestManifests.hvf()).files().digests(), TestManifests.parse(v2).files().digests(),
        "a v2 manifest without external data reads like v1");
    assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
  }

  @Test
  void refusesMissingStage() {
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject("stages").remove("denoiser");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("missing stage \"denoiser\""), e.getMessage());
  }

  @Test
  void refusesShapeThatDisagreesWithRates() {
    JsonObject o = TestManifests.hvf();
    // 7 s of latents instead of 8
    JsonArray shape = o.getAsJsonObject("stages").getAsJsonObject("denoiser").getAsJsonArray("inputs").get(0)
        .getAsJsonObject().getAsJsonArray("shape");
    shape.set(2, new com.google.gson.JsonPrimitive(350));
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("shape mismatch") && e.getMessage().contains("denoiser"), e.getMessage());
  }

  @Test
  void refusesHopThatIsNotWholeFrames() {
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject("segment").addProperty("overlapSeconds", 0.9);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("whole number"), e.getMessage());
  }

  @Test
  void refusesFileNamesThatLeaveTheBundle() {
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject("stages").getAsJsonObject("vae_decoder").addProperty("file", "../evil.onnx");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("plain file name"), e.getMessage());
  }

  @Test
  void refusesAbsurdSizes() {
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject("text").addProperty("maxTokens", 1_000_000_000);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("text.maxTokens") && e.getMessage().contains("more than"), e.getMessage());
  }

  @Test
  void refusesGarbage() {
    assertThrows(InvalidBundleException.class, () -> BundleManifest.parse("{not json"));
    assertThrows(InvalidBundleException.class, () -> BundleManifest.parse("[]"));
    JsonObject o = TestManifests.hvf();
    o.remove("sampler");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertTrue(e.getMessage().contains("sampler"), e.getMessage());
  }

  // ---- strict parsing: one row per rule (docs/bundle-format.md, "Strictness") ----------------

  private static String json(Consumer<JsonObject> change) {
    JsonObject o = TestManifests.hvf();
    change.accept(o);
    return o.toString();
  }

  private static JsonArray denoiserLatentsShape(JsonObject o) {
    return o.getAsJsonObject("stages").getAsJsonObject("denoiser").getAsJsonArray("inputs").get(0).getAsJsonObject()
        .getAsJsonArray("shape");
  }

  private static Arguments row(String rule, String json, String message) {
    return Arguments.of(rule, json, message);
  }

  static Stream<Arguments> strictRules() {
    String valid = TestManifests.hvf().toString();
    return Stream.of(
        row("shape dimension 128.5", json(o -> denoiserLatentsShape(o).set(1, new com.google.gson.JsonPrimitive(128.5))),
            "stages.denoiser.inputs[0].shape[1] must be a positive integer or a name"),
        row("shape dimension -1", json(o -> denoiserLatentsShape(o).set(1, new com.google.gson.JsonPrimitive(-1))),
            "stages.denoiser.inputs[0].shape[1] must be a positive integer or a name"),
        row("shape dimension true", json(o -> denoiserLatentsShape(o).set(1, new com.google.gson.JsonPrimitive(true))),
            "shape[1] must be a positive integer or a name"),
        row("shape dimension 1e20", json(o -> denoiserLatentsShape(o).set(1, new com.google.gson.JsonPrimitive(1e20))),
            "shape[1] must be a positive integer or a name"),
        row("shape dimension empty name", json(o -> denoiserLatentsShape(o).set(0, new com.google.gson.JsonPrimitive(""))),
            "shape[0] must be a positive integer or a name"),
        row("shape not an array", json(o -> o.getAsJsonObject("stages").getAsJsonObject("denoiser").getAsJsonArray("inputs")
            .get(0).getAsJsonObject().addProperty("shape", "batch")), "stages.denoiser.inputs[0].shape must be an array"),
        row("tensor declared twice", json(o -> {
          JsonArray in = o.getAsJsonObject("stages").getAsJsonObject("vae_decoder").getAsJsonArray("inputs");
          in.add(in.get(0).deepCopy());
        }), "stages.vae_decoder.inputs declares \"latents\" twice"),
        row("tensor entry not an object", json(o -> o.getAsJsonObject("stages").getAsJsonObject("vae_decoder")
            .getAsJsonArray("inputs").add(3)), "stages.vae_decoder.inputs[1] must be an object"),
        row("size 512.5", json(o -> o.getAsJsonObject("visual").addProperty("size", 512.5)),
            "visual.size must be an integer"),
        row("size 2^32 + 512 (wraps to 512 as an int)",
            json(o -> o.getAsJsonObject("visual").addProperty("size", 4294967808L)), "visual.size must be an integer"),
        row("sampleRate 48000.5", json(o -> o.getAsJsonObject("audio").addProperty("sampleRate", 48000.5)),
            "audio.sampleRate must be an integer"),
        row("maxTokens as a string", json(o -> o.getAsJsonObject("text").addProperty("maxTokens", "77")),
            "text.maxTokens must be an integer"),
        row("formatVersion 1.5", json(o -> o.addProperty("formatVersion", 1.5)), "formatVersion must be an integer"),
        row("steps 2.5", json(o -> o.getAsJsonObject("sampler").addProperty("steps", 2.5)), "sampler.steps must be an integer"),
        row("steps 0", json(o -> o.getAsJsonObject("sampler").addProperty("steps", 0)), "sampler.steps must be positive"),
        row("shift 0", json(o -> o.getAsJsonObject("sampler").addProperty("shift", 0)), "sampler.shift must be in (0, 100]"),
        row("shift -1", json(o -> o.getAsJsonObject("sampler").addProperty("shift", -1)), "sampler.shift must be in (0, 100]"),
        row("shift 1e400 (infinite)", valid.replace("\"shift\":1.0", "\"shift\":1e400"), "sampler.shift must be finite"),
        row("cfgScale -1", json(o -> o.getAsJsonObject("sampler").addProperty("cfgScale", -1)),
            "sampler.cfgScale must be in [0, 100]"),
        row("cfgScale 101", json(o -> o.getAsJsonObject("sampler").addProperty("cfgScale", 101)),
            "sampler.cfgScale must be in [0, 100]"),
        row("negativePrompt a number", json(o -> o.getAsJsonObject("sampler").addProperty("negativePrompt", 5)),
            "sampler.negativePrompt must be a string"),
        row("NaN literal", valid.replace("\"shift\":1.0", "\"shift\":NaN"), "malformed JSON"),
        row("duplicate top-level key", valid.replaceFirst("\\{", "{\"name\":\"other\","), "duplicate key \"name\" at $.name"),
        row("duplicate key in a stage", valid.replace("\"file\":\"denoiser.onnx\"",
            "\"file\":\"denoiser.onnx\",\"file\":\"x.onnx\""), "duplicate key \"file\" at $.stages.denoiser.file"),
        row("comment", valid.replaceFirst("\\{", "{ // a comment\n"), "malformed JSON"),
        row("single quotes", valid.replace("\"squash\"", "'squash'"), "malformed JSON"),
        row("trailing content", valid + " {}", "malformed JSON"),
        row("mean holds strings", json(o -> {
          JsonArray m = new JsonArray();
          m.add("0.5");
          m.add("0.5");
          m.add("0.5");
          o.getAsJsonObject("visual").add("mean", m);
        }), "visual.mean must be an array of 3 numbers"),
        row("mean holds an array", json(o -> o.getAsJsonObject("visual").getAsJsonArray("mean").set(0, new JsonArray())),
            "visual.mean must be an array of 3 numbers"),
        row("mean too large for float32", valid.replaceFirst("\"mean\":\\[0.5", "\"mean\":[1e39"),
            "visual.mean must be an array of 3 finite numbers"),
        row("overlap leaves no hop (rounds to 0 latents)", json(o -> o.getAsJsonObject("segment")
            .addProperty("overlapSeconds", 7.99999999)), "(segment.seconds − overlapSeconds) × visual.fps must be a"
            + " positive whole number"),
        row("fps as a string", json(o -> o.getAsJsonObject("visual").addProperty("fps", "8")), "visual.fps must be a number"),
        row("seconds true", json(o -> o.getAsJsonObject("segment").addProperty("seconds", true)),
            "segment.seconds must be a number"),
        row("stages an array", json(o -> o.add("stages", new JsonArray())), "\"stages\" must be an object"),
        row("visual null", json(o -> o.add("visual", com.google.gson.JsonNull.INSTANCE)), "\"visual\" must be an object"),
        row("unknown stage", json(o -> o.getAsJsonObject("stages").add("vocoder",
            o.getAsJsonObject("stages").get("vae_decoder").deepCopy())), "unknown stage \"vocoder\""),
        row("files entry not an object", json(o -> o.getAsJsonObject("files").addProperty("tokenizer", "tokenizer.json")),
            "\"files.tokenizer\" must be an object"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strictRules")
  void refusesWhatTheStrictRulesForbid(String rule, String json, String message) {
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> BundleManifest.parse(json), rule);
    assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
    assertTrue(e.getMessage().contains(message), rule + ": expected \"" + message + "\" in: " + e.getMessage());
  }

  @Test
  void acceptsIntegralNumbersWrittenWithAFractionOrExponent() {
    JsonObject o = TestManifests.hvf();
    String json = o.toString().replace("\"size\":512", "\"size\":512.0").replace("\"sampleRate\":48000",
        "\"sampleRate\":4.8e4");
    BundleManifest m = BundleManifest.parse(json);
    assertEquals(512, m.visual().size());
    assertEquals(48000, m.audio().sampleRate());
  }

  @Test
  void filterDefaultsToBilinear2tapAndAcceptsThePilFilters() {
    BundleManifest d = TestManifests.parse(TestManifests.hvf());
    assertEquals("bilinear-2tap", d.visual().filter());
    assertEquals("bilinear-2tap", d.sync().filter());
    assertEquals(ResizeFilter.BILINEAR_2TAP, d.visual().resizeFilter());
    assertEquals(ResizeFilter.BILINEAR_2TAP, d.sync().resizeFilter());
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject("visual").addProperty("filter", "pil-bilinear");
    o.getAsJsonObject("sync").addProperty("filter", "pil-bicubic");
    BundleManifest m = TestManifests.parse(o);
    assertEquals("pil-bilinear", m.visual().filter());
    assertEquals(ResizeFilter.PIL_BILINEAR, m.visual().resizeFilter());
    assertEquals("pil-bicubic", m.sync().filter());
    assertEquals(ResizeFilter.PIL_BICUBIC, m.sync().resizeFilter());
    assertEquals(List.of(), m.ignoredKeys());
    JsonObject n = TestManifests.hvf();
    n.getAsJsonObject("visual").add("filter", com.google.gson.JsonNull.INSTANCE);
    assertEquals("bilinear-2tap", TestManifests.parse(n).visual().filter());
    JsonObject e = TestManifests.hvf();
    e.getAsJsonObject("sync").addProperty("filter", "bilinear-2tap");
    assertEquals(ResizeFilter.BILINEAR_2TAP, TestManifests.parse(e).sync().resizeFilter());
  }

  @Test
  void frameRuleDefaultsToOnScreenAndAcceptsTheModelsRule() {
    assertEquals(BundleManifest.FrameRule.AT_OR_BEFORE, TestManifests.parse(TestManifests.hvf()).frameRule());
    JsonObject o = TestManifests.hvf();
    o.addProperty("frameRule", "at-or-after");
    BundleManifest m = TestManifests.parse(o);
    assertEquals(BundleManifest.FrameRule.AT_OR_AFTER, m.frameRule());
    assertEquals(List.of(), m.ignoredKeys());
    JsonObject bad = TestManifests.hvf();
    bad.addProperty("frameRule", "nearest");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(bad));
    assertTrue(e.getMessage().contains("frameRule must be") && e.getMessage().contains("nearest"), e.getMessage());
  }

  @Test
  void guidanceRuleDefaultsToHvfsAndAcceptsMmaudios() {
    BundleManifest.SamplerSpec.Guidance hvf = TestManifests.parse(TestManifests.hvf()).sampler().guidance();
    assertEquals(BundleManifest.SamplerSpec.Guidance.ABOVE_ONE, hvf);
    // HVF guides only above 1; MMAudio drops the unconditional branch only below 1
    assertEquals(List.of(false, false, true), List.of(hvf.guides(0.5), hvf.guides(1.0), hvf.guides(4.5)));
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject("sampler").addProperty("guidance", "at-least-one");
    BundleManifest.SamplerSpec.Guidance mm = TestManifests.parse(o).sampler().guidance();
    assertEquals(BundleManifest.SamplerSpec.Guidance.AT_LEAST_ONE, mm);
    assertEquals(List.of(false, true, true), List.of(mm.guides(0.5), mm.guides(1.0), mm.guides(4.5)));
    JsonObject bad = TestManifests.hvf();
    bad.getAsJsonObject("sampler").addProperty("guidance", "always");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(bad));
    assertTrue(e.getMessage().contains("sampler.guidance must be \"above-one\"") && e.getMessage().contains("always"),
        e.getMessage());
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"visual", "sync"})
  void refusesUnknownFilterNamingFieldAndAllowedValues(String stream) {
    JsonObject o = TestManifests.hvf();
    o.getAsJsonObject(stream).addProperty("filter", "lanczos");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o));
    assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
    assertTrue(e.getMessage().contains(stream + ".filter must be one of \"bilinear-2tap\", \"pil-bilinear\", "
        + "\"pil-bicubic\", \"torch-bicubic\", found \"lanczos\""), e.getMessage());
    JsonObject p = TestManifests.hvf();
    p.getAsJsonObject(stream).addProperty("filter", 3);
    e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(p));
    assertTrue(e.getMessage().contains(stream + ".filter must be a string"), e.getMessage());
    JsonObject q = TestManifests.hvf();
    q.getAsJsonObject(stream).addProperty("filter", "PIL-BICUBIC");
    e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(q));
    assertTrue(e.getMessage().contains(stream + ".filter must be one of"), e.getMessage());
  }

  @Test
  void ignoresButReportsUnknownKeys() {
    JsonObject o = TestManifests.hvf();
    o.addProperty("colour", "blue");
    o.addProperty("description", "provenance is fine");
    o.add("reference", new JsonObject());
    o.getAsJsonObject("sampler").addProperty("eta", 0.5);
    BundleManifest m = TestManifests.parse(o);
    assertEquals(List.of("colour", "sampler.eta"), m.ignoredKeys());
    assertEquals(List.of(), TestManifests.parse(TestManifests.hvf()).ignoredKeys());
  }
}
