package io.foley4j.bench;

import io.foley4j.cli.BackendChoice;

import io.foley4j.cli.EngineOptions;

import io.foley4j.jcodec.SyntheticMp4;

import io.foley4j.AudioChunk;
import io.foley4j.EngineStats;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyListener;
import io.foley4j.FoleyRequest;
import io.foley4j.backend.CpuBackend;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.TensorSpec;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley bench serve}: throughput, latency and batching efficiency at several concurrency
 * levels, unbatched versus dynamic + continuous batching, on a reference model whose denoiser
 * dominates the cost as a real MM-DiT does.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Concurrent serving: throughput, latency p50/p95/p99, time to first chunk, batching efficiency.")
final class ServeBench implements Callable<Integer> {
  @Option(names = "--concurrency", split = ",", defaultValue = "1,4,16", description = "Concurrency levels.")
  int[] levels;

  /** --backend cpu|cuda|tensorrt, --device, --fallback, ...: the engines' and the raw baseline's backend. */
  @picocli.CommandLine.Mixin
  EngineOptions engineOptions = new EngineOptions();

  @Option(names = "--requests", defaultValue = "16", description = "Requests per level (at least the concurrency).")
  int requests;

  @Option(names = "--steps", defaultValue = "50", description = "Denoiser steps per request (the real model: 50).")
  int steps;

  @Option(names = "--seconds", defaultValue = "8", description = "Length of each request's video.")
  double seconds;

  @Option(names = "--denoiser-width", defaultValue = "2048",
      description = "Reference denoiser width: like a real MM-DiT it dominates the cost (default ${DEFAULT-VALUE}).")
  int denoiserWidth;

  @Option(names = "--denoiser-depth", defaultValue = "3")
  int denoiserDepth;

  @Option(names = "--max-batch", defaultValue = "16")
  int maxBatch;

  @Option(names = "--max-queue-delay-ms", defaultValue = "2")
  int maxQueueDelayMs;

  @Option(names = "--long-seconds", defaultValue = "60",
      description = "Video length for the time-to-first-chunk check; 0 skips it (default ${DEFAULT-VALUE}).")
  double longSeconds;

  @Option(names = "--modes", split = ",", defaultValue = "unbatched,dynamic",
      description = "Which modes to run, in this order: unbatched, dynamic (default ${DEFAULT-VALUE}).")
  List<String> modes;

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("foley-serve-");
    try {
      ReferenceModel.Options opts = ReferenceModel.options().denoiserSize(denoiserWidth, denoiserDepth).build();
      Path bundleDir = dir.resolve("bundle");
      ReferenceModel.writeBundle(bundleDir, opts);
      Path video = dir.resolve("v.mp4");
      SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(seconds).flash(1, 0.12, 0xFFFFFF)
          .movingSquare(3, 5, 0xFF0000).build(), video);
      System.out.printf("serve: reference model (denoiser %dx%d), %.1f s videos, %d steps, %d cores, max batch %d, "
          + "max queue delay %d ms%n", denoiserWidth, denoiserDepth, seconds, steps,
          Runtime.getRuntime().availableProcessors(), maxBatch, maxQueueDelayMs);
      try (ModelBundle bundle = ModelBundle.open(bundleDir)) {
        BundleManifest m = bundle.manifest();
        int segments = m.segment().count(Math.round(seconds * m.audio().sampleRate()));
        System.out.printf("%-10s %5s %9s %9s %9s %9s %9s %9s %9s %8s %6s %6s%n", "mode", "conc", "req/s", "p50 s", "p95 s",
            "p99 s", "ttfc s", "ideal/s", "effic.", "batch", "full", "enc");
        for (String mode : modes) {
          if (!mode.equals("unbatched") && !mode.equals("dynamic")) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                "--modes takes unbatched and/or dynamic, got " + mode);
          }
          for (int c : levels) {
            run(bundle, video, c, mode.equals("dynamic"), segments);
          }
        }
        if (longSeconds > 0) {
          longVideo(bundle, dir);
        }
      }
    } finally {
      io.foley4j.bundle.ModelBundle.deleteQuietly(dir);
    }
    return 0;
  }

  private void run(ModelBundle bundle, Path video, int c, boolean batched, int segments) throws Exception {
    int n = Math.max(requests, c);
    FoleyEngine.Builder b = engineOptions.configure(FoleyEngine.builder().bundle(bundle).name(batched ? "dyn" : "unb"))
        .maxConcurrentRequests(c);
    if (batched) {
      b.maxBatchSize(maxBatch).maxQueueDelay(Duration.ofMillis(maxQueueDelayMs));
    } else {
      b.maxBatchSize(1);
    }
    try (FoleyEngine engine = b.build()) {
      engine.generate(FoleyRequest.builder(video).prompt("warm").steps(2).build()); // warm-up
      double[] latency = new double[n];
      double[] ttfc = new double[n];
      AtomicInteger next = new AtomicInteger();
      List<Thread> clients = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int i = 0; i < c; i++) {
        Thread t = new Thread(() -> {
          for (int r; (r = next.getAndIncrement()) < n; ) {
            long s = System.nanoTime();
            long[] first = {0};
            engine.submit(FoleyRequest.builder(video).prompt("footsteps").steps(steps).seed(r).build(),
                new FoleyListener() {
                  @Override
                  public void onChunk(AudioChunk chunk) {
                    if (first[0] == 0) {
                      first[0] = System.nanoTime();
                    }
                  }
                }).await();
            latency[r] = (System.nanoTime() - s) / 1e9;
            ttfc[r] = (first[0] - s) / 1e9;
          }
        }, "bench-client-" + i);
        clients.add(t);
        t.start();
      }
      for (Thread t : clients) {
        t.join();
      }
      double wall = (System.nanoTime() - t0) / 1e9;
      double throughput = n / wall;
      EngineStats st = engine.stats();
      int k = Math.min(c, batched ? maxBatch : 1);
      double ideal = idealThroughput(bundle, k, segments);
      Arrays.sort(latency);
      Arrays.sort(ttfc);
      // full: share of denoiser calls that ran k items (a full batch at this level)
      long[] h = st.batchHistogram().get(Stage.DENOISER);
      long calls = 0;
      for (long x : h) {
        calls += x;
      }
      double full = calls == 0 ? 0 : h[Math.min(k, h.length - 1)] / (double) calls;
      // enc: share of the device's busy time spent in the text, visual and sync encoders and the VAE
      long busy = 0;
      for (long x : st.busyNanos().values()) {
        busy += x;
      }
      double enc = busy == 0 ? 0 : 1 - st.busyNanos().getOrDefault(Stage.DENOISER, 0L) / (double) busy;
      System.out.printf("%-10s %5d %9.3f %9.2f %9.2f %9.2f %9.2f %9.3f %9.2f %8.2f %6.2f %6.2f%n",
          batched ? "dynamic" : "unbatched", c, throughput, pct(latency, 50), pct(latency, 95), pct(latency, 99),
          pct(ttfc, 50), ideal, throughput / ideal, st.meanBatchSize(Stage.DENOISER), full, enc);
    }
  }

  /**
   * Requests/s if the device did nothing but run denoiser steps for {@code k} requests at once:
   * raw ONNX Runtime on the same file, batch of k CFG pairs, no engine around it.
   */
  private double idealThroughput(ModelBundle bundle, int k, int segments) {
    BundleManifest m = bundle.manifest();
    io.foley4j.backend.Backend raw = engineOptions.backend() == BackendChoice.Kind.CPU
        ? CpuBackend.builder().optimization(CpuBackend.Optimization.ALL).memoryArena(true).build()
        : engineOptions.backends().get(0);
    try (StageSession s = raw.open(m.stage(Stage.DENOISER), bundle.stageFile(Stage.DENOISER))) {
      Map<String, Tensor> in = new HashMap<>();
      SplittableRandom rnd = new SplittableRandom(1);
      for (TensorSpec t : m.stage(Stage.DENOISER).inputs()) {
        long[] shape = t.shape();
        shape[0] = 2L * k;
        float[] data = new float[Math.toIntExact(t.itemElements() * 2 * k)];
        for (int i = 0; i < data.length; i++) {
          data[i] = (float) rnd.nextDouble(0, 1);
        }
        in.put(t.name(), Tensor.of(data, shape));
      }
      for (int i = 0; i < 3; i++) {
        s.run(in);
      }
      int reps = 10;
      long t0 = s.runNanos();
      for (int i = 0; i < reps; i++) {
        s.run(in);
      }
      double perStep = (s.runNanos() - t0) / 1e9 / reps;
      return k / (perStep * steps * segments);
    }
  }

  private void longVideo(ModelBundle bundle, Path dir) throws Exception {
    Path video = dir.resolve("long.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(longSeconds).flash(1, 0.12, 0xFFFFFF).build(), video);
    try (FoleyEngine engine = engineOptions.configure(FoleyEngine.builder().bundle(bundle)).maxBatchSize(maxBatch)
        .build()) {
      engine.generate(FoleyRequest.builder(video).prompt("warm").steps(1).build());
      long s = System.nanoTime();
      long[] first = {0};
      engine.submit(FoleyRequest.builder(video).prompt("rain").steps(steps).build(), new FoleyListener() {
        @Override
        public void onChunk(AudioChunk chunk) {
          if (first[0] == 0) {
            first[0] = System.nanoTime();
          }
        }
      }).await();
      double total = (System.nanoTime() - s) / 1e9;
      double ttfc = (first[0] - s) / 1e9;
      System.out.printf("long video %.0f s: first chunk after %.2f s of %.2f s total = %.1f%% (goal <= 15%%)%n",
          longSeconds, ttfc, total, 100 * ttfc / total);
    }
  }

  private static double pct(double[] sorted, double p) {
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
