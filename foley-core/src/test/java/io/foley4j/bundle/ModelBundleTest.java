package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.InvalidBundleException;
import io.foley4j.TestSupport;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelBundleTest {
  /** foley-core has no decoder of its own; these engines fail before any video is opened. */
  private static final io.foley4j.video.VideoSourceFactory NO_DECODER =
      io.foley4j.video.SyntheticVideo.builder().build().asFactory();

  @TempDir
  Path tmp;

  private Path copyOfReference() throws IOException {
    Path d = tmp.resolve("bundle");
    Files.createDirectories(d);
    try (Stream<Path> s = Files.list(TestSupport.referenceBundleDir())) {
      for (Path p : s.toList()) {
        Files.copy(p, d.resolve(p.getFileName()));
      }
    }
    return d;
  }

  @Test
  void opensAndVerifiesADirectory() throws IOException {
    try (ModelBundle b = ModelBundle.open(copyOfReference())) {
      assertEquals(64, b.digest().length());
      assertEquals(8.0, b.manifest().segment().seconds());
      assertTrue(Files.exists(b.stageFile(Stage.DENOISER)));
    }
  }

  @Test
  void digestChangesWithAnyFile() throws IOException {
    Path d = copyOfReference();
    String before;
    try (ModelBundle b = ModelBundle.open(d)) {
      before = b.digest();
    }
    Path other = tmp.resolve("other");
    io.foley4j.reference.ReferenceModel.writeBundle(other, io.foley4j.reference.ReferenceModel.options().seed(1).build());
    try (ModelBundle b = ModelBundle.open(other)) {
      assertNotEquals(before, b.digest());
    }
  }

  @Test
  void refusesATamperedFile() throws IOException {
    Path d = copyOfReference();
    Path onnx = d.resolve("denoiser.onnx");
    byte[] bytes = Files.readAllBytes(onnx);
    bytes[bytes.length / 2] ^= 1;
    Files.write(onnx, bytes);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d));
    assertTrue(e.getMessage().contains("sha256 mismatch for denoiser.onnx"), e.getMessage());
  }

  @Test
  void refusesAMissingStageFile() throws IOException {
    Path d = copyOfReference();
    Files.delete(d.resolve("vae_decoder.onnx"));
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d));
    assertTrue(e.getMessage().contains("vae_decoder.onnx") && e.getMessage().contains("missing"), e.getMessage());
  }

  @Test
  void refusesASymlinkedFile() throws IOException {
    Path d = copyOfReference();
    Path real = tmp.resolve("elsewhere.json");
    Files.move(d.resolve("tokenizer.json"), real);
    Files.createSymbolicLink(d.resolve("tokenizer.json"), real);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d));
    assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
  }

  @Test
  void refusesADirectoryWithoutManifest() {
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(tmp));
    assertTrue(e.getMessage().contains("foley-bundle.json"), e.getMessage());
  }

  @Test
  void missingPathIsAnIoError() {
    FoleyException e = assertThrows(FoleyException.class, () -> ModelBundle.open(tmp.resolve("nope")));
    assertEquals(FoleyException.Code.IO, e.code());
  }

  @Test
  void opensTarGzAndZipAndDeletesTheExtractionOnClose() throws IOException {
    Path d = copyOfReference();
    Path tgz = tmp.resolve("b.tar.gz");
    Path zip = tmp.resolve("b.zip");
    writeTarGz(tgz, d, "reference/", null);
    writeZip(zip, d, "", null);
    for (Path archive : new Path[] {tgz, zip}) {
      Path extracted;
      try (ModelBundle b = ModelBundle.open(archive)) {
        extracted = b.directory();
        assertTrue(Files.exists(b.stageFile(Stage.TEXT_ENCODER)));
        try (ModelBundle plain = ModelBundle.open(d)) {
          assertEquals(plain.digest(), b.digest(), "same files, same digest");
        }
      }
      assertFalse(Files.exists(extracted), "extracted files are deleted on close");
    }
  }

  @Test
  void refusesZipSlip() throws IOException {
    Path d = copyOfReference();
    Path zip = tmp.resolve("slip.zip");
    writeZip(zip, d, "", "../escaped.txt");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(zip));
    assertTrue(e.getMessage().contains("path traversal"), e.getMessage());
    assertFalse(Files.exists(tmp.resolve("escaped.txt")));
    Path tgz = tmp.resolve("slip.tgz");
    writeTarGz(tgz, d, "", "../../escaped.txt");
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(tgz));
  }

  @Test
  void refusesLinksInArchives() throws IOException {
    Path tgz = tmp.resolve("link.tgz");
    try (TarArchiveOutputStream out = new TarArchiveOutputStream(new GzipCompressorOutputStream(Files.newOutputStream(tgz)))) {
      TarArchiveEntry e = new TarArchiveEntry("tokenizer.json", TarArchiveEntry.LF_SYMLINK);
      e.setLinkName("/etc/passwd");
      out.putArchiveEntry(e);
      out.closeArchiveEntry();
    }
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(tgz));
    assertTrue(e.getMessage().contains("link"), e.getMessage());
  }

  @Test
  void refusesArchivesOverTheSizeLimit() throws IOException {
    Path d = copyOfReference();
    Path zip = tmp.resolve("big.zip");
    writeZip(zip, d, "", null);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(zip, 100_000));
    assertTrue(e.getMessage().contains("limit of 100000 bytes"), e.getMessage());
  }

  /** A tar.gz of one entry of {@code size} zero bytes: about 1 MB on disk per GiB extracted. */
  static Path zeroBomb(Path out, long size) throws IOException {
    org.apache.commons.compress.compressors.gzip.GzipParameters p =
        new org.apache.commons.compress.compressors.gzip.GzipParameters();
    p.setCompressionLevel(java.util.zip.Deflater.BEST_SPEED);
    try (TarArchiveOutputStream t = new TarArchiveOutputStream(new GzipCompressorOutputStream(
        new java.io.BufferedOutputStream(Files.newOutputStream(out)), p))) {
      t.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      TarArchiveEntry e = new TarArchiveEntry("zeros.bin");
      e.setSize(size);
      t.putArchiveEntry(e);
      byte[] zeros = new byte[1 << 20];
      for (long left = size; left > 0; left -= zeros.length) {
        t.write(zeros, 0, (int) Math.min(zeros.length, left));
      }
      t.closeArchiveEntry();
    }
    return out;
  }

  @Test
  void aGibibyteBombIsRefusedBeforeItIsWrittenWithTheNumbers() throws IOException {
    Path bomb = zeroBomb(tmp.resolve("bomb.tar.gz"), 1L << 30);
    assertTrue(Files.size(bomb) < 16L << 20, "small on disk: " + Files.size(bomb));
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(bomb, 64L << 20));
    assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
    assertTrue(e.getMessage().contains("zeros.bin") && e.getMessage().contains("declares 1073741824 bytes")
        && e.getMessage().contains("limit of 67108864 bytes") && e.getMessage().contains("raise the limit"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ModelBundle.open(bomb, 0));
  }

  @Test
  void refusesGarbageArchives() throws IOException {
    Path zip = tmp.resolve("garbage.zip");
    Files.write(zip, "this is not a zip".getBytes(StandardCharsets.UTF_8));
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(zip));
    Path tgz = tmp.resolve("garbage.tgz");
    Files.write(tgz, new byte[] {1, 2, 3});
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(tgz));
  }

  @Test
  void engineRefusesAModelWhoseShapesDisagreeWithTheManifest() throws IOException {
    // Declare 64 latent channels everywhere: consistent with itself, but not with the ONNX files.
    Path d = copyOfReference();
    Path mf = d.resolve(ModelBundle.MANIFEST);
    JsonObject o = JsonParser.parseString(Files.readString(mf)).getAsJsonObject();
    o.getAsJsonObject("latent").addProperty("channels", 64);
    JsonObject stages = o.getAsJsonObject("stages");
    for (String[] t : new String[][] {{"denoiser", "inputs"}, {"denoiser", "outputs"}, {"vae_decoder", "inputs"}}) {
      for (var el : stages.getAsJsonObject(t[0]).getAsJsonArray(t[1])) {
        JsonObject tensor = el.getAsJsonObject();
        String name = tensor.get("name").getAsString();
        if (name.equals("latents") || name.equals("velocity")) {
          JsonArray shape = tensor.getAsJsonArray("shape");
          shape.set(1, new JsonPrimitive(64));
        }
      }
    }
    Files.writeString(mf, o.toString());
    try (ModelBundle b = ModelBundle.open(d)) {
      InvalidBundleException e = assertThrows(InvalidBundleException.class,
          () -> FoleyEngine.builder().bundle(b).videoSources(NO_DECODER).build().close());
      assertTrue(e.getMessage().contains("shape mismatch"), e.getMessage());
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(value = TamperedBundles.Kind.class, names = {"GARBAGE_ONNX", "TRUNCATED_ONNX"})
  void engineReportsAnUnparseableOnnxFileAsAnInvalidBundle(TamperedBundles.Kind kind) {
    Path d = TamperedBundles.write(tmp, kind);
    try (ModelBundle b = ModelBundle.open(d)) { // the hashes match: only loading can tell
      FoleyException e = assertThrows(FoleyException.class, () -> FoleyEngine.builder().bundle(b).videoSources(NO_DECODER).build().close());
      assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code(), e.toString());
      assertTrue(e instanceof InvalidBundleException, e.toString());
      assertTrue(e.getMessage().contains(kind.file()) && e.getMessage().contains("re-export"), e.getMessage());
    }
  }

  private static void writeTarGz(Path out, Path dir, String prefix, String evil) throws IOException {
    try (TarArchiveOutputStream t = new TarArchiveOutputStream(new GzipCompressorOutputStream(Files.newOutputStream(out)))) {
      t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      try (Stream<Path> s = Files.list(dir)) {
        for (Path p : s.sorted().toList()) {
          TarArchiveEntry e = new TarArchiveEntry(p.toFile(), prefix + p.getFileName());
          t.putArchiveEntry(e);
          Files.copy(p, t);
          t.closeArchiveEntry();
        }
      }
      if (evil != null) {
        byte[] data = "x".getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(evil, true);
        e.setSize(data.length);
        t.putArchiveEntry(e);
        t.write(data);
        t.closeArchiveEntry();
      }
    }
  }

  private static void writeZip(Path out, Path dir, String prefix, String evil) throws IOException {
    try (OutputStream os = Files.newOutputStream(out); ZipArchiveOutputStream z = new ZipArchiveOutputStream(os)) {
      try (Stream<Path> s = Files.list(dir)) {
        for (Path p : s.sorted().toList()) {
          z.putArchiveEntry(new ZipArchiveEntry(prefix + p.getFileName()));
          Files.copy(p, z);
          z.closeArchiveEntry();
        }
      }
      if (evil != null) {
        z.putArchiveEntry(new ZipArchiveEntry(evil));
        z.write('x');
        z.closeArchiveEntry();
      }
    }
  }
}
