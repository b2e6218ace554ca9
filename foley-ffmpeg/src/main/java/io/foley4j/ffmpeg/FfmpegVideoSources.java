package io.foley4j.ffmpeg;

import io.foley4j.FoleyException;
import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.nio.file.Path;

/**
 * The FFmpeg {@link VideoSourceFactory}: every container and codec of bytedeco's LGPL build
 * (MP4/MOV/MKV/WebM/MPEG-TS, fragmented MP4; H.264, HEVC, VP8/VP9, AV1, ProRes, MJPEG, MPEG-4;
 * 8- and 10-bit). {@link VideoSources#auto()} picks it whenever this module is on the class path.
 */
public final class FfmpegVideoSources {
  private FfmpegVideoSources() {}

  /**
   * The factory, loading FFmpeg's natives the first time (about 0.4 s from a warm cache, 1.7 s
   * when JavaCPP first extracts them).
   *
   * @throws FoleyException {@code UNSUPPORTED_VIDEO} if the natives cannot load on this host
   */
  public static VideoSourceFactory ffmpeg() {
    FfmpegNatives.load(null);
    return FACTORY;
  }

  /**
   * As {@link #ffmpeg()}, extracting the natives into {@code cacheDirectory} (used by the first
   * load in this process only).
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if they were already loaded from elsewhere
   */
  public static VideoSourceFactory ffmpeg(Path cacheDirectory) {
    if (cacheDirectory == null) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "cacheDirectory must not be null");
    }
    FfmpegNatives.load(cacheDirectory);
    return FACTORY;
  }

  /**
   * As {@link #ffmpeg()}, trying NVIDIA's hardware decoder (NVDEC: {@code h264_cuvid},
   * {@code hevc_cuvid}, {@code vp9_cuvid}, {@code av1_cuvid}, ...) for each video first. Where it
   * cannot open or decode the first frame (no driver, no GPU, a profile it does not take), that
   * video is decoded in software, silently. Its cache id differs from {@link #ffmpeg()}'s, since
   * the hardware's pixels may differ slightly.
   */
  public static VideoSourceFactory ffmpegWithNvdec() {
    FfmpegNatives.load(null);
    return NVDEC;
  }

  private static final VideoSourceFactory FACTORY = new Factory(false);
  private static final VideoSourceFactory NVDEC = new Factory(true);

  private static final class Factory implements VideoSourceFactory {
    private final boolean nvdec;

    Factory(boolean nvdec) {
      this.nvdec = nvdec;
    }

    @Override
    public VideoSource open(Path file) {
      return FfmpegVideoSource.open(file, 1, nvdec);
    }

    @Override
    public VideoSource open(Path file, int decoderThreads) {
      return FfmpegVideoSource.open(file, decoderThreads, nvdec);
    }

    @Override
    public VideoSource open(java.nio.ByteBuffer video, int decoderThreads) {
      if (video == null) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "video bytes must not be null");
      }
      return FfmpegVideoSource.open(video, decoderThreads, nvdec);
    }

    @Override
    public VideoSource openWhileReading(io.foley4j.video.StreamingVideo video, int decoderThreads) {
      if (video == null) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "the streaming video must not be null");
      }
      // NVDEC's pixels are part of this factory's cache keys; decoding while reading is software only
      return nvdec ? null : FfmpegVideoSource.openWhileReading(video, decoderThreads);
    }

    @Override
    public String id() {
      return "ffmpeg-" + (nvdec ? "nvdec-" : "") + FfmpegNatives.version() + "/foley4j-2"; // 2: RGB by swscale as PyAV
    }

    @Override
    public String toString() {
      return nvdec ? "FfmpegVideoSources.ffmpegWithNvdec()" : "FfmpegVideoSources.ffmpeg()";
    }
  }
}
