package io.foley4j.gpu;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Both ONNX Runtime jars on the class path are refused at build(); which jar is there is reported. */
class ClasspathGuardTest {
  @TempDir
  Path dir;

  /** A jar with the entries the guard looks at (never loaded as classes). */
  private Path jar(String name, boolean gpu) throws Exception {
    Path p = dir.resolve(name);
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(p))) {
      out.putNextEntry(new JarEntry(OrtJars.CLASS));
      out.write(new byte[] {(byte) 0xCA, (byte) 0xFE});
      if (gpu) {
        for (String provider : new String[] {"cuda", "tensorrt"}) {
          out.putNextEntry(new JarEntry("ai/onnxruntime/native/" + OrtJars.platform() + "/" + OrtJars.providerLibrary(provider)));
          out.write(1);
        }
      }
    }
    return p;
  }

  private URLClassLoader loader(Path... jars) throws Exception {
    URL[] urls = new URL[jars.length];
    for (int i = 0; i < jars.length; i++) {
      urls[i] = jars[i].toUri().toURL();
    }
    return new URLClassLoader(urls, null);
  }

  @Test
  void bothJarsAreRefusedAtBuildNamingEach() throws Exception {
    try (URLClassLoader both = loader(jar("onnxruntime-1.23.2.jar", false), jar("onnxruntime_gpu-1.23.2.jar", true))) {
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> CudaBackend.builder().classLoader(both).build());
      assertEquals(FoleyException.Code.BACKEND_FAILURE, e.code());
      assertTrue(e.getMessage().startsWith("ONNX Runtime is on the class path 2 times (onnxruntime-1.23.2.jar,"
          + " onnxruntime_gpu-1.23.2.jar)"), e.getMessage());
      assertTrue(e.getMessage().contains("exclude com.microsoft.onnxruntime:onnxruntime from io.foley4j:foley-core"),
          e.getMessage());
      assertThrows(GpuUnavailableException.class, () -> TensorRtBackend.builder().classLoader(both).build());
      assertEquals(ProbeStatus.CALL_FAILED, OrtJars.providersCheck(both).status());
    }
  }

  @Test
  void oneJarIsAcceptedAndItsProvidersReported() throws Exception {
    try (URLClassLoader gpu = loader(jar("onnxruntime_gpu-1.23.2.jar", true));
        URLClassLoader cpu = loader(jar("onnxruntime-1.23.2.jar", false))) {
      assertDoesNotThrow(() -> CudaBackend.builder().classLoader(gpu).build());
      GpuCheck g = OrtJars.providersCheck(gpu);
      assertEquals(ProbeStatus.OK, g.status(), g.toString());
      assertEquals("onnxruntime_gpu-1.23.2.jar: CUDA and TensorRT provider(s) for " + OrtJars.platform(), g.message());
      assertDoesNotThrow(() -> CudaBackend.builder().classLoader(cpu).build(), "the CPU jar alone is not a conflict");
      assertEquals(ProbeStatus.LIBRARY_NOT_FOUND, OrtJars.providersCheck(cpu).status());
      assertTrue(OrtJars.hasProvider(gpu, "cuda"));
      assertTrue(!OrtJars.hasProvider(cpu, "cuda"));
    }
  }

  @Test
  void theTestClassPathHasExactlyOneOnnxRuntime() {
    assertEquals(1, OrtJars.copies(getClass().getClassLoader()).size());
    assertDoesNotThrow(() -> CudaBackend.builder().build());
  }

  @Test
  void jarNames() throws Exception {
    assertEquals("onnxruntime_gpu-1.23.2.jar",
        OrtJars.jarOf(new URL("jar:file:/m2/x/onnxruntime_gpu-1.23.2.jar!/ai/onnxruntime/OrtSession.class")));
    assertEquals("classes/", OrtJars.jarOf(new URL("file:/build/classes/ai/onnxruntime/OrtSession.class")));
  }
}
