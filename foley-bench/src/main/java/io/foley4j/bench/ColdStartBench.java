package io.foley4j.bench;


import io.foley4j.cli.BackendChoice;

import io.foley4j.cli.EngineOptions;

import io.foley4j.jcodec.SyntheticMp4;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.Readiness;
import io.foley4j.backend.CpuBackend;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley bench coldstart}: starts a fresh JVM twice on the same reference bundle and
 * optimized-model cache directory. Each builds an engine, then runs one request (the first) and
 * {@code --requests} more (the steady state). Prints both processes' build() times and their ratio
 * (the second loads the stored optimized graphs), and each one's first request ÷ steady state.
 */
@Command(name = "coldstart", mixinStandardHelpOptions = true,
    description = "Two fresh JVMs build the reference engine with an optimized-model cache: build ms of each,"
        + " second / first, first request / steady-state request (goal <= 1.10).")
final class ColdStartBench implements Callable<Integer> {
  static final String RESULT = "COLDSTART-RESULT";

  @Option(names = "--seconds", defaultValue = "4", description = "Video length (default ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--steps", defaultValue = "8", description = "Denoising steps per request (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--requests", defaultValue = "5", description = "Steady-state requests after the first (default ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--width", defaultValue = "64", description = "Reference encoders' width (default ${DEFAULT-VALUE}).")
  int width;

  @Option(names = "--depth", defaultValue = "1", description = "Reference encoders' depth (default ${DEFAULT-VALUE}).")
  int depth;

  @Option(names = "--denoiser-width", defaultValue = "1024", description = "Reference denoiser width (default ${DEFAULT-VALUE}).")
  int denoiserWidth;

  @Option(names = "--denoiser-depth", defaultValue = "3", description = "Reference denoiser depth (default ${DEFAULT-VALUE}).")
  int denoiserDepth;

  @Option(names = "--cache", description = "Optimized-model cache directory (default: a new temporary one, emptied first).")
  Path cache;

  @Option(names = "--backend", defaultValue = "cpu", description = "cpu (with the optimized-model cache), cuda or"
      + " tensorrt (default ${DEFAULT-VALUE}).")
  BackendChoice.Kind backend;

  @Option(names = "--device", description = "GPU device id for --backend cuda|tensorrt (default 0).")
  Integer device;

  @Option(names = "--warm-up", defaultValue = "trained-shape", description = "none, trained-shape, batch-buckets or full"
      + " (default ${DEFAULT-VALUE}).")
  String warmUp;

  @Option(names = "--child", hidden = true, description = "Internal: run as the measured child process.")
  boolean child;

  @Option(names = "--bundle", hidden = true)
  Path bundleDir;

  @Option(names = "--video", hidden = true)
  Path video;

  @Override
  public Integer call() throws Exception {
    return child ? runChild() : runParent();
  }

  private int runParent() throws Exception {
    EngineOptions.parseWarmUp(warmUp); // a bad value fails here, not in the child
    Path dir = Files.createTempDirectory("foley-coldstart-");
    try {
      Path bundle = dir.resolve("bundle");
      ReferenceModel.writeBundle(bundle, ReferenceModel.options().width(width).depth(depth)
          .denoiserSize(denoiserWidth, denoiserDepth).build());
      Path v = dir.resolve("v.mp4");
      SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(25, 1).durationSeconds(seconds).flash(1, 0.1, 0xFFFFFF)
          .movingSquare(0.5, Math.max(1, seconds - 0.5), 0xFF0000).build(), v);
      Path c = cache != null ? cache : dir.resolve("ort-cache");
      System.out.printf(Locale.ROOT, "coldstart: reference encoders %dx%d, denoiser %dx%d, %.1f s video, %d steps, "
          + "%d steady-state requests, %d cores, cache %s%n", width, depth, denoiserWidth, denoiserDepth, seconds,
          steps, requests, Runtime.getRuntime().availableProcessors(), c);
      List<Map<String, String>> runs = new ArrayList<>();
      for (int p = 1; p <= 2; p++) {
        Map<String, String> r = spawn(bundle, v, c);
        runs.add(r);
        System.out.printf(Locale.ROOT, "process %d: build %s ms (slowest stage load %s ms, warm-up %s ms, cache hits %s/5),"
            + " JVM start to ready %s ms, first request %s ms, steady state %s ms, first/steady %.3f%n", p,
            r.get("build_ms"), r.get("slowest_load_ms"), r.get("warmup_ms"), r.get("hits"), r.get("ready_uptime_ms"),
            r.get("first_ms"), r.get("steady_ms"), d(r, "first_ms") / d(r, "steady_ms"));
      }
      double ratio = d(runs.get(1), "build_ms") / d(runs.get(0), "build_ms");
      System.out.printf(Locale.ROOT, "build(): first process %s ms, second %s ms, second/first %.3f%n",
          runs.get(0).get("build_ms"), runs.get(1).get("build_ms"), ratio);
      System.out.printf(Locale.ROOT, "first request / steady state, second process: %.3f (goal <= 1.10)%n",
          d(runs.get(1), "first_ms") / d(runs.get(1), "steady_ms"));
      return 0;
    } finally {
      ModelBundle.deleteQuietly(dir);
    }
  }

  private static double d(Map<String, String> r, String k) {
    return Double.parseDouble(r.get(k));
  }

  private Map<String, String> spawn(Path bundle, Path v, Path c) throws Exception {
    List<String> args = new ArrayList<>(List.of("bench", "coldstart", "--child", "--bundle", bundle.toString(),
        "--video", v.toString(), "--cache", c.toString(), "--steps", String.valueOf(steps), "--requests",
        String.valueOf(requests), "--backend", backend.name().toLowerCase(Locale.ROOT), "--warm-up", warmUp));
    if (device != null) {
      args.addAll(List.of("--device", device.toString()));
    }
    return ChildJvm.run(RESULT, "  | ", args);
  }

  private int runChild() {
    io.foley4j.backend.Backend chosen = backend == BackendChoice.Kind.CPU
        ? CpuBackend.builder().optimizedModelCache(cache).build()
        : BackendChoice.of(backend, device == null ? null : List.of(device), null).get(0);
    io.foley4j.WarmUp mode = EngineOptions.parseWarmUp(warmUp);
    try (ModelBundle bundle = ModelBundle.open(bundleDir)) {
      long t0 = System.nanoTime();
      try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(chosen).warmUp(mode).name("coldstart")
          .maxConcurrentRequests(1).build()) {
        double buildMs = (System.nanoTime() - t0) / 1e6;
        long uptime = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
        Readiness ready = engine.readiness();
        System.out.println("readiness: " + ready);
        FoleyRequest req = FoleyRequest.builder(video).prompt("footsteps on gravel").seed(1).steps(steps).build();
        long f0 = System.nanoTime();
        io.foley4j.FoleyResult first = engine.generate(req);
        double firstMs = (System.nanoTime() - f0) / 1e6;
        System.out.println("first request: " + first.timings());
        double[] steady = new double[Math.max(1, requests)];
        for (int i = 0; i < steady.length; i++) {
          long s0 = System.nanoTime();
          io.foley4j.FoleyResult res = engine.generate(req);
          steady[i] = (System.nanoTime() - s0) / 1e6;
          if (i == steady.length - 1) {
            System.out.println("last steady request: " + res.timings());
          }
        }
        Arrays.sort(steady);
        double median = steady[steady.length / 2];
        long hits = ready.stages().values().stream().filter(Readiness.StageReadiness::optimizedModelCacheHit).count();
        System.out.printf(Locale.ROOT, "%s build_ms=%.1f slowest_load_ms=%.1f warmup_ms=%.1f hits=%d ready_uptime_ms=%d"
            + " first_ms=%.1f steady_ms=%.1f%n", RESULT, buildMs, ready.slowestLoadMillis(), ready.warmUpMillis(), hits,
            uptime, firstMs, median);
      }
    }
    return 0;
  }
}
