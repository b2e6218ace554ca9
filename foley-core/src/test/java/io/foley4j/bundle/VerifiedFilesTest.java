package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.InvalidBundleException;
import io.foley4j.TestSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VerifiedFiles}: a file the record holds as it is now is not hashed again (shown with a
 * record that vouches for changed contents: the bundle opens), every change a process can make to a
 * file is hashed and refused as before (contents rewritten in place with the size and time put
 * back included), and only records this user alone could have written count.
 */
class VerifiedFilesTest {
  @TempDir
  Path tmp;

  private static final long LIMIT = ModelBundle.DEFAULT_MAX_EXTRACTED_BYTES;

  private Path copyOfReference(String name) throws IOException {
    Path d = tmp.resolve(name);
    Files.createDirectories(d);
    FileTime old = FileTime.from(System.currentTimeMillis() - 60_000, TimeUnit.MILLISECONDS);
    try (Stream<Path> s = Files.list(TestSupport.referenceBundleDir())) {
      for (Path p : s.toList()) {
        Path c = d.resolve(p.getFileName());
        Files.copy(p, c);
        Files.setLastModifiedTime(c, old);
      }
    }
    return d;
  }

  /** Records that count files copied a moment ago (the settling time is tested on its own). */
  private VerifiedFiles records() {
    return VerifiedFiles.in(tmp.resolve("records"), 0);
  }

  /** Flips one byte of {@code file} in place (same inode, same size) and puts its time back. */
  private static void tamperKeepingTime(Path file) throws IOException {
    FileTime t = Files.getLastModifiedTime(file);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 1;
    Files.write(file, bytes);
    Files.setLastModifiedTime(file, t);
  }

  private static List<Path> recordFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".json")).toList();
    }
  }

  private static JsonObject files(Path record) throws IOException {
    return JsonParser.parseString(Files.readString(record)).getAsJsonObject().getAsJsonObject("files");
  }

  private static String manifestSha(Path bundle, String name) throws IOException {
    try (ModelBundle b = ModelBundle.open(bundle, LIMIT, null)) {
      return b.manifest().files().digests().get(name);
    }
  }

  /** Rewrites the record's entry for {@code name} to vouch for the file as it is now. */
  private static void vouch(Path record, Path file, String name, String sha256) throws IOException {
    JsonObject o = JsonParser.parseString(Files.readString(record)).getAsJsonObject();
    o.getAsJsonObject("files").add(name, VerifiedFiles.stat(file, sha256));
    Files.writeString(record, o.toString());
  }

  /** A bundle whose record (in {@code recordsDir}) vouches for a changed denoiser.onnx. */
  private record Forged(Path bundle, Path record) {}

  /**
   * Opens a copy of the reference bundle with {@code v} (recording its files in {@code recordsDir}),
   * then changes denoiser.onnx and rewrites the record to vouch for it as it is now, as someone who
   * could write the record could: the bundle opens only where the record is trusted.
   */
  private Forged forgedRecord(VerifiedFiles v, Path recordsDir) throws IOException {
    Path d = copyOfReference("b");
    String sha = manifestSha(d, "denoiser.onnx");
    ModelBundle.open(d, LIMIT, v).close();
    Path record = recordFiles(recordsDir).get(0);
    assertTrue(files(record).has("denoiser.onnx"));
    Path onnx = d.resolve("denoiser.onnx");
    tamperKeepingTime(onnx);
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d, LIMIT, null), "hashed: refused");
    vouch(record, onnx, "denoiser.onnx", sha);
    return new Forged(d, record);
  }

  @Test
  void aFileTheRecordHoldsAsItIsNowIsNotHashedAgain() throws IOException {
    VerifiedFiles v = records();
    Path d = forgedRecord(v, v.directory()).bundle();
    try (ModelBundle b = ModelBundle.open(d, LIMIT, v)) {
      assertEquals(64, b.digest().length(), "opened: the file the record vouches for was not hashed");
    }
  }

  @Test
  void aFileRewrittenInPlaceWithItsTimePutBackIsHashedAgain() throws IOException {
    Path d = copyOfReference("b");
    VerifiedFiles v = records();
    ModelBundle.open(d, LIMIT, v).close();
    Path onnx = d.resolve("denoiser.onnx");
    long mtime = Files.getLastModifiedTime(onnx).to(TimeUnit.NANOSECONDS);
    tamperKeepingTime(onnx);
    assertEquals(mtime, Files.getLastModifiedTime(onnx).to(TimeUnit.NANOSECONDS), "same size, time and inode");
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d, LIMIT, v),
        "its status-change time moved");
    assertTrue(e.getMessage().contains("sha256 mismatch for denoiser.onnx"), e.getMessage());
  }

  @Test
  void aFileWhoseTimesMovedWithinTheSettlingTimeIsNotRecorded() throws IOException {
    Path d = copyOfReference("fresh"); // modified a minute ago, but its status changed just now
    VerifiedFiles v = VerifiedFiles.in(tmp.resolve("records"));
    ModelBundle.open(d, LIMIT, v).close();
    JsonObject f = files(recordFiles(v.directory()).get(0));
    assertFalse(f.has("denoiser.onnx"), "changed within " + VerifiedFiles.SETTLE_SECONDS + " s of its hashing: " + f);
  }

  @Test
  void aFileChangedWhileItWasHashedIsNotRecorded() throws IOException {
    Path d = copyOfReference("b");
    Path onnx = d.resolve("denoiser.onnx");
    String sha = manifestSha(d, "denoiser.onnx");
    VerifiedFiles.Record r = records().record(d.toRealPath(), "digest");
    assertFalse(r.verified("denoiser.onnx", onnx, sha), "nothing recorded yet");
    Files.setLastModifiedTime(onnx, FileTime.from(System.currentTimeMillis() - 30_000, TimeUnit.MILLISECONDS));
    r.hashed("denoiser.onnx", onnx, sha);
    r.hashed("tokenizer.json", d.resolve("tokenizer.json"), "not seen before it was hashed");
    r.save();
    JsonObject f = files(recordFiles(tmp.resolve("records")).get(0));
    assertFalse(f.has("denoiser.onnx"), f.toString());
    assertFalse(f.has("tokenizer.json"), f.toString());
  }

  @Test
  void anotherCopyOfTheSameBundleHasItsOwnRecord() throws IOException {
    Path a = copyOfReference("a");
    Path b = copyOfReference("b");
    VerifiedFiles v = records();
    String digest;
    try (ModelBundle opened = ModelBundle.open(a, LIMIT, v)) {
      digest = opened.digest();
    }
    String sha = manifestSha(a, "denoiser.onnx");
    assertTrue(v.record(a.toRealPath(), digest).verified("denoiser.onnx", a.resolve("denoiser.onnx"), sha));
    assertFalse(v.record(b.toRealPath(), digest).verified("denoiser.onnx", b.resolve("denoiser.onnx"), sha));
    assertFalse(v.record(a.toRealPath(), "another manifest").verified("denoiser.onnx", a.resolve("denoiser.onnx"), sha));
  }

  @Test
  void anUnreadableRecordIsIgnoredAndWrittenAgain() throws IOException {
    Path d = copyOfReference("b");
    VerifiedFiles v = records();
    String digest;
    try (ModelBundle b = ModelBundle.open(d, LIMIT, v)) {
      digest = b.digest();
    }
    Path record = recordFiles(v.directory()).get(0);
    Files.writeString(record, "{not json");
    String sha = manifestSha(d, "denoiser.onnx");
    assertFalse(v.record(d.toRealPath(), digest).verified("denoiser.onnx", d.resolve("denoiser.onnx"), sha),
        "a broken record trusts nothing");
    ModelBundle.open(d, LIMIT, v).close();
    assertTrue(files(record).has("denoiser.onnx"), "rewritten");
  }

  @Test
  void aRecordThatCannotBeWrittenStillOpensTheBundle() throws IOException {
    Path d = copyOfReference("b");
    Path notADirectory = Files.writeString(tmp.resolve("file"), "x");
    VerifiedFiles v = VerifiedFiles.in(notADirectory.resolve("records"), 0);
    try (ModelBundle b = ModelBundle.open(d, LIMIT, v)) {
      assertEquals(64, b.digest().length());
    }
  }

  @Test
  void theDirectoryIsTheUsersAloneAndARecordOthersCouldWriteIsIgnored() throws IOException {
    VerifiedFiles v = records();
    Forged f = forgedRecord(v, v.directory()); // as someone else could plant
    Path d = f.bundle();
    Path record = f.record();
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(v.directory())));
    Files.setPosixFilePermissions(v.directory(), PosixFilePermissions.fromString("rwxrwxrwx"));
    assertNotNull(VerifiedFiles.distrust(v.directory(), true));
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d, LIMIT, v), "directory writable by all");
    Files.setPosixFilePermissions(v.directory(), PosixFilePermissions.fromString("rwx------"));
    Files.setPosixFilePermissions(record, PosixFilePermissions.fromString("rw-rw-r--"));
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d, LIMIT, v), "record writable by its group");
    Files.setPosixFilePermissions(record, PosixFilePermissions.fromString("rw-------"));
    assertNull(VerifiedFiles.distrust(record, false));
    ModelBundle.open(d, LIMIT, v).close(); // the user's own record is trusted, as above

    UserPrincipal nobody;
    try {
      nobody = record.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
      Files.setOwner(record, nobody);
    } catch (IOException | UnsupportedOperationException e) {
      assumeTrue(false, "cannot give the record to another user here: " + e);
      return;
    }
    assertTrue(VerifiedFiles.distrust(record, false).contains("belongs to"), VerifiedFiles.distrust(record, false));
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d, LIMIT, v), "another user's record");
  }

  @Test
  void aRecordDirectoryReachedThroughALinkIsTheDirectoryItLeadsTo() throws IOException {
    Path real = Files.createDirectory(tmp.resolve("records"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path link = Files.createSymbolicLink(tmp.resolve("records-link"), real);
    VerifiedFiles v = VerifiedFiles.in(link, 0);
    Path d = forgedRecord(v, real).bundle();
    assertNull(VerifiedFiles.distrust(link, true), "the link's own bits (rwxrwxrwx) are not the directory's");
    ModelBundle.open(d, LIMIT, v).close(); // the record is read through the link and trusted
  }

  @Test
  void aNewManifestReplacesTheRecordOfTheOldOne() throws IOException {
    Path d = copyOfReference("b");
    VerifiedFiles v = records();
    ModelBundle.open(d, LIMIT, v).close();
    Path manifest = d.resolve(ModelBundle.MANIFEST);
    Files.writeString(manifest, Files.readString(manifest) + "\n"); // another digest, the same bundle
    ModelBundle.open(d, LIMIT, v).close();
    List<Path> left = recordFiles(v.directory());
    assertEquals(1, left.size(), left.toString());
    assertTrue(files(left.get(0)).has("denoiser.onnx"));
  }

  @Test
  void timesAreComparedToTheNanosecondAsWritten() {
    JsonObject read = JsonParser.parseString("{\"modifiedNanos\": 1700000000000000001}").getAsJsonObject();
    JsonObject now = new JsonObject();
    now.addProperty("modifiedNanos", 1700000000000000000L);
    assertTrue(read.equals(now), "Gson's own equality takes them as equal (doubles)");
    assertFalse(VerifiedFiles.sameState(read, now));
    now.addProperty("modifiedNanos", 1700000000000000001L);
    assertTrue(VerifiedFiles.sameState(read, now));
  }
}
