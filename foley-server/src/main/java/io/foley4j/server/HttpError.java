package io.foley4j.server;

import io.foley4j.FoleyException;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An HTTP error answer: status, a code, the message and an optional Retry-After in seconds. */
final class HttpError extends RuntimeException {
  private static final Pattern RETRY_MS = Pattern.compile("retry in (\\d+) ms|another (\\d+) ms");
  final int status;
  final String code;
  final long retryAfter;

  HttpError(int status, String code, String message, long retryAfter) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  static HttpError notFound(String id, Duration retention) {
    return new HttpError(404, "NOT_FOUND", "no job " + id + " here: it never existed, or it finished more than "
        + retention.toSeconds() + " s ago and was deleted", 0);
  }

  static HttpError notDone(String id, String status) {
    return new HttpError(409, "NOT_DONE", "job " + id + " is " + status + "; its audio and video exist only once "
        + "it is done (watch /v1/jobs/" + id + "/events)", 0);
  }

  static HttpError noVariant(String id, int variant, int count) {
    return new HttpError(404, "NOT_FOUND", "job " + id + " has no variant " + variant + ": it has " + count
        + " (variant=0 to " + (count - 1) + ")", 0);
  }

  static HttpError alreadyFinished(String id, String status) {
    return new HttpError(409, "ALREADY_FINISHED", "job " + id + " already finished (" + status
        + "); nothing to cancel", 0);
  }

  /** The answer to an engine's refusal at submission: 503 for a full queue, open breaker or closed engine. */
  static RuntimeException refused(FoleyException why) {
    return why.code() == FoleyException.Code.REJECTED || why.code() == FoleyException.Code.CLOSED
        ? new HttpError(503, why.code().name(), why.getMessage(), retryAfter(why)) : why;
  }

  /** Seconds to put in Retry-After for a refusal: the engine's own estimate when it gives one. */
  static long retryAfter(FoleyException e) {
    Matcher m = RETRY_MS.matcher(String.valueOf(e.getMessage()));
    if (m.find()) {
      long ms = Long.parseLong(m.group(1) != null ? m.group(1) : m.group(2));
      return Math.max(1, (ms + 999) / 1000);
    }
    return 1;
  }
}
