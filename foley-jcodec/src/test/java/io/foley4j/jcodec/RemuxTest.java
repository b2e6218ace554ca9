package io.foley4j.jcodec;

import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoSources;
import io.foley4j.video.SyntheticVideo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RemuxTest {
  @TempDir Path tmp;

  private static float[] tone(int n) {
    float[] s = new float[n];
    for (int i = 0; i < n; i++) {
      s[i] = (float) (0.6 * Math.sin(2 * Math.PI * 440 * i / 48000.0));
    }
    s[0] = 1.5f; // clipped to 32767
    s[1] = -1f;
    return s;
  }

  private void checkRemux(Path src) throws IOException {
    VideoInfo srcInfo;
    List<Long> srcPts = new ArrayList<>();
    try (VideoSource s = JcodecVideoSources.jcodec().open(src)) {
      srcInfo = s.info();
      DecodedFrame f;
      while ((f = s.next()) != null) {
        srcPts.add(f.ptsTicks());
      }
    }
    int samples = (int) Math.round(srcInfo.durationSeconds() * 48000);
    float[] audio = tone(samples);
    Path out = tmp.resolve("out.mov");
    Remux.withAudio(src, audio, 48000, out);

    byte[] head = Arrays.copyOf(Files.readAllBytes(out), 12);
    assertEquals("ftypqt  ", new String(head, 4, 8, StandardCharsets.ISO_8859_1));
    try (Stream<Path> files = Files.list(tmp)) {
      assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")),
          "no temp file left");
    }

    assertEquals("h264", Ffmpeg.streamValue(out, "v:0", "codec_name"));
    assertEquals(String.valueOf(srcInfo.frameCount()),
        Ffmpeg.streamValue(out, "v:0", "nb_read_frames"));
    assertEquals(srcInfo.durationSeconds(),
        Double.parseDouble(Ffmpeg.streamValue(out, "v:0", "duration")), 1e-3);
    assertEquals("pcm_s16le", Ffmpeg.streamValue(out, "a:0", "codec_name"));
    assertEquals("48000", Ffmpeg.streamValue(out, "a:0", "sample_rate"));
    assertEquals("1", Ffmpeg.streamValue(out, "a:0", "channels"));
    assertEquals(String.valueOf(samples), Ffmpeg.streamValue(out, "a:0", "duration_ts"));

    Ffmpeg.Result dec = Ffmpeg.exec(List.of("ffmpeg", "-v", "error", "-i", out.toString(), "-f",
        "null", "-"));
    assertEquals(0, dec.rc, dec.stderr);
    assertEquals("", dec.stderr.trim(), "ffmpeg reports errors decoding the remux");

    // Audio round trip through ffmpeg.
    byte[] pcm = Ffmpeg.run("ffmpeg", "-v", "error", "-i", out.toString(), "-map", "0:a", "-f",
        "s16le", "-acodec", "pcm_s16le", "-").stdout;
    assertEquals(2 * samples, pcm.length);
    ByteBuffer bb = ByteBuffer.wrap(pcm).order(ByteOrder.LITTLE_ENDIAN);
    short[] got = new short[samples];
    short[] want = new short[samples];
    for (int i = 0; i < samples; i++) {
      got[i] = bb.getShort();
      want[i] = Remux.toPcm16(audio[i]);
    }
    assertEquals(32767, got[0]);
    assertEquals(-32767, got[1]);
    assertArrayEquals(want, got);

    // Video frames keep their timestamps (our decoder and ffmpeg's).
    List<Long> outPts = new ArrayList<>();
    try (VideoSource s = JcodecVideoSources.jcodec().open(out)) {
      assertEquals(srcInfo, s.info());
      DecodedFrame f;
      while ((f = s.next()) != null) {
        outPts.add(f.ptsTicks());
      }
    }
    assertEquals(srcPts, outPts);
    List<Double> ffSrc = Ffmpeg.frameTimes(src);
    List<Double> ffOut = Ffmpeg.frameTimes(out);
    assertEquals(ffSrc.size(), ffOut.size());
    for (int i = 0; i < ffSrc.size(); i++) {
      assertEquals(ffSrc.get(i), ffOut.get(i), 1e-4);
    }
  }

  @Test
  void remuxesAJcodecEncodedVideo() throws IOException {
    Ffmpeg.require();
    Path src = tmp.resolve("syn.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(30000, 1001).durationSeconds(2)
        .flash(1, 0.1, 0xffffff).movingSquare(0, 2, 0x00ff00).build(), src);
    checkRemux(src);
  }

  @Test
  void remuxesAnX264HighProfileVideoWithBFrames() throws IOException {
    checkRemux(Ffmpeg.bframeClip());
  }

  /** The tkhd fields after the duration: reserved, layer, alternate group, volume, matrix, size. */
  private static byte[] tkhdDisplayFields(Box tkhd) {
    int from = tkhd.u8(0) == 1 ? 36 : 24;
    return Arrays.copyOfRange(tkhd.buf, tkhd.payload + from, tkhd.end);
  }

  private static String sideData(Path file) {
    return Ffmpeg.run("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
        "stream_side_data=side_data_type,displaymatrix,rotation", "-of", "json", file.toString())
        .out().replaceAll("\\s+", "");
  }

  @Test
  void keepsRotationAndTheRestOfTheTrackHeader() throws IOException {
    Path plain = Ffmpeg.media("plain-64x48.mp4", "-f", "lavfi", "-i",
        "testsrc2=size=64x48:rate=30", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p");
    // A phone video: rotated 90 degrees by the track matrix (what -display_rotation writes), with
    // a layer, an alternate group and a movie matrix of its own.
    byte[] b = Files.readAllBytes(plain);
    int tkhd = JcodecVideoSourceTest.indexOf(b, "tkhd".getBytes(StandardCharsets.ISO_8859_1)) + 4;
    assertEquals(0, b[tkhd], "tkhd version 0");
    ByteBuffer bb = ByteBuffer.wrap(b);
    bb.putShort(tkhd + 32, (short) -1).putShort(tkhd + 34, (short) 2);
    int[] rot90 = {0, 0x10000, 0, -0x10000, 0, 0, 48 << 16, 0, 0x40000000};
    for (int k = 0; k < 9; k++) {
      bb.putInt(tkhd + 40 + 4 * k, rot90[k]);
    }
    int mvhd = JcodecVideoSourceTest.indexOf(b, "mvhd".getBytes(StandardCharsets.ISO_8859_1)) + 4;
    bb.putInt(mvhd + 36 + 4 * 6, 5 << 16); // a movie-level translation
    Path src = tmp.resolve("rotated.mp4");
    Files.write(src, b);
    String srcSide = sideData(src);
    assertTrue(srcSide.contains("\"rotation\":-90"), srcSide);

    Path out = tmp.resolve("rotated.mov");
    Remux.withAudio(src, new float[48000], 48000, out);
    assertEquals(srcSide, sideData(out));

    Mp4Movie in = Mp4Movie.read(src);
    Mp4Movie got = Mp4Movie.read(out);
    assertArrayEquals(tkhdDisplayFields(in.video.tkhd), tkhdDisplayFields(got.video.tkhd));
    assertEquals(in.video.tkhd.u32(0) & 0xffffff, got.video.tkhd.u32(0) & 0xffffff, "flags");
    assertEquals(64L << 16, got.video.tkhd.u32(got.video.tkhd.u8(0) == 1 ? 88 : 76), "width");
    assertEquals(48L << 16, got.video.tkhd.u32(got.video.tkhd.u8(0) == 1 ? 92 : 80), "height");
    Box inMvhd = in.moov.child("mvhd");
    Box outMvhd = got.moov.child("mvhd");
    assertArrayEquals(Arrays.copyOfRange(inMvhd.buf, inMvhd.payload + 36, inMvhd.payload + 72),
        Arrays.copyOfRange(outMvhd.buf, outMvhd.payload + 36, outMvhd.payload + 72), "mvhd matrix");
  }

  @Test
  void aShortTrackHeaderIsCorruptNotACrash() throws IOException {
    Path plain = tmp.resolve("plain.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(32, 32).durationSeconds(0.2).build(), plain);
    byte[] b = Files.readAllBytes(plain);
    int tkhd = JcodecVideoSourceTest.indexOf(b, "tkhd".getBytes(StandardCharsets.ISO_8859_1)) - 4;
    ByteBuffer bb = ByteBuffer.wrap(b);
    int size = bb.getInt(tkhd);
    assertEquals(0, b[tkhd + 8], "tkhd version 0");
    // Keep version, times, track id and duration; the rest (layer ... height) becomes a free box.
    bb.putInt(tkhd, 32);
    bb.putInt(tkhd + 32, size - 32).put(tkhd + 36, (byte) 'f').put(tkhd + 37, (byte) 'r')
        .put(tkhd + 38, (byte) 'e').put(tkhd + 39, (byte) 'e');
    Path bad = tmp.resolve("short-tkhd.mp4");
    Files.write(bad, b);
    FoleyException open = assertThrows(FoleyException.class,
        () -> JcodecVideoSources.jcodec().open(bad).close());
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, open.code(), open.getMessage());
    assertTrue(open.getMessage().contains("tkhd"), open.getMessage());
    FoleyException remux = assertThrows(FoleyException.class,
        () -> Remux.withAudio(bad, new float[10], 48000, tmp.resolve("o.mov")));
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, remux.code(), remux.getMessage());
  }

  @Test
  void rejectsBadArguments() throws IOException {
    Path src = tmp.resolve("syn.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(32, 32).durationSeconds(0.2).build(), src);
    Path out = tmp.resolve("o.mov");
    for (Runnable r : List.<Runnable>of(
        () -> Remux.withAudio(src, new float[0], 48000, out),
        () -> Remux.withAudio(src, null, 48000, out),
        () -> Remux.withAudio(src, new float[10], 0, out),
        () -> Remux.withAudio(src, new float[] {Float.NaN}, 48000, out),
        () -> Remux.withAudio(src, new float[10], 48000, src))) {
      FoleyException e = assertThrows(FoleyException.class, r::run);
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    }
    assertFalse(Files.exists(out));
    Path notVideo = tmp.resolve("x.mp4");
    Files.writeString(notVideo, "nope nope nope");
    FoleyException e = assertThrows(FoleyException.class,
        () -> Remux.withAudio(notVideo, new float[10], 48000, out));
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code());
    assertFalse(Files.exists(out));
    assertTrue(Files.exists(src));
  }
}
