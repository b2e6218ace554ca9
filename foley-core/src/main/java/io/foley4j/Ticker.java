package io.foley4j;

/**
 * A source of monotonic nanoseconds. The engine reads all its deadlines, delays, breaker timeouts
 * and rate limits from one ticker, so tests can move time by hand instead of sleeping.
 */
@FunctionalInterface
public interface Ticker {
  long nanos();

  /** {@link System#nanoTime()}. */
  static Ticker system() {
    return System::nanoTime;
  }
}
