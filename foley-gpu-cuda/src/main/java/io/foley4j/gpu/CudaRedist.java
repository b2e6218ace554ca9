package io.foley4j.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Loads CUDA 12 and cuDNN 9 (and optionally TensorRT 10) from the bytedeco "redist" jars on the
 * class path, for machines that have an NVIDIA driver but no CUDA toolkit: {@code
 * org.bytedeco:cuda:12.6-9.5-1.5.11:linux-x86_64-redist} (2.0 GB) and {@code
 * org.bytedeco:tensorrt:10.6-1.5.11:linux-x86_64-redist} (1.1 GB). Nothing here depends on bytedeco
 * at compile time: the jars are found by their resources ({@code org/bytedeco/cuda/linux-x86_64/}).
 * Users who have CUDA 12 and cuDNN 9 installed need none of this.
 *
 * <p>The libraries ONNX Runtime's providers need are copied once into a stable directory under a
 * cache root (one directory per redist jar, named by the jar's file name and size; each file is
 * written beside its final name and renamed into place, and a file whose size matches the jar's is
 * reused), then loaded with {@link System#load} before the provider is added. ONNX Runtime's
 * provider library has no RUNPATH and asks the dynamic loader for {@code libcublasLt.so.12} and
 * the rest by name; the loader then finds the libraries already loaded under those names. The load
 * order is worked out by trying again, until nothing more loads, the libraries that failed
 * because a dependency was not loaded yet, so a redist of another version needs no list here.
 *
 * <p>Loading happens once per JVM and redist; later calls return the first call's report. Native
 * libraries cannot be unloaded. Linux only (x86_64 and arm64, the platforms bytedeco builds the
 * redist for). Thread-safe.
 */
public final class CudaRedist {
  /** System property: the cache root (default {@code ~/.cache/foley4j/redist}). */
  public static final String CACHE_PROPERTY = "foley4j.redist.cache";
  /**
   * System property: {@code true} makes {@link CudaBackend} and {@link TensorRtBackend} load the
   * redist by default (as {@code loadRedist(true)} on their builders does), for code that builds
   * its backends without that option.
   */
  public static final String LOAD_PROPERTY = "foley4j.gpu.redist";

  /** What was loaded: the redist, its jar (or directory), where the libraries were loaded from, how long it took. */
  public record Report(String redist, Path source, Path directory, List<String> libraries, int extracted,
      long extractMillis, long loadMillis) {
    public Report {
      libraries = List.copyOf(libraries);
    }

    @Override
    public String toString() {
      return redist + ": loaded " + libraries.size() + " libraries from " + directory + " in " + loadMillis + " ms ("
          + extracted + " extracted from " + source.getFileName() + " in " + extractMillis + " ms): "
          + String.join(", ", libraries);
    }
  }

  /** One redist: where its libraries lie in the jar, which of them to load, which must be there. */
  record Redist(String label, String coordinates, String resourceDir, Predicate<String> wanted, List<String> required) {}

  /** The libraries of the CUDA redist that ONNX Runtime's CUDA provider uses (no NPP, cuSPARSE, NCCL, ...). */
  private static final Pattern CUDA_LIBS = Pattern.compile(
      "lib(cudart|cublasLt|cublas|cufft|curand|nvrtc|nvrtc-builtins|cudnn|cudnn_[a-z_]+)\\.so(\\.[0-9]+)*");
  private static final Pattern ANY_LIB = Pattern.compile("lib[\\w.+-]+\\.so(\\.[0-9]+)*");

  static Redist cuda() {
    return new Redist("CUDA redist", "org.bytedeco:cuda:12.6-9.5-1.5.11:" + platform() + "-redist",
        "org/bytedeco/cuda/" + platform() + "/", n -> CUDA_LIBS.matcher(n).matches(), GpuProbe.CUDA_PROVIDER_LIBRARIES);
  }

  static Redist tensorRt() {
    return new Redist("TensorRT redist", "org.bytedeco:tensorrt:10.6-1.5.11:" + platform() + "-redist",
        "org/bytedeco/tensorrt/" + platform() + "/", n -> ANY_LIB.matcher(n).matches() && !n.startsWith("libjni"),
        List.of("libnvinfer.so.10", "libnvonnxparser.so.10"));
  }

  private static final Map<String, Report> LOADED = new LinkedHashMap<>(); // guarded by CudaRedist.class

  private CudaRedist() {}

  /** {@code -Dfoley4j.redist.cache}, else {@code ~/.cache/foley4j/redist}. */
  public static Path defaultCacheRoot() {
    String p = System.getProperty(CACHE_PROPERTY);
    return (p != null && !p.isBlank() ? Path.of(p) : Path.of(System.getProperty("user.home"), ".cache", "foley4j", "redist"))
        .toAbsolutePath();
  }

  /** {@link #loadCuda(Path)} under {@link #defaultCacheRoot()}. */
  public static Report loadCuda() {
    return loadCuda(defaultCacheRoot());
  }

  /**
   * Extracts (once) and loads CUDA and cuDNN from the bytedeco CUDA redist jar. Call it before
   * adding the CUDA provider (the backends' {@code loadRedist(true)} does).
   *
   * @throws GpuUnavailableException if the redist jar is not on the class path, lacks a library the
   *     CUDA provider needs, cannot be extracted under {@code cacheRoot}, or a library fails to load
   *     (the message has the dynamic loader's reason)
   */
  public static Report loadCuda(Path cacheRoot) {
    return load(CudaRedist.class.getClassLoader(), cuda(), cacheRoot, System::load);
  }

  /** {@link #loadTensorRt(Path)} under {@link #defaultCacheRoot()}. */
  public static Report loadTensorRt() {
    return loadTensorRt(defaultCacheRoot());
  }

  /**
   * {@link #loadCuda(Path)}, then the same for TensorRT from the bytedeco TensorRT redist jar
   * (ONNX Runtime's TensorRT provider needs both).
   *
   * @return the TensorRT report (the CUDA one is {@link #loadCuda(Path)}'s, returned again by it)
   * @throws GpuUnavailableException as {@link #loadCuda(Path)}, for either redist
   */
  public static Report loadTensorRt(Path cacheRoot) {
    loadCuda(cacheRoot);
    return load(CudaRedist.class.getClassLoader(), tensorRt(), cacheRoot, System::load);
  }

  /**
   * What the backends' environment check runs: with {@code load}, the redists first (a failure
   * becomes the first problem, so the fallback policy applies to it), then {@code problems}.
   */
  static List<String> loadThen(boolean load, boolean tensorRt, Supplier<List<String>> problems) {
    if (!load) {
      return problems.get();
    }
    String failure = null;
    try {
      Report r = tensorRt ? loadTensorRt() : loadCuda();
      FallbackOpener.LOG.log(System.Logger.Level.INFO, r.toString());
    } catch (GpuUnavailableException e) {
      failure = e.getMessage();
    }
    if (failure == null) {
      return problems.get();
    }
    List<String> all = new ArrayList<>();
    all.add(failure);
    all.addAll(problems.get());
    return all;
  }

  static synchronized Report load(ClassLoader cl, Redist redist, Path cacheRoot, Consumer<String> loader) {
    if (!platform().startsWith("linux-")) {
      throw new GpuUnavailableException("the bytedeco " + redist.label() + " is loaded on Linux only, not on "
          + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    }
    Report done = LOADED.get(redist.resourceDir());
    if (done != null) {
      return done;
    }
    long t0 = System.nanoTime();
    Extracted x = extract(cl, redist, cacheRoot);
    long t1 = System.nanoTime();
    List<String> order = loadInOrder(x.files(), loader, redist, x.directory());
    long t2 = System.nanoTime();
    List<String> names = order.stream().map(p -> Path.of(p).getFileName().toString()).toList();
    Report r = new Report(redist.label(), x.source(), x.directory(), names, x.extracted(), (t1 - t0) / 1_000_000,
        (t2 - t1) / 1_000_000);
    LOADED.put(redist.resourceDir(), r);
    return r;
  }

  /** The libraries to load, in the directory they are loaded from, and how many files were written there now. */
  record Extracted(Path source, Path directory, List<Path> files, int extracted) {}

  /**
   * Finds the redist under {@code redist.resourceDir()} on {@code cl}: in a jar, its wanted
   * libraries are copied under {@code cacheRoot} (files already there with the jar's size are
   * kept); in a directory on the class path, they are used where they are.
   */
  static Extracted extract(ClassLoader cl, Redist redist, Path cacheRoot) {
    List<URL> sources = sources(cl, redist);
    if (sources.isEmpty()) {
      throw new GpuUnavailableException("the bytedeco " + redist.label() + " (" + redist.coordinates() + ") is not on"
          + " the class path: no " + redist.resourceDir() + " resource. Add it (foley4j's own build: mvn -Pgpu,"
          + (redist.resourceDir().contains("tensorrt") ? "cuda-redist,tensorrt-redist" : "cuda-redist")
          + "; docs/gpu.md), or install the libraries on the system and do not load the redist");
    }
    List<String> seen = new ArrayList<>();
    for (URL u : sources) {
      try {
        Extracted x = "jar".equals(u.getProtocol()) ? fromJar(u, redist, cacheRoot) : "file".equals(u.getProtocol())
            ? fromDirectory(Path.of(u.toURI()), redist) : null;
        if (x != null && !x.files().isEmpty()) {
          return checkRequired(x, redist);
        }
        seen.add(u.toString());
      } catch (IOException | URISyntaxException e) {
        throw new GpuUnavailableException("cannot extract the bytedeco " + redist.label() + " from " + u + " under "
            + cacheRoot + ": " + e + "; give a writable cache directory (-D" + CACHE_PROPERTY + "=...)", e);
      }
    }
    throw new GpuUnavailableException("the bytedeco " + redist.label() + " (" + redist.coordinates() + ") is not on the"
        + " class path: " + String.join(", ", seen) + " hold(s) " + redist.resourceDir() + " but none of its libraries"
        + " (only the JNI jar, not the -redist one?)");
  }

  private static Extracted checkRequired(Extracted x, Redist redist) {
    List<String> missing = new ArrayList<>();
    for (String need : redist.required()) {
      if (x.files().stream().noneMatch(f -> f.getFileName().toString().equals(need))) {
        missing.add(need);
      }
    }
    if (!missing.isEmpty()) {
      throw new GpuUnavailableException("the bytedeco " + redist.label() + " in " + x.source() + " has no "
          + String.join(", ", missing) + " (ONNX Runtime 1.23's providers need them); use " + redist.coordinates());
    }
    return x;
  }

  private static List<URL> sources(ClassLoader cl, Redist redist) {
    List<URL> found = new ArrayList<>();
    try {
      for (Enumeration<URL> e = cl.getResources(redist.resourceDir()); e.hasMoreElements(); ) {
        found.add(e.nextElement());
      }
      if (found.isEmpty()) { // a jar without directory entries
        for (String need : redist.required()) {
          URL u = cl.getResource(redist.resourceDir() + need);
          if (u != null) {
            String s = u.toString();
            found.add(new URL(s.substring(0, s.length() - need.length())));
            break;
          }
        }
      }
    } catch (IOException e) {
      throw new GpuUnavailableException("cannot look for the bytedeco " + redist.label() + " on the class path: " + e, e);
    }
    return found;
  }

  private static Extracted fromDirectory(Path dir, Redist redist) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(Files::isRegularFile).filter(p -> redist.wanted().test(p.getFileName().toString())).sorted().toList();
    }
    return new Extracted(dir, dir, files, 0);
  }

  private static Extracted fromJar(URL u, Redist redist, Path cacheRoot) throws IOException, URISyntaxException {
    JarURLConnection c = (JarURLConnection) u.openConnection();
    c.setUseCaches(false);
    Path jarPath = Path.of(c.getJarFileURL().toURI());
    String prefix = redist.resourceDir();
    try (JarFile jar = new JarFile(jarPath.toFile())) {
      Map<String, JarEntry> libs = new TreeMap<>();
      for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
        JarEntry entry = e.nextElement();
        String n = entry.getName();
        if (!entry.isDirectory() && n.startsWith(prefix) && n.indexOf('/', prefix.length()) < 0
            && redist.wanted().test(n.substring(prefix.length()))) {
          libs.put(n.substring(prefix.length()), entry);
        }
      }
      if (libs.isEmpty()) {
        return new Extracted(jarPath, null, List.of(), 0);
      }
      String name = jarPath.getFileName().toString().replaceAll("\\.jar$", "") + "-" + Files.size(jarPath);
      Path dir = cacheRoot.toAbsolutePath().resolve(name);
      Files.createDirectories(dir);
      removeAbandonedParts(dir);
      List<Path> files = new ArrayList<>();
      int written = 0;
      for (Map.Entry<String, JarEntry> l : libs.entrySet()) {
        Path f = dir.resolve(l.getKey());
        files.add(f);
        long size = l.getValue().getSize();
        if (Files.isRegularFile(f) && size >= 0 && Files.size(f) == size) {
          continue;
        }
        Path tmp = Files.createTempFile(dir, "." + l.getKey() + ".", ".part");
        try {
          try (InputStream in = jar.getInputStream(l.getValue())) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
          }
          if (size >= 0 && Files.size(tmp) != size) {
            throw new IOException(l.getKey() + ": wrote " + Files.size(tmp) + " bytes, the jar says " + size);
          }
          Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          written++;
        } finally {
          Files.deleteIfExists(tmp);
        }
      }
      return new Extracted(jarPath, dir, files, written);
    }
  }

  /** A partial copy older than this was left by a process that died while extracting. */
  static final java.time.Duration ABANDONED_PART = java.time.Duration.ofHours(1);

  /**
   * Deletes the {@code .part} files a killed extraction left in {@code dir}: those not written to
   * for {@link #ABANDONED_PART} (a process extracting now writes to its own, a fresh one). Best
   * effort: a file that cannot be deleted is left for the next start.
   */
  static void removeAbandonedParts(Path dir) throws IOException {
    long cutoff = System.currentTimeMillis() - ABANDONED_PART.toMillis();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".")
          && p.getFileName().toString().endsWith(".part")).toList()) {
        try {
          if (Files.getLastModifiedTime(p).toMillis() < cutoff) {
            Files.deleteIfExists(p);
          }
        } catch (IOException e) {
          // another process removed it, or it is not ours to delete: leave it
        }
      }
    }
  }

  /**
   * Loads every file, retrying those that failed for as long as each round loads at least one
   * more (a library whose dependency is not loaded yet fails, and loads once it is).
   *
   * @return the absolute paths, in the order they loaded
   */
  static List<String> loadInOrder(List<Path> files, Consumer<String> loader, Redist redist, Path dir) {
    List<Path> pending = new ArrayList<>(files);
    pending.sort(Comparator.comparing(p -> p.getFileName().toString()));
    List<String> loaded = new ArrayList<>();
    Map<Path, String> errors = new LinkedHashMap<>();
    while (!pending.isEmpty()) {
      List<Path> failed = new ArrayList<>();
      errors.clear();
      for (Path p : pending) {
        String path = p.toAbsolutePath().toString();
        try {
          loader.accept(path);
          loaded.add(path);
        } catch (UnsatisfiedLinkError e) {
          String m = String.valueOf(e.getMessage());
          if (m.contains("already loaded in another classloader")) {
            loaded.add(path); // in the process already: the dynamic loader finds it by name
          } else {
            failed.add(p);
            errors.put(p, m);
          }
        }
      }
      if (failed.size() == pending.size()) {
        break;
      }
      pending = failed;
    }
    if (!pending.isEmpty()) {
      StringBuilder b = new StringBuilder("the bytedeco ").append(redist.label()).append("'s libraries in ").append(dir)
          .append(" do not load (").append(loaded.size()).append(" of ").append(files.size()).append(" did): ");
      int i = 0;
      for (Map.Entry<Path, String> e : errors.entrySet()) {
        b.append(i++ > 0 ? "; " : "").append(e.getKey().getFileName()).append(": ").append(e.getValue().strip());
      }
      throw new GpuUnavailableException(b.append(". A dependency outside the redist must be installed on the system;"
          + " a damaged file in the cache directory must be deleted").toString());
    }
    return Collections.unmodifiableList(loaded);
  }

  /** For tests: forgets what was loaded (the libraries stay loaded). */
  static synchronized void forget(String resourceDir) {
    LOADED.remove(resourceDir);
  }

  /** bytedeco's name of this platform ({@code linux-x86_64}, {@code linux-arm64}, ...). */
  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String o = os.contains("win") ? "windows" : os.contains("mac") ? "macosx" : os.contains("linux") ? "linux" : os;
    String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("aarch64") || arch.equals("arm64")
        ? "arm64" : arch;
    return o + "-" + a;
  }
}
