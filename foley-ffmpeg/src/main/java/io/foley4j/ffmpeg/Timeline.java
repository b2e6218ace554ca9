package io.foley4j.ffmpeg;

import static org.bytedeco.ffmpeg.global.avformat.AVFMT_TS_DISCONT;
import static org.bytedeco.ffmpeg.global.avutil.AV_NOPTS_VALUE;

import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVRational;

/**
 * Makes the video stream's packet timestamps continuous in a format that allows discontinuities
 * ({@code AVFMT_TS_DISCONT}: MPEG-TS, MPEG-PS), as the ffmpeg CLI does with its timestamp offset.
 * When a packet's decode time lies more than 0.1 s before the previous packet's, or more than 10 s
 * away from where the previous packet's duration predicts it, the timeline continues from that
 * prediction: every later packet is shifted by the same offset. Two {@code cat}-joined TS segments
 * thus play one after the other instead of on top of each other.
 *
 * <p>Both passes over a file (scan and decode) run their packets through a timeline of their own;
 * they read the same packets in the same order, so they make the same corrections.
 */
final class Timeline {
  private final boolean enabled;
  private final long backwards; // 0.1 s in time-base units
  private final long far; // 10 s in time-base units
  private final long interval; // the stream's nominal frame interval, >= 1
  private long offset;
  private long lastDts = AV_NOPTS_VALUE; // corrected
  private long lastDuration;
  private int jumps;

  Timeline(AVFormatContext fmt, AVStream st) {
    enabled = fmt.iformat() != null && (fmt.iformat().flags() & AVFMT_TS_DISCONT) != 0;
    long num = st.time_base().num();
    long den = st.time_base().den();
    backwards = Math.max(1, den / (10 * num));
    far = Math.max(1, 10 * den / num);
    interval = nominalInterval(st);
  }

  /** One frame at the stream's average (else real base) frame rate, in time-base units; 1/25 s if unknown. */
  static long nominalInterval(AVStream st) {
    long num = st.time_base().num();
    long den = st.time_base().den();
    AVRational fr = st.avg_frame_rate();
    if (fr == null || fr.num() <= 0 || fr.den() <= 0) {
      fr = st.r_frame_rate();
    }
    if (fr == null || fr.num() <= 0 || fr.den() <= 0) {
      return Math.max(1, Math.round(den / (25.0 * num)));
    }
    return Math.max(1, Math.round(den * (double) fr.den() / (num * (double) fr.num())));
  }

  /** Shifts {@code p}'s timestamps (a packet of the video stream) onto the continuous timeline. */
  void apply(AVPacket p) {
    if (!enabled) {
      return;
    }
    if (p.dts() == AV_NOPTS_VALUE) { // decode times only: presentation times go back at every B-frame
      if (p.pts() != AV_NOPTS_VALUE) {
        p.pts(p.pts() + offset);
      }
      return;
    }
    long dts = p.dts() + offset;
    if (lastDts != AV_NOPTS_VALUE) {
      long predicted = lastDts + (lastDuration > 0 ? lastDuration : interval);
      long delta = dts - predicted;
      if (dts + backwards < lastDts || Math.abs(delta) > far) {
        offset -= delta;
        dts = predicted;
        jumps++;
      }
    }
    if (p.pts() != AV_NOPTS_VALUE) {
      p.pts(p.pts() + offset);
    }
    if (p.dts() != AV_NOPTS_VALUE) {
      p.dts(p.dts() + offset);
    }
    lastDts = Math.max(dts, lastDts == AV_NOPTS_VALUE ? dts : lastDts);
    lastDuration = p.duration();
  }

  /** How many discontinuities were smoothed over. */
  int jumps() {
    return jumps;
  }
}
