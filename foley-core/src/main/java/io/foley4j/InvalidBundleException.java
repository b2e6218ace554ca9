package io.foley4j;

/** A model bundle is malformed, tampered with, incomplete, unsafe to extract or of an unknown version. */
public class InvalidBundleException extends FoleyException {
  public InvalidBundleException(String message) {
    super(Code.INVALID_BUNDLE, message);
  }

  public InvalidBundleException(String message, Throwable cause) {
    super(Code.INVALID_BUNDLE, message, cause);
  }
}
