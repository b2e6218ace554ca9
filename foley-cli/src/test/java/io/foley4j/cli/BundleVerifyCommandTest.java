package io.foley4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.TestSupport;
import io.foley4j.bundle.TamperedBundles;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code foley bundle verify}: deep by default, {@code --shallow} for the hashes only. */
class BundleVerifyCommandTest {
  @TempDir
  Path dir;

  @ParameterizedTest
  @EnumSource(TamperedBundles.Kind.class)
  void deepVerifyRefusesBundlesWhoseHashesMatchButCannotLoad(TamperedBundles.Kind kind) {
    Path b = TamperedBundles.write(dir, kind);
    for (String[] args : new String[][] {{"bundle", "verify", b.toString()}, {"bundle", "verify", "--deep", b.toString()}}) {
      CliOutput o = CliOutput.of(args);
      assertEquals(2, o.rc(), kind + " " + String.join(" ", args) + ": " + o);
      String err = o.err().strip();
      assertTrue(err.startsWith("foley: ") && err.contains(kind.file()), kind + ": " + o);
      assertFalse(err.contains("\n"), "one line: " + o);
      assertFalse(err.contains("\tat ") || err.contains("Exception"), "no stack trace: " + o);
      assertFalse(o.out().contains("OK"), o.toString());
    }
    // the hashes do match, which is all --shallow looks at
    CliOutput shallow = CliOutput.of("bundle", "verify", "--shallow", b.toString());
    assertEquals(0, shallow.rc(), shallow.toString());
    assertTrue(shallow.out().contains("OK") && shallow.out().contains("sha256"), shallow.toString());
  }

  @Test
  void deepVerifyAcceptsTheReferenceBundleAndSaysWhatItChecked() {
    CliOutput o = CliOutput.of("bundle", "verify", TestSupport.referenceBundleDir().toString());
    assertEquals(0, o.rc(), o.toString());
    assertTrue(o.out().contains("OK") && o.out().contains("runs once (deep)"), o.toString());
    assertTrue(o.out().contains("gives finite velocity[1, 128, 400]"), o.toString());
    assertTrue(o.out().contains("stage denoiser") && o.out().contains("tokenizer.json")
        && o.out().contains("unconditional.safetensors"), o.toString());
    assertEquals("", o.err(), o.toString());
  }

  @Test
  void nanWeightsPassTheHashesButFailTheDefaultVerifyNamingTheStage() {
    Path b = TamperedBundles.write(dir, TamperedBundles.Kind.NAN_WEIGHTS);
    CliOutput o = CliOutput.of("bundle", "verify", b.toString());
    assertEquals(2, o.rc(), o.toString());
    assertTrue(o.err().startsWith("foley: stage denoiser (denoiser.onnx) produced non-finite values (NaN/Inf) in output"
        + " velocity"), o.toString());
    assertFalse(o.out().contains("OK"), o.toString());
    CliOutput shallow = CliOutput.of("bundle", "verify", "--shallow", b.toString());
    assertEquals(0, shallow.rc(), shallow.toString());
    assertTrue(shallow.out().contains("shallow: nothing was loaded"), shallow.toString());
  }

  @Test
  void verifyListsTheKeysItIgnored() throws Exception {
    Path b = TamperedBundles.copy(TestSupport.referenceBundleDir(), dir.resolve("extra"));
    Path mf = b.resolve("foley-bundle.json");
    java.nio.file.Files.writeString(mf, java.nio.file.Files.readString(mf).replaceFirst("\\{", "{\"colour\": \"blue\","));
    for (String mode : new String[] {"--deep", "--shallow"}) {
      CliOutput o = CliOutput.of("bundle", "verify", mode, b.toString());
      assertEquals(0, o.rc(), o.toString());
      assertTrue(o.out().contains("ignored unknown manifest keys: [colour]"), o.toString());
    }
  }

  @Test
  void shallowAndDeepTogetherIsAUsageError() {
    CliOutput o = CliOutput.of("bundle", "verify", "--shallow", "--deep",
        TestSupport.referenceBundleDir().toString());
    assertEquals(2, o.rc(), o.toString());
    assertTrue(o.err().contains("--shallow") && o.err().contains("--deep"), o.toString());
  }

  @Test
  void externalDataOutsideTheBundleOrUnlistedFailsDeepVerifyWithExit2() throws Exception {
    for (String location : new String[] {"denoiser.other.dat", "../xx/er.onnx.data"}) {
      Path b = TamperedBundles.externalDataElsewhere(dir, "x" + location.length() + location.hashCode(), location);
      for (String mode : new String[] {"--deep", "--shallow"}) { // refused when the bundle opens
        CliOutput o = CliOutput.of("bundle", "verify", mode, b.toString());
        assertEquals(2, o.rc(), location + " " + mode + ": " + o);
        assertTrue(o.err().startsWith("foley: "), o.toString());
        assertTrue(o.err().contains(location) && o.err().contains("denoiser.onnx"), o.toString());
        assertFalse(o.out().contains("OK"), o.toString());
      }
    }
  }

  @Test
  void truncatedExternalDataIsExit2NotABackendFailure() throws Exception {
    Path b = dir.resolve("truncated");
    io.foley4j.reference.ReferenceModel.writeBundle(b,
        io.foley4j.reference.ReferenceModel.options().externalData(true).build());
    Path data = b.resolve("denoiser.onnx.data");
    byte[] w = java.nio.file.Files.readAllBytes(data);
    java.nio.file.Files.write(data, java.util.Arrays.copyOf(w, w.length / 2));
    TamperedBundles.rehash(b);
    CliOutput o = CliOutput.of("bundle", "verify", b.toString());
    assertEquals(2, o.rc(), o.toString());
    assertTrue(o.err().contains("denoiser.onnx.data") && o.err().contains("truncated"), o.toString());
  }

  @Test
  void maxExtractedBytesBoundsWhatAnArchiveMayExtractTo() throws Exception {
    Path tgz = dir.resolve("bomb.tgz");
    try (var t = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(
        new org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream(
            java.nio.file.Files.newOutputStream(tgz)))) {
      var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("zeros.bin");
      e.setSize(8L << 20);
      t.putArchiveEntry(e);
      t.write(new byte[8 << 20]);
      t.closeArchiveEntry();
    }
    CliOutput o = CliOutput.of("bundle", "verify", "--max-extracted-bytes", "1M", tgz.toString());
    assertEquals(2, o.rc(), o.toString());
    assertTrue(o.err().contains("limit of 1048576 bytes") && o.err().contains("declares 8388608 bytes"), o.toString());
    CliOutput bad = CliOutput.of("bundle", "verify", "--max-extracted-bytes", "lots", tgz.toString());
    assertEquals(2, bad.rc(), bad.toString());
    assertTrue(bad.err().contains("--max-extracted-bytes"), bad.toString());
    assertEquals(3L << 30, ExtractLimit.parse("3G"));
    assertEquals(500L << 20, ExtractLimit.parse("500MiB"));
    assertEquals(1000, ExtractLimit.parse("1000"));
  }

  @Test
  void aBundlePathThatIsNotThereIsBadInputForEveryCommandThatOpensOne() throws java.io.IOException {
    java.nio.file.Files.writeString(dir.resolve("v.mp4"), "not looked at: the bundle is opened first");
    String missing = dir.resolve("no-such-bundle").toString();
    for (String[] args : new String[][] {{"bundle", "verify", missing}, {"bundle", "verify", "--shallow", missing},
        {"bundle", "check", "--against", dir.resolve("x.npz").toString(), missing},
        {"generate", "--bundle", missing, "--video", dir.resolve("v.mp4").toString(), "--prompt", "x", "--out",
            dir.resolve("a.wav").toString()}}) {
      CliOutput o = CliOutput.of(args);
      assertEquals(2, o.rc(), String.join(" ", args) + ": " + o);
      assertTrue(o.err().contains("model bundle " + missing + " does not exist"), o.toString());
    }
  }
}
