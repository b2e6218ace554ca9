package io.foley4j;

import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Every call from foley4j into code it does not own (job listeners, Flow subscribers, the event
 * listener, cache stores) goes through here. Such a call is contained (a throw is logged, never
 * propagated into the pipeline) and is never made while a foley4j lock is held: with assertions
 * enabled (as in the test build) each call checks that rule and fails loudly if it is broken.
 */
final class UserCode {
  private static final System.Logger LOG = System.getLogger("io.foley4j");

  /** Classes whose instances foley4j synchronizes on. */
  private static final Set<String> LOCK_CLASSES = Set.of(Job.class.getName(), Flight.class.getName(),
      CircuitBreaker.class.getName(), TokenBucket.class.getName(), EngineCore.LoadMonitor.class.getName(),
      StageLoader.class.getName(), Monitor.Outer.class.getName(), Monitor.Placement.class.getName(),
      Monitor.Running.class.getName(), Monitor.Leaf.class.getName());

  private static final boolean CHECKED = UserCode.class.desiredAssertionStatus();

  /** Depth of {@link TrackedLock}s held by this thread (tracked only when assertions are on). */
  private static final ThreadLocal<int[]> TRACKED = ThreadLocal.withInitial(() -> new int[1]);

  private UserCode() {}

  /**
   * Runs {@code r}, user code, and logs (with {@code what}) anything it throws, including errors
   * and undeclared checked exceptions: nothing it does may skip the engine's own work after it
   * (freeing sessions, signalling other subscribers). Only a broken lock rule propagates.
   */
  static void run(String what, Runnable r) {
    assert assertNoFoleyLockHeld(what);
    try {
      r.run();
    } catch (Throwable e) {
      rethrowIfLockRule(e);
      LOG.log(System.Logger.Level.WARNING, what + " threw; ignoring it", e);
    }
  }

  /** Lets the test build's lock-rule failure through every guard. */
  static void rethrowIfLockRule(Throwable e) {
    if (e instanceof AssertionError ae && isLockAssertion(ae)) {
      throw ae;
    }
  }

  /**
   * Calls user code that returns a value, or null (logged with {@code what}) if it throws anything:
   * for stores, where a failure means a miss.
   */
  static <T> T callOrNull(String what, Supplier<T> s) {
    assert assertNoFoleyLockHeld(what);
    try {
      return s.get();
    } catch (Throwable e) { // even undeclared checked exceptions (a Kotlin store)
      rethrowIfLockRule(e);
      LOG.log(System.Logger.Level.WARNING, what + " threw; treating it as a miss", e);
      return null;
    }
  }

  /** Calls user code that returns a value; the caller handles what it throws. */
  static <T> T call(String what, Supplier<T> s) {
    assert assertNoFoleyLockHeld(what);
    return s.get();
  }

  /**
   * Checks the rule: no monitor of a foley4j lock class and no {@link TrackedLock} is held by
   * this thread. Always returns true, so it can sit in an {@code assert}; throws when broken.
   */
  static boolean assertNoFoleyLockHeld(String what) {
    if (TRACKED.get()[0] > 0) {
      throw new AssertionError(LOCK_RULE + what + " called while this thread holds the device scheduler's lock");
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    ThreadInfo[] info = mx.getThreadInfo(new long[] {Thread.currentThread().getId()}, true, false);
    if (info.length == 1 && info[0] != null) {
      for (MonitorInfo m : info[0].getLockedMonitors()) {
        if (LOCK_CLASSES.contains(m.getClassName())) {
          throw new AssertionError(LOCK_RULE + what + " called while this thread holds the monitor of a "
              + m.getClassName() + " (taken in " + m.getLockedStackFrame() + ")");
        }
      }
    }
    return true;
  }

  private static final String LOCK_RULE = "foley4j rule broken (user code under a foley4j lock): ";

  private static boolean isLockAssertion(AssertionError e) {
    return e.getMessage() != null && e.getMessage().startsWith(LOCK_RULE);
  }

  /** Device queue locks ({@link TrackedLock}) this thread holds, counting re-entries; 0 unless checked. */
  static int queueLocksHeld() {
    return TRACKED.get()[0];
  }

  /** A lock whose holders the checks can see: a device's queue lock, in {@link LockOrder}'s place. */
  static final class TrackedLock extends ReentrantLock {
    @Override
    public void lock() {
      assert isHeldByCurrentThread() || LockOrder.mayTakeQueue();
      super.lock();
      if (CHECKED) {
        TRACKED.get()[0]++;
      }
    }

    @Override
    public void unlock() {
      if (CHECKED) {
        TRACKED.get()[0]--;
      }
      super.unlock();
    }
  }
}
