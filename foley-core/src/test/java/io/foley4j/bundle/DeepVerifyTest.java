package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import io.foley4j.TestSupport;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link ModelBundle#verifyDeep()}: bundles whose hashes match but that can never load. */
class DeepVerifyTest {
  @TempDir
  Path tmp;

  @Test
  void theReferenceBundlePasses() {
    try (ModelBundle b = ModelBundle.open(TestSupport.referenceBundleDir())) {
      BundleVerification v = b.verifyDeep();
      assertEquals(7, v.checks().size(), v.checks().toString());
      for (Stage s : Stage.values()) {
        assertTrue(v.checks().stream().anyMatch(c -> c.startsWith("stage " + s.key() + ":")), v.checks().toString());
      }
      assertTrue(v.checks().stream().anyMatch(c -> c.startsWith("tokenizer.json:")), v.checks().toString());
      assertTrue(v.checks().stream().anyMatch(c -> c.startsWith("unconditional.safetensors:")), v.checks().toString());
      // each stage ran once, at batch 1 and the reference model's fixed (trained) lengths, and its outputs are finite
      assertTrue(v.checks().stream().anyMatch(c -> c.startsWith("stage denoiser:")
          && c.contains("run once on latents[1, 128, 400], timestep[1]") && c.contains("gives finite velocity[1, 128, 400]")),
          v.checks().toString());
      assertTrue(v.checks().stream().anyMatch(c -> c.startsWith("stage vae_decoder:")
          && c.contains("gives finite audio[1, 384000]")), v.checks().toString());
    }
  }

  @Test
  void nanWeightsInOneStageFailTheDeepCheckNamingTheStage() {
    Path d = TamperedBundles.write(tmp, TamperedBundles.Kind.NAN_WEIGHTS);
    try (ModelBundle b = ModelBundle.open(d)) { // hashes match: the shallow check passes
      InvalidBundleException e = assertThrows(InvalidBundleException.class, b::verifyDeep);
      assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
      assertTrue(e.getMessage().startsWith("stage denoiser (denoiser.onnx) produced non-finite values (NaN/Inf) in output"
          + " velocity"), e.getMessage());
      assertTrue(e.getMessage().contains("latents[1, 128, 400]") && e.getMessage().contains("re-export"), e.getMessage());
    }
  }

  @Test
  void anOutputOfAnotherShapeThanDeclaredIsRefusedNamingTheStage() {
    try (ModelBundle b = ModelBundle.open(TestSupport.referenceBundleDir())) {
      BundleManifest m = b.manifest();
      StageProbe probe = new StageProbe(m, b.tokenizer().encode("a door", m.text().maxTokens()));
      StageSpec vae = m.stage(Stage.VAE_DECODER);
      java.util.Map<String, io.foley4j.backend.Tensor> in = probe.inputs(vae);
      assertEquals(java.util.List.of(1L, 128L, 400L), java.util.Arrays.stream(in.get("latents").shape()).boxed().toList());
      // one sample short of what the manifest declares
      InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> probe.check(vae, in,
          java.util.Map.of("audio", io.foley4j.backend.Tensor.of(new float[383_999], 1, 383_999))));
      assertTrue(e.getMessage().startsWith("stage vae_decoder (vae_decoder.onnx) returned output audio of shape"
          + " [1, 383999]") && e.getMessage().contains("must be [1, 384000]"), e.getMessage());
      // an output missing altogether
      InvalidBundleException missing = assertThrows(InvalidBundleException.class, () -> probe.check(vae, in,
          java.util.Map.of("waveform", io.foley4j.backend.Tensor.of(new float[384_000], 1, 384_000))));
      assertTrue(missing.getMessage().contains("returned no output audio"), missing.getMessage());
      // an infinity is as bad as a NaN
      float[] audio = new float[384_000];
      audio[7] = Float.POSITIVE_INFINITY;
      InvalidBundleException inf = assertThrows(InvalidBundleException.class, () -> probe.check(vae, in,
          java.util.Map.of("audio", io.foley4j.backend.Tensor.of(audio, 1, 384_000))));
      assertTrue(inf.getMessage().contains("(1 of 384000, the first at index 7: Infinity)"), inf.getMessage());
      // and the right shape, finite, passes
      assertTrue(probe.check(vae, in, java.util.Map.of("audio", io.foley4j.backend.Tensor.of(new float[384_000], 1,
          384_000))).contains("gives finite audio[1, 384000]"));
    }
  }

  @ParameterizedTest
  @EnumSource(TamperedBundles.Kind.class)
  void refusesBundlesThatPassTheHashCheckButCannotLoad(TamperedBundles.Kind kind) {
    Path d = TamperedBundles.write(tmp, kind);
    try (ModelBundle b = ModelBundle.open(d)) { // the shallow check passes
      InvalidBundleException e = assertThrows(InvalidBundleException.class, b::verifyDeep);
      assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
      assertTrue(e.getMessage().contains(kind.file()), kind + ": " + e.getMessage());
      assertTrue(e.getMessage().contains("re-export") || e.getMessage().contains("re-download"),
          kind + " says what to do: " + e.getMessage());
    }
  }

  @Test
  void swappedStagesNameTheTensorsThatDiffer() {
    try (ModelBundle b = ModelBundle.open(TamperedBundles.write(tmp, TamperedBundles.Kind.SWAPPED_STAGES))) {
      InvalidBundleException e = assertThrows(InvalidBundleException.class, b::verifyDeep);
      assertTrue(e.getMessage().contains("text_encoder") && e.getMessage().contains("[latents]")
          && e.getMessage().contains("input_ids"), e.getMessage());
    }
  }

  @Test
  void aForeignStageIsAShapeMismatch() {
    try (ModelBundle b = ModelBundle.open(TamperedBundles.write(tmp, TamperedBundles.Kind.FOREIGN_STAGE))) {
      InvalidBundleException e = assertThrows(InvalidBundleException.class, b::verifyDeep);
      assertTrue(e.getMessage().contains("shape mismatch") && e.getMessage().contains("features"), e.getMessage());
    }
  }

  @Test
  void brokenSafetensorsReadAsPartOfABundleIsAnInvalidBundle() {
    try (ModelBundle b = ModelBundle.open(TamperedBundles.write(tmp, TamperedBundles.Kind.GARBAGE_SAFETENSORS))) {
      FoleyException e = assertThrows(FoleyException.class, b::unconditional);
      assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code(), e.toString());
      assertTrue(e.getMessage().contains("unconditional.safetensors") && e.getMessage().contains("re-download"),
          e.getMessage());
    }
    // read on its own, the same file is still a clear typed error of the reader
    Path f = TamperedBundles.write(tmp.resolve("plain"), TamperedBundles.Kind.GARBAGE_SAFETENSORS)
        .resolve("unconditional.safetensors");
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class, () -> Safetensors.read(f)).code());
  }

  @Test
  void unconditionalEmbeddingsMustHaveTheManifestsWidths() {
    try (ModelBundle b = ModelBundle.open(TamperedBundles.write(tmp, TamperedBundles.Kind.WRONG_UNCONDITIONAL))) {
      InvalidBundleException e = assertThrows(InvalidBundleException.class, b::unconditional);
      assertTrue(e.getMessage().contains("\"visual\"") && e.getMessage().contains("768"), e.getMessage());
    }
    try (ModelBundle b = ModelBundle.open(TestSupport.referenceBundleDir())) {
      ModelBundle.Unconditional u = b.unconditional();
      assertEquals(b.manifest().widths().visual(), u.visual().length);
      assertEquals(b.manifest().widths().sync(), u.sync().length);
      u.visual()[0] = 42f;
      assertFalse(b.unconditional().visual()[0] == 42f, "returns copies");
    }
  }

  @Test
  void garbageTokenizerReadAsPartOfABundleNamesTheFile() {
    try (ModelBundle b = ModelBundle.open(TamperedBundles.write(tmp, TamperedBundles.Kind.GARBAGE_TOKENIZER))) {
      InvalidBundleException e = assertThrows(InvalidBundleException.class, b::tokenizer);
      assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("re-download"), e.getMessage());
    }
    try (ModelBundle b = ModelBundle.open(TestSupport.referenceBundleDir())) {
      assertTrue(b.tokenizer() == b.tokenizer(), "read once per bundle");
      assertEquals(b.manifest().text().maxTokens(), b.tokenizer().encode("a door slams", b.manifest().text().maxTokens()).ids().length);
    }
  }
}
