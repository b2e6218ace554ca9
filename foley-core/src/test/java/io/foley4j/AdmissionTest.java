package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Admission} alone, with tickets of our own: start order, memory, slots, jobs that leave or
 * expire while they wait, and close. Tickets "run" until the test releases them.
 */
class AdmissionTest {
  private static final long MIB = 1 << 20;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final java.util.concurrent.ExecutorService pool = Executors.newCachedThreadPool();
  private final List<String> started = Collections.synchronizedList(new ArrayList<>());
  private final StopSignal stop = new StopSignal();

  @AfterEach
  void shutDown() {
    timer.shutdownNow();
    pool.shutdownNow();
  }

  /** A ticket that records its start and runs until {@link #finish}. */
  private final class Fake implements Admission.Ticket {
    final String name;
    final int priority;
    final long sequence;
    final long need;
    volatile boolean wanted = true;
    volatile long deadlineAt = Long.MAX_VALUE; // System.nanoTime()
    final CountDownLatch release = new CountDownLatch(1);
    final CountDownLatch ran = new CountDownLatch(1);
    volatile FoleyException abandoned;
    final CountDownLatch gone = new CountDownLatch(1);

    Fake(String name, Priority p, long sequence, long need) {
      this.name = name;
      this.priority = p.ordinal();
      this.sequence = sequence;
      this.need = need;
    }

    @Override
    public int priority() {
      return priority;
    }

    @Override
    public long sequence() {
      return sequence;
    }

    @Override
    public long need() {
      return need;
    }

    @Override
    public boolean stillWanted() {
      return wanted && System.nanoTime() - deadlineAt < 0;
    }

    @Override
    public long nanosToDeadline() {
      return deadlineAt == Long.MAX_VALUE ? Long.MAX_VALUE : deadlineAt - System.nanoTime();
    }

    @Override
    public void run() {
      started.add(name);
      ran.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void abandon(FoleyException why) {
      abandoned = why;
      gone.countDown();
    }

    void finish() {
      release.countDown();
    }
  }

  private Admission admission(int slots, long budget) {
    return new Admission("test", new Admission.Limits(slots, budget, 100, 0, 1), Ticker.system(), pool, timer,
        () -> null, stop);
  }

  private static void await(CountDownLatch l, String what) throws InterruptedException {
    assertTrue(l.await(10, TimeUnit.SECONDS), what);
  }

  @Test
  void aLargeUrgentJobIsNotOvertakenBySmallerLaterOnes() throws Exception {
    Admission a = admission(4, 100 * MIB);
    Fake running = new Fake("running", Priority.NORMAL, 1, 60 * MIB);
    a.enqueue(running);
    await(running.ran, "the first job starts at once");
    Fake big = new Fake("big-high", Priority.HIGH, 2, 85 * MIB);
    a.enqueue(big);
    // smaller later jobs would fit beside the running one, but the urgent one waits first
    List<Fake> small = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Fake s = new Fake("small-" + i, Priority.NORMAL, 3 + i, 10 * MIB);
      small.add(s);
      a.enqueue(s);
    }
    Thread.sleep(200);
    assertEquals(List.of("running"), started, "nothing overtakes the waiting HIGH job");
    running.finish();
    await(big.ran, "the HIGH job starts as soon as its memory is free");
    // 85 + 10 + 10 > 100: only the first small job fits beside it (both start at once, in either
    // thread order), then the next waits for memory again
    await(small.get(0).ran, "a small job that fits starts beside it");
    Thread.sleep(100);
    assertEquals(3, started.size(), "the next small job does not fit yet: " + started);
    assertEquals(java.util.Set.of("big-high", "small-0"), java.util.Set.copyOf(started.subList(1, 3)));
    big.finish();
    for (Fake s : small) {
      await(s.ran, s.name + " starts once memory frees");
      s.finish();
    }
    assertEquals(7, started.size());
    TestSupport.awaitCondition("all memory returned", () -> a.memoryInUse() == 0);
  }

  @Test
  void slotsBoundRunningTicketsAndStartIsInPriorityThenArrivalOrder() throws Exception {
    Admission a = admission(1, 100 * MIB);
    Fake first = new Fake("first", Priority.LOW, 1, 0);
    a.enqueue(first);
    await(first.ran, "starts");
    Fake low = new Fake("low", Priority.LOW, 2, 0);
    Fake normal = new Fake("normal", Priority.NORMAL, 3, 0);
    Fake high = new Fake("high", Priority.HIGH, 4, 0);
    Fake high2 = new Fake("high2", Priority.HIGH, 5, 0);
    for (Fake f : List.of(low, normal, high2, high)) {
      a.enqueue(f);
    }
    assertEquals(4, a.waiting());
    first.finish();
    for (Fake f : List.of(high, high2, normal, low)) {
      await(f.ran, f.name);
      f.finish();
    }
    assertEquals(List.of("first", "high", "high2", "normal", "low"), started);
  }

  @Test
  void aWaitingJobThatLeavesUnblocksTheOnesBehindIt() throws Exception {
    Admission a = admission(4, 100 * MIB);
    Fake running = new Fake("running", Priority.NORMAL, 1, 50 * MIB);
    a.enqueue(running);
    await(running.ran, "starts");
    Fake big = new Fake("big", Priority.HIGH, 2, 90 * MIB);
    Fake small = new Fake("small", Priority.NORMAL, 3, 10 * MIB);
    a.enqueue(big);
    a.enqueue(small);
    big.wanted = false; // cancelled while waiting
    a.promote(); // what the engine does when a job ends
    await(big.gone, "the cancelled job is dropped");
    assertNull(big.abandoned, "dropped because nobody wants it, not failed by admission");
    await(small.ran, "the job behind it starts at once");
    assertEquals(List.of("running", "small"), started);
    running.finish();
    small.finish();
  }

  @Test
  void aDeadlineWhileWaitingIsMetWithoutAnyOtherEvent() throws Exception {
    Admission a = admission(1, 100 * MIB);
    Fake running = new Fake("running", Priority.NORMAL, 1, 0);
    a.enqueue(running);
    await(running.ran, "starts");
    Fake waiting = new Fake("waiting", Priority.NORMAL, 2, 0);
    waiting.deadlineAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
    long t0 = System.nanoTime();
    a.enqueue(waiting);
    await(waiting.gone, "the timer drops it at its deadline");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms >= 290 && ms < 5_000, "dropped at its deadline, after " + ms + " ms");
    assertEquals(List.of("running"), started);
    running.finish();
  }

  @Test
  void aJobThatCanNeverFitIsRefusedAtOnce() {
    Admission a = admission(1, 10 * MIB);
    FoleyException e = assertThrows(FoleyException.class, () -> a.enqueue(new Fake("huge", Priority.HIGH, 1,
        11 * MIB)));
    assertEquals(FoleyException.Code.REJECTED, e.code());
    assertTrue(e.getMessage().contains("memory budget"), e.getMessage());
    assertEquals(0, a.waiting());
  }

  @Test
  void drainAbandonsWhatWaitsWithClosedAndRefusesLaterTickets() throws Exception {
    Admission a = admission(1, 100 * MIB);
    Fake running = new Fake("running", Priority.NORMAL, 1, 0);
    a.enqueue(running);
    await(running.ran, "starts");
    Fake waiting = new Fake("waiting", Priority.NORMAL, 2, 0);
    a.enqueue(waiting);
    boolean[] interrupted = {false};
    assertTrue(!a.awaitIdle(TimeUnit.MILLISECONDS.toNanos(50), interrupted), "not idle while a job runs");
    a.drain(a.closedError());
    await(waiting.gone, "abandoned");
    assertNotNull(waiting.abandoned);
    assertEquals(FoleyException.Code.CLOSED, waiting.abandoned.code());
    Fake late = new Fake("late", Priority.HIGH, 3, 0);
    a.enqueue(late);
    await(late.gone, "a ticket after the drain is abandoned at once");
    running.finish();
    assertTrue(a.awaitIdle(TimeUnit.SECONDS.toNanos(10), interrupted), "idle once the running job ends");
    assertEquals(List.of("running"), started);
  }

  @Test
  void refusalsNameTheirCause() {
    AtomicLong now = new AtomicLong();
    Admission a = new Admission("eng", new Admission.Limits(1, MIB, 2, 1.0, 1), now::get, pool, timer, () -> null,
        stop);
    FoleyRequest r = FoleyRequest.builder(Path.of("x.mp4")).prompt("x").clientId("alice").build();
    FoleyRequest bob = FoleyRequest.builder(Path.of("x.mp4")).prompt("x").clientId("bob").build();
    assertNull(a.refuse(r, false));
    FoleyException rate = a.refuse(r, false);
    assertEquals(FoleyException.Code.REJECTED, rate.code());
    assertTrue(rate.getMessage().contains("rate limit for client \"alice\""), rate.getMessage());
    assertNull(a.refuse(r, true), "the engine's warm-up takes no client's token");
    FoleyException full = a.refuse(bob, false);
    assertTrue(full.getMessage().contains("queue is full"), full.getMessage());
    assertEquals(2, a.queuedTotal());
    a.firstStart(Priority.NORMAL);
    assertEquals(1, a.running());
    assertEquals(1, a.queuedTotal());
    stop.close();
    assertSame(FoleyException.Code.CLOSED, a.refuse(bob, false).code());
    FoleyException open = new FoleyException(FoleyException.Code.REJECTED, "breaker");
    Admission b = new Admission("eng", new Admission.Limits(1, MIB, 2, 0, 1), now::get, pool, timer, () -> open,
        new StopSignal());
    assertSame(open, b.refuse(bob, false));
  }
}
