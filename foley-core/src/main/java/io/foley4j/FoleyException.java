package io.foley4j;

import java.util.Objects;

/**
 * The one unchecked exception type of foley4j. Every failure a caller can see (bad input, a broken
 * bundle, a backend error, cancellation, rejection) is a {@code FoleyException} or a subclass, with a
 * {@link Code} that a program can switch on and a message that says what was wrong and what to do.
 * Native causes (ONNX Runtime, jcodec, I/O) are kept as {@link #getCause()}.
 */
public class FoleyException extends RuntimeException {

  /** What kind of failure this is. */
  public enum Code {
    /** An argument or request option is invalid (fix the call). */
    INVALID_ARGUMENT,
    /** The video uses a format, codec or layout that foley4j cannot decode. */
    UNSUPPORTED_VIDEO,
    /** The video file is damaged, truncated, empty or not a video at all. */
    CORRUPT_VIDEO,
    /** A model bundle is malformed, tampered with, incomplete or of an unknown format version. */
    INVALID_BUNDLE,
    /** The inference backend failed (ONNX Runtime error, non-finite output). */
    BACKEND_FAILURE,
    /** The request was cancelled by the caller. */
    CANCELLED,
    /** The request's deadline passed before it completed. */
    DEADLINE_EXCEEDED,
    /** The engine refused the request (queue full, over budget, rate limited, breaker open). */
    REJECTED,
    /** The engine (or another resource) is closed. */
    CLOSED,
    /** Reading or writing a file failed. */
    IO,
    /** A bug in foley4j: please report it with the message and stack trace. */
    INTERNAL
  }

  private final Code code;

  public FoleyException(Code code, String message) {
    this(code, message, null);
  }

  public FoleyException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
  }

  /** The kind of failure. */
  public Code code() {
    return code;
  }

  @Override
  public String toString() {
    return getClass().getName() + "[" + code + "]: " + getMessage();
  }
}
