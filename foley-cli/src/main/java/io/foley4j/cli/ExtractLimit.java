package io.foley4j.cli;

import io.foley4j.FoleyException;
import io.foley4j.bundle.ModelBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/** {@code --max-extracted-bytes}: how much a bundle archive may extract to; shared by the commands that open bundles. */
final class ExtractLimit {
  @Option(names = "--max-extracted-bytes", paramLabel = "SIZE", defaultValue = "64G",
      description = "Most bytes a bundle archive (.tar.gz/.zip) may extract to, e.g. 64G, 500M or 1000000; a larger"
          + " archive is refused as an invalid bundle (default: ${DEFAULT-VALUE}).")
  String maxExtracted;

  /** Opens a bundle directory or archive under this limit. */
  ModelBundle open(Path path) {
    return ModelBundle.open(given(path), bytes());
  }

  /** The same, trusting {@code verified}'s record of files already hashed (null: hash every file). */
  ModelBundle open(Path path, VerifiedFilesOption verified) {
    return ModelBundle.open(given(path), bytes(), verified.get());
  }

  /** A bundle path named on the command line that is not there is the user's input to fix (exit 2). */
  private static Path given(Path path) {
    if (path != null && !Files.exists(path)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "model bundle " + path + " does not exist: give"
          + " a bundle directory (holding foley-bundle.json) or a .tar.gz/.zip archive of one");
    }
    return path;
  }

  long bytes() {
    return parse(maxExtracted);
  }

  /** Parses a size: digits with an optional K, M, G or T suffix (powers of 1024), case-insensitive, optional "B"/"iB". */
  static long parse(String text) {
    String s = text.strip().toUpperCase(Locale.ROOT);
    if (s.endsWith("IB")) {
      s = s.substring(0, s.length() - 2);
    } else if (s.endsWith("B")) {
      s = s.substring(0, s.length() - 1);
    }
    int shift = 0;
    if (!s.isEmpty()) {
      switch (s.charAt(s.length() - 1)) {
        case 'K' -> shift = 10;
        case 'M' -> shift = 20;
        case 'G' -> shift = 30;
        case 'T' -> shift = 40;
        default -> { }
      }
    }
    if (shift > 0) {
      s = s.substring(0, s.length() - 1);
    }
    try {
      long v = Long.parseLong(s.strip());
      if (v > 0 && v <= Long.MAX_VALUE >> shift) {
        return v << shift;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--max-extracted-bytes must be a positive size"
        + " such as 64G, 500M or 1000000, found \"" + text + "\"");
  }
}
