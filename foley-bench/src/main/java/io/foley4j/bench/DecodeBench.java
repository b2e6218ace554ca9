package io.foley4j.bench;

import io.foley4j.FoleyException;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.ResizeMode;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code foley bench decode FILE}: frames per second of foley4j's sampling path (every frame
 * decoded to YUV planes in Java, the sampled ones converted to model tensors) against the ffmpeg
 * CLI decoding the same file with the same threads to nowhere, and their ratio.
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
    description = "Decode speed of foley4j's sampling path against the ffmpeg CLI on the same file.")
final class DecodeBench implements Callable<Integer> {
  @Parameters(index = "0", description = "Video file.")
  Path file;

  @Option(names = "--threads", defaultValue = "1", description = "Decoder threads, for both (default ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--decoder", defaultValue = "ffmpeg", description = "foley4j decoder: ffmpeg or jcodec"
      + " (default ${DEFAULT-VALUE}).")
  String decoder;

  @Option(names = "--sample-fps", defaultValue = "8", description = "Frames per second converted to tensors, as a"
      + " visual encoder samples them (default ${DEFAULT-VALUE}; 0: none).")
  double sampleFps;

  @Option(names = "--size", defaultValue = "224", description = "Tensor side (default ${DEFAULT-VALUE}).")
  int size;

  @Option(names = "--runs", defaultValue = "3", description = "Measured runs after one warm-up; the best counts"
      + " (default ${DEFAULT-VALUE}).")
  int runs;

  @Override
  public Integer call() throws Exception {
    if (threads < 1 || threads > 64 || runs < 1 || size < 1 || sampleFps < 0) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--threads must be 1-64, --runs and --size"
          + " positive, --sample-fps not negative");
    }
    VideoSourceFactory f = VideoSources.named(decoder);
    double best = 0;
    long frames = 0;
    String what = "";
    for (int run = 0; run <= runs; run++) {
      long t0 = System.nanoTime();
      long n = 0;
      long converted = 0;
      float[] tensor = new float[3 * size * size];
      float[] mean = {0.5f, 0.5f, 0.5f};
      double nextSample = 0;
      try (VideoSource s = f.open(file, threads)) {
        what = s.info().toString();
        for (DecodedFrame fr; (fr = s.next()) != null; ) {
          n++;
          if (sampleFps > 0 && fr.ptsSeconds() + 1e-9 >= nextSample) {
            fr.toTensor(size, ResizeMode.SQUASH, mean, mean, tensor, 0);
            converted++;
            nextSample += 1 / sampleFps;
          }
        }
      }
      double fps = n / ((System.nanoTime() - t0) / 1e9);
      System.out.printf(Locale.ROOT, "foley4j %s %s: %d frames (%d to %dx%d tensors) at %.1f frames/s%n",
          decoder, run == 0 ? "warm-up" : "run " + run, n, converted, size, size, fps);
      if (run > 0) {
        best = Math.max(best, fps);
      }
      frames = n;
    }
    double cli = 0;
    for (int run = 0; run <= runs; run++) {
      double fps = frames / ffmpegSeconds();
      System.out.printf(Locale.ROOT, "ffmpeg CLI %s: %.1f frames/s%n", run == 0 ? "warm-up" : "run " + run, fps);
      if (run > 0) {
        cli = Math.max(cli, fps);
      }
    }
    System.out.println(what);
    System.out.printf(Locale.ROOT, "best of %d on %d thread(s): foley4j %.1f frames/s, ffmpeg CLI %.1f frames/s,"
        + " ratio %.2f%n", runs, threads, best, cli, best / cli);
    return 0;
  }

  /** Wall time of {@code ffmpeg -threads N -i FILE -f null -} (decode only; includes the process start). */
  private double ffmpegSeconds() throws IOException, InterruptedException {
    List<String> cmd = List.of("ffmpeg", "-nostdin", "-v", "error", "-threads", String.valueOf(threads), "-i",
        file.toString(), "-map", "0:v:0", "-f", "null", "-");
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (!p.waitFor(600, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new FoleyException(FoleyException.Code.IO, "ffmpeg did not finish in 10 minutes");
    }
    if (p.exitValue() != 0) {
      throw new FoleyException(FoleyException.Code.IO, "ffmpeg failed on " + file + " (exit " + p.exitValue() + ")");
    }
    return (System.nanoTime() - t0) / 1e9;
  }
}
