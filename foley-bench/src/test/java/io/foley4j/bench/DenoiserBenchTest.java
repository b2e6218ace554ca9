package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.backend.CpuBackend;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import io.foley4j.bundle.TensorSpec;
import io.foley4j.cli.CliOutput;
import io.foley4j.reference.ReferenceModel;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code foley bench denoiser} (what {@code foley_export.hvf_bench} runs for foley4j's side) loads a
 * denoiser file on the CPU backend, calls it on a recording's inputs and says how far its output is
 * from the recorded one; a recording without an input fails with a message naming it.
 */
class DenoiserBenchTest {
  @TempDir
  Path dir;

  private static final Map<String, Long> LENGTHS = Map.of("batch", 2L, "latent_len", 40L, "visual_len", 8L,
      "sync_len", 16L, "text_len", 6L);

  @Test
  void timesTheCallsAndComparesWithTheRecordedOutput() throws IOException {
    Path b = dir.resolve("bundle");
    ReferenceModel.writeBundle(b, ReferenceModel.options().width(32).depth(1).build());
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    Path model;
    Tensor velocity;
    try (ModelBundle bundle = ModelBundle.open(b)) {
      StageSpec spec = bundle.manifest().stage(Stage.DENOISER);
      Random rnd = new Random(3);
      for (TensorSpec t : spec.inputs()) {
        long[] shape = new long[t.rank()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = t.dim(i) >= 0 ? t.dim(i) : LENGTHS.getOrDefault(t.symbol(i).orElse("batch"), 8L);
        }
        float[] x = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact))];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) rnd.nextGaussian();
        }
        inputs.put(t.name(), Tensor.of(x, shape));
      }
      model = bundle.stageFile(Stage.DENOISER);
      try (StageSession s = CpuBackend.builder().build().open(spec, model)) {
        velocity = s.run(inputs).get("velocity");
      }
    }

    Path npz = dir.resolve("rec.npz");
    Map<String, Tensor> rec = new LinkedHashMap<>();
    inputs.forEach((k, v) -> rec.put("c1." + k, v));
    rec.put("c1.velocity", velocity);
    writeNpz(npz, rec);
    CliOutput r = CliOutput.of("bench", "denoiser", model.toString(), "--inputs", npz.toString(), "--case", "c1",
        "--runs", "2");
    assertEquals(0, r.rc(), r.out() + r.err());
    assertEquals(2, number(r.out(), "calls_seconds\": \\[([^]]*)\\]").split(",").length, r.out());
    assertTrue(Double.parseDouble(number(r.out(), "rel_l2_vs_recorded\": ([0-9.eE+-]+)")) < 1e-6, r.out());
    long after = Long.parseLong(number(r.out(), "rss_after_load_mib\": (-?[0-9]+)"));
    long peak = Long.parseLong(number(r.out(), "peak_rss_mib\": (-?[0-9]+)"));
    if (Files.exists(Path.of("/proc/self/clear_refs"))) {
      long calls = Long.parseLong(number(r.out(), "peak_rss_calls_mib\": (-?[0-9]+)"));
      long load = Long.parseLong(number(r.out(), "peak_rss_load_mib\": (-?[0-9]+)"));
      assertTrue(after > 0 && calls >= after && load >= after && peak == Math.max(calls, load), r.out());
      assertEquals(calls - after, Long.parseLong(number(r.out(), "calls_over_load_mib\": (-?[0-9]+)")), r.out());
    }

    assertEquals("null", number(r.out(), "calls_over_warm_mib\": (null|-?[0-9]+)"), "no --warm-case: " + r.out());

    // --warm-case: a short pass first, then the peak over the calls at --case less the resident set
    // after the warm-up (what foley_export.memory.measure_with_jar reads)
    Map<String, Tensor> withWarm = new LinkedHashMap<>(rec);
    inputs.forEach((k, v) -> withWarm.put("w." + k, v));
    writeNpz(npz, withWarm);
    r = CliOutput.of("bench", "denoiser", model.toString(), "--inputs", npz.toString(), "--case", "c1",
        "--warm-case", "w", "--runs", "1");
    assertEquals(0, r.rc(), r.out() + r.err());
    if (Files.exists(Path.of("/proc/self/clear_refs"))) {
      long overWarm = Long.parseLong(number(r.out(), "calls_over_warm_mib\": (-?[0-9]+)"));
      long overLoad = Long.parseLong(number(r.out(), "calls_over_load_mib\": (-?[0-9]+)"));
      assertTrue(overWarm >= 0 && overWarm <= overLoad + 1, r.out()); // the warm-up's own growth is not counted
    }
    r = CliOutput.of("bench", "denoiser", model.toString(), "--inputs", npz.toString(), "--case", "c1",
        "--warm-case", "nope", "--runs", "1");
    assertNotEquals(0, r.rc(), r.out());
    assertTrue(r.err().contains("nope.latents"), r.err());

    // a recorded output of the other sign is at relative L2 2
    float[] neg = velocity.floats().clone();
    for (int i = 0; i < neg.length; i++) {
      neg[i] = -neg[i];
    }
    rec.put("c1.velocity", Tensor.of(neg, velocity.shape()));
    writeNpz(npz, rec);
    r = CliOutput.of("bench", "denoiser", model.toString(), "--inputs", npz.toString(), "--case", "c1", "--runs", "1");
    assertEquals(0, r.rc(), r.out() + r.err());
    assertEquals(2.0, Double.parseDouble(number(r.out(), "rel_l2_vs_recorded\": ([0-9.eE+-]+)")), 1e-6, r.out());

    // an input missing from the recording
    rec.remove("c1.sync");
    writeNpz(npz, rec);
    r = CliOutput.of("bench", "denoiser", model.toString(), "--inputs", npz.toString(), "--case", "c1");
    assertNotEquals(0, r.rc(), r.out());
    assertTrue(r.err().contains("c1.sync"), r.err());
  }

  private static String number(String out, String regex) {
    Matcher m = Pattern.compile(regex).matcher(out);
    assertTrue(m.find(), regex + " not in " + out);
    return m.group(1);
  }

  /** numpy's .npz: a zip of version 1.0 .npy files, little-endian float32, C order. */
  static void writeNpz(Path file, Map<String, Tensor> arrays) throws IOException {
    try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
      for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
        long[] shape = e.getValue().shape();
        String dims = Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "))
            + (shape.length == 1 ? "," : "");
        StringBuilder h = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }");
        while ((10 + h.length() + 1) % 64 != 0) {
          h.append(' ');
        }
        h.append('\n');
        byte[] header = h.toString().getBytes(StandardCharsets.ISO_8859_1);
        float[] x = e.getValue().floats();
        ByteBuffer buf = ByteBuffer.allocate(10 + header.length + 4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
            .putShort((short) header.length).put(header);
        for (float v : x) {
          buf.putFloat(v);
        }
        zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
        zip.write(buf.array());
        zip.closeEntry();
      }
    }
  }
}
