package io.foley4j.gpu;

import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which ONNX Runtime jar is on the class path. The CPU jar ({@code onnxruntime}) and the GPU jar
 * ({@code onnxruntime_gpu}) hold the same {@code ai.onnxruntime} classes; only the GPU jar holds
 * the CUDA and TensorRT provider libraries. Both at once means whichever comes first wins, class
 * by class and library by library, so that is refused.
 */
final class OrtJars {
  static final String CLASS = "ai/onnxruntime/OrtSession.class";
  static final String FIX_BOTH = "keep exactly one: depend on com.microsoft.onnxruntime:onnxruntime_gpu:1.23.2 and exclude"
      + " com.microsoft.onnxruntime:onnxruntime from io.foley4j:foley-core (the Maven snippet is in docs/gpu.md)";
  static final String FIX_CPU_ONLY = "the class path has the CPU-only jar com.microsoft.onnxruntime:onnxruntime; use"
      + " com.microsoft.onnxruntime:onnxruntime_gpu:1.23.2 instead (exclude onnxruntime from io.foley4j:foley-core;"
      + " docs/gpu.md has the Maven snippet; in this repository build with -Pgpu)";

  private OrtJars() {}

  /** The places {@code ai.onnxruntime} comes from (one per jar or directory). */
  static List<URL> copies(ClassLoader cl) {
    Set<URL> out = new LinkedHashSet<>();
    try {
      java.util.Enumeration<URL> e = cl.getResources(CLASS);
      while (e.hasMoreElements()) {
        out.add(e.nextElement());
      }
    } catch (IOException e) {
      // a class loader that cannot list resources: treat as unknown, nothing to refuse
    }
    return new ArrayList<>(out);
  }

  /** Refuses two ONNX Runtime jars on the class path (the error is raised at a GPU backend's build()). */
  static void refuseTwoJars(ClassLoader cl) {
    List<URL> found = copies(cl);
    if (found.size() > 1) {
      List<String> where = new ArrayList<>();
      for (URL u : found) {
        where.add(jarOf(u));
      }
      throw new GpuUnavailableException("ONNX Runtime is on the class path " + found.size() + " times (" + String.join(", ",
          where) + "): the CPU jar and the GPU jar hold the same ai.onnxruntime classes, so which one runs is an"
          + " accident of the class path order; " + FIX_BOTH);
    }
  }

  /** "onnxruntime-1.23.2.jar" from "jar:file:/.../onnxruntime-1.23.2.jar!/ai/onnxruntime/OrtSession.class". */
  static String jarOf(URL u) {
    String s = u.toString();
    int bang = s.indexOf("!/");
    if (bang >= 0) {
      s = s.substring(0, bang);
    } else if (s.endsWith(CLASS)) {
      s = s.substring(0, s.length() - CLASS.length());
    }
    int slash = s.lastIndexOf('/', s.endsWith("/") ? s.length() - 2 : s.length() - 1);
    return slash >= 0 ? s.substring(slash + 1) : s;
  }

  /** ONNX Runtime's name of this platform's native folder ({@code linux-x64}, ...). */
  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String o = os.contains("win") ? "win" : os.contains("mac") ? "osx" : "linux";
    String a = arch.equals("amd64") || arch.equals("x86_64") ? "x64" : arch.equals("aarch64") || arch.equals("arm64")
        ? "aarch64" : arch;
    return o + "-" + a;
  }

  /** The provider library file name ({@code libonnxruntime_providers_cuda.so}). */
  static String providerLibrary(String provider) {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    return os.contains("win") ? "onnxruntime_providers_" + provider + ".dll" : "libonnxruntime_providers_" + provider + ".so";
  }

  /**
   * Whether ONNX Runtime can find a provider library: in the jar, or in the directory
   * {@code -Donnxruntime.native.path} names (ONNX Runtime loads from there instead).
   */
  static boolean hasProvider(ClassLoader cl, String provider) {
    String file = providerLibrary(provider);
    String nativePath = System.getProperty("onnxruntime.native.path");
    if (nativePath != null && Files.isRegularFile(Path.of(nativePath, file))) {
      return true;
    }
    return cl.getResource("ai/onnxruntime/native/" + platform() + "/" + file) != null;
  }

  static GpuCheck providersCheck(ClassLoader cl) {
    String what = "onnxruntime-providers";
    List<URL> found = copies(cl);
    if (found.isEmpty()) {
      return new GpuCheck(what, ProbeStatus.LIBRARY_NOT_FOUND, "no ONNX Runtime jar on the class path");
    }
    if (found.size() > 1) {
      List<String> where = new ArrayList<>();
      found.forEach(u -> where.add(jarOf(u)));
      return new GpuCheck(what, ProbeStatus.CALL_FAILED, "ONNX Runtime is on the class path twice (" + String.join(", ", where)
          + "); " + FIX_BOTH);
    }
    boolean cuda = hasProvider(cl, "cuda");
    boolean trt = hasProvider(cl, "tensorrt");
    if (!cuda && !trt) {
      return new GpuCheck(what, ProbeStatus.LIBRARY_NOT_FOUND, jarOf(found.get(0)) + " has no CUDA or TensorRT provider; "
          + FIX_CPU_ONLY);
    }
    return GpuCheck.ok(what, jarOf(found.get(0)) + ": " + (cuda ? "CUDA" : "") + (cuda && trt ? " and " : "")
        + (trt ? "TensorRT" : "") + " provider(s) for " + platform());
  }
}
