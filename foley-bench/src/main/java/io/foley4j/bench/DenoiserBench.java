package io.foley4j.bench;

import io.foley4j.FoleyException;
import io.foley4j.backend.CpuBackend;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.Npz;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageContract.Denoiser;
import io.foley4j.bundle.StageSpec;
import io.foley4j.bundle.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code foley bench denoiser MODEL --inputs NPZ}: one denoiser file loaded by foley4j's CPU
 * backend (the engine's own session settings) and called on recorded inputs: load time, wall per
 * call, resident memory after loading, at the load's peak and at the calls' peak (what the calls
 * add above the loaded model: a measured {@code segmentMemoryBytes} for the CPU), and the relative
 * L2 distance of the output from the recorded one. Prints one JSON line. Made for {@code python -m foley_export.hvf_bench},
 * which runs HVF's PyTorch denoiser on the same inputs in its own process and prints both side by
 * side (docs/tuning.md, "A full-size denoiser on the CPU").
 */
@Command(name = "denoiser", mixinStandardHelpOptions = true,
    description = "A denoiser .onnx on foley4j's CPU backend, on recorded inputs: load, wall per call, RSS.")
final class DenoiserBench implements Callable<Integer> {
  @Parameters(index = "0", description = "The denoiser's .onnx file (its external data beside it).")
  Path model;

  @Option(names = "--inputs", required = true, description = ".npz with <case>.latents, .timestep, .visual, .sync,"
      + " .text and optionally .velocity (the expected output).")
  Path inputs;

  @Option(names = "--case", defaultValue = "s8", description = "Key prefix in the .npz (default ${DEFAULT-VALUE}).")
  String caseName;

  @Option(names = "--runs", defaultValue = "3", description = "Measured calls after one warm-up; each is printed and"
      + " the best counts (default ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--threads", defaultValue = "0", description = "Intra-op threads, 0 = ONNX Runtime's default, as"
      + " the engine's (default ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--optimization", defaultValue = "ALL", description = "Graph optimization: NONE, BASIC, EXTENDED,"
      + " ALL (default ${DEFAULT-VALUE}, the engine's).")
  CpuBackend.Optimization optimization;

  @Option(names = "--no-arena", description = "ONNX Runtime's CPU memory arena off.")
  boolean noArena;

  @Option(names = "--warm-case", description = "A key prefix in the .npz whose inputs are run twice first (a short"
      + " pass): the weights become resident and the peak is reset after them, so that calls_over_warm_mib is what"
      + " the calls at --case work in (what foley_export.memory measures).")
  String warmCase;

  @Option(names = "--bfloat16-weights", description = "The file stores its weights in bfloat16 behind casts (export"
      + " --dtype denoiser=bfloat16): load it as the engine does, without constant folding. Implied when the"
      + " foley-bundle.json beside the file says so.")
  boolean bfloat16Weights;

  /** Whether a bundle manifest beside the file declares this file's denoiser weights bfloat16. */
  private boolean bundleSaysBfloat16() {
    Path dir = model.toAbsolutePath().getParent();
    if (dir == null || !Files.isRegularFile(dir.resolve(io.foley4j.bundle.ModelBundle.MANIFEST))) {
      return false;
    }
    try {
      StageSpec d = io.foley4j.bundle.BundleManifest.parse(Files.readString(
          dir.resolve(io.foley4j.bundle.ModelBundle.MANIFEST))).stage(Stage.DENOISER);
      return d.file().equals(model.getFileName().toString()) && d.bfloat16Weights();
    } catch (FoleyException | java.io.IOException e) {
      return false; // not a manifest this foley4j reads: the flag decides
    }
  }

  static final String[] NAMES = {Denoiser.LATENTS, Denoiser.TIMESTEP, Denoiser.VISUAL, Denoiser.SYNC, Denoiser.TEXT};

  @Override
  public Integer call() {
    if (runs < 1 || threads < 0) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--runs must be positive, --threads not negative");
    }
    if (!Files.isRegularFile(model)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, model + " is not a file: give the denoiser's"
          + " .onnx");
    }
    Map<String, Npz.Array> arrays = Npz.read(inputs);
    Map<String, Tensor> feed = feed(arrays, caseName);
    Map<String, Tensor> warm = warmCase == null ? null : feed(arrays, warmCase);
    List<TensorSpec> in = new ArrayList<>();
    for (String n : NAMES) {
      in.add(new TensorSpec(n, "float32", feed.get(n).shape()));
    }
    // declared with the recording's own shapes: a symbolic axis of the model takes any size, a fixed
    // one must be the recording's
    long[] outShape = feed.get(Denoiser.LATENTS).shape();
    StageSpec spec = new StageSpec(Stage.DENOISER, model.getFileName().toString(), "", in,
        List.of(new TensorSpec(Denoiser.VELOCITY, "float32", outShape)), null, bfloat16Weights || bundleSaysBfloat16());
    Npz.Array want = arrays.get(caseName + "." + Denoiser.VELOCITY);
    CpuBackend cpu = CpuBackend.builder().intraOpThreads(threads).optimization(optimization).memoryArena(!noArena)
        .build();
    long before = status("VmRSS");
    long t0 = System.nanoTime();
    List<Double> calls = new ArrayList<>();
    double load;
    long afterLoad;
    long loadPeak;
    long afterWarm;
    boolean resetPeak;
    double relL2 = Double.NaN;
    try (StageSession s = cpu.open(spec, model)) {
      load = (System.nanoTime() - t0) / 1e9;
      afterLoad = status("VmRSS");
      loadPeak = status("VmHWM");
      if (warm != null) {
        for (int i = 0; i < 2; i++) {
          s.run(warm);
        }
      }
      afterWarm = status("VmRSS");
      resetPeak = resetPeak();
      for (int i = 0; i <= runs; i++) {
        long c0 = System.nanoTime();
        Tensor out = s.run(feed).get(Denoiser.VELOCITY);
        double sec = (System.nanoTime() - c0) / 1e9;
        System.err.printf(Locale.ROOT, "foley4j call %d%s: %.2f s%n", i, i == 0 ? " (warm-up)" : "", sec);
        if (i > 0) {
          calls.add(sec);
        }
        if (want != null) {
          relL2 = relativeL2(out.floats(), want.floats());
        }
      }
    }
    double best = calls.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    long callsPeak = status("VmHWM"); // since the reset: the calls' peak
    System.out.printf(Locale.ROOT, "{\"side\": \"foley4j\", \"backend\": \"%s\", \"load_seconds\": %.1f,"
        + " \"rss_before_load_mib\": %d, \"rss_after_load_mib\": %d, \"peak_rss_load_mib\": %d,"
        + " \"peak_rss_calls_mib\": %s, \"calls_over_load_mib\": %s, \"calls_seconds\": %s,"
        + " \"best_call_seconds\": %.3f, \"peak_rss_mib\": %d, \"rel_l2_vs_recorded\": %s,"
        + " \"calls_over_warm_mib\": %s}%n", cpu, load, before,
        afterLoad, loadPeak, resetPeak ? callsPeak : "null", resetPeak ? callsPeak - afterLoad : "null",
        calls.stream().map(x -> String.format(Locale.ROOT, "%.3f", x)).toList(), best,
        resetPeak ? Math.max(loadPeak, callsPeak) : callsPeak,
        Double.isNaN(relL2) ? "null" : String.format(Locale.ROOT, "%.3g", relL2),
        resetPeak && warm != null ? callsPeak - afterWarm : "null");
    return 0;
  }

  private Map<String, Tensor> feed(Map<String, Npz.Array> arrays, String prefix) {
    Map<String, Tensor> feed = new LinkedHashMap<>();
    for (String n : NAMES) {
      Npz.Array a = arrays.get(prefix + "." + n);
      if (a == null || !a.isFloat()) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, inputs + " has no float array " + prefix + "."
            + n + " (it has " + arrays.keySet() + ")");
      }
      feed.put(n, Tensor.of(a.floats(), a.shape()));
    }
    return feed;
  }

  static double relativeL2(float[] got, float[] want) {
    if (got.length != want.length) {
      return Double.POSITIVE_INFINITY;
    }
    double d = 0;
    double w = 0;
    for (int i = 0; i < got.length; i++) {
      double e = (double) got[i] - want[i];
      d += e * e;
      w += (double) want[i] * want[i];
    }
    return Math.sqrt(d / w);
  }

  /**
   * Resets the process's peak resident set to its current one (Linux: {@code 5} written to
   * {@code /proc/self/clear_refs}), so that VmHWM afterwards is the calls' own peak; false where
   * that is not possible.
   */
  static boolean resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** A line of /proc/self/status in MiB (VmRSS now, VmHWM the peak); -1 where unreadable. */
  static long status(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
