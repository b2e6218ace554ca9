package io.foley4j.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stable natives directory (extracted once, reused, checked). */
class OrtNativesTest {
  @TempDir
  Path dir;

  private URLClassLoader fakeOrt() throws Exception {
    Path jar = dir.resolve("onnxruntime_gpu-1.23.2.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new JarEntry(OrtJars.CLASS));
      out.write(1);
      String p = "ai/onnxruntime/native/" + OrtJars.platform() + "/";
      out.putNextEntry(new JarEntry(p + "libonnxruntime.so"));
      out.write(new byte[] {1, 2, 3, 4});
      out.putNextEntry(new JarEntry(p + "libonnxruntime_providers_cuda.so"));
      out.write(new byte[1000]);
      out.putNextEntry(new JarEntry("ai/onnxruntime/native/other-arch/libonnxruntime.so"));
      out.write(9);
    }
    return new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
  }

  @Test
  void extractsThisPlatformsLibrariesOnceAndReusesThem() throws Exception {
    Path root = dir.resolve("natives");
    try (URLClassLoader cl = fakeOrt()) {
      Path d = OrtNatives.extract(cl, root);
      assertEquals(root.resolve("onnxruntime_gpu-1.23.2-" + Files.size(dir.resolve("onnxruntime_gpu-1.23.2.jar")) + "-"
          + OrtJars.platform()), d);
      assertArrayEquals(new byte[] {1, 2, 3, 4}, Files.readAllBytes(d.resolve("libonnxruntime.so")));
      assertEquals(1000, Files.size(d.resolve("libonnxruntime_providers_cuda.so")));
      try (var s = Files.list(d)) {
        assertEquals(2, s.count(), "only this platform's files");
      }
      try (var s = Files.list(root)) {
        assertEquals(1, s.count(), "no half-extracted directory left beside it");
      }
      FileTime before = FileTime.fromMillis(1_000_000_000_000L);
      Files.setLastModifiedTime(d.resolve("libonnxruntime.so"), before);
      assertEquals(d, OrtNatives.extract(cl, root));
      assertEquals(before, Files.getLastModifiedTime(d.resolve("libonnxruntime.so")), "reused, not rewritten");

      Files.write(d.resolve("libonnxruntime_providers_cuda.so"), new byte[10]);
      FoleyException e = assertThrows(FoleyException.class, () -> OrtNatives.extract(cl, root));
      assertEquals(FoleyException.Code.IO, e.code());
      assertTrue(e.getMessage().contains("libonnxruntime_providers_cuda.so is 10 bytes, the jar's 1000")
          && e.getMessage().endsWith("delete the directory and start again"), e.getMessage());
    }
  }

  @Test
  void withTheRealJarTheDirectoryHoldsWhatOnnxRuntimeLoads() {
    Path d = OrtNatives.extract(getClass().getClassLoader(), dir);
    assertTrue(Files.isRegularFile(d.resolve(System.mapLibraryName("onnxruntime"))), d.toString());
    assertTrue(Files.isRegularFile(d.resolve(System.mapLibraryName("onnxruntime4j_jni"))), d.toString());
  }
}
