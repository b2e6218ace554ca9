package io.foley4j.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/** Small file helpers of the service. */
final class Files2 {
  private static final Logger LOG = Logger.getLogger(Files2.class.getName());

  private Files2() {}

  static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      LOG.fine(() -> "cannot delete " + p + ": " + e);
    }
  }
}
