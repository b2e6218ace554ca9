package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import io.foley4j.reference.ReferenceModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every byte a stage loads must be inside the bundle, listed in the manifest, hashed and covered by
 * the digest. The bundles here are built by hand: the reference model with external data, whose
 * denoiser.onnx is patched to read its weights from somewhere else, and whose manifest is re-hashed
 * so that every listed file's sha256 matches.
 */
class ExternalDataRulesTest {
  private static final String LOCATION = "denoiser.onnx.data"; // 18 bytes

  @TempDir Path tmp;

  private Path external(String name) {
    Path dir = tmp.resolve(name);
    ReferenceModel.writeBundle(dir, ReferenceModel.options().externalData(true).build());
    return dir;
  }

  /** Refused when the bundle opens (the shallow check too), so neither a deep check nor an engine ever loads it. */
  private static void assertRefused(Path dir, String... fragments) {
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(dir).close());
    assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
    assertTrue(e.getMessage().contains("denoiser.onnx"), e.getMessage());
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "\"" + f + "\" in: " + e.getMessage());
    }
  }

  @Test
  void theReferencesOfAModelAreReadWithoutLoadingIt() {
    Path dir = external("refs");
    List<OnnxExternalData.Ref> refs = OnnxExternalData.references(dir.resolve("denoiser.onnx"));
    assertTrue(refs.size() > 1, refs.toString());
    for (OnnxExternalData.Ref r : refs) {
      assertEquals(LOCATION, r.location(), r.toString());
      assertEquals(r.expectedBytes(), r.length(), r.toString());
      assertEquals(0, r.offset() % 4096, "aligned as the writer aligns them: " + r);
    }
    assertEquals(List.of(), OnnxExternalData.references(dir.resolve("vae_decoder.onnx")), "inline weights");
  }

  @Test
  void externalDataTheManifestDoesNotListIsRefused() throws IOException {
    try (ModelBundle b = ModelBundle.open(external("honest"))) {
      b.verifyDeep(); // the bundle it is made from passes
    }
    Path dir = TamperedBundles.externalDataElsewhere(tmp, "unlisted", "denoiser.other.dat");
    assertTrue(Files.exists(dir.resolve("denoiser.other.dat")), "other weights sit beside the model");
    assertRefused(dir, "denoiser.other.dat", "does not list");
  }

  @Test
  void externalDataOutsideTheBundleIsRefused() throws IOException {
    Path escape = TamperedBundles.externalDataElsewhere(tmp, "escape", "../xx/er.onnx.data");
    assertTrue(Files.exists(tmp.resolve("xx/er.onnx.data")), "other weights outside the bundle");
    assertRefused(escape, "../xx/er.onnx.data", "not a plain file name");
    Path absolute = TamperedBundles.externalDataElsewhere(tmp, "absolute", "/tmp/f4j-x/a.data0");
    assertRefused(absolute, "/tmp/f4j-x/a.data0", "not a plain file name");
  }

  @Test
  void aVersion1BundleWithExternalDataIsRefused() throws IOException {
    Path dir = external("v1");
    Path mf = dir.resolve(ModelBundle.MANIFEST);
    JsonObject o = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
    o.addProperty("formatVersion", 1);
    o.getAsJsonObject("stages").getAsJsonObject("denoiser").remove("externalData");
    Files.writeString(mf, o.toString());
    assertRefused(dir, LOCATION, "does not list");
  }

  @Test
  void truncatedExternalDataIsAnInvalidBundle() throws IOException {
    Path dir = external("truncated");
    Path data = dir.resolve(LOCATION);
    byte[] w = Files.readAllBytes(data);
    Files.write(data, Arrays.copyOf(w, w.length / 2));
    TamperedBundles.rehash(dir); // the manifest even agrees with the short file
    assertRefused(dir, LOCATION, "truncated");
  }

  @Test
  void missingOrChangedExternalDataIsAnInvalidBundleWhenTheBundleOpens() throws IOException {
    Path dir = external("changed");
    Path data = dir.resolve(LOCATION);
    byte[] w = Files.readAllBytes(data);
    w[7] ^= 1;
    Files.write(data, w);
    FoleyException e = assertThrows(FoleyException.class, () -> ModelBundle.open(dir));
    assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code(), e.toString());
    assertTrue(e.getMessage().contains("sha256 mismatch for " + LOCATION), e.getMessage());
    Files.delete(data);
    e = assertThrows(FoleyException.class, () -> ModelBundle.open(dir));
    assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code(), e.toString());
    assertTrue(e.getMessage().contains(LOCATION) && e.getMessage().contains("missing"), e.getMessage());
  }

  @Test
  void onnxRuntimeAloneReportsMissingOrTruncatedExternalDataAsAnInvalidBundle() throws IOException {
    // a host that opens a stage file with the backend directly, without ModelBundle's check
    Path dir = external("direct");
    StageSpec spec;
    try (ModelBundle b = ModelBundle.open(dir)) {
      spec = b.manifest().stage(Stage.DENOISER);
    }
    Path data = dir.resolve(LOCATION);
    byte[] w = Files.readAllBytes(data);
    io.foley4j.backend.CpuBackend cpu = io.foley4j.backend.CpuBackend.builder().intraOpThreads(1).build();
    Files.write(data, Arrays.copyOf(w, w.length / 2));
    FoleyException truncated = assertThrows(FoleyException.class, () -> cpu.open(spec, dir.resolve("denoiser.onnx")).close());
    assertEquals(FoleyException.Code.INVALID_BUNDLE, truncated.code(), truncated.toString());
    Files.delete(data);
    FoleyException missing = assertThrows(FoleyException.class, () -> cpu.open(spec, dir.resolve("denoiser.onnx")).close());
    assertEquals(FoleyException.Code.INVALID_BUNDLE, missing.code(), missing.toString());
  }
}
