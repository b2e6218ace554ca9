package io.foley4j.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Compiles fake_nvidia.c (test resources) into a shared library with the C compiler, so that the
 * probe's happy path is tested without a GPU. Without {@code cc} the tests that need it skip, or
 * fail when FOLEY_REQUIRE_CC=1 (CI).
 */
final class FakeLibraries {
  private FakeLibraries() {}

  static Path build(Path dir, boolean broken) throws IOException, InterruptedException {
    Path src = dir.resolve("fake_nvidia.c");
    try (InputStream in = FakeLibraries.class.getResourceAsStream("fake_nvidia.c")) {
      Files.copy(in, src);
    }
    Path lib = dir.resolve(broken ? "libfake_nvidia_broken.so" : "libfake_nvidia.so");
    Process p;
    try {
      List<String> cmd = new java.util.ArrayList<>(List.of("cc", "-shared", "-fPIC", "-o", lib.toString(), src.toString()));
      if (broken) {
        cmd.add(1, "-DFAKE_BROKEN");
      }
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      return unavailable("cc cannot start: " + e.getMessage());
    }
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      return unavailable("cc failed: " + out);
    }
    return lib;
  }

  /** Runs the C compiler ({@code cc args...}); without one the test skips, or fails when FOLEY_REQUIRE_CC=1. */
  static void cc(List<String> args) throws IOException, InterruptedException {
    List<String> cmd = new java.util.ArrayList<>(List.of("cc"));
    cmd.addAll(args);
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      unavailable("cc cannot start: " + e.getMessage());
      return;
    }
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      unavailable("cc failed: " + out);
    }
  }

  private static Path unavailable(String why) {
    if ("1".equals(System.getenv("FOLEY_REQUIRE_CC"))) {
      throw new AssertionError("a C compiler is required (FOLEY_REQUIRE_CC=1): " + why);
    }
    Assumptions.assumeTrue(false, why);
    return null;
  }

  /** Probe names that all point at one fake library (CUDA libraries: the fake too, standing for each). */
  static GpuProbe.Names names(Path lib) {
    String l = lib.toString();
    return new GpuProbe.Names(List.of(l), List.of(l), List.of(l), List.of(l), List.of(l));
  }
}
