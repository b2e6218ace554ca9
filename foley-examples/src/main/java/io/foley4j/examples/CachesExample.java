package io.foley4j.examples;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.cachestore.TensorCaches;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;

/**
 * Caches (foley-cache): a result cache in memory answers a repeated request without running the
 * model, and a feature cache on disk lets a prompt-only change skip decoding and video encoding (and
 * is shared by every JVM that points at the same directory). Usage: {@code CachesExample [outDir]};
 * writes {@code first.wav}, {@code repeated.wav} (the same audio, from the result cache) and {@code
 * other-prompt.wav}.
 */
public final class CachesExample {
  private CachesExample() {}

  public static void main(String[] args) {
    Path dir = Path.of(args.length > 0 ? args[0] : ".");
    Path clip = dir.resolve("caches-clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(25, 1).durationSeconds(4)
        .flash(1, 0.1, 0xFFFFFF).build(), clip);

    try (ModelBundle bundle = ReferenceModel.bundle();
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle)
            .resultCache(TensorCaches.memory().maximumBytes(64L << 20).build())
            .featureCache(TensorCaches.disk(dir.resolve("feature-cache")).build())
            .build()) {
      FoleyRequest rain = FoleyRequest.builder(clip).prompt("rain on a tin roof").steps(4).seed(3).build();
      time("first run", () -> engine.generate(rain), dir.resolve("first.wav"));
      time("same request (result cache)", () -> engine.generate(rain), dir.resolve("repeated.wav"));
      FoleyRequest glass = FoleyRequest.builder(clip).prompt("glass breaks").steps(4).seed(3).build();
      time("other prompt (feature cache)", () -> engine.generate(glass), dir.resolve("other-prompt.wav"));
      System.out.println(engine.stats());
    }
  }

  private static void time(String what, java.util.function.Supplier<FoleyResult> run, Path wav) {
    long t0 = System.nanoTime();
    FoleyResult r = run.get();
    System.out.printf("%s: %.2f s (%s)%n", what, (System.nanoTime() - t0) / 1e9, r.timings());
    r.writeWav(wav);
  }
}
