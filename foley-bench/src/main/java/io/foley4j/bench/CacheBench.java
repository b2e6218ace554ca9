package io.foley4j.bench;

import io.foley4j.jcodec.SyntheticMp4;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.cache.TensorCache;
import io.foley4j.cachestore.TensorCaches;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley bench cache}: wall time of a request that changes only the prompt of an earlier one
 * (visual and sync features come from the feature cache) divided by a full run.
 */
@Command(name = "cache", mixinStandardHelpOptions = true,
    description = "Prompt-only change with a feature cache / full run, on the reference model.")
final class CacheBench implements Callable<Integer> {
  @Option(names = "--seconds", defaultValue = "10", description = "Video length (default ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--runs", defaultValue = "3", description = "Pairs of runs (default ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--size", defaultValue = "320x240", description = "Video size (default ${DEFAULT-VALUE}).")
  String size;

  @Override
  public Integer call() throws Exception {
    String[] wh = size.split("x");
    int w = Integer.parseInt(wh[0]);
    int h = Integer.parseInt(wh[1]);
    Path dir = Files.createTempDirectory("foley-cache-bench-");
    try (ModelBundle bundle = ReferenceModel.bundle()) {
      TensorCache cache = TensorCaches.memory().maximumBytes(1L << 30).build();
      try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).featureCache(cache).build()) {
        Path warm = dir.resolve("warm.mp4");
        SyntheticMp4.write(SyntheticVideo.builder().size(w, h).fps(25, 1).durationSeconds(2).build(), warm);
        engine.generate(FoleyRequest.of(warm, "warm"));
        double full = 0;
        double promptOnly = 0;
        for (int r = 0; r < runs; r++) {
          Path v = dir.resolve("v" + r + ".mp4"); // new bytes each time: the first run is a real miss
          SyntheticMp4.write(SyntheticVideo.builder().size(w, h).fps(25, 1).durationSeconds(seconds).background(0x101010 * (r + 1))
              .flash(1, 0.12, 0xFFFFFF).movingSquare(3, 6, 0xFF0000).build(), v);
          long t0 = System.nanoTime();
          engine.generate(FoleyRequest.of(v, "glass breaking"));
          long t1 = System.nanoTime();
          engine.generate(FoleyRequest.of(v, "low thunder rumble"));
          long t2 = System.nanoTime();
          full += (t1 - t0) / 1e9;
          promptOnly += (t2 - t1) / 1e9;
          System.out.printf("run %d: full %.3f s, prompt-only change %.3f s, ratio %.3f%n", r + 1, (t1 - t0) / 1e9,
              (t2 - t1) / 1e9, (t2 - t1) / (double) (t1 - t0));
        }
        System.out.printf("cache: %.1f s %s video, default reference model: prompt-only / full = %.3f (goal <= 0.30); "
            + "feature cache %s%n", seconds, size, promptOnly / full, cache.stats());
      }
    } finally {
      io.foley4j.bundle.ModelBundle.deleteQuietly(dir);
    }
    return 0;
  }
}
