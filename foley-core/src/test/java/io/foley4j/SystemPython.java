package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The Python interpreter the tests use: {@code FOLEY_PYTHON} when set (CI sets it to the virtual
 * environment {@code .ci/run} creates, with PyTorch 2.13, onnx, onnxruntime, Pillow, numpy and PyAV),
 * else {@code /usr/bin/python3} (a pyenv python3 may come first on PATH). A test
 * that needs a module calls {@link #require}: it skips without it on a developer machine, and
 * fails when the environment variable that CI sets (FOLEY_REQUIRE_NUMPY, FOLEY_REQUIRE_TORCH, ...)
 * is 1.
 */
public final class SystemPython {
  public static final String PYTHON = interpreter();

  /** {@code FOLEY_PYTHON}, else {@code /usr/bin/python3}. */
  public static String interpreter() {
    String env = System.getenv("FOLEY_PYTHON");
    return env == null || env.isBlank() ? "/usr/bin/python3" : env;
  }

  private SystemPython() {}

  /** Skips (or, when {@code requireEnv} is 1, fails) unless python can import every module. */
  public static void require(String requireEnv, String... modules) {
    requireCode(requireEnv, "import " + String.join(", ", modules));
  }

  /**
   * As {@link #require}, for packages that are there but cannot be imported here (open_clip imports
   * torchvision, which may be a build that does not load): found, not imported.
   */
  public static void requireInstalled(String requireEnv, String... packages) {
    StringBuilder code = new StringBuilder("import importlib.util as u");
    for (String p : packages) {
      code.append("\nassert u.find_spec('").append(p).append("'), '").append(p).append(" is not installed'");
    }
    requireCode(requireEnv, code.toString());
  }

  /**
   * As {@link #require}, with torch at least {@code major.minor} as well (Debian's 1.13 lacks what
   * newer tests compare with, such as uint8 antialiased resizing).
   */
  public static void requireTorch(String requireEnv, int major, int minor, String... modules) {
    requireCode(requireEnv, "import torch" + (modules.length == 0 ? "" : ", " + String.join(", ", modules))
        + "\nv = tuple(int(x) for x in torch.__version__.split('+')[0].split('.')[:2])"
        + "\nassert v >= (" + major + ", " + minor + "), 'torch ' + torch.__version__ + ' is older than "
        + major + "." + minor + "'");
  }

  private static void requireCode(String requireEnv, String imports) {
    String why;
    try {
      Process p = new ProcessBuilder(PYTHON, "-c", imports).redirectErrorStream(true).start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        why = PYTHON + " did not finish '" + imports + "'";
      } else if (p.exitValue() == 0) {
        return;
      } else {
        why = PYTHON + " cannot '" + imports + "': "
            + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      }
    } catch (IOException e) {
      why = PYTHON + " cannot run: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    if ("1".equals(System.getenv(requireEnv))) {
      fail(why + " but " + requireEnv + "=1");
    }
    Assumptions.assumeTrue(false, why);
  }

  /** Runs python with these arguments in {@code dir}; returns its output, asserting exit code 0. */
  public static String run(Path dir, Map<String, String> env, long timeoutSeconds, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(PYTHON);
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    try {
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes(); // until it exits (or the pipe closes)
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail(cmd + " did not finish within " + timeoutSeconds + " s");
      }
      String text = new String(out, StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), () -> cmd + " failed:\n" + text);
      return text;
    } catch (IOException e) {
      throw new AssertionError(cmd + " cannot run", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
