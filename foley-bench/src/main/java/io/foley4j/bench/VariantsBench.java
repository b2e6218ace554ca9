package io.foley4j.bench;

import io.foley4j.jcodec.SyntheticMp4;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyJob;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.StageTimings.Phase;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley bench variants}: one request for N variants against N separate requests (the same
 * seeds, submitted at once, so that their denoiser steps batch across jobs too), on one engine and
 * the reference model; prints both walls, their ratio, and whether every variant equals its
 * separate request.
 */
@Command(name = "variants", mixinStandardHelpOptions = true,
    description = "One request of N variants vs N separate requests of the same seeds, on the reference model.")
final class VariantsBench implements Callable<Integer> {
  @Option(names = "--variants", defaultValue = "4", description = "Variants N (default ${DEFAULT-VALUE}).")
  int variants;

  @Option(names = "--seconds", defaultValue = "8", description = "Video length (default ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--size", defaultValue = "640x360", description = "Video size (default ${DEFAULT-VALUE}).")
  String size;

  @Option(names = "--steps", defaultValue = "50", description = "Denoiser steps (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--denoiser-width", defaultValue = "0", description = "Reference denoiser width, 0 for the default"
      + " reference model (default ${DEFAULT-VALUE}); a wide one makes the denoiser dominate, as in a real MM-DiT.")
  int denoiserWidth;

  @Option(names = "--denoiser-depth", defaultValue = "3", description = "Reference denoiser depth with"
      + " --denoiser-width (default ${DEFAULT-VALUE}).")
  int denoiserDepth;

  @Option(names = "--runs", defaultValue = "3", description = "Measured pairs after one warm-up pair (default"
      + " ${DEFAULT-VALUE}).")
  int runs;

  @Override
  public Integer call() throws Exception {
    String[] wh = size.split("x");
    int w = Integer.parseInt(wh[0]);
    int h = Integer.parseInt(wh[1]);
    Path dir = Files.createTempDirectory("foley-variants-bench-");
    io.foley4j.video.VideoSourceFactory decoder = io.foley4j.video.VideoSources.auto();
    try (ModelBundle bundle = denoiserWidth > 0 ? ReferenceModel.bundle(ReferenceModel.options()
            .denoiserSize(denoiserWidth, denoiserDepth).build()) : ReferenceModel.bundle();
        // N request threads: the separate requests run at once and batch their steps across jobs
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle).name("bench").videoSources(decoder)
            .maxConcurrentRequests(variants)
            .maxBatchSize(Math.max(8, variants)).build()) {
      Path video = dir.resolve("clip.mp4");
      SyntheticMp4.write(SyntheticVideo.builder().size(w, h).fps(25, 1).durationSeconds(seconds)
          .flash(seconds / 8, 0.08, 0xFFFFFF).movingSquare(seconds / 4, seconds * 3 / 4, 0xFF2020).build(), video);
      System.out.printf("variants: reference model (%s), %.1f s %s video, %d steps, N = %d, %d cores, decoder %s%n",
          denoiserWidth > 0 ? "denoiser " + denoiserWidth + "x" + denoiserDepth : "default size", seconds, size, steps,
          variants, Runtime.getRuntime().availableProcessors(), decoder.id());
      System.out.println("run   one request of N (s)   N separate (s)   separate / one   identical");
      double sumOne = 0;
      double sumSeparate = 0;
      for (int r = 0; r <= runs; r++) { // run 0 warms up
        long seed = 1000L * r;
        boolean oneFirst = r % 2 == 0; // alternate which goes first
        long[] wall = new long[2];
        FoleyResult one = null;
        List<FoleyResult> separate = null;
        for (int which = 0; which < 2; which++) {
          boolean doOne = (which == 0) == oneFirst;
          long t0 = System.nanoTime();
          if (doOne) {
            one = engine.generate(request(video, seed, variants));
            wall[0] = System.nanoTime() - t0;
          } else {
            List<FoleyJob> jobs = new ArrayList<>();
            for (int v = 0; v < variants; v++) {
              jobs.add(engine.submit(request(video, seed + v, 1)));
            }
            separate = new ArrayList<>();
            for (FoleyJob j : jobs) {
              separate.add(j.await());
            }
            wall[1] = System.nanoTime() - t0;
          }
        }
        boolean identical = true;
        for (int v = 0; v < variants; v++) {
          identical &= Arrays.equals(one.variant(v).toArray(), separate.get(v).toArray());
        }
        // whole milliseconds, as printed: the ratio is then the ratio of the printed walls
        double a = Math.round(wall[0] / 1e6) / 1e3;
        double b = Math.round(wall[1] / 1e6) / 1e3;
        System.out.printf(Locale.ROOT, "%-5s %22.3f %16.3f %16.2f   %s   (one: decode %.0f ms, denoise %.0f ms)%n",
            r == 0 ? "warm" : Integer.toString(r), a, b, b / a, identical ? "yes" : "NO",
            one.timings().millis(Phase.DECODE), one.timings().millis(Phase.DENOISE));
        if (r > 0) {
          sumOne += a;
          sumSeparate += b;
        }
      }
      System.out.printf(Locale.ROOT,
          "variants: N = %d, mean of %d: one request %.3f s, %d separate %.3f s, separate / one = %.2f%n",
          variants, runs, sumOne / runs, variants, sumSeparate / runs, sumSeparate / sumOne);
    } finally {
      ModelBundle.deleteQuietly(dir);
    }
    return 0;
  }

  private FoleyRequest request(Path video, long seed, int n) {
    FoleyRequest.Builder b = FoleyRequest.builder(video).prompt("footsteps on gravel").steps(steps).seed(seed);
    return n == 1 ? b.build() : b.variants(n).build();
  }
}
