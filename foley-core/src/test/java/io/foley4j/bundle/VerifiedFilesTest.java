package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.foley4j.InvalidBundleException;
import io.foley4j.TestSupport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link VerifiedFiles}: an unchanged file is not hashed again (shown by a change it then cannot
 * see: contents rewritten in place with the size and time restored, the documented limit), and
 * every other change is hashed and refused as before.
 */
class VerifiedFilesTest {
  @TempDir
  Path tmp;

  private static final long LIMIT = ModelBundle.DEFAULT_MAX_EXTRACTED_BYTES;

  private Path copyOfReference(String name, long ageSeconds) throws IOException {
    Path d = tmp.resolve(name);
    Files.createDirectories(d);
    FileTime old = FileTime.from(System.currentTimeMillis() - TimeUnit.SECONDS.toMillis(ageSeconds), TimeUnit.MILLISECONDS);
    try (Stream<Path> s = Files.list(TestSupport.referenceBundleDir())) {
      for (Path p : s.toList()) {
        Path c = d.resolve(p.getFileName());
        Files.copy(p, c);
        Files.setLastModifiedTime(c, old);
      }
    }
    return d;
  }

  /** Flips one byte of {@code file} in place (same inode, same size) and puts its time back. */
  private static void tamperKeepingTime(Path file) throws IOException {
    FileTime t = Files.getLastModifiedTime(file);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 1;
    Files.write(file, bytes);
    Files.setLastModifiedTime(file, t);
  }

  private static List<Path> records(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".json")).toList();
    }
  }

  @Test
  void aSecondOpenTrustsTheRecordAndAFileWithAnotherTimeIsHashedAgain() throws IOException {
    Path d = copyOfReference("b", 60);
    VerifiedFiles v = VerifiedFiles.in(tmp.resolve("records"));
    String digest;
    try (ModelBundle b = ModelBundle.open(d, LIMIT, v)) {
      digest = b.digest();
    }
    assertEquals(1, records(v.directory()).size());
    Path onnx = d.resolve("denoiser.onnx");
    tamperKeepingTime(onnx);
    try (ModelBundle b = ModelBundle.open(d, LIMIT, v)) {
      assertEquals(digest, b.digest(), "not hashed: the record's size, time and inode still match");
    }
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d, LIMIT, null), "without a record: hashed");
    Files.setLastModifiedTime(onnx, FileTime.from(System.currentTimeMillis() - 30_000, TimeUnit.MILLISECONDS));
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d, LIMIT, v));
    assertTrue(e.getMessage().contains("sha256 mismatch for denoiser.onnx"), e.getMessage());
  }

  @Test
  void aFileModifiedJustBeforeItWasHashedIsNotRecorded() throws IOException {
    Path d = copyOfReference("fresh", 0);
    VerifiedFiles v = VerifiedFiles.in(tmp.resolve("records"));
    ModelBundle.open(d, LIMIT, v).close();
    tamperKeepingTime(d.resolve("denoiser.onnx"));
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d, LIMIT, v),
        "written within " + VerifiedFiles.SETTLE_SECONDS + " s of its hashing: hashed again");
  }

  @Test
  void anotherCopyOfTheSameBundleHasItsOwnRecord() throws IOException {
    Path a = copyOfReference("a", 60);
    Path b = copyOfReference("b", 60);
    VerifiedFiles v = VerifiedFiles.in(tmp.resolve("records"));
    ModelBundle.open(a, LIMIT, v).close();
    tamperKeepingTime(b.resolve("denoiser.onnx"));
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(b, LIMIT, v));
  }

  @Test
  void anUnreadableRecordIsIgnoredAndWrittenAgain() throws IOException {
    Path d = copyOfReference("b", 60);
    VerifiedFiles v = VerifiedFiles.in(tmp.resolve("records"));
    ModelBundle.open(d, LIMIT, v).close();
    Path record = records(v.directory()).get(0);
    Files.writeString(record, "{not json");
    tamperKeepingTime(d.resolve("denoiser.onnx"));
    assertThrows(InvalidBundleException.class, () -> ModelBundle.open(d, LIMIT, v), "a broken record trusts nothing");
    tamperKeepingTime(d.resolve("denoiser.onnx")); // flipped back: the original bytes
    ModelBundle.open(d, LIMIT, v).close();
    assertTrue(JsonParser.parseString(Files.readString(record)).getAsJsonObject().getAsJsonObject("files")
        .has("denoiser.onnx"), "rewritten");
  }

  @Test
  void aRecordThatCannotBeWrittenStillOpensTheBundle() throws IOException {
    Path d = copyOfReference("b", 60);
    Path notADirectory = Files.writeString(tmp.resolve("file"), "x");
    VerifiedFiles v = VerifiedFiles.in(notADirectory.resolve("records"));
    try (ModelBundle b = ModelBundle.open(d, LIMIT, v)) {
      assertEquals(64, b.digest().length());
    }
  }
}
