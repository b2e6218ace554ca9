package io.foley4j;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A job's events in one serial queue: {@link #add} under whatever lock orders them, then
 * {@link #drain} after releasing it. Whichever thread drains runs every queued event in order, one
 * at a time, holding no lock; a thread that finds another draining leaves its events to it. An
 * event added from inside an event (a listener that cancels its own job) runs after the current
 * one returns, on the same thread.
 */
final class SerialEvents {
  private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger wip = new AtomicInteger();

  void add(Runnable event) {
    queue.add(event);
  }

  void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    Throwable first = null;
    int missed = 1;
    do {
      for (Runnable e; (e = queue.poll()) != null; ) {
        try {
          e.run(); // events contain user code themselves; this only keeps the queue alive
        } catch (Throwable t) {
          if (first == null) {
            first = t;
          }
        }
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
    if (first instanceof Error err) {
      throw err;
    } else if (first instanceof RuntimeException re) {
      throw re;
    }
  }
}
