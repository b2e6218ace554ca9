package io.foley4j.bundle;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.InvalidBundleException;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bundle format v2: a stage's weights in ONNX external data, listed with their SHA-256, verified,
 * covered by the digest and extracted from archives; v1 bundles still open.
 */
class ExternalDataTest {
  @TempDir Path tmp;

  private Path write(String name, boolean external) {
    Path dir = tmp.resolve(name);
    ReferenceModel.writeBundle(dir, ReferenceModel.options().externalData(external).build());
    return dir;
  }

  @Test
  void aDenoiserWithExternalDataRunsExactlyLikeTheInlineOne() throws Exception {
    Path inline = write("inline", false);
    Path external = write("external", true);
    long inlineSize = Files.size(inline.resolve("denoiser.onnx"));
    long headerSize = Files.size(external.resolve("denoiser.onnx"));
    assertTrue(Files.size(external.resolve("denoiser.onnx.data")) > 100_000, "the weights moved out");
    assertTrue(headerSize * 10 < inlineSize, "the model file holds only the graph: " + headerSize + " vs " + inlineSize);
    Path video = tmp.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).flash(1, 0.12, 0xFFFFFF).build(), video);
    FoleyRequest r = FoleyRequest.builder(video).prompt("glass").steps(3).build();
    float[] a;
    float[] b;
    try (ModelBundle bi = ModelBundle.open(inline); FoleyEngine e = FoleyEngine.builder().bundle(bi).build()) {
      assertEquals(List.of(), bi.manifest().files().externalData().get(Stage.DENOISER), "v1: weights inside the model");
      a = e.generate(r).toArray();
    }
    try (ModelBundle be = ModelBundle.open(external); FoleyEngine e = FoleyEngine.builder().bundle(be).build()) {
      assertEquals(List.of("denoiser.onnx.data"), be.manifest().files().externalData().get(Stage.DENOISER));
      assertTrue(be.manifest().files().digests().containsKey("denoiser.onnx.data"));
      be.verifyDeep();
      b = e.generate(r).toArray();
    }
    assertArrayEquals(a, b, "the same weights give the same audio");
  }

  @Test
  void externalDataIsVerifiedAndCoveredByTheDigest() throws Exception {
    Path dir = write("tamper", true);
    String before;
    try (ModelBundle b = ModelBundle.open(dir)) {
      before = b.digest();
    }
    Path data = dir.resolve("denoiser.onnx.data");
    byte[] bytes = Files.readAllBytes(data);
    bytes[bytes.length / 2] ^= 1;
    Files.write(data, bytes);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(dir));
    assertTrue(e.getMessage().contains("denoiser.onnx.data"), e.getMessage());
    Files.delete(data);
    FoleyException missing = assertThrows(FoleyException.class, () -> ModelBundle.open(dir));
    assertEquals(FoleyException.Code.INVALID_BUNDLE, missing.code(), missing.toString());
    Path other = write("other-seed", false);
    try (ModelBundle b = ModelBundle.open(other)) {
      assertNotEquals(before, b.digest());
    }
  }

  @Test
  void aZipOfAV2BundleOpensWithItsExternalData() throws Exception {
    Path dir = write("zipped", true);
    Path zip = tmp.resolve("bundle.zip");
    try (OutputStream os = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(os);
        Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        z.putNextEntry(new ZipEntry("bundle/" + f.getFileName()));
        z.write(Files.readAllBytes(f));
        z.closeEntry();
      }
    }
    try (ModelBundle b = ModelBundle.open(zip)) {
      assertEquals(List.of("denoiser.onnx.data"), b.manifest().files().externalData().get(Stage.DENOISER));
      b.verifyDeep(); // ONNX Runtime finds the data beside the extracted model
    }
  }

  @Test
  void externalDataNeedsFormatVersion2AndOneRolePerFile() throws Exception {
    Path dir = write("rules", true);
    Path manifest = dir.resolve(ModelBundle.MANIFEST);
    String text = Files.readString(manifest);
    JsonObject v1 = JsonParser.parseString(text).getAsJsonObject();
    v1.addProperty("formatVersion", 1);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> BundleManifest.parse(
        v1.toString()));
    assertTrue(e.getMessage().contains("externalData needs formatVersion 2"), e.getMessage());
    JsonObject twice = JsonParser.parseString(text).getAsJsonObject();
    JsonArray list = twice.getAsJsonObject("stages").getAsJsonObject("denoiser").getAsJsonArray("externalData");
    list.get(0).getAsJsonObject().addProperty("file", "tokenizer.json");
    e = assertThrows(InvalidBundleException.class, () -> BundleManifest.parse(
        twice.toString()));
    assertTrue(e.getMessage().contains("\"tokenizer.json\" is listed twice"), e.getMessage());
    JsonObject v3 = JsonParser.parseString(text).getAsJsonObject();
    v3.addProperty("formatVersion", 3);
    e = assertThrows(InvalidBundleException.class, () -> BundleManifest.parse(
        v3.toString()));
    assertTrue(e.getMessage().contains("version 3 is newer"), e.getMessage());
  }
}
