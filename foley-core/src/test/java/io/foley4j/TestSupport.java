package io.foley4j;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.reference.ReferenceModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Shared fixtures: the default reference bundle (written once per JVM) and external tools. */
public final class TestSupport {
  private static Path referenceDir;

  private TestSupport() {}

  /** A directory holding the default reference bundle, written once per test JVM. */
  public static synchronized Path referenceBundleDir() {
    if (referenceDir == null) {
      try {
        Path d = Files.createTempDirectory("foley4j-test-reference-");
        ReferenceModel.writeBundle(d, ReferenceModel.defaults());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(d), "foley-test-cleanup"));
        referenceDir = d;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return referenceDir;
  }

  private static void deleteTree(Path d) {
    try (java.util.stream.Stream<Path> all = Files.walk(d)) {
      all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException ignored) {
      // best effort at exit
    }
  }

  /**
   * A reference bundle with small frames and embeddings (64 px, 64-wide, 32 latent channels), for
   * tests of scheduling and placement rather than of the model: many jobs stay fast. The caller closes it.
   */
  public static ModelBundle smallReferenceBundle() {
    return io.foley4j.reference.ReferenceModel.bundle(io.foley4j.reference.ReferenceModel.options()
        .visualSize(64).syncSize(64).embedDim(64).latentChannels(32).build());
  }

  public static ModelBundle referenceBundle() {
    return ModelBundle.open(referenceBundleDir());
  }

  /** Whether ffmpeg and ffprobe can run; with FOLEY_REQUIRE_FFMPEG=1 their absence fails the test. */
  public static boolean ffmpegAvailable() {
    boolean ok = runs("ffmpeg", "-version") && runs("ffprobe", "-version");
    if (!ok && "1".equals(System.getenv("FOLEY_REQUIRE_FFMPEG"))) {
      throw new AssertionError("ffmpeg/ffprobe are required (FOLEY_REQUIRE_FFMPEG=1) but do not run");
    }
    return ok;
  }

  private static boolean runs(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs a command, returns stdout; fails the test on a non-zero exit. */
  public static String run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
      byte[] out = p.getInputStream().readAllBytes();
      byte[] err = p.getErrorStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("timed out: " + String.join(" ", cmd));
      }
      if (p.exitValue() != 0) {
        throw new AssertionError("failed (" + p.exitValue() + "): " + String.join(" ", cmd) + "\n" + new String(err));
      }
      return new String(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Waits until {@code condition} holds (checked every 2 ms), failing after 60 s. For waiting on
   * observable state; correctness never depends on how long it takes.
   */
  public static void awaitCondition(String what, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not reached in 60 s: " + what);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
    }
  }

  /** Joins every live thread whose name starts with {@code prefix}; fails if one outlives 30 s. */
  public static void joinThreads(String prefix) throws InterruptedException {
    java.util.List<Thread> left = new java.util.ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith(prefix)) {
        t.join(30_000);
        if (t.isAlive()) {
          left.add(t);
        }
      }
    }
    if (!left.isEmpty()) {
      throw new AssertionError("threads outlived close(): " + left);
    }
  }

  /** A writable copy of the reference bundle's directory at {@code dest}, to tamper with or edit. */
  public static Path copyReferenceBundle(Path dest) {
    try {
      Files.createDirectories(dest);
      try (java.util.stream.Stream<Path> files = Files.list(referenceBundleDir())) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.copy(f, dest.resolve(f.getFileName().toString()));
        }
      }
      return dest;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {relative L2 distance ||got − want|| / ||want||, max |got − want|} over the first {@code n}
   * elements; the arrays must be at least that long.
   */
  public static double[] distance(float[] got, float[] want, int n) {
    if (got.length < n || want.length < n) {
      throw new AssertionError("compared " + n + " elements of arrays of " + got.length + " and " + want.length);
    }
    double diff = 0;
    double norm = 0;
    double max = 0;
    for (int i = 0; i < n; i++) {
      double d = (double) got[i] - want[i];
      diff += d * d;
      norm += (double) want[i] * want[i];
      max = Math.max(max, Math.abs(d));
    }
    return new double[] {Math.sqrt(diff / norm), max};
  }
}
