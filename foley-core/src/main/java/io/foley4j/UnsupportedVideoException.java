package io.foley4j;

/**
 * The video cannot be used: an unsupported codec or layout ({@link Code#UNSUPPORTED_VIDEO}) or a
 * damaged, empty or non-video file ({@link Code#CORRUPT_VIDEO}). The message names the problem.
 */
public class UnsupportedVideoException extends FoleyException {
  public UnsupportedVideoException(Code code, String message) {
    super(code, message);
  }

  public UnsupportedVideoException(Code code, String message, Throwable cause) {
    super(code, message, cause);
  }
}
