package io.foley4j;

import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Map;

/**
 * The engine's lock order, checked. A thread may take a foley4j lock only while every other
 * foley4j lock it holds ranks strictly lower (is taken earlier in this list):
 *
 * <ol>
 *   <li>a {@link Flight}, a job's progress ({@link SegmentPipeline}), a {@link StageLoader};
 *   <li>device placement ({@link Devices});
 *   <li>a device's queue ({@link DeviceScheduler}'s lock);
 *   <li>a device's running batch ({@link DeviceScheduler});
 *   <li>leaves, under which no foley4j lock is taken: a {@link Job}, {@link Admission}, a
 *       {@link CircuitBreaker}, a {@link TokenBucket}, the load monitor.
 * </ol>
 *
 * Each lock site asserts {@link #taken} (or {@link #mayTakeQueue}) as {@link UserCode} asserts its
 * rule: with assertions on, as in the test build, a broken order fails loudly where it happens, not
 * as a rare deadlock. docs/architecture.md lists the same order.
 */
final class LockOrder {
  static final int OUTER = 1;
  static final int PLACEMENT = 2;
  static final int QUEUE = 3;
  static final int RUNNING = 4;
  static final int LEAF = 5;

  private static final Map<String, Integer> RANKS = Map.of(
      Flight.class.getName(), OUTER,
      StageLoader.class.getName(), OUTER,
      Monitor.Outer.class.getName(), OUTER,
      Monitor.Placement.class.getName(), PLACEMENT,
      Monitor.Running.class.getName(), RUNNING,
      Monitor.Leaf.class.getName(), LEAF,
      CircuitBreaker.class.getName(), LEAF,
      TokenBucket.class.getName(), LEAF,
      EngineCore.LoadMonitor.class.getName(), LEAF);

  private LockOrder() {}

  /**
   * Checks, as the first statement under {@code lock}, that this thread holds no other foley4j
   * lock of the same or a later rank. Always true, so it can sit in an {@code assert}.
   */
  static boolean taken(Object lock) {
    Integer mine = RANKS.get(lock.getClass().getName());
    if (mine == null) {
      throw new AssertionError("no rank in the lock order for " + lock.getClass().getName());
    }
    if (mine <= QUEUE && UserCode.queueLocksHeld() > 0) {
      throw new AssertionError(BROKEN + "took " + lock + " (rank " + mine + ") while holding a device's queue lock"
          + " (rank " + QUEUE + ")");
    }
    check(mine, System.identityHashCode(lock), String.valueOf(lock));
    return true;
  }

  /** Checks, before a device's queue lock is taken, that no lock of a later rank is held. */
  static boolean mayTakeQueue() {
    check(QUEUE, 0, "a device's queue lock");
    return true;
  }

  private static void check(int mine, int self, String what) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    ThreadInfo[] info = mx.getThreadInfo(new long[] {Thread.currentThread().getId()}, true, false);
    if (info.length != 1 || info[0] == null) {
      return;
    }
    for (MonitorInfo m : info[0].getLockedMonitors()) {
      if (self != 0 && m.getIdentityHashCode() == self) {
        continue; // the lock itself (taken again, or just now)
      }
      Integer held = RANKS.get(m.getClassName());
      if (held != null && held >= mine) {
        throw new AssertionError(BROKEN + "took " + what + " (rank " + mine + ") while holding a " + m.getClassName()
            + " (rank " + held + ", taken in " + m.getLockedStackFrame() + ")");
      }
    }
  }

  private static final String BROKEN = "foley4j lock order broken: ";
}
