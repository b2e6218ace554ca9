package io.foley4j.gpu;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Keeps ONNX Runtime's native libraries in a stable directory instead of the fresh
 * {@code /tmp/onnxruntime-java*} copy ONNX Runtime makes at every JVM start (369 MB with the GPU
 * jar's CUDA provider). The first call extracts the jar's libraries for this platform into a
 * directory under {@code root} named by the jar's file name and size; later calls and later
 * processes reuse it. The directory appears atomically (extracted beside it, then renamed), so
 * processes starting together never load a half-written library.
 */
public final class OrtNatives {
  private OrtNatives() {}

  /**
   * Extracts (once) and points ONNX Runtime at the directory by setting the system property
   * {@code onnxruntime.native.path}. Call it before anything uses ONNX Runtime (before building a
   * bundle, a backend or an engine); ONNX Runtime reads the property once. If the property is
   * already set, nothing is extracted and its directory is returned.
   *
   * @return the directory ONNX Runtime loads its libraries from
   * @throws FoleyException with code IO if the directory cannot be written or holds files that
   *     differ from the jar's (delete it), INVALID_ARGUMENT if ONNX Runtime is not loaded from a jar
   */
  public static Path useCacheDirectory(Path root) {
    String set = System.getProperty("onnxruntime.native.path");
    if (set != null) {
      return Path.of(set);
    }
    Path dir = extract(OrtNatives.class.getClassLoader(), root);
    System.setProperty("onnxruntime.native.path", dir.toString());
    return dir;
  }

  /** Extracts the libraries of the one ONNX Runtime jar {@code cl} sees into a directory under {@code root}. */
  static Path extract(ClassLoader cl, Path root) {
    OrtJars.refuseTwoJars(cl);
    List<URL> found = OrtJars.copies(cl);
    if (found.isEmpty() || !"jar".equals(found.get(0).getProtocol())) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "ONNX Runtime is not loaded from a jar ("
          + (found.isEmpty() ? "not on the class path" : found.get(0)) + "); there is nothing to extract");
    }
    String prefix = "ai/onnxruntime/native/" + OrtJars.platform() + "/";
    try {
      JarURLConnection c = (JarURLConnection) found.get(0).openConnection();
      c.setUseCaches(false);
      Path jarPath = Path.of(c.getJarFileURL().toURI());
      try (JarFile jar = new JarFile(jarPath.toFile())) {
        List<JarEntry> libs = new ArrayList<>();
        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
          JarEntry entry = e.nextElement();
          if (!entry.isDirectory() && entry.getName().startsWith(prefix) && entry.getName().indexOf('/', prefix.length()) < 0) {
            libs.add(entry);
          }
        }
        if (libs.isEmpty()) {
          throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, jarPath.getFileName() + " has no native libraries"
              + " for " + OrtJars.platform());
        }
        String name = jarPath.getFileName().toString().replaceAll("\\.jar$", "") + "-" + Files.size(jarPath) + "-"
            + OrtJars.platform();
        Path dir = root.toAbsolutePath().resolve(name);
        if (!Files.isDirectory(dir)) {
          Files.createDirectories(root);
          Path tmp = Files.createTempDirectory(root, ".extracting-");
          try {
            for (JarEntry entry : libs) {
              try (InputStream in = jar.getInputStream(entry)) {
                Files.copy(in, tmp.resolve(entry.getName().substring(prefix.length())));
              }
            }
            try {
              Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
              // another process finished first: use its copy
            } catch (AtomicMoveNotSupportedException e) {
              throw new IOException("cannot rename " + tmp + " to " + dir + " atomically", e);
            }
          } finally {
            deleteTree(tmp);
          }
        }
        for (JarEntry entry : libs) {
          Path f = dir.resolve(entry.getName().substring(prefix.length()));
          if (!Files.isRegularFile(f) || Files.size(f) != entry.getSize()) {
            throw new FoleyException(FoleyException.Code.IO, "the ONNX Runtime natives directory " + dir + " does not match "
                + jarPath.getFileName() + " (" + f.getFileName() + " is " + (Files.isRegularFile(f) ? Files.size(f)
                + " bytes, the jar's " + entry.getSize() : "missing") + "); delete the directory and start again");
          }
        }
        return dir;
      }
    } catch (IOException | java.net.URISyntaxException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot extract ONNX Runtime's native libraries under " + root + ": "
          + e + "; give a writable directory", e);
    }
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (java.util.stream.Stream<Path> all = Files.walk(p)) {
      for (Path q : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException e) {
      FallbackOpener.LOG.log(System.Logger.Level.WARNING, "could not delete " + p + ": " + e);
    }
  }
}
