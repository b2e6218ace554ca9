package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The count shutdown waits on: uploads being accepted and open SSE streams. */
class InFlightTest {
  @Test
  void awaitNoneGivesUpAtTheDeadlineAndReturnsOnceTheLastOneExits() throws Exception {
    InFlight f = new InFlight();
    assertTrue(f.awaitNone(System.nanoTime()), "none in flight: true at once");
    f.enter();
    f.enter();
    assertFalse(f.awaitNone(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20)), "two in flight: the deadline");
    assertEquals(2, f.count());

    CountDownLatch waiting = new CountDownLatch(1);
    CompletableFuture<Boolean> awaited = CompletableFuture.supplyAsync(() -> {
      waiting.countDown();
      return f.awaitNone(System.nanoTime() + TimeUnit.MINUTES.toNanos(1));
    });
    assertTrue(waiting.await(1, TimeUnit.MINUTES));
    f.exit();
    assertFalse(awaited.isDone(), "one still in flight: it waits on");
    f.exit();
    assertTrue(awaited.get(1, TimeUnit.MINUTES), "woken by the last exit");
    assertEquals(0, f.count());
  }

  @Test
  void anInterruptDoesNotCutTheWaitShortAndIsKept() throws Exception {
    InFlight f = new InFlight();
    f.enter();
    CompletableFuture<Boolean[]> r = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      boolean none = f.awaitNone(System.nanoTime() + TimeUnit.MINUTES.toNanos(1));
      r.complete(new Boolean[] {none, Thread.currentThread().isInterrupted()});
    });
    t.start();
    t.interrupt();
    Thread.sleep(50); // let the interrupt land while it waits (either way the result must be the same)
    assertFalse(r.isDone(), "still waiting after the interrupt");
    f.exit();
    Boolean[] out = r.get(1, TimeUnit.MINUTES);
    assertTrue(out[0], "returned because none is in flight");
    assertTrue(out[1], "the interrupt flag is restored");
  }
}
