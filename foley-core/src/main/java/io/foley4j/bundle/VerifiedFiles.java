package io.foley4j.bundle;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A record of the bundle files this user's processes have already hashed, so that opening the same
 * unchanged bundle again does not read every byte again (SHA-256 of a 7 GB bundle takes 5–9 s on one
 * core). Opt-in: {@link ModelBundle#open(Path, long, VerifiedFiles)}.
 *
 * <p>One small JSON file per bundle directory in {@link #directory()}, named for the directory's
 * real path and the manifest's digest. A file is taken as verified, without hashing, when the
 * record holds the manifest's SHA-256 for it together with the size, modification time (to the
 * nanosecond where the file system keeps it) and file key (the inode on Linux) it has now;
 * otherwise it is hashed as always and, if it matches, recorded. A file modified less than {@link
 * #SETTLE_SECONDS} seconds before it was hashed is not recorded, since a write in the same clock
 * tick would leave its time unchanged. As with git's index, this trusts that a file whose size, time
 * and inode are unchanged has unchanged contents: something that rewrites a file in place and then
 * restores its time is not caught (run {@code foley bundle verify}, which always hashes, or do not use
 * a record where that matters). A record that cannot be read is ignored and written again; one that
 * cannot be written is logged and the bundle still opens.
 */
public final class VerifiedFiles {
  private static final Logger LOG = Logger.getLogger(VerifiedFiles.class.getName());
  private static final Gson GSON = new Gson();

  /** A file modified within this many seconds of being hashed is not recorded. */
  public static final long SETTLE_SECONDS = 2;

  private final Path directory;

  private VerifiedFiles(Path directory) {
    this.directory = directory;
  }

  /** Records kept in {@code directory} (created when the first record is written). */
  public static VerifiedFiles in(Path directory) {
    return new VerifiedFiles(Objects.requireNonNull(directory, "directory").toAbsolutePath());
  }

  /** Where the records are kept. */
  public Path directory() {
    return directory;
  }

  /** The record of one bundle directory: read at open, written back once after verifying. */
  final class Record {
    private final Path file;
    private final Map<String, JsonObject> entries = new TreeMap<>();
    private boolean changed;

    private Record(Path file) {
      this.file = file;
      if (!Files.isRegularFile(file)) {
        return;
      }
      try {
        JsonObject o = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        for (Map.Entry<String, com.google.gson.JsonElement> e : o.getAsJsonObject("files").entrySet()) {
          entries.put(e.getKey(), e.getValue().getAsJsonObject());
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.FINE, "ignoring the unreadable record " + file + ": " + e);
        entries.clear();
        changed = true;
      }
    }

    /** Whether {@code path} (the bundle's file {@code name}) was hashed to {@code sha256} as it is now. */
    boolean verified(String name, Path path, String sha256) {
      JsonObject e = entries.get(name);
      if (e == null) {
        return false;
      }
      try {
        JsonObject now = stat(path, sha256);
        return now != null && now.equals(e);
      } catch (IOException | RuntimeException ex) {
        return false;
      }
    }

    /** Records that {@code path} was just hashed to {@code sha256} (unless it changed too recently). */
    void hashed(String name, Path path, String sha256) {
      try {
        JsonObject now = stat(path, sha256);
        if (now == null) {
          entries.remove(name);
        } else {
          long modified = now.get("modifiedNanos").getAsLong();
          long settled = TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis())
              - TimeUnit.SECONDS.toNanos(SETTLE_SECONDS);
          if (modified > settled) {
            entries.remove(name);
          } else {
            entries.put(name, now);
          }
        }
        changed = true;
      } catch (IOException | RuntimeException ex) {
        LOG.log(Level.FINE, "not recording " + path + ": " + ex);
      }
    }

    /** Writes the record if it changed (atomically: a temporary file renamed into place). */
    void save(Path bundleDir) {
      if (!changed) {
        return;
      }
      try {
        Files.createDirectories(directory);
        JsonObject o = new JsonObject();
        o.addProperty("bundle", bundleDir.toString());
        JsonObject files = new JsonObject();
        entries.forEach(files::add);
        o.add("files", files);
        Path tmp = Files.createTempFile(directory, file.getFileName().toString(), ".tmp");
        try {
          Files.writeString(tmp, GSON.toJson(o), StandardCharsets.UTF_8);
          try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
          }
        } finally {
          Files.deleteIfExists(tmp);
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.WARNING, "cannot write the verified-files record " + file + " (the bundle still opened; the"
            + " next open hashes its files again): " + e);
      }
    }
  }

  /** The record of the bundle at {@code bundleDir} whose manifest has {@code digest}. */
  Record record(Path bundleDir, String digest) {
    String key = bundleDir + "\n" + digest;
    String name = HexFormat.of().formatHex(ModelBundle.sha256(key.getBytes(StandardCharsets.UTF_8))).substring(0, 32);
    return new Record(directory.resolve(name + ".json"));
  }

  /** What the record keeps of a file: its digest, size, modification time and file key; null if unknown. */
  private static JsonObject stat(Path path, String sha256) throws IOException {
    BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    Object key = a.fileKey();
    if (key == null) {
      return null; // no inode: a replaced file could not be told from the old one
    }
    JsonObject o = new JsonObject();
    o.addProperty("sha256", sha256);
    o.addProperty("size", a.size());
    o.addProperty("modifiedNanos", a.lastModifiedTime().to(TimeUnit.NANOSECONDS));
    o.addProperty("key", key.toString());
    return o;
  }

  @Override
  public String toString() {
    return "VerifiedFiles[" + directory + "]";
  }
}
