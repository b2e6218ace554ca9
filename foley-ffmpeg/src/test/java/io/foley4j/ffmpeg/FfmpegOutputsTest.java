package io.foley4j.ffmpeg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.TestSupport;
import io.foley4j.bundle.ModelBundle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every file FfmpegOutputs writes, read back by Debian's ffprobe and ffmpeg. */
class FfmpegOutputsTest {
  @TempDir
  static Path dir;
  static FoleyResult result;
  static Path video;

  @BeforeAll
  static void generate() {
    Clips.require();
    video = Clips.variant(dir, "h264-mp4");
    try (ModelBundle b = TestSupport.referenceBundle();
        FoleyEngine e = FoleyEngine.builder().bundle(b).name("ffout").videoSources(FfmpegVideoSources.ffmpeg()).build()) {
      result = e.generate(FoleyRequest.of(video, "door knock"));
    }
  }

  @AfterAll
  static void none() {}

  private static String probe(Path f, String stream, String entries) {
    return TestSupport.run("ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "stream=" + entries,
        "-of", "default=nw=1", f.toString()).trim();
  }

  /** The file's audio decoded by the ffmpeg CLI as mono floats. */
  private static float[] decodeAudio(Path f) throws IOException {
    Path raw = dir.resolve(f.getFileName() + ".f32");
    TestSupport.run("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", f.toString(), "-map", "0:a:0", "-f", "f32le",
        "-ac", "1", raw.toString());
    ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(raw)).order(ByteOrder.LITTLE_ENDIAN);
    float[] x = new float[bb.remaining() / 4];
    bb.asFloatBuffer().get(x);
    return x;
  }

  /** MD5 of the decoded video: equal only if the pictures are the same, as no re-encoding keeps them. */
  private static String videoMd5(Path f) {
    return TestSupport.run("ffmpeg", "-nostdin", "-v", "error", "-i", f.toString(), "-map", "0:v:0", "-f", "md5", "-")
        .trim();
  }

  /** 16-bit PCM as written (x 32767, as WavWriter) and read back (/ 32768): at most 1.5 steps off. */
  private static final double PCM16 = 1.5 / 32768 + 1e-7;

  private static void assertSameSamples(float[] got, double tolerance) {
    float[] want = result.toArray();
    assertEquals(want.length, got.length, "sample count");
    double worst = 0;
    for (int i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(want[i] - got[i]));
    }
    assertTrue(worst <= tolerance, "max difference " + worst);
  }

  @Test
  void mp4GetsAac128kAndTheVideoCopied() throws IOException {
    Path out = dir.resolve("out.mp4");
    FfmpegOutputs.mux(result, video, out);
    assertTrue(probe(out, "a:0", "codec_name").contains("codec_name=aac"), probe(out, "a:0", "codec_name"));
    assertTrue(probe(out, "v:0", "codec_name").contains("codec_name=h264"));
    assertEquals(videoMd5(video), videoMd5(out), "the video stream is copied, not re-encoded");
    long br = Long.parseLong(probe(out, "a:0", "bit_rate").replace("bit_rate=", ""));
    Path low = dir.resolve("low.mp4");
    FfmpegOutputs.mux(result, video, low, FfmpegOutputs.AudioCodec.AAC, 48_000);
    long lowBr = Long.parseLong(probe(low, "a:0", "bit_rate").replace("bit_rate=", ""));
    System.out.println("AAC bit rates: default " + br + ", 48k asked " + lowBr);
    assertTrue(lowBr < br, lowBr + " vs " + br);
    float[] aac = decodeAudio(out);
    // priming is trimmed by the edit list; the last frame's padding is not (the ffmpeg CLI's own AAC files decode
    // to whole 1024-sample frames too): the sound starts exactly in place and ends within one frame
    assertTrue(aac.length >= result.sampleCount() && aac.length < result.sampleCount() + 1024,
        "AAC decodes to " + aac.length + " samples for " + result.sampleCount());
    double err = 0;
    double sig = 0;
    float[] want = result.toArray();
    for (int i = 0; i < want.length; i++) {
      err += (want[i] - aac[i]) * (want[i] - aac[i]);
      sig += want[i] * want[i];
    }
    assertTrue(sig > 0 && err / sig < 0.05, "AAC is the same sound: error/signal " + err / sig);
  }

  @Test
  void movGetsPcmAndMkvGetsFlacBothExact() throws IOException {
    Path mov = dir.resolve("out.mov");
    FfmpegOutputs.mux(result, video, mov);
    assertTrue(probe(mov, "a:0", "codec_name").contains("pcm_s16le"));
    assertEquals(videoMd5(video), videoMd5(mov));
    assertSameSamples(decodeAudio(mov), PCM16);
    Path mkv = dir.resolve("out.mkv");
    FfmpegOutputs.mux(result, video, mkv);
    assertTrue(probe(mkv, "a:0", "codec_name").contains("flac"));
    assertEquals(videoMd5(video), videoMd5(mkv));
    assertSameSamples(decodeAudio(mkv), PCM16);
    Path mkvPcm = dir.resolve("pcm.mkv");
    FfmpegOutputs.mux(result, video, mkvPcm, FfmpegOutputs.AudioCodec.PCM, FfmpegOutputs.DEFAULT_AAC_BITRATE);
    assertTrue(probe(mkvPcm, "a:0", "codec_name").contains("pcm_s16le"));
    Path mp4Flac = dir.resolve("flac.mp4");
    FfmpegOutputs.mux(result, video, mp4Flac, FfmpegOutputs.AudioCodec.FLAC, FfmpegOutputs.DEFAULT_AAC_BITRATE);
    assertTrue(probe(mp4Flac, "a:0", "codec_name").contains("flac"));
    assertSameSamples(decodeAudio(mp4Flac), PCM16);
    FoleyException e = assertThrows(FoleyException.class, () -> FfmpegOutputs.mux(result, video,
        dir.resolve("flac.mov"), FfmpegOutputs.AudioCodec.FLAC, FfmpegOutputs.DEFAULT_AAC_BITRATE));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
  }

  @Test
  void audioFilesFlacM4aWav() throws IOException {
    Path flac = dir.resolve("a.flac");
    FfmpegOutputs.writeAudio(result, flac);
    assertTrue(probe(flac, "a:0", "codec_name,sample_rate").contains("codec_name=flac"));
    assertTrue(probe(flac, "a:0", "sample_rate").contains("sample_rate=" + result.sampleRate()));
    assertSameSamples(decodeAudio(flac), PCM16);
    Path wav = dir.resolve("a.wav");
    FfmpegOutputs.writeAudio(result, wav);
    assertTrue(probe(wav, "a:0", "codec_name").contains("pcm_s16le"));
    assertSameSamples(decodeAudio(wav), PCM16);
    Path m4a = dir.resolve("a.m4a");
    FfmpegOutputs.writeAudio(result, m4a, 96_000);
    assertTrue(probe(m4a, "a:0", "codec_name").contains("codec_name=aac"));
    int m = decodeAudio(m4a).length;
    assertTrue(m >= result.sampleCount() && m < result.sampleCount() + 1024, m + " samples");
    try (Stream<Path> s = Files.list(dir)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().contains(".tmp-")), "no temporary file left");
    }
  }

  @Test
  void badOutputsAreTyped() {
    FoleyException e = assertThrows(FoleyException.class, () -> FfmpegOutputs.mux(result, video, dir.resolve("x.avi")));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().contains(".mp4"), e.getMessage());
    e = assertThrows(FoleyException.class, () -> FfmpegOutputs.mux(result, video, dir.resolve("x.mp4"),
        FfmpegOutputs.AudioCodec.PCM, 128_000));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    e = assertThrows(FoleyException.class, () -> FfmpegOutputs.mux(result, video, video));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    e = assertThrows(FoleyException.class, () -> FfmpegOutputs.writeAudio(result, dir.resolve("x.m4a"), 1000));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    e = assertThrows(FoleyException.class, () -> FfmpegOutputs.writeAudio(result, dir.resolve("x.ogg")));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    e = assertThrows(FoleyException.class, () -> FfmpegOutputs.writeAudio(result, dir.resolve("nodir/x.flac")));
    assertEquals(FoleyException.Code.IO, e.code());
  }
}
