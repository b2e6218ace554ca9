package io.foley4j;

import java.util.Comparator;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;

/**
 * The one order of "who goes first" in the engine, used by every queue that chooses between jobs:
 * {@link Admission} (which job starts), {@link Devices} (which segment gets a device) and
 * {@link DeviceScheduler} (which work item runs next). Most urgent first:
 *
 * <ol>
 *   <li>the request's {@link Priority} ({@code HIGH} before {@code NORMAL} before {@code LOW});
 *   <li>then the job submitted first (first come, first served within a priority);
 *   <li>then the job's earlier segment (its first chunk is not held up by later segments).
 * </ol>
 *
 * Each queue breaks remaining ties its own way (stage order, arrival), after these three.
 */
final class Urgency {
  private Urgency() {}

  /** Whatever a queue holds that has a job's urgency. */
  interface Ranked {
    /** 0 = most urgent ({@link Priority#ordinal()}). */
    int priority();

    /** The job's submission order. */
    long sequence();

    /** The segment the entry is for; -1 for the job as a whole (before its first segment). */
    default int segment() {
      return -1;
    }
  }

  /** Priority, then job, then segment. */
  static final Comparator<Ranked> ORDER = of(Ranked::priority, Ranked::sequence, Ranked::segment);

  /** The same order over entries that keep their rank in fields of their own. */
  static <T> Comparator<T> of(ToIntFunction<T> priority, ToLongFunction<T> sequence, ToIntFunction<T> segment) {
    return Comparator.comparingInt(priority).thenComparingLong(sequence).thenComparingInt(segment);
  }
}
