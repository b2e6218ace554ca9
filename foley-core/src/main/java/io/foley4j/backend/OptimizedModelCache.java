package io.foley4j.backend;

import io.foley4j.bundle.StageSpec;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * File names and atomic writes of the CPU backend's optimized-model cache. A cached graph is named
 * by the stage, the stage file's SHA-256 from the manifest, the ONNX Runtime version, the provider
 * and the optimization level, so a new bundle, runtime or level never reads an old file. A file
 * is written under a temporary name in the same directory and moved into place atomically, so a
 * reader (another process included) sees a whole file or none.
 */
final class OptimizedModelCache {
  private static final System.Logger LOG = System.getLogger("io.foley4j.backend");

  private OptimizedModelCache() {}

  static String fileName(StageSpec spec, String ortVersion, String provider, CpuBackend.Optimization level) {
    return safe(spec.stage().key()) + "-" + safe(spec.sha256().toLowerCase(Locale.ROOT)) + "-ort" + safe(ortVersion)
        + "-" + safe(provider) + "-" + level.name().toLowerCase(Locale.ROOT) + ".ort.onnx";
  }

  private static String safe(String s) {
    return s.replaceAll("[^A-Za-z0-9._]", "_");
  }

  static Path tempFor(Path target) {
    return target.resolveSibling(target.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
        + Thread.currentThread().getId() + "-" + Long.toHexString(System.nanoTime()));
  }

  /** Moves a fully written {@code tmp} to {@code target}; a failure is logged, never thrown. */
  static void publish(Path tmp, Path target) {
    try {
      if (!Files.isRegularFile(tmp)) {
        LOG.log(System.Logger.Level.WARNING, "ONNX Runtime wrote no optimized model to " + tmp + "; nothing cached");
        return;
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target); // fails rather than overwrite when another process won the race
      }
    } catch (FileAlreadyExistsException e) {
      // another process stored the same graph first: keep its file
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot store the optimized model " + target + ": " + e);
    }
  }

  static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException | RuntimeException e) {
      // a leftover temp file is harmless: it is never read
    }
  }
}
