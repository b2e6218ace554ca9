package io.foley4j.ffmpeg;

import static org.bytedeco.ffmpeg.global.avcodec.av_packet_free;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_free_context;
import static org.bytedeco.ffmpeg.global.avformat.avformat_close_input;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_free;

import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avutil.AVFrame;

/**
 * Frees the FFmpeg objects the video source and the muxer hold. Each method takes null (and then
 * does nothing) and returns null, so that a field is freed and cleared in one step:
 * {@code frame = AvFree.free(frame)}.
 */
final class AvFree {
  private AvFree() {}

  static AVFrame free(AVFrame frame) {
    if (frame != null) {
      av_frame_free(frame);
    }
    return null;
  }

  static AVPacket free(AVPacket pkt) {
    if (pkt != null) {
      av_packet_free(pkt);
    }
    return null;
  }

  static AVCodecContext free(AVCodecContext codec) {
    if (codec != null) {
      avcodec_free_context(codec);
    }
    return null;
  }

  /**
   * Closes a demuxer opened by {@code avformat_open_input}, and frees its I/O context when it reads
   * from memory ({@link MemoryIo}; FFmpeg leaves a custom context to its owner).
   */
  static AVFormatContext closeInput(AVFormatContext input) {
    if (input != null && !input.isNull()) {
      org.bytedeco.ffmpeg.avformat.AVIOContext custom =
          (input.flags() & AVFMT_FLAG_CUSTOM_IO) != 0 ? input.pb() : null;
      avformat_close_input(input);
      MemoryIo.free(custom);
    }
    return null;
  }

  private static final int AVFMT_FLAG_CUSTOM_IO = 0x0080; // libavformat/avformat.h
}
