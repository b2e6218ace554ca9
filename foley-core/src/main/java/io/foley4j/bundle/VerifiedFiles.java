package io.foley4j.bundle;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
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
 * record holds the manifest's SHA-256 for it together with the size, modification time, status
 * change time (both to the nanosecond where the file system keeps them) and file key (the inode on
 * Linux) it has now; otherwise it is hashed as always and, if it matches and its status did not
 * change while it was hashed, recorded. The status change time ({@code ctime}) moves with every
 * write, and also when the modification time is set back, and only the kernel sets it: a file
 * rewritten in place with its modification time restored ({@code touch -r}, {@code cp -p}, {@code
 * rsync -t}) is hashed again. A file modified or changed less than {@link #SETTLE_SECONDS} seconds
 * before it was hashed is not recorded, since a write in the same clock tick would leave its times
 * unchanged. What remains trusted is that no one with the power to set the system clock rewrote the
 * file; {@code foley bundle verify} always hashes.
 *
 * <p>A record decides what is hashed, so only records this user alone could have written count:
 * the directory is created readable by its owner only, and a record is ignored (and the files
 * hashed) unless the directory and the record belong to the user running the process and neither
 * is writable by its group or others. A record that cannot be read is ignored and written again; one
 * that cannot be written is logged and the bundle still opens. Writing a bundle's record removes
 * that bundle directory's records of earlier manifests.
 */
public final class VerifiedFiles {
  private static final Logger LOG = Logger.getLogger(VerifiedFiles.class.getName());
  private static final Gson GSON = new Gson();

  /** A file modified within this many seconds of being hashed is not recorded. */
  public static final long SETTLE_SECONDS = 2;

  private final Path directory;
  private final long settleNanos;

  private VerifiedFiles(Path directory, long settleNanos) {
    this.directory = directory;
    this.settleNanos = settleNanos;
  }

  /** Records kept in {@code directory} (created, owner-only, when the first record is written). */
  public static VerifiedFiles in(Path directory) {
    return in(directory, TimeUnit.SECONDS.toNanos(SETTLE_SECONDS));
  }

  /** As {@link #in(Path)} with another settling time (tests: files copied a moment ago). */
  static VerifiedFiles in(Path directory, long settleNanos) {
    return new VerifiedFiles(Objects.requireNonNull(directory, "directory").toAbsolutePath(), settleNanos);
  }

  /** Where the records are kept. */
  public Path directory() {
    return directory;
  }

  /** The record of one bundle directory: read at open, written back once after verifying. */
  final class Record {
    private final Path file;
    private final Path bundleDir;
    private final Map<String, JsonObject> entries = new TreeMap<>();
    /** Each file's state as it was seen before it was hashed, to record only if unchanged after. */
    private final Map<String, JsonObject> seen = new HashMap<>();
    private boolean changed;

    private Record(Path file, Path bundleDir) {
      this.file = file;
      this.bundleDir = bundleDir;
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        return;
      }
      String distrust = distrust(directory, true); // the directory the user named, through any link
      if (distrust == null) {
        distrust = distrust(file, false);
      }
      if (distrust != null) {
        LOG.log(Level.WARNING, "ignoring the verified-files record " + file + " (" + distrust + "): every file of the"
            + " bundle is hashed. Keep records in a directory only this user can write");
        return;
      }
      try {
        JsonObject o = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        for (Map.Entry<String, JsonElement> e : o.getAsJsonObject("files").entrySet()) {
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
      try {
        JsonObject now = stat(path, sha256);
        if (now == null) {
          return false;
        }
        seen.put(name, now);
        JsonObject e = entries.get(name);
        return e != null && sameState(now, e);
      } catch (IOException | RuntimeException ex) {
        return false;
      }
    }

    /**
     * Records that {@code path} was just hashed to {@code sha256}: only if its state is the one {@link
     * #verified} saw before the hashing and it had not changed within {@link #SETTLE_SECONDS} of it.
     */
    void hashed(String name, Path path, String sha256) {
      changed = true;
      entries.remove(name);
      JsonObject before = seen.remove(name);
      try {
        JsonObject now = stat(path, sha256);
        if (now == null || before == null || !sameState(before, now)) {
          return;
        }
        long settled = TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis()) - settleNanos;
        if (now.get("modifiedNanos").getAsLong() <= settled && now.get("changedNanos").getAsLong() <= settled) {
          entries.put(name, now);
        }
      } catch (IOException | RuntimeException ex) {
        LOG.log(Level.FINE, "not recording " + path + ": " + ex);
      }
    }

    /** Writes the record if it changed (atomically: a temporary file renamed into place). */
    void save() {
      if (!changed) {
        return;
      }
      try {
        createPrivateDirectory(directory);
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
        return;
      }
      removeOlderRecords();
    }

    /** Deletes the records of the same bundle directory kept for other manifests (re-exports). */
    private void removeOlderRecords() {
      try (DirectoryStream<Path> s = Files.newDirectoryStream(directory, "*.json")) {
        for (Path other : s) {
          if (other.equals(file) || !Files.isRegularFile(other, LinkOption.NOFOLLOW_LINKS)) {
            continue;
          }
          try {
            JsonElement b = JsonParser.parseString(Files.readString(other, StandardCharsets.UTF_8))
                .getAsJsonObject().get("bundle");
            if (b != null && bundleDir.toString().equals(b.getAsString())) {
              Files.deleteIfExists(other);
            }
          } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "leaving " + other + ": " + e);
          }
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.FINE, "cannot list " + directory + ": " + e);
      }
    }
  }

  /** The record of the bundle at {@code bundleDir} whose manifest has {@code digest}. */
  Record record(Path bundleDir, String digest) {
    String key = bundleDir + "\n" + digest;
    String name = HexFormat.of().formatHex(ModelBundle.sha256(key.getBytes(StandardCharsets.UTF_8))).substring(0, 32);
    return new Record(directory.resolve(name + ".json"), bundleDir);
  }

  /**
   * Why a record at {@code p} could have been written by someone else, or null when only this user
   * could have: it (or the directory) must belong to the user running the process and not be
   * writable by its group or others. The records' directory is checked through a symbolic link
   * (where the user's path leads), a record file as it is.
   */
  static String distrust(Path p, boolean followLinks) {
    LinkOption[] how = followLinks ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
    try {
      Object uid = processUid();
      if (uid != null) {
        Object owner = Files.getAttribute(p, "unix:uid", how);
        if (!uid.equals(owner)) {
          return p + " belongs to user id " + owner + ", not to this process's " + uid;
        }
      } else {
        UserPrincipal owner = Files.getOwner(p, how);
        UserPrincipal me = p.getFileSystem().getUserPrincipalLookupService()
            .lookupPrincipalByName(System.getProperty("user.name"));
        if (!owner.equals(me)) {
          return p + " belongs to " + owner.getName() + ", not to " + me.getName();
        }
      }
      PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class, how);
      if (view != null) {
        Set<PosixFilePermission> perms = view.readAttributes().permissions();
        if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
          return p + " is writable by others (" + PosixFilePermissions.toString(perms) + ")";
        }
      }
      return null;
    } catch (IOException | RuntimeException e) {
      return "its owner cannot be checked: " + e;
    }
  }

  /** The process's user id where the system shows it (Linux: the owner of /proc/self), else null. */
  private static Object processUid() {
    try {
      return Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static void createPrivateDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Path parent = dir.getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      FileAttribute<Set<PosixFilePermission>> ownerOnly =
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
      try {
        Files.createDirectory(dir, ownerOnly);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // another process made it first: its permissions are checked when records are read
      }
    } else {
      Files.createDirectories(dir);
    }
  }

  /**
   * What the record keeps of a file: its digest, size, modification and status-change times and file
   * key; null where the file system does not give the key or the status-change time.
   */
  static JsonObject stat(Path path, String sha256) throws IOException {
    BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    Object key = a.fileKey();
    if (key == null) {
      return null; // no inode: a replaced file could not be told from the old one
    }
    FileTime ctime;
    try {
      ctime = (FileTime) Files.getAttribute(path, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return null; // no status-change time: a write with the time put back could not be seen
    }
    JsonObject o = new JsonObject();
    o.addProperty("sha256", sha256);
    o.addProperty("size", a.size());
    o.addProperty("modifiedNanos", a.lastModifiedTime().to(TimeUnit.NANOSECONDS));
    o.addProperty("changedNanos", ctime.to(TimeUnit.NANOSECONDS));
    o.addProperty("key", key.toString());
    return o;
  }

  /**
   * Whether two of {@link #stat}'s results hold the same values, field by field as written (JSON
   * numbers read back compare as doubles in Gson, which would take times 1 ns apart as equal).
   */
  static boolean sameState(JsonObject a, JsonObject b) {
    if (!a.keySet().equals(b.keySet())) {
      return false;
    }
    for (String k : a.keySet()) {
      JsonElement x = a.get(k);
      JsonElement y = b.get(k);
      if (!x.isJsonPrimitive() || !y.isJsonPrimitive() || !x.getAsString().equals(y.getAsString())) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "VerifiedFiles[" + directory + "]";
  }
}
