package io.foley4j.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.foley4j.FoleyException;
import io.foley4j.TestSupport;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WavWriterTest {
  @TempDir
  Path tmp;

  private static float[] tone(int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (0.5 * Math.sin(2 * Math.PI * 440 * i / 48000.0));
    }
    x[10] = 2f; // clipped in PCM
    x[11] = -2f;
    return x;
  }

  @Test
  void pcm16HeaderAndSamples() throws Exception {
    float[] x = tone(4801);
    Path wav = tmp.resolve("a.wav");
    WavWriter.write(wav, x, 48000, WavFormat.PCM_16);
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(wav)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(44 + 2 * 4801, b.capacity());
    assertEquals(0x46464952, b.getInt(0)); // RIFF
    assertEquals(36 + 2 * 4801, b.getInt(4));
    assertEquals(1, b.getShort(20)); // PCM
    assertEquals(1, b.getShort(22)); // mono
    assertEquals(48000, b.getInt(24));
    assertEquals(16, b.getShort(34));
    assertEquals(2 * 4801, b.getInt(40));
    assertEquals(32767, b.getShort(44 + 20));
    assertEquals(-32767, b.getShort(44 + 22));
    assertEquals(Math.round(x[100] * 32767), b.getShort(44 + 200));
  }

  @Test
  void streamingEqualsWholeAndFileAppearsOnlyWhenClosed() throws Exception {
    float[] x = tone(10_000);
    Path whole = tmp.resolve("whole.wav");
    Path streamed = tmp.resolve("streamed.wav");
    WavWriter.write(whole, x, 48000, WavFormat.FLOAT_32);
    try (WavWriter w = WavWriter.open(streamed, 48000, WavFormat.FLOAT_32)) {
      w.append(x, 0, 3000);
      w.append(x, 3000, 7000);
      assertFalse(Files.exists(streamed), "not visible before close");
      assertEquals(10_000, w.samplesWritten());
    }
    assertTrue(java.util.Arrays.equals(Files.readAllBytes(whole), Files.readAllBytes(streamed)));
  }

  @Test
  void ffmpegReadsBothFormats() throws Exception {
    assumeTrue(TestSupport.ffmpegAvailable(), "ffmpeg not installed");
    float[] x = tone(48000);
    for (WavFormat f : WavFormat.values()) {
      Path wav = tmp.resolve(f + ".wav");
      WavWriter.write(wav, x, 48000, f);
      String probe = TestSupport.run("ffprobe", "-v", "error", "-show_entries",
          "stream=codec_name,sample_rate,channels,duration_ts", "-of", "default=nw=1", wav.toString());
      assertTrue(probe.contains("codec_name=" + (f == WavFormat.PCM_16 ? "pcm_s16le" : "pcm_f32le")), probe);
      assertTrue(probe.contains("sample_rate=48000"), probe);
      assertTrue(probe.contains("channels=1"), probe);
      assertTrue(probe.contains("duration_ts=48000"), probe);
      Path raw = tmp.resolve(f + ".f32");
      TestSupport.run("ffmpeg", "-v", "error", "-y", "-i", wav.toString(), "-f", "f32le", "-acodec", "pcm_f32le", raw.toString());
      ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(raw)).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(48000 * 4, b.capacity());
      double tol = f == WavFormat.PCM_16 ? 1.0 / 32767 : 0;
      assertEquals(x[1234], b.getFloat(1234 * 4), tol);
    }
  }

  /** A file stream that fails like a full disk once {@code limit} bytes went through. */
  private static final class FullDisk extends java.io.FilterOutputStream {
    private long left;

    FullDisk(java.io.OutputStream out, long limit) {
      super(out);
      this.left = limit;
    }

    @Override
    public void write(byte[] b, int off, int len) throws java.io.IOException {
      if (len > left) {
        throw new java.io.IOException("No space left on device");
      }
      left -= len;
      out.write(b, off, len);
    }

    @Override
    public void write(int b) throws java.io.IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }
  }

  private void assertNoPartFiles() throws Exception {
    try (var files = Files.list(tmp)) {
      java.util.List<Path> left = files.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
      assertTrue(left.isEmpty(), "left behind: " + left);
    }
  }

  @Test
  void aFullDiskMidWriteLeavesNoPartFileAndKeepsTheOldFile() throws Exception {
    Path wav = tmp.resolve("full.wav");
    Files.writeString(wav, "old");
    float[] x = tone(300_000); // 600 kB of PCM: several buffer flushes
    FoleyException e = assertThrows(FoleyException.class,
        () -> WavWriter.write(wav, x, 48000, WavFormat.PCM_16, raw -> new FullDisk(raw, 200_000)));
    assertEquals(FoleyException.Code.IO, e.code(), e.toString());
    assertTrue(e.getMessage().contains(wav.toString()) && e.getMessage().contains("No space left on device"),
        e.getMessage());
    assertNoPartFiles();
    assertEquals("old", Files.readString(wav), "the previous file is untouched");
  }

  @Test
  void aFullDiskWhileFinishingLeavesNoPartFile() throws Exception {
    Path wav = tmp.resolve("late.wav");
    float[] x = tone(1000); // fits the buffers: the failure comes on close
    FoleyException e = assertThrows(FoleyException.class,
        () -> WavWriter.write(wav, x, 48000, WavFormat.FLOAT_32, raw -> new FullDisk(raw, 100)));
    assertEquals(FoleyException.Code.IO, e.code(), e.toString());
    assertTrue(e.getMessage().contains(wav.toString()), e.getMessage());
    assertFalse(Files.exists(wav));
    assertNoPartFiles();
  }

  @Test
  void aStreamedWriterThatFailedPublishesNothingOnClose() throws Exception {
    Path wav = tmp.resolve("streamed.wav");
    float[] x = tone(100_000);
    WavWriter w = WavWriter.open(wav, 48000, WavFormat.PCM_16, -1, raw -> new FullDisk(raw, 150_000));
    w.append(x, 0, 50_000);
    FoleyException e = assertThrows(FoleyException.class, () -> w.append(x, 50_000, 50_000));
    assertEquals(FoleyException.Code.IO, e.code());
    w.close();
    assertFalse(Files.exists(wav), "a WAV missing samples must not appear under the final name");
    assertNoPartFiles();
    assertEquals(FoleyException.Code.CLOSED, assertThrows(FoleyException.class, () -> w.append(x, 0, 1)).code());
  }

  @Test
  void aSymlinkIsWrittenThroughAndADirectoryRefused() throws Exception {
    Path target = tmp.resolve("target.wav");
    Path link = Files.createSymbolicLink(tmp.resolve("link.wav"), target.getFileName()); // relative, dangling
    WavWriter.write(link, tone(480), 48000, WavFormat.PCM_16);
    assertTrue(Files.isSymbolicLink(link));
    assertEquals(44 + 2 * 480, Files.size(target));
    assertNoPartFiles();
    FoleyException e = assertThrows(FoleyException.class, () -> WavWriter.write(tmp, tone(100), 48000, WavFormat.PCM_16));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().contains("directory"), e.getMessage());
  }

  @Test
  void writingToAStreamGivesTheSameBytesAsAFile() throws Exception {
    float[] x = tone(5000);
    Path wav = tmp.resolve("f.wav");
    WavWriter.write(wav, x, 48000, WavFormat.FLOAT_32);
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    WavWriter.write(bytes, x, 48000, WavFormat.FLOAT_32);
    assertTrue(java.util.Arrays.equals(Files.readAllBytes(wav), bytes.toByteArray()));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT,
        assertThrows(FoleyException.class, () -> WavWriter.write(bytes, x, 0, WavFormat.FLOAT_32)).code());
  }
}
