package io.foley4j.jcodec;

import io.foley4j.video.VideoSource;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.VideoSources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.UnsupportedVideoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fragmented MP4 (moof/traf/trun) as ffmpeg writes it with its -movflags variants. */
class FragmentedMp4Test {
  @TempDir Path tmp;

  /** A 4 s, 30 fps x264 clip with B-frames and a keyframe every second, muxed with {@code flags}. */
  private static Path fragmented(String name, String flags, boolean withAudio) {
    List<String> args = new ArrayList<>(List.of("-f", "lavfi", "-i",
        "testsrc2=size=64x48:rate=30"));
    if (withAudio) {
      args.addAll(List.of("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"));
    }
    args.addAll(List.of("-t", "4", "-c:v", "libx264", "-bf", "2", "-g", "30", "-pix_fmt",
        "yuv420p"));
    if (withAudio) {
      args.addAll(List.of("-c:a", "aac"));
    }
    args.addAll(List.of("-movflags", flags));
    return Ffmpeg.media(name, args.toArray(new String[0]));
  }

  /** Decodes everything and checks count, duration and every pts against ffprobe. */
  private static void decodesFully(Path clip) {
    List<Double> expected = Ffmpeg.frameTimes(clip);
    assertEquals(120, expected.size(), "ffprobe sees the whole clip");
    List<Double> got = new ArrayList<>();
    try (VideoSource s = JcodecVideoSources.jcodec().open(clip)) {
      assertEquals(120, s.info().frameCount(), s.info().toString());
      assertEquals(4.0, s.info().durationSeconds(), 1e-6, s.info().toString());
      DecodedFrame f;
      long last = Long.MIN_VALUE;
      while ((f = s.next()) != null) {
        assertTrue(f.ptsTicks() > last);
        last = f.ptsTicks();
        got.add(f.ptsSeconds());
      }
    }
    assertEquals(expected.size(), got.size());
    for (int i = 0; i < got.size(); i++) {
      assertEquals(expected.get(i), got.get(i), 1e-3, "frame " + i);
    }
  }

  @Test
  void smoothStreamingIsmvWithUnknownMediaDurationAndNegativeCompositionOffsets() {
    // -f ismv writes mdhd duration all ones ("unknown") and version-1 truns whose negative
    // composition offsets make the first frame's pts equal its dts (0). ffmpeg's demuxer shifts
    // every pts by the largest negative offset; the file's own timeline starts at 0.
    Path clip = Ffmpeg.media("clip.ismv", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=30",
        "-t", "4", "-c:v", "libx264", "-bf", "2", "-g", "30", "-pix_fmt", "yuv420p", "-f",
        "ismv");
    List<Double> ff = Ffmpeg.frameTimes(clip);
    List<Double> got = new ArrayList<>();
    try (VideoSource s = JcodecVideoSources.jcodec().open(clip)) {
      assertEquals(120, s.info().frameCount());
      assertEquals(4.0, s.info().durationSeconds(), 1e-6);
      DecodedFrame f;
      while ((f = s.next()) != null) {
        got.add(f.ptsSeconds());
      }
    }
    assertEquals(ff.size(), got.size());
    assertEquals(0.0, got.get(0), 1e-9);
    double shift = ff.get(0) - got.get(0);
    for (int i = 0; i < got.size(); i++) {
      assertEquals(ff.get(i) - shift, got.get(i), 1e-3, "frame " + i);
    }
  }

  @Test
  void moovWithFirstFragmentThenMoofs() {
    decodesFully(fragmented("frag.mp4", "frag_keyframe", false));
  }

  @Test
  void emptyMoov() {
    decodesFully(fragmented("frag-empty.mp4", "frag_keyframe+empty_moov", false));
  }

  @Test
  void defaultBaseIsMoof() {
    decodesFully(fragmented("frag-dbm.mp4", "frag_keyframe+empty_moov+default_base_moof", false));
  }

  @Test
  void twoTracksPerFragmentWithImplicitBaseOffsets() {
    // omit_tfhd_offset: no base-data-offset and no default-base-is-moof, so the second traf's
    // data starts where the first traf's data ends.
    decodesFully(fragmented("frag-av.mp4", "frag_keyframe+empty_moov+omit_tfhd_offset", true));
  }

  @Test
  void separateMoofPerTrack() {
    decodesFully(fragmented("frag-sep.mp4", "frag_keyframe+empty_moov+separate_moof", true));
  }

  /**
   * Inserts an mvex/mehd box stating {@code ms} milliseconds (ffmpeg's movie time scale is 1000)
   * into a default-base-is-moof file, whose fragment offsets are relative to their moof boxes.
   */
  private Path withMehd(long ms) throws IOException {
    Path src = fragmented("frag-dbm.mp4", "frag_keyframe+empty_moov+default_base_moof", false);
    byte[] b = Files.readAllBytes(src);
    Mp4Movie m = Mp4Movie.read(src);
    assertEquals(1000, m.movieTimescale);
    int moov = JcodecVideoSourceTest.indexOf(b, "moov".getBytes(StandardCharsets.ISO_8859_1)) - 4;
    int mvex = JcodecVideoSourceTest.indexOf(b, "mvex".getBytes(StandardCharsets.ISO_8859_1)) - 4;
    ByteBuffer mehd = ByteBuffer.allocate(20);
    mehd.putInt(20).put("mehd".getBytes(StandardCharsets.ISO_8859_1)).putInt(0).putInt((int) ms);
    ByteBuffer out = ByteBuffer.allocate(b.length + 20);
    out.put(b, 0, mvex + 8).put(mehd.array()).put(b, mvex + 8, b.length - mvex - 8);
    out.putInt(moov, out.getInt(moov) + 20);
    out.putInt(mvex, out.getInt(mvex) + 20);
    Path p = tmp.resolve("mehd-" + ms + ".mp4");
    Files.write(p, out.array());
    return p;
  }

  @Test
  void mehdStatesTheDurationAndIsChecked() throws IOException {
    try (VideoSource s = JcodecVideoSources.jcodec().open(withMehd(4000))) {
      assertEquals(4000, s.info().durationTicks());
      assertEquals(1000, s.info().durationTimescale());
      assertEquals(120, s.info().frameCount());
    }
    UnsupportedVideoException e = assertThrows(UnsupportedVideoException.class,
        () -> JcodecVideoSources.jcodec().open(withMehd(3_600_000)));
    assertEquals(FoleyException.Code.CORRUPT_VIDEO, e.code());
    assertTrue(e.getMessage().contains("mehd") && e.getMessage().contains("3600.000"),
        e.getMessage());
  }

  @Test
  void remuxOfAFragmentedSourceKeepsEveryFrame() throws IOException {
    Path src = fragmented("frag-empty.mp4", "frag_keyframe+empty_moov", false);
    Path out = tmp.resolve("out.mov");
    Remux.withAudio(src, new float[4 * 48000], 48000, out);
    assertEquals("120", Ffmpeg.streamValue(out, "v:0", "nb_read_frames"));
    assertEquals(4.0, Double.parseDouble(Ffmpeg.streamValue(out, "v:0", "duration")), 1e-3);
    List<Double> want = Ffmpeg.frameTimes(src);
    List<Double> got = Ffmpeg.frameTimes(out);
    assertEquals(want.size(), got.size());
    for (int i = 0; i < want.size(); i++) {
      assertEquals(want.get(i), got.get(i), 1e-4, "frame " + i);
    }
    assertTrue(Files.size(out) > Files.size(src) / 2);
  }
}
