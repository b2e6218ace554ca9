package io.foley4j.cachestore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Reads a cache file from Python (numpy only) with {@code FOLEY_PYTHON} (CI's virtual environment),
 * else Debian's {@code /usr/bin/python3} (another python3 may come first on PATH). Skipped without numpy, unless FOLEY_REQUIRE_NUMPY=1 (CI).
 */
final class PythonCheck {
  private PythonCheck() {}

  private static final String PYTHON = interpreter();

  private static String interpreter() {
    String env = System.getenv("FOLEY_PYTHON");
    return env == null || env.isBlank() ? "/usr/bin/python3" : env;
  }
  private static final boolean REQUIRED = "1".equals(System.getenv("FOLEY_REQUIRE_NUMPY"));

  private static final String SCRIPT = String.join("\n",
      "import json, struct, sys, hashlib",
      "import numpy as np",
      "raw = open(sys.argv[1], 'rb').read()",
      "n = struct.unpack('<Q', raw[:8])[0]",
      "header = json.loads(raw[8:8 + n])",
      "meta = header.pop('__metadata__')",
      "sha = meta['foley.sha256']",
      "ok = hashlib.sha256(raw.replace(sha.encode(), b'0' * 64)).hexdigest() == sha",
      "t = header['audio']",
      "b, e = t['data_offsets']",
      "a = np.frombuffer(raw[8 + n + b:8 + n + e], dtype='<f4').reshape(t['shape'])",
      "try:",
      "    import safetensors.numpy",
      "    st = 'importable'",
      "    assert np.array_equal(safetensors.numpy.load(raw)['audio'], a)",
      "except ImportError:",
      "    st = 'not installed'",
      "print('%s %d %.3f %s %s' % (t['dtype'], a.size, float(a.sum()), ok, st))",
      "");

  static void readWithNumpy(Path file, int n, float[] expected) throws InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(PYTHON, "-c", SCRIPT, file.toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      if (REQUIRED) {
        throw new AssertionError(PYTHON + " is required (FOLEY_REQUIRE_NUMPY=1) but cannot run", e);
      }
      System.out.println("[python] " + PYTHON + " not available: " + e.getMessage());
      return;
    }
    String out;
    try {
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), PYTHON + " did not finish");
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    if (p.exitValue() != 0 && out.contains("No module named 'numpy'") && !REQUIRED) {
      System.out.println("[python] numpy not installed: skipped the Python read");
      return;
    }
    assertEquals(0, p.exitValue(), out);
    double sum = 0;
    for (float v : expected) {
      sum += v;
    }
    String[] f = out.split(" ", 5);
    assertEquals("F32", f[0]);
    assertEquals(n, Integer.parseInt(f[1]));
    assertEquals(sum, Double.parseDouble(f[2]), Math.abs(sum) * 1e-5 + 1e-3);
    assertEquals("True", f[3], "Python computed a different checksum");
    System.out.println("[python] numpy read the cache file: " + out + " (Python safetensors package: " + f[4] + ")");
  }
}
