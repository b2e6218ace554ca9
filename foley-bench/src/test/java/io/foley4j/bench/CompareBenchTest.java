package io.foley4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.SystemPython;
import io.foley4j.cli.CliOutput;
import io.foley4j.reference.ReferenceModel;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An INT8 variant written by the export tool ({@code foley_export quantize}, ONNX Runtime's dynamic
 * quantisation) is a bundle foley4j verifies and runs, and {@code foley bench compare} prints its
 * size, speed and distance from the float32 bundle side by side.
 */
class CompareBenchTest {
  @TempDir Path dir;

  @Test
  void anInt8VariantVerifiesRunsAndIsComparedWithItsFloat32Bundle() {
    SystemPython.require("FOLEY_REQUIRE_TORCH", "onnx", "onnxruntime", "numpy");
    Path fp32 = dir.resolve("fp32");
    ReferenceModel.writeBundle(fp32, ReferenceModel.options().width(256).depth(2).build());
    Path tool = Path.of("").toAbsolutePath().getParent().resolve("tools").resolve("export");
    String made = SystemPython.run(dir, Map.of("PYTHONPATH", tool.toString(), "OMP_NUM_THREADS", "2"), 300,
        "-m", "foley_export", "quantize", "--bundle", fp32.toString(), "--out", dir.resolve("int8").toString());
    assertTrue(made.contains("foley4j-reference-int8"), made);

    CliOutput verify = CliOutput.of("bundle", "verify", dir.resolve("int8").toString());
    assertEquals(0, verify.rc(), verify.out() + verify.err());

    CliOutput r = CliOutput.of("bench", "compare", "--bundle", fp32.toString(), "--against",
        dir.resolve("int8").toString(), "--seconds", "3", "--steps", "2", "--runs", "1");
    assertEquals(0, r.rc(), r.out() + r.err());
    Matcher m = Pattern.compile("compare: foley4j-reference-int8 / foley4j-reference: size ([0-9.]+), wall ([0-9.]+),"
        + " audio relative L2 ([0-9.eE+-]+)").matcher(r.out());
    assertTrue(m.find(), r.out());
    double size = Double.parseDouble(m.group(1));
    double rel = Double.parseDouble(m.group(3));
    assertTrue(size < 0.95, "int8 weights make the bundle smaller: " + size);
    assertTrue(rel > 0 && rel < 1, "int8 moves the audio, but not beyond recognition: " + rel);
    System.out.println("[compare] " + m.group());
  }
}
