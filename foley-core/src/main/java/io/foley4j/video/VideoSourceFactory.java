package io.foley4j.video;

import java.nio.file.Path;

/** Opens {@link VideoSource}s; the plug-in point for other decoders (e.g. FFmpeg). */
@FunctionalInterface
public interface VideoSourceFactory {

  /**
   * Opens and validates a video file.
   *
   * @throws io.foley4j.UnsupportedVideoException if the file is not a usable video (code {@code
   *     UNSUPPORTED_VIDEO} or {@code CORRUPT_VIDEO}, the message says why)
   * @throws io.foley4j.FoleyException with code {@code IO} if the file cannot be read, {@code
   *     INVALID_ARGUMENT} if it is not a regular file (see {@link VideoSources#requireRegularFile})
   */
  VideoSource open(Path file);

  /**
   * Opens a video as {@link #open(Path)} does, letting the decoder use up to {@code
   * decoderThreads} threads of its own for this one video (the engine passes its decode threads
   * divided among the jobs that may run at once). The default ignores the hint.
   */
  default VideoSource open(Path file, int decoderThreads) {
    return open(file);
  }

  /**
   * Opens a video held in memory: the bytes of {@code video} from its position to its limit, which
   * the source reads (and seeks in) without changing the buffer and without copying it; the caller
   * keeps the bytes unchanged until the source is closed. Name the video in messages with {@link
   * VideoSources#memoryLabel}. Errors are those of {@link #open(Path)}.
   *
   * <p>The default refuses with {@code UNSUPPORTED_VIDEO} saying so, so that factories written
   * before this method existed still compile and fail clearly. foley-jcodec's and foley-ffmpeg's
   * factories override it.
   */
  default VideoSource open(java.nio.ByteBuffer video, int decoderThreads) {
    throw new io.foley4j.UnsupportedVideoException(io.foley4j.FoleyException.Code.UNSUPPORTED_VIDEO,
        "the video decoder " + id() + " cannot read a video from memory (it does not implement"
            + " VideoSourceFactory.open(ByteBuffer, int)): save the video to a file and pass its path, or use"
            + " foley-jcodec's or foley-ffmpeg's decoder");
  }

  /**
   * Opens a video while its bytes are still arriving, so that its frames can be decoded (and its
   * first segments computed) before the stream ends; or returns {@code null} when this decoder or
   * this container cannot start before the end: an MP4 whose index ({@code moov}) follows its
   * samples, a container that states no duration (MPEG-TS, a Matroska file written live), a video
   * that arrived whole while its header was read. The engine then waits for the whole video and
   * calls {@link #open(java.nio.ByteBuffer, int)}, as for any stream.
   *
   * <p>A source opened this way reads {@code video} as the bytes come; its {@link VideoInfo} carries
   * the duration the container states (the frames are checked against it when they end, with {@code
   * CORRUPT_VIDEO} if they end early). A failure of the stream, or of the job, reaches the caller as
   * the {@link io.foley4j.FoleyException} that {@link StreamingVideo#read} threw. The default returns
   * {@code null}; foley-ffmpeg's factory overrides it.
   */
  default VideoSource openWhileReading(StreamingVideo video, int decoderThreads) {
    return null;
  }

  /**
   * Prepares this decoder for its first video, so that a first request does not pay for it (a
   * pure-Java decoder's code still to be compiled by the JIT, say). An engine built with {@code
   * WarmUp.FULL} calls it once, on the building thread, before its warm-up request (whose frames
   * come from memory and so never reach a decoder); a failure is logged and does not fail {@code
   * build()}. The default does nothing; foley-jcodec's factory decodes a short synthetic clip.
   */
  default void warmUp() {}

  /**
   * A stable name of this decoder and its version, part of every cache key: another decoder may
   * produce other pixels, hence other features. Override it in your own factories; the default is
   * the class name (which for a lambda changes between runs, so such entries are not shared).
   */
  default String id() {
    return getClass().getName();
  }
}
