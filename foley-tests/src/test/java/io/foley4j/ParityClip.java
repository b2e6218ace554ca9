package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.foley4j.jcodec.JcodecVideoSources;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.video.DecodedFrame;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The clip of the parity tests: a 96×64 H.264 MP4 (a moving square, two flashes) of {@code frames}
 * frames at {@code num/den} fps written to {@code dir/clip.mp4}, and the frames as foley4j decodes
 * them written beside it for the Python reference ({@code frames.npy}, uint8 [N,H,W,3];
 * {@code pts.npy}, float64 [N]).
 *
 * @param video the MP4
 * @param ticks the container's duration in {@code timescale} ticks (the exact length of the audio)
 * @param timescale ticks per second
 */
record ParityClip(Path video, long ticks, long timescale) {
  static ParityClip write(Path dir, int num, int den, int frames) throws Exception {
    Path video = dir.resolve("clip.mp4");
    double seconds = frames * (double) den / num;
    SyntheticMp4.write(SyntheticVideo.builder().size(96, 64).fps(num, den).durationSeconds(seconds).background(0x203040)
        .movingSquare(0.2, seconds - 0.2, 0xf0c030).flash(seconds * 0.3, 0.2, 0xffffff)
        .flash(seconds * 0.7, 0.12, 0x30a0f0).build(), video);
    List<byte[]> rgb = new ArrayList<>();
    List<Double> pts = new ArrayList<>();
    long ticks;
    long timescale;
    int w;
    int h;
    try (VideoSource src = JcodecVideoSources.jcodec().open(video)) {
      ticks = src.info().durationTicks();
      timescale = src.info().durationTimescale();
      w = src.info().width();
      h = src.info().height();
      for (DecodedFrame f = src.next(); f != null; f = src.next()) {
        rgb.add(f.toRgb());
        pts.add(f.ptsSeconds());
      }
    }
    assertEquals(frames, rgb.size());
    byte[] all = new byte[frames * w * h * 3];
    for (int i = 0; i < frames; i++) {
      System.arraycopy(rgb.get(i), 0, all, i * w * h * 3, w * h * 3);
    }
    NpyWriter.bytes(dir.resolve("frames.npy"), all, frames, h, w, 3);
    NpyWriter.doubles(dir.resolve("pts.npy"), pts.stream().mapToDouble(Double::doubleValue).toArray(), frames);
    return new ParityClip(video, ticks, timescale);
  }
}
