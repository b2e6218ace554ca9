package io.foley4j.bench;

import io.foley4j.jcodec.JcodecVideoSources;

import io.foley4j.jcodec.SyntheticMp4;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.StageTimings.Phase;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code foley bench ...}: benchmarks that print numbers. Not tests. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks (print numbers).",
    subcommands = {BenchCommand.Overhead.class, ServeBench.class, CacheBench.class, SoakBench.class, DecodeBench.class,
        HttpBench.class, HttpSoakBench.class, UploadBench.class, ColdStartBench.class, DevicesBench.class, VariantsBench.class,
        CompareBench.class, FramesBench.class, DenoiserBench.class, MemoryBench.class})
final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** The device's busy time so far (all stages): its calls, from concatenating a batch's inputs to the outputs copied back. */
  static long busy(FoleyEngine engine) {
    long b = 0;
    for (long x : engine.stats().busyNanos().values()) {
      b += x;
    }
    return b;
  }

  /** When a request's first encoder call and first denoiser step were submitted, and when its last call ended. */
  static final class Marks extends io.foley4j.FoleyEventListener {
    final java.util.concurrent.atomic.AtomicLong firstEncoder = new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.atomic.AtomicLong firstDenoise = new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.atomic.AtomicLong lastEnd = new java.util.concurrent.atomic.AtomicLong();

    void reset() {
      firstEncoder.set(0);
      firstDenoise.set(0);
      lastEnd.set(0);
    }

    @Override
    public void callStart(long jobId, Phase phase, int segment, int step) {
      long now = System.nanoTime();
      if (phase == Phase.VISUAL || phase == Phase.SYNC) {
        firstEncoder.compareAndSet(0, now);
      } else if (phase == Phase.DENOISE) {
        firstDenoise.compareAndSet(0, now);
      }
    }

    @Override
    public void callEnd(long jobId, Phase phase, int segment, int step, long nanos, boolean failed) {
      lastEnd.accumulateAndGet(System.nanoTime(), Math::max);
    }
  }

  /**
   * Engine wall time for one request divided by the time ONNX Runtime spent in {@code run} for the
   * same request, and jcodec decode speed for a 720p clip.
   */
  @Command(name = "overhead", mixinStandardHelpOptions = true,
      description = "Engine wall time / raw ONNX Runtime run time for one request; 720p decode frames/s.")
  static final class Overhead implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "10", description = "Video length (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--width", defaultValue = "64", description = "Reference encoders' width (default ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--depth", defaultValue = "1", description = "Reference encoders' depth (default ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = "--denoiser-width", defaultValue = "2048",
        description = "Reference denoiser width: like a real MM-DiT it dominates the cost (default ${DEFAULT-VALUE}).")
    int denoiserWidth;

    @Option(names = "--denoiser-depth", defaultValue = "3", description = "Reference denoiser depth (default ${DEFAULT-VALUE}).")
    int denoiserDepth;

    @Option(names = "--runs", defaultValue = "3", description = "Measured runs after one warm-up (default ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--decode-seconds", defaultValue = "4", description = "Length of the 720p decode clip.")
    double decodeSeconds;

    @Override
    public Integer call() throws Exception {
      Path dir = Files.createTempDirectory("foley-bench-");
      try {
        Path video = dir.resolve("bench.mp4");
        SyntheticMp4.write(SyntheticVideo.builder().size(320, 240).fps(25, 1).durationSeconds(seconds).flash(1, 0.1, 0xFFFFFF)
            .flash(4, 0.1, 0xFFFFFF).movingSquare(5, 7, 0xFF0000).build(), video);
        Path bundleDir = dir.resolve("bundle");
        ReferenceModel.writeBundle(bundleDir, ReferenceModel.options().width(width).depth(depth)
            .denoiserSize(denoiserWidth, denoiserDepth).build());
        System.out.printf("overhead: reference model encoders %dx%d, denoiser %dx%d, %.1f s 320x240 video, %d cores%n",
            width, depth, denoiserWidth, denoiserDepth, seconds, Runtime.getRuntime().availableProcessors());
        Marks marks = new Marks();
        try (ModelBundle bundle = ModelBundle.open(bundleDir);
            FoleyEngine engine = FoleyEngine.builder().bundle(bundle).name("bench").maxConcurrentRequests(1)
                .eventListener(marks).build()) {
          FoleyRequest req = FoleyRequest.of(video, "footsteps on gravel");
          engine.generate(req); // warm-up
          double sumRatio = 0;
          for (int r = 0; r < runs; r++) {
            long ort0 = engine.diagnostics().backendRuntimeNanos();
            long busy0 = busy(engine);
            marks.reset();
            long t0 = System.nanoTime();
            FoleyResult res = engine.generate(req);
            long wall = System.nanoTime() - t0;
            long t1 = t0 + wall;
            long ort = engine.diagnostics().backendRuntimeNanos() - ort0;
            long busy = busy(engine) - busy0;
            double ratio = wall / (double) ort;
            sumRatio += ratio;
            System.out.printf("run %d: wall %.3f s, ORT run %.3f s, wall/ORT %.4f | decode %.0f ms, text %.0f ms, "
                + "visual %.0f ms, sync %.0f ms, denoise %.0f ms, vae %.0f ms%n", r + 1, wall / 1e9, ort / 1e9, ratio,
                res.timings().millis(Phase.DECODE), res.timings().millis(Phase.TEXT), res.timings().millis(Phase.VISUAL),
                res.timings().millis(Phase.SYNC), res.timings().millis(Phase.DENOISE), res.timings().millis(Phase.VAE));
            System.out.printf("       device idle %.0f ms, device busy outside ORT %.0f ms | first encoder call +%.0f ms, "
                + "first denoiser step +%.0f ms, after the last call %.0f ms%n", (wall - busy) / 1e6, (busy - ort) / 1e6,
                (marks.firstEncoder.get() - t0) / 1e6, (marks.firstDenoise.get() - t0) / 1e6, (t1 - marks.lastEnd.get()) / 1e6);
          }
          System.out.printf("overhead ratio (engine wall / raw ORT run), mean of %d: %.4f (goal <= 1.03)%n", runs,
              sumRatio / runs);
        }

        Path hd = dir.resolve("720p.mp4");
        long e0 = System.nanoTime();
        SyntheticMp4.write(SyntheticVideo.builder().size(1280, 720).fps(25, 1).durationSeconds(decodeSeconds).movingSquare(0, decodeSeconds,
            0x40C040).flash(1, 0.2, 0xFFFFFF).build(), hd);
        System.out.printf("encoded 720p clip with jcodec in %.1f s%n", (System.nanoTime() - e0) / 1e9);
        for (int pass = 0; pass < 2; pass++) {
          long t0 = System.nanoTime();
          int frames = 0;
          try (VideoSource src = JcodecVideoSources.jcodec().open(hd)) {
            for (DecodedFrame f; (f = src.next()) != null; ) {
              frames++;
            }
          }
          double s = (System.nanoTime() - t0) / 1e9;
          System.out.printf("decode 720p (%s): %d frames in %.2f s = %.1f frames/s on one thread%n",
              pass == 0 ? "warm-up" : "measured", frames, s, frames / s);
        }
      } finally {
        io.foley4j.bundle.ModelBundle.deleteQuietly(dir);
      }
      return 0;
    }
  }
}
