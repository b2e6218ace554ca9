package io.foley4j.video;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
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
    try (VideoSource s = VideoSources.jcodec().open(clip)) {
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
