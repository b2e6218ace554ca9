package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs tools/export's own Python tests (export, patches, wrappers, text pairing, frame picking,
 * the reference) under Debian's torch 1.13 and onnx, as part of the Maven build. Skips without
 * them, unless FOLEY_REQUIRE_TORCH=1 (CI).
 */
class ExportToolTest {
  @Test
  void theExportToolsTestsPass() {
    SystemPython.requireTorch("FOLEY_REQUIRE_TORCH", 2, 4, "onnx", "onnxruntime", "numpy", "PIL"); // the tool's floor
    Path tool = Path.of("").toAbsolutePath().getParent().resolve("tools").resolve("export");
    String out = SystemPython.run(tool, Map.of("PYTHONPATH", tool.toString(), "OMP_NUM_THREADS", "2"), 900,
        "-m", "unittest", "discover", "-s", "tests");
    assertTrue(out.contains("\nOK"), out);
    assertTrue(out.matches("(?s).*Ran [1-9][0-9]* tests.*"), out);
    System.out.println("[export tool] " + out.substring(out.lastIndexOf("Ran ")).trim().replace('\n', ' '));
  }
}
