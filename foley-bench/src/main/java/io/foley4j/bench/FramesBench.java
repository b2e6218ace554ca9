package io.foley4j.bench;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.FoleyException;
import io.foley4j.FramePreparation;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.FrameStages;
import io.foley4j.video.ResizeFilter;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code foley bench frames FILE}: the CPU time of preparing a clip's frames for the two video
 * encoders, side by side in one run:
 *
 * <ul>
 *   <li>foley4j's whole preparation (open, decode, sample, RGB, resize, normalise and pack, both
 *       streams), the engine's own code ({@link FramePreparation}: the job's producer with the
 *       encoders left out), per stage where it can be told apart;
 *   <li>foley4j's decoding alone (its video source, every frame, nothing converted);
 *   <li>HunyuanVideo-Foley's own preparation in Python ({@code hvf_frames.py}: PyAV per stream, PIL
 *       bilinear 512, torch uint8 antialiased bicubic + centre crop, normalisation), with torch
 *       and PyAV on the same threads, skipped when the Python lacks PyAV or torch;
 *   <li>the ffmpeg CLI decoding the clip to nowhere with the same threads.
 * </ul>
 *
 * CPU time is core-seconds of the whole process (all its threads: decoder threads, and in the JVM
 * also the JIT and the GC), wall time is on {@code --threads} decoder threads. Each column is the
 * best (least CPU) of {@code --runs} runs after one warm-up.
 */
@Command(name = "frames", mixinStandardHelpOptions = true,
    description = "CPU time of foley4j's frame preparation against HunyuanVideo-Foley's (Python) and the ffmpeg CLI's"
        + " decoding, on the same clip and threads.")
final class FramesBench implements Callable<Integer> {
  /** The script that does HVF's preparation, a resource next to this class. */
  static final String SCRIPT = "hvf_frames.py";

  @Parameters(index = "0", description = "Video file.")
  Path file;

  @Option(names = "--threads", defaultValue = "1", description = "Decoder threads (foley4j, PyAV, ffmpeg CLI) and"
      + " torch threads (default ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--bundle", description = "A bundle whose frame rules to use (its foley-bundle.json only; default:"
      + " the reference bundle with HunyuanVideo-Foley's filters and frame rules).")
  Path bundle;

  @Option(names = "--decoder", defaultValue = "ffmpeg", description = "foley4j decoder: ffmpeg or jcodec"
      + " (default ${DEFAULT-VALUE}).")
  String decoder;

  @Option(names = "--runs", defaultValue = "3", description = "Measured runs of each after one warm-up"
      + " (default ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--python", description = "Python with PyAV, torch, numpy and Pillow (default: $FOLEY_PYTHON,"
      + " else python3).")
  String python;

  @Option(names = "--encoder-batch", defaultValue = "8,2", split = ",", description = "Visual frames and sync windows"
      + " per encoder batch, as the engine's encoderBatch (default ${DEFAULT-VALUE}).")
  int[] encoderBatch;

  /** One measurement: CPU and wall seconds, and per-stage CPU seconds (in print order). */
  record Sample(double cpu, double wall, Map<String, Double> stages, String note) {}

  @Override
  public Integer call() throws Exception {
    if (threads < 1 || threads > 64 || runs < 1 || encoderBatch.length != 2 || encoderBatch[0] < 1
        || encoderBatch[1] < 1) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--threads must be 1-64, --runs positive,"
          + " --encoder-batch two positive numbers");
    }
    VideoSources.requireRegularFile(file);
    BundleManifest m = manifest();
    VideoSourceFactory factory = VideoSources.named(decoder);
    VideoInfo info;
    try (VideoSource s = factory.open(file, threads)) {
      info = s.info();
    }
    System.out.printf(Locale.ROOT, "frames: %s, %s, decoder %s, %d thread(s), %d cores, load average %s%n", file, info,
        decoder, threads, Runtime.getRuntime().availableProcessors(), loadAverage());
    System.out.printf(Locale.ROOT, "rules: %s; visual %s fps %d %s %s, sync %s fps %d %s %s, %s, %s%n",
        bundle == null ? "the reference bundle with HunyuanVideo-Foley's filters and frame rules" : "bundle " + bundle,
        num(m.visual().fps()), m.visual().size(), m.visual().resize(), m.visual().resizeFilter().manifestName(),
        num(m.sync().fps()), m.sync().size(), m.sync().resize(), m.sync().resizeFilter().manifestName(),
        m.frameRule().manifestName(), m.frameGrid().manifestName());
    System.out.printf(Locale.ROOT, "resizes: %s%n", io.foley4j.video.FrameStages.resizePath());

    Sample f4j = best("foley4j", () -> foley4j(m, factory));
    Sample dec = best("foley4j decode alone", () -> decodeAlone(factory));
    Sample hvf = hvf();
    Sample cli = ffmpegAvailable() ? best("ffmpeg CLI decode", this::ffmpegCli) : null;

    System.out.printf(Locale.ROOT, "summary: best of %d runs, core-seconds (process CPU time) and wall seconds on %d"
        + " thread(s); load average now %s%n", runs, threads, loadAverage());
    row("foley4j frame preparation", f4j);
    for (Map.Entry<String, Double> e : f4j.stages().entrySet()) {
      System.out.printf(Locale.ROOT, "    %-38s cpu %8.3f%n", e.getKey(), e.getValue());
    }
    row("foley4j decode alone", dec);
    if (hvf == null) {
      System.out.printf(Locale.ROOT, "  %-40s skipped: %s%n", "HVF Python preparation", hvfSkipped);
    } else {
      row("HVF Python preparation", hvf);
      for (Map.Entry<String, Double> e : hvf.stages().entrySet()) {
        System.out.printf(Locale.ROOT, "    %-38s cpu %8.3f%n", e.getKey(), e.getValue());
      }
    }
    if (cli == null) {
      System.out.printf(Locale.ROOT, "  %-40s skipped: no ffmpeg command%n", "ffmpeg CLI decode only");
    } else {
      row("ffmpeg CLI decode only", cli);
    }
    // the ratios of the printed (rounded) values, so that they can be checked from the output
    double f = round3(f4j.cpu());
    // a column that rounds to 0 (a clip too short to time) gives no ratio rather than an infinite one
    String hvfRatio = hvf == null || f == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", round3(hvf.cpu()) / f);
    String decRatio = cli == null || round3(cli.cpu()) == 0 ? "n/a"
        : String.format(Locale.ROOT, "%.2f", f / round3(cli.cpu()));
    System.out.printf(Locale.ROOT, "ratios (cpu): HVF / foley4j = %s (goal >= 5); foley4j / decode-only = %s"
        + " (goal <= 1.5)%n", hvfRatio, decRatio);
    return 0;
  }

  private static void row(String name, Sample s) {
    System.out.printf(Locale.ROOT, "  %-40s cpu %8.3f  wall %8.3f%s%n", name, round3(s.cpu()), round3(s.wall()),
        s.note() == null ? "" : "  (" + s.note() + ")");
  }

  private static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static String num(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }

  interface Run {
    Sample run() throws Exception;
  }

  /** One warm-up and {@code runs} measured runs, each printed; the one with the least CPU time. */
  private Sample best(String name, Run r) throws Exception {
    Sample best = null;
    for (int i = 0; i <= runs; i++) {
      Sample s = r.run();
      System.out.printf(Locale.ROOT, "%s %s: cpu %.3f s, wall %.3f s%s%n", name, i == 0 ? "warm-up" : "run " + i,
          s.cpu(), s.wall(), stages(s));
      if (i > 0 && (best == null || s.cpu() < best.cpu())) {
        best = s;
      }
    }
    return best;
  }

  private static String stages(Sample s) {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, Double> e : s.stages().entrySet()) {
      b.append(b.length() == 0 ? " | " : ", ").append(e.getKey()).append(' ')
          .append(String.format(Locale.ROOT, "%.3f", e.getValue()));
    }
    if (s.note() != null) {
      b.append(" | ").append(s.note());
    }
    return b.toString();
  }

  // ---- foley4j -----------------------------------------------------------------------------------

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private Sample foley4j(BundleManifest m, VideoSourceFactory factory) {
    long cpu0 = OS.getProcessCpuTime();
    long wall0 = System.nanoTime();
    FrameStages st = FrameStages.start(THREADS::getCurrentThreadCpuTime);
    FramePreparation.Result r;
    try {
      r = FramePreparation.run(m, factory.open(file, threads), encoderBatch[0], encoderBatch[1]);
    } finally {
      st.stop();
    }
    double wall = (System.nanoTime() - wall0) / 1e9;
    double cpu = (OS.getProcessCpuTime() - cpu0) / 1e9;
    ResizeFilter vf = m.visual().resizeFilter();
    ResizeFilter sf = m.sync().resizeFilter();
    double rgb = st.rgbNanos() / 1e9;
    double norm = st.normaliseNanos() / 1e9;
    Map<String, Double> stages = new java.util.LinkedHashMap<>();
    double resized = 0;
    // a decoder without its own RGB (jcodec) has foley4j convert the rows inside the resize
    String rgbName = st.rgbFrames() > 0 || decoder.equals("ffmpeg")
        ? String.format(Locale.ROOT, "rgb (%s, %d frames)", decoder.equals("ffmpeg") ? "swscale" : decoder, st.rgbFrames())
        : "rgb (foley4j's own: counted in the resizes)";
    Map<String, Double> resizes = new java.util.LinkedHashMap<>();
    for (ResizeFilter f : vf == sf ? List.of(vf) : List.of(vf, sf)) {
      double s = st.resizeNanos(f) / 1e9;
      resized += s;
      resizes.put(String.format(Locale.ROOT, "resize %s (%d frames)", f.manifestName(), st.resizeFrames(f)), s);
    }
    stages.put("open, decode, sample, pack (the rest)", cpu - rgb - resized - norm);
    stages.put(rgbName, rgb);
    stages.putAll(resizes);
    stages.put("normalise", norm);
    String note = String.format(Locale.ROOT, "%d segment(s), %d visual pictures (+%d copies) in %d batches, %d sync"
        + " windows (+%d copies) in %d batches", r.segments(), r.visualPictures(), r.visualCopies(), r.visualBatches(),
        r.syncWindows(), r.syncCopies(), r.syncBatches());
    return new Sample(cpu, wall, stages, note);
  }

  private Sample decodeAlone(VideoSourceFactory factory) {
    long cpu0 = OS.getProcessCpuTime();
    long wall0 = System.nanoTime();
    int n = 0;
    try (VideoSource s = factory.open(file, threads)) {
      for (DecodedFrame fr; (fr = s.next()) != null; ) {
        n++;
      }
    }
    return new Sample((OS.getProcessCpuTime() - cpu0) / 1e9, (System.nanoTime() - wall0) / 1e9, Map.of(),
        n + " frames");
  }

  /** The manifest of {@code --bundle}, else the reference bundle's with HVF's filters and frame rules. */
  private BundleManifest manifest() throws IOException {
    if (bundle != null) {
      Path json = bundle.resolve(ModelBundle.MANIFEST);
      if (!Files.isRegularFile(json)) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--bundle " + bundle + " has no "
            + ModelBundle.MANIFEST);
      }
      return BundleManifest.parse(Files.readString(json));
    }
    Path dir = Files.createTempDirectory("foley-frames-");
    try {
      ReferenceModel.writeBundle(dir, ReferenceModel.options().width(8).depth(1).build());
      JsonObject j = JsonParser.parseString(Files.readString(dir.resolve(ModelBundle.MANIFEST))).getAsJsonObject();
      j.getAsJsonObject("visual").addProperty("filter", ResizeFilter.PIL_BILINEAR.manifestName());
      j.getAsJsonObject("sync").addProperty("filter", ResizeFilter.TORCH_BICUBIC.manifestName());
      j.addProperty("frameRule", BundleManifest.FrameRule.AT_OR_AFTER.manifestName());
      j.addProperty("frameGrid", BundleManifest.FrameGrid.ACCUMULATED.manifestName());
      j.addProperty("formatVersion", 2);
      return BundleManifest.parse(j.toString());
    } finally {
      ModelBundle.deleteQuietly(dir);
    }
  }

  // ---- HVF's Python ------------------------------------------------------------------------------

  private String hvfSkipped;

  private String python() {
    if (python != null) {
      return python;
    }
    String env = System.getenv("FOLEY_PYTHON");
    return env == null || env.isBlank() ? "python3" : env;
  }

  /** HVF's preparation in Python, or null (with {@link #hvfSkipped} saying why) without PyAV or torch. */
  private Sample hvf() throws IOException, InterruptedException {
    String py = python();
    ProcessResult check;
    try {
      check = exec(List.of(py, "-c", "import av, torch, numpy, PIL"), 120);
    } catch (IOException e) {
      hvfSkipped = py + " cannot run: " + e.getMessage();
      return null;
    }
    if (check.exit() != 0) {
      String[] lines = check.output().trim().split("\n");
      hvfSkipped = py + " lacks a module: " + lines[lines.length - 1];
      return null;
    }
    Path script = Files.createTempFile("foley-hvf-frames-", ".py");
    try {
      try (InputStream in = FramesBench.class.getResourceAsStream(SCRIPT)) {
        if (in == null) {
          throw new FoleyException(FoleyException.Code.INTERNAL, SCRIPT + " is missing from foley-bench's jar");
        }
        Files.write(script, in.readAllBytes());
      }
      ProcessResult r = exec(List.of(py, script.toString(), file.toString(), "--threads", String.valueOf(threads),
          "--runs", String.valueOf(runs)), 3600);
      if (r.exit() != 0) {
        throw new FoleyException(FoleyException.Code.IO, "HVF's preparation in " + py + " failed (exit " + r.exit()
            + "):\n" + r.output().trim());
      }
      Sample best = null;
      int run = 0;
      for (String line : r.output().split("\n")) {
        if (!line.startsWith("{")) {
          continue;
        }
        JsonObject j = JsonParser.parseString(line).getAsJsonObject();
        Map<String, Double> stages = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : j.getAsJsonObject("stages_cpu").entrySet()) {
          stages.put(e.getKey(), e.getValue().getAsDouble());
        }
        Sample s = new Sample(j.get("cpu").getAsDouble(), j.get("wall").getAsDouble(), stages, String.format(Locale.ROOT,
            "visual %s, sync %s, torch threads %d, PyAV %s, torch %s", j.get("visual"), j.get("sync"),
            j.get("torch_threads").getAsInt(), j.get("av").getAsString(), j.get("torch").getAsString()));
        boolean warm = j.get("warmup").getAsBoolean();
        System.out.printf(Locale.ROOT, "HVF python %s: cpu %.3f s, wall %.3f s%s%n", warm ? "warm-up" : "run " + ++run,
            s.cpu(), s.wall(), stages(s));
        if (!warm && (best == null || s.cpu() < best.cpu())) {
          best = s;
        }
      }
      if (best == null || run != runs) {
        throw new FoleyException(FoleyException.Code.IO, "HVF's preparation printed " + run + " of " + runs
            + " runs:\n" + r.output().trim());
      }
      return best;
    } finally {
      Files.deleteIfExists(script);
    }
  }

  // ---- the ffmpeg CLI ----------------------------------------------------------------------------

  private static final Pattern BENCH = Pattern.compile("bench: utime=([0-9.]+)s stime=([0-9.]+)s rtime=([0-9.]+)s");

  private static boolean ffmpegAvailable() {
    try {
      return exec(List.of("ffmpeg", "-version"), 60).exit() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** {@code ffmpeg -benchmark -threads N -i FILE -f null -}: its own user + system time and real time. */
  private Sample ffmpegCli() throws IOException, InterruptedException {
    ProcessResult r = exec(List.of("ffmpeg", "-nostdin", "-nostats", "-benchmark", "-threads", String.valueOf(threads),
        "-i", file.toString(), "-map", "0:v:0", "-f", "null", "-"), 600);
    if (r.exit() != 0) {
      throw new FoleyException(FoleyException.Code.IO, "ffmpeg failed on " + file + " (exit " + r.exit() + ")");
    }
    Matcher mt = BENCH.matcher(r.output());
    if (!mt.find()) {
      throw new FoleyException(FoleyException.Code.IO, "ffmpeg -benchmark printed no times:\n" + r.output());
    }
    return new Sample(Double.parseDouble(mt.group(1)) + Double.parseDouble(mt.group(2)),
        Double.parseDouble(mt.group(3)), Map.of(), null);
  }

  // ---- processes ---------------------------------------------------------------------------------

  record ProcessResult(int exit, String output) {}

  private static ProcessResult exec(List<String> cmd, long timeoutSeconds) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[][] out = new byte[1][];
    Thread reader = new Thread(() -> {
      try {
        out[0] = p.getInputStream().readAllBytes();
      } catch (IOException e) {
        out[0] = new byte[0];
      }
    });
    reader.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      reader.join();
      throw new FoleyException(FoleyException.Code.IO, cmd.get(0) + " did not finish in " + timeoutSeconds + " s");
    }
    reader.join();
    return new ProcessResult(p.exitValue(), new String(out[0], StandardCharsets.UTF_8));
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
