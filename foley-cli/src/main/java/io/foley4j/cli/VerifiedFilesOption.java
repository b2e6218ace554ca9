package io.foley4j.cli;

import io.foley4j.FoleyException;
import io.foley4j.bundle.VerifiedFiles;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --verified-files DIR}: the commands that open a bundle to run it skip hashing files already hashed. */
final class VerifiedFilesOption {
  @Option(names = "--verified-files", paramLabel = "DIR",
      description = "Keep a record in DIR of the bundle files already hashed, and do not hash a file again while its"
          + " size, modification and status-change times and inode are unchanged; DIR must be this user's alone"
          + " (docs/operations.md). 'foley bundle verify' always"
          + " hashes.")
  Path dir;

  /** The record, or null to hash every file. */
  VerifiedFiles get() {
    if (dir == null) {
      return null;
    }
    if (dir.toString().isBlank()) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--verified-files needs a directory for the"
          + " records, found an empty path");
    }
    return VerifiedFiles.in(dir);
  }
}
