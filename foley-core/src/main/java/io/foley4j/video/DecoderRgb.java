package io.foley4j.video;

/**
 * A decoder's own conversion of one decoded picture to 8-bit RGB, run only when the picture is
 * sampled ({@link DecodedFrame#toRgb}, and the antialiased filters of {@link DecodedFrame#toTensor}).
 * foley-ffmpeg's converts with libswscale exactly as PyAV's {@code to_ndarray(format="rgb24")}
 * does, from the picture in the layout and depth it was decoded in.
 *
 * <p>It may be called from any thread, more than once, also after its source is closed; it must
 * not keep {@code dst}.
 */
@FunctionalInterface
public interface DecoderRgb {
  /**
   * Writes the picture, upright (turned as the frame's planes are), as interleaved R, G, B bytes,
   * row-major: {@code 3 * width * height} bytes from index 0 of {@code dst}.
   *
   * @throws io.foley4j.FoleyException if the conversion fails
   */
  void writeRgb(byte[] dst);
}
