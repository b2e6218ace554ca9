package io.foley4j.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;
import java.util.logging.Logger;
import java.util.stream.Stream;

/** Small file helpers of the service. */
final class Files2 {
  private static final Logger LOG = Logger.getLogger(Files2.class.getName());

  private Files2() {}

  /**
   * Deletes what is under {@code dir} (not {@code dir} itself) that {@code which} selects: files,
   * then directories left empty, deepest first. Returns how many files were deleted; a file that
   * cannot be deleted, or vanishes meanwhile, is skipped.
   */
  static int deleteUnder(Path dir, Predicate<Path> which) {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    List<Path> all;
    try (Stream<Path> s = Files.walk(dir)) {
      all = s.filter(p -> !p.equals(dir)).sorted(Comparator.reverseOrder()).toList();
    } catch (IOException | java.io.UncheckedIOException e) {
      LOG.fine(() -> "cannot list " + dir + ": " + e);
      return 0;
    }
    int n = 0;
    for (Path p : all) {
      try {
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          try (Stream<Path> left = Files.list(p)) {
            if (left.findAny().isEmpty() && which.test(p)) {
              Files.deleteIfExists(p);
            }
          }
        } else if (which.test(p) && Files.deleteIfExists(p)) {
          n++;
        }
      } catch (IOException | RuntimeException e) {
        LOG.fine(() -> "cannot delete " + p + ": " + e);
      }
    }
    return n;
  }

  /** Whether {@code p} was last modified before {@code limit} (false when that cannot be read). */
  static boolean olderThan(Path p, Instant limit) {
    try {
      return Files.getLastModifiedTime(p, java.nio.file.LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(limit);
    } catch (IOException e) {
      return false;
    }
  }

  static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      LOG.fine(() -> "cannot delete " + p + ": " + e);
    }
  }
}
