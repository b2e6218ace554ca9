package io.foley4j.cli;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.video.SyntheticVideo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code foley generate --backend ...} and {@code foley gpu probe} on a machine without CUDA. */
class GpuCliTest {
  @TempDir
  Path dir;

  private Path video() {
    Path v = dir.resolve("v.mp4");
    if (!Files.exists(v)) {
      SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).flash(1, 0.1, 0xFFFFFF).build(), v);
    }
    return v;
  }

  private static void assumeNoCuda() {
    Assumptions.assumeFalse(io.foley4j.gpu.GpuProbe.run().cudaDriver().ok(), "this machine has a CUDA driver");
  }

  @Test
  void backendCudaWithoutCudaExitsTwoWithOneLineNamingTheProblem() {
    assumeNoCuda();
    Path out = dir.resolve("a.wav");
    String[] err = new String[1];
    int rc = capture(err, "generate", "--video", video().toString(), "--prompt", "x", "--steps", "2", "--backend", "cuda",
        "--out", out.toString());
    assertEquals(2, rc, err[0]);
    List<String> lines = err[0].lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), err[0]);
    assertTrue(lines.get(0).startsWith("foley: CUDA backend cannot run on device 0: (1) "), lines.get(0));
    assertTrue(lines.get(0).contains("libcublasLt.so.12") && lines.get(0).contains("--fallback cpu"), lines.get(0));
    assertTrue(Files.notExists(out));
    rc = capture(err, "generate", "--video", video().toString(), "--prompt", "x", "--backend", "tensorrt", "--device", "1",
        "--out", out.toString());
    assertEquals(2, rc, err[0]);
    assertTrue(err[0].startsWith("foley: TensorRT backend cannot run on device 1: "), err[0]);
  }

  @Test
  void fallbackCpuRunsWithExactlyOneWarning() throws Exception {
    assumeNoCuda();
    List<String> warnings = new CopyOnWriteArrayList<>();
    Handler h = new Handler() {
      @Override
      public void publish(LogRecord r) {
        if (r.getLevel() == Level.WARNING) {
          warnings.add(r.getMessage());
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger log = Logger.getLogger("io.foley4j.gpu");
    log.addHandler(h);
    Path out = dir.resolve("b.wav");
    String[] err = new String[1];
    int rc;
    try {
      rc = capture(err, "generate", "--video", video().toString(), "--prompt", "x", "--steps", "2", "--backend", "cuda",
          "--fallback", "cpu", "--out", out.toString(), "--progress", "none");
    } finally {
      log.removeHandler(h);
    }
    assertEquals(0, rc, err[0]);
    assertEquals(1, warnings.size(), warnings.toString());
    assertTrue(warnings.get(0).startsWith("running on the CPU instead of CUDA:0 (fallback CPU): "), warnings.get(0));
    ByteBuffer wav = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(2 * 48000 * 2, wav.getInt(40), "2 s of 16-bit samples");
  }

  @Test
  void gpuOptionsWithTheCpuBackendAreRefused() {
    String[] err = new String[1];
    int rc = capture(err, "generate", "--video", video().toString(), "--prompt", "x", "--fallback", "cpu");
    assertEquals(2, rc, err[0]);
    assertEquals("foley: --fallback applies to --backend cuda or tensorrt, not to --backend cpu", err[0].strip());
    rc = capture(err, "generate", "--video", video().toString(), "--prompt", "x", "--backend", "cuda", "--device", "-1");
    assertEquals(2, rc, err[0]);
    assertEquals("foley: deviceId must be between 0 and 1023, was -1", err[0].strip());
    rc = capture(err, "generate", "--video", video().toString(), "--prompt", "x", "--backend", "rocm");
    assertEquals(2, rc, err[0]);
    assertTrue(err[0].contains("--backend") && err[0].contains("rocm"), err[0]);
  }

  @Test
  void gpuProbePrintsEveryPartAndSaysWhetherCudaCanRun() {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    int rc;
    try {
      rc = FoleyCli.run("gpu", "probe");
    } finally {
      System.setOut(old);
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    for (String part : new String[] {"nvml", "cuda-driver", "libcublasLt.so.12", "libcudnn.so.9", "tensorrt",
        "onnxruntime-providers"}) {
      assertTrue(out.lines().anyMatch(l -> l.startsWith(part + " ")), part + " in:\n" + out);
    }
    if (!io.foley4j.gpu.GpuProbe.run().cudaDriver().ok()) {
      assertEquals(3, rc, out);
      assertTrue(out.contains("nvml                   LIBRARY_NOT_FOUND"), out);
      assertTrue(out.strip().endsWith("CUDA backend: cannot run here (see above)"), out);
    }
  }

  @Test
  void theCpuPathLoadsNoJnaClass() throws Exception {
    // a fresh JVM on the test class path, as a user runs foley generate: which classes get loaded
    Path out = dir.resolve("c.wav");
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-verbose:class", "-cp",
        System.getProperty("java.class.path"), FoleyCli.class.getName(), "generate", "--video", video().toString(),
        "--prompt", "x", "--steps", "2", "--out", out.toString(), "--progress", "none");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the CLI did not finish");
    assertEquals(0, p.exitValue(), log.lines().filter(l -> !l.startsWith("[")).toList().toString());
    assertTrue(log.contains("io.foley4j.cli.GenerateCommand"), "the log lists loaded classes");
    assertTrue(log.lines().noneMatch(l -> l.contains("com.sun.jna")), "JNA was loaded on the CPU path");
    assertTrue(log.lines().noneMatch(l -> l.contains("io.foley4j.gpu.CudaBackend") || l.contains("io.foley4j.gpu.GpuProbe")));
    assertTrue(Files.size(out) > 44);
  }

  @Test
  void severalDevicesWithTheCpuFallbackRunAndBadDeviceListsAreRefused() throws Exception {
    assumeNoCuda();
    Path out = dir.resolve("two.wav");
    String[] err = new String[1];
    int rc = capture(err, "generate", "--video", video().toString(), "--prompt", "x", "--steps", "2", "--backend", "cuda",
        "--device", "0,1", "--fallback", "cpu", "--segments-in-flight", "2", "--warm-up", "batch-buckets",
        "--out", out.toString(), "--progress", "none");
    assertEquals(0, rc, err[0]);
    ByteBuffer wav = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(2 * 48000 * 2, wav.getInt(40), "2 s of 16-bit samples");
    rc = capture(err, "generate", "--video", video().toString(), "--prompt", "x", "--backend", "cuda", "--device", "1,1");
    assertEquals(2, rc, err[0]);
    assertEquals("foley: --device lists a GPU twice: [1, 1]; name each device once", err[0].strip());
    rc = capture(err, "generate", "--video", video().toString(), "--prompt", "x", "--segments-in-flight", "0");
    assertEquals(2, rc, err[0]);
    assertEquals("foley: segmentsInFlight must be between 1 and 64, was 0", err[0].strip());
    rc = capture(err, "generate", "--video", video().toString(), "--prompt", "x", "--warm-up", "always");
    assertEquals(2, rc, err[0]);
    assertEquals("foley: --warm-up must be none, trained-shape, batch-buckets or full, was \"always\"", err[0].strip());
  }

  private static int capture(String[] err, String... args) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      return FoleyCli.run(args);
    } finally {
      System.setErr(old);
      err[0] = buf.toString(StandardCharsets.UTF_8);
    }
  }
}
