package io.foley4j.bench;

import io.foley4j.jcodec.SyntheticMp4;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.WarmUp;
import io.foley4j.backend.CpuBackend;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley bench memory}: the peak resident memory and wall time of one request through a fresh
 * JVM per CPU arena setting, side by side on the same bundle and clip: the default (the encoders and
 * the VAE decoder give the arena's free chunks back after each call), the arena kept by every
 * stage, and no arena at all. Peak RSS is the child's {@code VmHWM}.
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
    description = "Peak RSS and wall of one request per CPU arena setting (shrink after calls, keep, off), each in a"
        + " fresh JVM, on a bundle (default: the reference model) and a clip.")
final class MemoryBench implements Callable<Integer> {
  static final String RESULT = "MEMORY-RESULT";
  static final List<String> SETTINGS = List.of("shrink", "keep", "off");

  @Option(names = "--bundle", description = "Bundle directory (default: the reference model).")
  Path bundleDir;

  @Option(names = "--video", description = "Clip (default: a synthetic 8 s 320x240 one).")
  Path video;

  @Option(names = "--steps", defaultValue = "4", description = "Denoiser steps (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--encoder-batch", defaultValue = "8,2", description = "Visual frames and sync windows per encoder"
      + " call (default ${DEFAULT-VALUE}, the engine's).")
  String encoderBatch;

  @Option(names = "--settings", split = ",", description = "Which of shrink, keep, off, in order (default all).")
  List<String> settings;

  @Option(names = "--child", hidden = true)
  String child;

  @Override
  public Integer call() throws Exception {
    return child != null ? runChild() : runParent();
  }

  private int[] batch() {
    String[] p = encoderBatch.split(",");
    if (p.length != 2) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
          "--encoder-batch wants VISUAL,SYNC (e.g. 8,2), got " + encoderBatch);
    }
    return new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
  }

  private int runParent() throws Exception {
    List<String> which = settings == null ? SETTINGS : settings;
    for (String s : which) {
      if (!SETTINGS.contains(s)) {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--settings: unknown " + s
            + "; use " + String.join(", ", SETTINGS));
      }
    }
    batch();
    Path dir = Files.createTempDirectory("foley-memory-bench-");
    try {
      Path bundle = bundleDir;
      if (bundle == null) {
        bundle = dir.resolve("bundle");
        ReferenceModel.writeBundle(bundle, ReferenceModel.options().build());
      }
      Path v = video;
      if (v == null) {
        v = dir.resolve("clip.mp4");
        SyntheticMp4.write(SyntheticVideo.builder().size(320, 240).fps(25, 1).durationSeconds(8).flash(1, 0.1, 0xFFFFFF)
            .movingSquare(0.5, 7.5, 0xFF0000).build(), v);
      }
      System.out.printf(Locale.ROOT, "memory: bundle %s, clip %s, %d steps, encoder batch %s, %d cores; one fresh JVM"
          + " per setting%n", bundleDir == null ? "reference model" : bundle, v, steps, encoderBatch,
          Runtime.getRuntime().availableProcessors());
      Map<String, Map<String, String>> got = new HashMap<>();
      for (String s : which) {
        got.put(s, spawn(s, bundle, v));
      }
      String base = which.get(0);
      System.out.println("setting   peak RSS MiB   after load MiB   request s   RSS / " + base + "   request / " + base);
      for (String s : which) {
        Map<String, String> r = got.get(s);
        System.out.printf(Locale.ROOT, "%-9s %12d %16d %11.2f %12.3f %16.3f%n", s, l(r, "hwm_mib"),
            l(r, "loaded_mib"), d(r, "request_s"), (double) l(r, "hwm_mib") / l(got.get(base), "hwm_mib"),
            d(r, "request_s") / d(got.get(base), "request_s"));
      }
      return 0;
    } finally {
      ModelBundle.deleteQuietly(dir);
    }
  }

  private static long l(Map<String, String> r, String k) {
    return Long.parseLong(r.get(k));
  }

  private static double d(Map<String, String> r, String k) {
    return Double.parseDouble(r.get(k));
  }

  private Map<String, String> spawn(String setting, Path bundle, Path v) throws Exception {
    return ChildJvm.run(RESULT, "  " + setting + " | ", List.of("bench", "memory", "--child", setting, "--bundle",
        bundle.toString(), "--video", v.toString(), "--steps", String.valueOf(steps), "--encoder-batch", encoderBatch));
  }

  /** A /proc/self/status field in MiB ({@link DenoiserBench#status}), or a failure where it cannot be read. */
  private static long statusMib(String field) {
    long mib = DenoiserBench.status(field);
    if (mib < 0) {
      throw new IllegalStateException("no " + field + " in /proc/self/status (Linux only)");
    }
    return mib;
  }

  private int runChild() throws Exception {
    CpuBackend.Builder cpu = CpuBackend.builder();
    switch (child) {
      case "shrink" -> cpu.arenaShrinkage(true);
      case "keep" -> cpu.arenaShrinkage(false);
      case "off" -> cpu.memoryArena(false);
      default -> throw new IllegalArgumentException("setting " + child);
    }
    int[] b = batch();
    try (ModelBundle bundle = ModelBundle.open(bundleDir);
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(cpu.build()).warmUp(WarmUp.NONE)
            .encoderBatch(b[0], b[1]).name("memory").build()) {
      long loaded = statusMib("VmRSS");
      long t0 = System.nanoTime();
      FoleyResult r = engine.generate(FoleyRequest.builder(video).prompt("footsteps on gravel")
          .negativePrompt("noisy, harsh").seed(1).steps(steps).build());
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.println("timings: " + r.timings());
      System.out.printf(Locale.ROOT, "%s hwm_mib=%d loaded_mib=%d request_s=%.3f samples=%d%n", RESULT,
          statusMib("VmHWM"), loaded, s, r.toArray().length);
    }
    return 0;
  }
}
