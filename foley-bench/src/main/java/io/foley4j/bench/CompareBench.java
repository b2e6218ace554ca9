package io.foley4j.bench;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.StageTimings.Phase;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.video.SyntheticVideo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley bench compare --bundle A --against B}: one bundle against another on the same clip,
 * seed and steps, side by side in one run: bytes on disk, the best wall of each (runs alternate, so
 * both see the same machine), the stage phases, and the relative L2 distance of B's audio from A's.
 * Made for an INT8 (or fp16) variant against its float32 bundle.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "A bundle against another (e.g. INT8 vs float32): size, speed and audio distance, side by side.")
final class CompareBench implements Callable<Integer> {
  @Option(names = "--bundle", required = true, description = "The baseline bundle (directory or archive).")
  Path baseline;

  @Option(names = "--against", required = true, description = "The bundle compared with it.")
  Path other;

  @Option(names = "--seconds", defaultValue = "8", description = "Clip length (default ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--steps", defaultValue = "25", description = "Denoising steps (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--runs", defaultValue = "3", description = "Measured runs of each, alternating, after one"
      + " warm-up each (default ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--seed", defaultValue = "7", description = "Seed of both (default ${DEFAULT-VALUE}).")
  long seed;

  @Override
  public Integer call() throws Exception {
    if (runs < 1 || steps < 1 || !(seconds > 0)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--runs and --steps must be positive, --seconds"
          + " above 0");
    }
    Path dir = Files.createTempDirectory("foley-compare-bench-");
    try (ModelBundle a = ModelBundle.open(baseline); ModelBundle b = ModelBundle.open(other);
        FoleyEngine ea = FoleyEngine.builder().bundle(a).build();
        FoleyEngine eb = FoleyEngine.builder().bundle(b).build()) {
      Path clip = dir.resolve("clip.mp4");
      SyntheticMp4.write(SyntheticVideo.builder().size(320, 240).fps(25, 1).durationSeconds(seconds)
          .flash(1, 0.12, 0xFFFFFF).movingSquare(2, 6, 0xFF0000).build(), clip);
      FoleyRequest request = FoleyRequest.builder(clip).prompt("footsteps on gravel").steps(steps).seed(seed).build();
      ea.generate(request); // warm-up
      eb.generate(request);
      double bestA = Double.MAX_VALUE;
      double bestB = Double.MAX_VALUE;
      FoleyResult ra = null;
      FoleyResult rb = null;
      for (int r = 0; r < runs; r++) {
        long t0 = System.nanoTime();
        ra = ea.generate(request);
        long t1 = System.nanoTime();
        rb = eb.generate(request);
        long t2 = System.nanoTime();
        bestA = Math.min(bestA, (t1 - t0) / 1e9);
        bestB = Math.min(bestB, (t2 - t1) / 1e9);
        System.out.printf(Locale.ROOT, "run %d: %s %.3f s, %s %.3f s%n", r + 1, a.manifest().name(), (t1 - t0) / 1e9,
            b.manifest().name(), (t2 - t1) / 1e9);
      }
      long bytesA = bytes(a.directory());
      long bytesB = bytes(b.directory());
      System.out.printf(Locale.ROOT, "%-28s %10s %10s %9s %9s %9s %9s%n", "bundle", "MB", "best s", "text ms",
          "visual ms", "sync ms", "denoise ms");
      row(a, bytesA, bestA, ra);
      row(b, bytesB, bestB, rb);
      double rel = relL2(rb.toArray(), ra.toArray());
      System.out.printf(Locale.ROOT, "compare: %s / %s: size %.3f, wall %.3f, audio relative L2 %.4g (%.1f s clip,"
          + " %d steps, seed %d)%n", b.manifest().name(), a.manifest().name(), bytesB / (double) bytesA,
          bestB / bestA, rel, seconds, steps, seed);
    } finally {
      ModelBundle.deleteQuietly(dir);
    }
    return 0;
  }

  private static void row(ModelBundle bundle, long bytes, double best, FoleyResult r) {
    System.out.printf(Locale.ROOT, "%-28s %10.1f %10.3f %9.0f %9.0f %9.0f %9.0f%n", bundle.manifest().name(),
        bytes / 1e6, best, r.timings().millis(Phase.TEXT), r.timings().millis(Phase.VISUAL),
        r.timings().millis(Phase.SYNC), r.timings().millis(Phase.DENOISE));
  }

  /** ||b - a|| / ||a||. */
  static double relL2(float[] b, float[] a) {
    if (a.length != b.length) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the two bundles gave " + a.length + " and "
          + b.length + " samples: they are not variants of one model");
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < a.length; i++) {
      double d = b[i] - a[i];
      num += d * d;
      den += (double) a[i] * a[i];
    }
    if (den == 0) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the baseline's audio is silent, so no relative"
          + " distance exists: use a longer clip (--seconds; the clip's first flash is at 1 s)");
    }
    return Math.sqrt(num / den);
  }

  private static long bytes(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }
}
