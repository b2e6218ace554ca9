package io.foley4j.bench;

import io.foley4j.jcodec.SyntheticMp4;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.backend.CpuBackend;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley bench soak}: many short requests at a fixed concurrency on the built-in reference
 * model, sampling the process's resident set, live heap, threads and open files every
 * {@code --every} requests (between rounds, with no request in flight), then the growth of each per
 * 100 requests over the samples after the first quarter. A
 * leak shows as a slope that does not go to zero; a plateau as a slope that does. Linux only for
 * RSS and file descriptors (read from {@code /proc/self}); elsewhere those columns are -1.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
    description = "Many short requests; RSS, heap after GC, threads and open fds every N requests, then slopes.")
final class SoakBench implements Callable<Integer> {
  static final String[] COLUMNS = {"requests", "rss MB", "heap MB", "commit MB", "direct MB", "threads", "fds"};

  @Option(names = "--requests", defaultValue = "1000", description = "Requests in all (default ${DEFAULT-VALUE}).")
  int requests;

  @Option(names = "--concurrency", defaultValue = "4",
      description = "Client threads and the engine's maxConcurrentRequests (default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--steps", defaultValue = "4", description = "Denoiser steps per request (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--seconds", defaultValue = "1", description = "Length of the video (default ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--every", defaultValue = "25", description = "Sample every this many requests (default ${DEFAULT-VALUE}).")
  int every;

  @Option(names = "--arena", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "ONNX Runtime's CPU memory arena (CpuBackend.memoryArena; default on, --no-arena turns it off).")
  boolean arena;

  @Option(names = "--gc", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Collect garbage before each sample (default on): --no-gc samples the process as a server sees "
          + "it, with unreachable direct buffers still holding native memory.")
  boolean gc;

  @Override
  public Integer call() throws Exception {
    if (requests < 1 || concurrency < 1 || every < 1 || steps < 1 || !(seconds > 0)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--requests, --concurrency, --every, --steps and "
          + "--seconds must be positive; got " + requests + ", " + concurrency + ", " + every + ", " + steps + ", "
          + seconds);
    }
    PrintStream out = System.out;
    Path dir = Files.createTempDirectory("foley-soak-");
    try {
      Path video = dir.resolve("soak.mp4");
      SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(seconds).flash(seconds / 2, 0.12, 0xFFFFFF)
          .build(), video);
      StringBuilder malloc = new StringBuilder();
      new java.util.TreeMap<>(System.getenv()).forEach((k, v) -> {
        if (k.startsWith("MALLOC_")) {
          malloc.append(' ').append(k).append('=').append(v);
        }
      });
      out.printf(Locale.ROOT, "soak: %d requests, concurrency %d, %d steps, %.1f s 64x48 video, ORT arena %s, "
          + "GC before samples %s, %d cores, max heap %d MB, JVM flags %s, env%s%n", requests, concurrency, steps, seconds, arena ? "on" : "off",
          gc ? "yes" : "no", Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20,
          ManagementFactory.getRuntimeMXBean().getInputArguments(), malloc.length() == 0 ? " MALLOC_*: none" : malloc);
      List<double[]> samples = new ArrayList<>();
      try (ModelBundle bundle = ReferenceModel.bundle();
          FoleyEngine engine = FoleyEngine.builder().bundle(bundle).name("soak").maxConcurrentRequests(concurrency)
              .backend(CpuBackend.builder().memoryArena(arena).build()).build()) {
        engine.generate(FoleyRequest.builder(video).prompt("warm").steps(1).build()); // warm-up
        out.printf("%8s %9s %9s %9s %9s %8s %6s%n", (Object[]) COLUMNS);
        samples.add(sample(0, gc, out));
        // Rounds of --every requests on --concurrency threads; each sample is taken between rounds,
        // with nothing in flight, so it shows what stays behind rather than the working set.
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(concurrency);
        long t0 = System.nanoTime();
        try {
          for (int done = 0; done < requests; ) {
            int round = Math.min(every, requests - done);
            List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < round; i++) {
              int r = done + i;
              futures.add(pool.submit(() -> engine.generate(FoleyRequest.builder(video).prompt("footsteps " + (r % 7))
                  .steps(steps).seed(r).build())));
            }
            for (java.util.concurrent.Future<?> f : futures) {
              try {
                f.get();
              } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof FoleyException fe ? fe
                    : new FoleyException(FoleyException.Code.INTERNAL, "a soak request failed: " + e.getCause(), e);
              }
            }
            done += round;
            samples.add(sample(done, gc, out));
          }
        } finally {
          pool.shutdownNow();
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        out.printf(Locale.ROOT, "%d requests in %.1f s (%.2f requests/s)%n", requests, wall, requests / wall);
      }
      double from = 0.25 * requests;
      out.printf(Locale.ROOT, "slopes per 100 requests (least squares over samples from request %.0f on):%n", from);
      for (int c = 1; c < COLUMNS.length; c++) {
        out.printf(Locale.ROOT, "  %-10s %+9.3f%n", COLUMNS[c], 100 * slope(samples, c, from));
      }
    } finally {
      ModelBundle.deleteQuietly(dir);
    }
    return 0;
  }

  /**
   * One row: requests done, RSS MB, heap used (after a GC unless --no-gc) MB, heap committed MB, direct buffers MB, live
   * threads, open fds.
   */
  private static double[] sample(int done, boolean gc, PrintStream out) {
    if (gc) {
      // Direct buffers are freed by their cleaners after the GC that found them unreachable: give
      // them a moment, then collect again.
      System.gc();
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      System.gc();
    }
    java.lang.management.MemoryUsage h = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    double direct = 0;
    for (BufferPoolMXBean p : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (p.getName().equals("direct")) {
        direct = p.getMemoryUsed() / 1048576.0;
      }
    }
    double[] row = {done, rssKb() / 1024.0, h.getUsed() / 1048576.0, h.getCommitted() / 1048576.0, direct,
        ManagementFactory.getThreadMXBean().getThreadCount(), openFds()};
    out.printf(Locale.ROOT, "%8d %9.1f %9.1f %9.1f %9.1f %8.0f %6.0f%n", done, row[1], row[2], row[3], row[4], row[5],
        row[6]);
    return row;
  }

  /** VmRSS from /proc/self/status in kB, or -1 where there is none. */
  static long rssKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  /** Entries of /proc/self/fd, or -1 where there is none. */
  static long openFds() {
    try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Least-squares slope of column {@code c} against column 0 over the rows with column 0 ≥ {@code from}. */
  static double slope(List<double[]> rows, int c, double from) {
    double n = 0;
    double sx = 0;
    double sy = 0;
    double sxx = 0;
    double sxy = 0;
    for (double[] r : rows) {
      if (r[0] >= from) {
        n++;
        sx += r[0];
        sy += r[c];
        sxx += r[0] * r[0];
        sxy += r[0] * r[c];
      }
    }
    double den = n * sxx - sx * sx;
    return n < 2 || den == 0 ? 0 : (n * sxy - sx * sy) / den;
  }
}
