package io.foley4j.bench;

import io.foley4j.jcodec.SyntheticMp4;

import io.foley4j.EngineStats;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.backend.Backend;
import io.foley4j.backend.CpuBackend;
import io.foley4j.backend.StageSession;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley bench devices}: one long job (default 60 s of video) on fake devices, each an ONNX
 * Runtime CPU backend with its own threads, at each number of segments in flight. Prints wall
 * time per configuration and its speed-up over one segment in flight on the same devices, the
 * denoiser's mean batch, and how the segments were spread.
 */
@Command(name = "devices", mixinStandardHelpOptions = true,
    description = "One long job on N fake devices (ORT CPU sessions) at K segments in flight: wall time, K=1 / K,"
        + " denoiser mean batch, segments per device.")
final class DevicesBench implements Callable<Integer> {
  @Option(names = "--seconds", defaultValue = "60", description = "Video length (default ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--steps", defaultValue = "25", description = "Denoising steps (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--devices", defaultValue = "1,2", split = ",",
      description = "Numbers of fake devices to try (default ${DEFAULT-VALUE}).")
  List<Integer> deviceCounts;

  @Option(names = "--in-flight", defaultValue = "1,4", split = ",",
      description = "Segments in flight to try; the first is the baseline (default ${DEFAULT-VALUE}).")
  List<Integer> inFlight;

  @Option(names = "--threads-per-device", defaultValue = "1",
      description = "ONNX Runtime intra-op threads of each fake device (default ${DEFAULT-VALUE}).")
  int threadsPerDevice;

  @Option(names = "--denoiser-width", defaultValue = "2048", description = "Reference denoiser width (default ${DEFAULT-VALUE}).")
  int denoiserWidth;

  @Option(names = "--denoiser-depth", defaultValue = "3", description = "Reference denoiser depth (default ${DEFAULT-VALUE}).")
  int denoiserDepth;

  @Option(names = "--max-delay-ms", defaultValue = "5",
      description = "Scheduler's maxQueueDelay in ms (default ${DEFAULT-VALUE}).")
  int maxDelayMs;

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("foley-bench-devices-");
    try {
      Path video = dir.resolve("long.mp4");
      SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(25, 1).durationSeconds(seconds).flash(1, 0.1, 0xFFFFFF)
          .movingSquare(2, seconds - 1, 0xFF0000).build(), video);
      Path bundleDir = dir.resolve("bundle");
      ReferenceModel.writeBundle(bundleDir, ReferenceModel.options().denoiserSize(denoiserWidth, denoiserDepth).build());
      System.out.printf(Locale.ROOT, "devices: one %.0f s job, %d steps, reference denoiser %dx%d, fake devices of %d"
          + " ORT CPU thread(s) each, %d cores%n", seconds, steps, denoiserWidth, denoiserDepth, threadsPerDevice,
          Runtime.getRuntime().availableProcessors());
      System.out.printf("%-8s %-10s %10s %10s %12s %14s  %s%n", "devices", "in flight", "wall s", "speed-up",
          "mean batch", "denoiser calls", "segments per device, denoiser calls by batch size");
      try (ModelBundle bundle = ModelBundle.open(bundleDir)) {
        for (int n : deviceCounts) {
          double baseline = Double.NaN;
          for (int k : inFlight) {
            List<Backend> fakes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
              fakes.add(fake("fake:" + i, threadsPerDevice));
            }
            try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).name("bench-devices").devices(fakes)
                .segmentsInFlight(k).maxConcurrentRequests(1)
                .maxQueueDelay(java.time.Duration.ofMillis(maxDelayMs)).build()) {
              FoleyRequest req = FoleyRequest.builder(video).prompt("footsteps, a door").steps(steps).seed(1).build();
              long t0 = System.nanoTime();
              engine.generate(req);
              double wall = (System.nanoTime() - t0) / 1e9;
              if (Double.isNaN(baseline)) {
                baseline = wall;
              }
              EngineStats st = engine.stats();
              long[] h = st.batchHistogram().get(Stage.DENOISER);
              long denoiserCalls = 0;
              for (long c : h) {
                denoiserCalls += c;
              }
              StringBuilder sizes = new StringBuilder();
              for (int i = 1; i < h.length; i++) {
                if (h[i] > 0) {
                  sizes.append(sizes.length() == 0 ? "" : " ").append(i).append('x').append(h[i]);
                }
              }
              String spread = st.devices().stream().map(d -> d.name() + "=" + d.segmentsPlaced())
                  .collect(Collectors.joining(" ")) + "  batches " + sizes;
              System.out.printf(Locale.ROOT, "%-8d %-10d %10.2f %9.2fx %12.2f %14d  %s%n", n, k, wall, baseline / wall,
                  st.meanBatchSize(Stage.DENOISER), denoiserCalls, spread);
            }
          }
        }
      }
      System.out.println("speed-up: the first --in-flight value's wall time / this one's, on the same devices");
      return 0;
    } finally {
      ModelBundle.deleteQuietly(dir);
    }
  }

  /** A fake device: ONNX Runtime on the CPU with its own threads, under its own name. */
  static Backend fake(String name, int threads) {
    Backend cpu = CpuBackend.builder().intraOpThreads(threads).build();
    return new Backend() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public StageSession open(StageSpec spec, Path modelFile) {
        return cpu.open(spec, modelFile);
      }
    };
  }
}
