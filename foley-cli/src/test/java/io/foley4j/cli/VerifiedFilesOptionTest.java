package io.foley4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.bundle.VerifiedFiles;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --verified-files DIR} on {@code generate}: the record of the hashed files is written there,
 * and {@code bundle verify} (which has no such option) still hashes every file.
 */
class VerifiedFilesOptionTest {
  @TempDir
  Path dir;

  @Test
  void generateKeepsTheRecordAndBundleVerifyStillHashes() throws Exception {
    Path bundle = dir.resolve("ref");
    CliOutput made = CliOutput.of("bundle", "reference", "--out", bundle.toString());
    assertEquals(0, made.rc(), made.err());
    FileTime old = FileTime.from(System.currentTimeMillis() - 60_000, TimeUnit.MILLISECONDS);
    List<Path> files;
    try (Stream<Path> s = Files.list(bundle)) {
      files = s.toList();
    }
    for (Path p : files) {
      Files.setLastModifiedTime(p, old);
    }
    // setting the time changed the files' status (ctime) just now: recorded only once settled
    Thread.sleep(TimeUnit.SECONDS.toMillis(VerifiedFiles.SETTLE_SECONDS) + 200);
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(1).build(), video);
    Path records = dir.resolve("records");
    CliOutput run = CliOutput.of("generate", "--bundle", bundle.toString(), "--verified-files", records.toString(),
        "--video", video.toString(), "--prompt", "clink", "--steps", "2", "--decoder", "jcodec", "--progress", "none",
        "--out", dir.resolve("a.wav").toString());
    assertEquals(0, run.rc(), run.err());
    List<Path> written;
    try (Stream<Path> s = Files.list(records)) {
      written = s.toList();
    }
    assertEquals(1, written.size(), written.toString());
    JsonObject record = JsonParser.parseString(Files.readString(written.get(0))).getAsJsonObject();
    assertEquals(bundle.toRealPath().toString(), record.get("bundle").getAsString());
    JsonObject manifest = JsonParser.parseString(Files.readString(bundle.resolve("foley-bundle.json"))).getAsJsonObject();
    String denoiserSha = manifest.getAsJsonObject("stages").getAsJsonObject("denoiser").get("sha256").getAsString();
    assertEquals(denoiserSha, record.getAsJsonObject("files").getAsJsonObject("denoiser.onnx").get("sha256")
        .getAsString());

    // a byte changed in place, its time put back: the record would trust it, bundle verify does not
    Path tok = bundle.resolve("unconditional.safetensors");
    byte[] bytes = Files.readAllBytes(tok);
    bytes[bytes.length - 1] ^= 1;
    Files.write(tok, bytes);
    Files.setLastModifiedTime(tok, old);
    CliOutput verify = CliOutput.of("bundle", "verify", bundle.toString());
    assertNotEquals(0, verify.rc());
    assertTrue(verify.err().contains("sha256 mismatch") || verify.out().contains("sha256 mismatch"),
        verify.out() + verify.err());
  }

  @Test
  void anEmptyRecordDirectoryIsBadInput() throws Exception {
    Path bundle = dir.resolve("ref");
    assertEquals(0, CliOutput.of("bundle", "reference", "--out", bundle.toString()).rc());
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(1).build(), video);
    CliOutput run = CliOutput.of("generate", "--bundle", bundle.toString(), "--verified-files", "",
        "--video", video.toString(), "--prompt", "clink", "--steps", "2", "--decoder", "jcodec", "--progress", "none",
        "--out", dir.resolve("a.wav").toString());
    assertEquals(2, run.rc(), run.toString());
    assertTrue(run.err().contains("--verified-files needs a directory"), run.err());
  }
}
