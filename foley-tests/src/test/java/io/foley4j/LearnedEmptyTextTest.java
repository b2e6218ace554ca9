package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Safetensors;
import io.foley4j.bundle.Stage;
import io.foley4j.video.SyntheticVideo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MMAudio's learned empty prompt: a {@code text} tensor in {@code unconditional.safetensors} is the
 * unconditional text row of a guided request that gives no negative prompt (when the bundle's own
 * default negative prompt is empty); a request's negative prompt is still encoded.
 */
class LearnedEmptyTextTest {
  @TempDir Path tmp;

  /** A copy of the reference bundle with an empty default negative prompt and a learned text of {@code fill}. */
  private Path bundleWithLearnedText(long[] shape, float fill) throws Exception {
    Path dir = tmp.resolve("bundle-" + Arrays.toString(shape).replaceAll("\\D+", "-"));
    TestSupport.copyReferenceBundle(dir);
    Path manifest = dir.resolve(ModelBundle.MANIFEST);
    JsonObject o = JsonParser.parseString(Files.readString(manifest)).getAsJsonObject();
    o.getAsJsonObject("sampler").addProperty("negativePrompt", "");
    JsonObject uf = o.getAsJsonObject("files").getAsJsonObject("unconditional");
    Path uncond = dir.resolve(uf.get("file").getAsString());
    Safetensors.Contents old = Safetensors.read(uncond);
    int n = Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b));
    float[] text = new float[n];
    Arrays.fill(text, fill);
    Map<String, Safetensors.Tensor> tensors = new java.util.HashMap<>(old.tensors());
    tensors.put("text", Safetensors.Tensor.f32(text, shape));
    byte[] bytes = Safetensors.toBytes(tensors, Map.of());
    Files.write(uncond, bytes);
    uf.addProperty("sha256", java.util.HexFormat.of().formatHex(
        java.security.MessageDigest.getInstance("SHA-256").digest(bytes)));
    Files.writeString(manifest, o.toString(), StandardCharsets.UTF_8);
    return dir;
  }

  @Test
  void theLearnedEmptyTextIsTheUnconditionalRowWhenNoNegativePromptIsGiven() throws Exception {
    Path video = tmp.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).flash(1, 0.12, 0xFFFFFF).build(), video);
    BundleManifest m = TestSupport.referenceBundle().manifest();
    int n = m.text().maxTokens();
    int d = m.widths().text();
    Path dir = bundleWithLearnedText(new long[] {1, n, d}, 0.25f);
    List<Long> textRows = new CopyOnWriteArrayList<>();
    List<float[]> denoiserText = new CopyOnWriteArrayList<>();
    InterceptingBackend spy = new InterceptingBackend();
    spy.fail = (stage, in) -> {
      if (stage == Stage.TEXT_ENCODER) {
        textRows.add(in.get("input_ids").dim(0));
      } else if (stage == Stage.DENOISER && in.get("text").dim(0) == 2) {
        denoiserText.add(in.get("text").floats().clone());
      }
      return false;
    };
    try (ModelBundle b = ModelBundle.open(dir);
        FoleyEngine engine = FoleyEngine.builder().bundle(b).backend(spy).maxBatchSize(1).build()) {
      assertTrue(b.unconditional().text().isPresent());
      textRows.clear();
      denoiserText.clear();
      engine.generate(FoleyRequest.builder(video).prompt("glass").cfgScale(4.5).steps(2).build());
      assertEquals(List.of(1L), textRows, "only the prompt is encoded");
      assertEquals(2, denoiserText.size());
      float[] row1 = Arrays.copyOfRange(denoiserText.get(0), n * d, 2 * n * d);
      float[] want = new float[n * d];
      Arrays.fill(want, 0.25f);
      assertArrayEquals(want, row1, "the unconditional text row is the learned tensor");

      textRows.clear();
      denoiserText.clear();
      engine.generate(FoleyRequest.builder(video).prompt("glass").negativePrompt("thunder").cfgScale(4.5).steps(2)
          .build());
      assertEquals(List.of(2L), textRows, "a negative prompt of the request is encoded");
      float[] encoded = Arrays.copyOfRange(denoiserText.get(0), n * d, 2 * n * d);
      assertTrue(!Arrays.equals(want, encoded));
    }
  }

  @Test
  void aLearnedTextOfTheWrongShapeIsAnInvalidBundle() throws Exception {
    BundleManifest m = TestSupport.referenceBundle().manifest();
    Path dir = bundleWithLearnedText(new long[] {m.text().maxTokens() + 1, m.widths().text()}, 0f);
    try (ModelBundle b = ModelBundle.open(dir)) {
      FoleyException e = assertThrows(FoleyException.class, b::unconditional);
      assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
      assertTrue(e.getMessage().contains("\"text\"") && e.getMessage().contains("maxTokens"), e.getMessage());
    }
  }
}
