package io.foley4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.TestSupport;
import io.foley4j.bundle.TamperedBundles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
      Output o = capture(() -> FoleyCli.run(args));
      assertEquals(2, o.rc, kind + " " + String.join(" ", args) + ": " + o);
      String err = o.err.strip();
      assertTrue(err.startsWith("foley: ") && err.contains(kind.file()), kind + ": " + o);
      assertFalse(err.contains("\n"), "one line: " + o);
      assertFalse(err.contains("\tat ") || err.contains("Exception"), "no stack trace: " + o);
      assertFalse(o.out.contains("OK"), o.toString());
    }
    // the hashes do match, which is all --shallow looks at
    Output shallow = capture(() -> FoleyCli.run("bundle", "verify", "--shallow", b.toString()));
    assertEquals(0, shallow.rc, shallow.toString());
    assertTrue(shallow.out.contains("OK") && shallow.out.contains("sha256"), shallow.toString());
  }

  @Test
  void deepVerifyAcceptsTheReferenceBundleAndSaysWhatItChecked() {
    Output o = capture(() -> FoleyCli.run("bundle", "verify", TestSupport.referenceBundleDir().toString()));
    assertEquals(0, o.rc, o.toString());
    assertTrue(o.out.contains("OK") && o.out.contains("deep"), o.toString());
    assertTrue(o.out.contains("stage denoiser") && o.out.contains("tokenizer.json")
        && o.out.contains("unconditional.safetensors"), o.toString());
    assertEquals("", o.err, o.toString());
  }

  @Test
  void verifyListsTheKeysItIgnored() throws Exception {
    Path b = TamperedBundles.copy(TestSupport.referenceBundleDir(), dir.resolve("extra"));
    Path mf = b.resolve("foley-bundle.json");
    java.nio.file.Files.writeString(mf, java.nio.file.Files.readString(mf).replaceFirst("\\{", "{\"colour\": \"blue\","));
    for (String mode : new String[] {"--deep", "--shallow"}) {
      Output o = capture(() -> FoleyCli.run("bundle", "verify", mode, b.toString()));
      assertEquals(0, o.rc, o.toString());
      assertTrue(o.out.contains("ignored unknown manifest keys: [colour]"), o.toString());
    }
  }

  @Test
  void shallowAndDeepTogetherIsAUsageError() {
    Output o = capture(() -> FoleyCli.run("bundle", "verify", "--shallow", "--deep",
        TestSupport.referenceBundleDir().toString()));
    assertEquals(2, o.rc, o.toString());
    assertTrue(o.err.contains("--shallow") && o.err.contains("--deep"), o.toString());
  }

  private record Output(int rc, String out, String err) {}

  private interface Run {
    int run();
  }

  private static Output capture(Run r) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int rc;
    try {
      rc = r.run();
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
    return new Output(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
