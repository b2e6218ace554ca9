package io.foley4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.TestSupport;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The redist loader with fake shared libraries in a fake jar or directory laid out as bytedeco's
 * (no download, no CUDA): load order found by retrying, the stable cache directory, and the typed
 * errors. Each test uses library names of its own (a loaded library stays loaded in the JVM).
 */
class CudaRedistTest {
  @TempDir
  Path dir;

  private static final Pattern LIB = Pattern.compile("lib[\\w.+-]+\\.so(\\.[0-9]+)*");

  private static CudaRedist.Redist fake(String resourceDir, String required) {
    return new CudaRedist.Redist("fake redist", "test:fake:1", resourceDir, n -> LIB.matcher(n).matches(),
        List.of(required));
  }

  /** Compiles {@code lib<name>.so.1} (soname the same) into {@code out}, linked against {@code deps} (no RUNPATH). */
  private Path library(Path out, String name, Path... deps) throws IOException, InterruptedException {
    Path src = dir.resolve(name + ".c");
    StringBuilder c = new StringBuilder();
    StringBuilder body = new StringBuilder("1");
    for (Path d : deps) {
      String f = "fn_" + d.getFileName().toString().replaceAll("^lib|\\.so\\.1$", "");
      c.append("extern int ").append(f).append("(void);\n");
      body.append(" + ").append(f).append("()");
    }
    c.append("int fn_").append(name).append("(void) { return ").append(body).append("; }\n");
    Files.writeString(src, c);
    Files.createDirectories(out);
    Path lib = out.resolve("lib" + name + ".so.1");
    List<String> args = new ArrayList<>(List.of("-shared", "-fPIC", "-Wl,-soname,lib" + name + ".so.1", "-o",
        lib.toString(), src.toString()));
    for (Path d : deps) {
      args.add(d.toString());
    }
    FakeLibraries.cc(args);
    return lib;
  }

  private static Path jar(Path jar, String resourceDir, Path... files) throws IOException {
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      String d = "";
      for (String part : resourceDir.split("/")) {
        d += part + "/";
        out.putNextEntry(new JarEntry(d));
        out.closeEntry();
      }
      for (Path f : files) {
        out.putNextEntry(new JarEntry(resourceDir + f.getFileName()));
        Files.copy(f, (OutputStream) out);
        out.closeEntry();
      }
      out.putNextEntry(new JarEntry(resourceDir + "README.txt")); // not a library: left alone
      out.write("x".getBytes());
      out.closeEntry();
    }
    return jar;
  }

  private static List<String> names(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void librariesLoadInDependencyOrderFromAStableCacheThatIsReused() throws Exception {
    // top needs mid needs base; alphabetically (the first try) top and mid come first and fail
    Path build = dir.resolve("build");
    Path base = library(build, "fr1zbase");
    Path mid = library(build, "fr1mid", base);
    Path top = library(build, "fr1atop", mid);
    String res = "fake/redist1/linux-x86_64/";
    Path jar = jar(dir.resolve("fake-1.0-linux-x86_64-redist.jar"), res, top, mid, base);
    Path cache = dir.resolve("cache");
    CudaRedist.Redist redist = fake(res, "libfr1atop.so.1");
    try (URLClassLoader cl = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      List<String> tried = new ArrayList<>();
      CudaRedist.Report r = CudaRedist.load(cl, redist, cache, p -> {
        tried.add(Path.of(p).getFileName().toString());
        System.load(p);
      });
      Path expectedDir = cache.resolve("fake-1.0-linux-x86_64-redist-" + Files.size(jar));
      assertEquals(expectedDir, r.directory());
      assertEquals(jar, r.source());
      assertEquals(List.of("libfr1zbase.so.1", "libfr1mid.so.1", "libfr1atop.so.1"), r.libraries());
      assertEquals(List.of("libfr1atop.so.1", "libfr1mid.so.1", "libfr1zbase.so.1", // round 1: only base loads
          "libfr1atop.so.1", "libfr1mid.so.1", // round 2: mid loads
          "libfr1atop.so.1"), tried); // round 3: top
      assertEquals(3, r.extracted());
      assertTrue(r.toString().startsWith("fake redist: loaded 3 libraries from " + expectedDir), r.toString());
      assertEquals(List.of("libfr1atop.so.1", "libfr1mid.so.1", "libfr1zbase.so.1"), names(expectedDir),
          "the libraries and nothing else: no partial files, no README");
      assertEquals(List.of(expectedDir.getFileName().toString()), names(cache), "one directory, no temporary ones");

      // later calls in this JVM: the same report, nothing loaded or extracted again
      assertSame(r, CudaRedist.load(cl, redist, cache, p -> {
        throw new AssertionError("loaded again: " + p);
      }));
      // a later process: the files are reused, none is written again
      long modified = Files.getLastModifiedTime(expectedDir.resolve("libfr1mid.so.1")).toMillis();
      CudaRedist.Extracted again = CudaRedist.extract(cl, redist, cache);
      assertEquals(0, again.extracted());
      assertEquals(expectedDir, again.directory());
      assertEquals(modified, Files.getLastModifiedTime(expectedDir.resolve("libfr1mid.so.1")).toMillis());
      // a partial copy a killed process left an hour ago is removed; one being written now is not
      Path abandoned = expectedDir.resolve(".libfr1mid.so.1.123.part");
      Path current = expectedDir.resolve(".libfr1mid.so.1.456.part");
      Files.write(abandoned, new byte[3]);
      Files.write(current, new byte[3]);
      Files.setLastModifiedTime(abandoned, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()
          - CudaRedist.ABANDONED_PART.toMillis() - 60_000));
      assertEquals(0, CudaRedist.extract(cl, redist, cache).extracted());
      assertTrue(Files.notExists(abandoned), "the abandoned part is removed");
      assertTrue(Files.exists(current), "a fresh part (another process extracting now) is left alone");
      Files.delete(current);
      // a file of the wrong size (a copy cut short) is replaced, and only that one. (A new file:
      // truncating the loaded one in place would crash this JVM with SIGBUS; the loader itself only
      // ever renames a complete copy over a file, never writes into it.)
      Files.delete(expectedDir.resolve("libfr1mid.so.1"));
      Files.write(expectedDir.resolve("libfr1mid.so.1"), new byte[10]);
      CudaRedist.Extracted repaired = CudaRedist.extract(cl, redist, cache);
      assertEquals(1, repaired.extracted());
      assertEquals(Files.size(mid), Files.size(expectedDir.resolve("libfr1mid.so.1")));
      assertEquals(List.of("libfr1atop.so.1", "libfr1mid.so.1", "libfr1zbase.so.1"), names(expectedDir));

      // the probe's library check (JNA, by soname, as ONNX Runtime's provider asks) finds them loaded
      GpuProbe.Names n = new GpuProbe.Names(List.of("/nonexistent/libnvidia-ml.so.1"), List.of("/nonexistent/libcuda.so.1"),
          List.of("libfr1atop.so.1", "libfr1zbase.so.1"), List.of("/nonexistent/libnvinfer.so.10"),
          List.of("/nonexistent/libnvonnxparser.so.10"));
      GpuReport probed = new GpuProbe(n, getClass().getClassLoader()).probe();
      assertTrue(probed.cudaLibraries().stream().allMatch(GpuCheck::ok), probed.cudaLibraries().toString());
    } finally {
      CudaRedist.forget(res);
    }
  }

  @Test
  void aDependencyOutsideTheRedistIsNamedInATypedError() throws Exception {
    Path build = dir.resolve("build");
    Path gone = library(build, "fr2gone");
    Path needs = library(build, "fr2needs", gone);
    Path ok = library(build, "fr2ok");
    // a directory on the class path (as an unpacked jar): used where it is, nothing extracted
    String res = "fake/redist2/linux-x86_64/";
    Path classes = dir.resolve("classes");
    Path libs = Files.createDirectories(classes.resolve(res));
    Files.copy(needs, libs.resolve(needs.getFileName()));
    Files.copy(ok, libs.resolve(ok.getFileName()));
    CudaRedist.Redist redist = fake(res, "libfr2ok.so.1");
    try (URLClassLoader cl = new URLClassLoader(new URL[] {classes.toUri().toURL()}, null)) {
      CudaRedist.Extracted x = CudaRedist.extract(cl, redist, dir.resolve("unused"));
      assertEquals(0, x.extracted());
      assertEquals(libs.toRealPath(), x.directory().toRealPath());
      assertFalse(Files.exists(dir.resolve("unused")), "nothing is written for a directory");
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> CudaRedist.load(cl, redist, dir.resolve("unused"), System::load));
      assertEquals(FoleyException.Code.BACKEND_FAILURE, e.code());
      String m = e.getMessage();
      assertTrue(m.startsWith("the bytedeco fake redist's libraries in " + libs), m);
      assertTrue(m.contains("do not load (1 of 2 did): libfr2needs.so.1: "), m);
      assertTrue(m.contains("libfr2gone.so.1: cannot open shared object file"), m);
      assertTrue(m.endsWith("a damaged file in the cache directory must be deleted"), m);
    } finally {
      CudaRedist.forget(res);
    }
  }

  @Test
  void aRedistWithoutALibraryTheProviderNeedsIsRefused() throws Exception {
    Path other = library(dir.resolve("build"), "fr3other");
    String res = "fake/redist3/linux-x86_64/";
    Path jar = jar(dir.resolve("fake3.jar"), res, other);
    try (URLClassLoader cl = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> CudaRedist.extract(cl, fake(res, "libcudnn.so.9"), dir.resolve("cache")));
      assertEquals("the bytedeco fake redist in " + jar + " has no libcudnn.so.9 (ONNX Runtime 1.23's providers need"
          + " them); use test:fake:1", e.getMessage());
    }
  }

  @Test
  void withoutTheRedistJarTheErrorSaysWhatToAdd() throws Exception {
    try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> CudaRedist.extract(empty, CudaRedist.cuda(), dir.resolve("cache")));
      assertEquals("the bytedeco CUDA redist (org.bytedeco:cuda:12.6-9.5-1.5.11:linux-x86_64-redist) is not on the class"
          + " path: no org/bytedeco/cuda/linux-x86_64/ resource. Add it (foley4j's own build: mvn -Pgpu,cuda-redist;"
          + " docs/gpu.md), or install the libraries on the system and do not load the redist", e.getMessage());
      e = assertThrows(GpuUnavailableException.class,
          () -> CudaRedist.extract(empty, CudaRedist.tensorRt(), dir.resolve("cache")));
      assertTrue(e.getMessage().startsWith("the bytedeco TensorRT redist (org.bytedeco:tensorrt:10.6-1.5.11:"
          + "linux-x86_64-redist) is not on the class path"), e.getMessage());
    }
    assertFalse(Files.exists(dir.resolve("cache")));
  }

  @Test
  void aBackendAskedToLoadTheRedistReportsItsAbsenceFirst() {
    Assumptions.assumeTrue(getClass().getClassLoader().getResource("org/bytedeco/cuda/" + CudaRedist.platform() + "/")
        == null, "the CUDA redist is on the class path");
    Assumptions.assumeFalse(GpuProbe.run().cudaDriver().ok(), "this machine has a working CUDA driver");
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      CudaBackend cuda = CudaBackend.builder().loadRedist(true).build();
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> cuda.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER)));
      String m = e.getMessage();
      assertTrue(m.startsWith("CUDA backend cannot run on device 0: (1) the bytedeco CUDA redist"
          + " (org.bytedeco:cuda:12.6-9.5-1.5.11:linux-x86_64-redist) is not on the class path"), m);
      assertTrue(m.contains("(2) "), "the probe's problems follow: " + m);
      TensorRtBackend trt = TensorRtBackend.builder().loadRedist(true).build();
      e = assertThrows(GpuUnavailableException.class,
          () -> trt.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER)));
      assertTrue(e.getMessage().startsWith("TensorRT backend cannot run on device 0: (1) the bytedeco CUDA redist"),
          e.getMessage());
    }
    assertThrows(IllegalStateException.class, () -> CudaBackend.builder().loadRedist(true).loadRedist(false));
    assertThrows(IllegalStateException.class, () -> TensorRtBackend.builder().loadRedist(true).loadRedist(false));
  }

  @Test
  void cacheRootAndPlatformNames() {
    String old = System.getProperty(CudaRedist.CACHE_PROPERTY);
    try {
      System.setProperty(CudaRedist.CACHE_PROPERTY, dir.resolve("c").toString());
      assertEquals(dir.resolve("c").toAbsolutePath(), CudaRedist.defaultCacheRoot());
      System.clearProperty(CudaRedist.CACHE_PROPERTY);
      assertEquals(Path.of(System.getProperty("user.home"), ".cache", "foley4j", "redist").toAbsolutePath(),
          CudaRedist.defaultCacheRoot());
    } finally {
      if (old != null) {
        System.setProperty(CudaRedist.CACHE_PROPERTY, old);
      }
    }
    assertNotEquals("", CudaRedist.platform());
    if (System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64")) {
      assertEquals("linux-x86_64", CudaRedist.platform());
    }
  }
}
