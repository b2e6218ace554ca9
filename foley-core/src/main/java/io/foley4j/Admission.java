package io.foley4j;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The one owner of who starts next. It refuses what cannot be taken (engine closing, every
 * device's breaker open, a client over its rate, a full queue), holds the jobs that wait, and
 * starts them in {@link Urgency} order as soon as a request slot and their host memory are both
 * free, as OkHttp's {@code Dispatcher.promoteAndExecute} does: every limit is checked in one place,
 * in one order, with no thread parked per waiting job and no polling.
 *
 * <p>A job waits here twice: first for a slot to be <em>probed</em> (keyed, looked up in the caches,
 * its video opened and its segments planned: see {@link RequestRun}), needing no memory; then,
 * when it has work to do, again with its memory need known, holding its open video but no thread.
 * The most urgent waiting {@link Ticket} that does not fit blocks the ones behind it: a large
 * {@code HIGH} job is never overtaken by smaller later ones, which would otherwise keep the memory
 * it waits for always partly taken.
 *
 * <p>A waiting ticket that nobody wants any more (its jobs cancelled or failed) is dropped at the
 * next promotion, which every job's end triggers; deadlines of waiting tickets are met by one timer
 * that triggers a promotion at the earliest one.
 *
 * <p>Locking: one monitor guards the waiting set and the counters; {@link Ticket} methods (which
 * may run user code: failing a job runs its listener) are called only outside it.
 */
final class Admission {
  private static final System.Logger LOG = System.getLogger("io.foley4j.pipeline");

  /** A job waiting to start: to be probed, or probed and ready to run with {@link #need()} bytes. */
  interface Ticket extends Urgency.Ranked {
    /** Host memory bytes held while it runs; 0 to be probed. */
    long need();

    /**
     * Checked outside every lock before each promotion: false when no job wants it any more (it
     * may fail jobs past their deadline first).
     */
    boolean stillWanted();

    /** Nanoseconds of ticker time until the earliest deadline of its jobs, Long.MAX_VALUE for none. */
    long nanosToDeadline();

    /** Runs it, on a request thread, with its slot and memory held until it returns. */
    void run();

    /**
     * It will not run: no job wants it, or the engine closed ({@code why} not null). Frees what it
     * holds and fails its jobs with {@code why}.
     */
    void abandon(FoleyException why);
  }

  /** What admission is built with. */
  record Limits(int slots, long memoryBudgetBytes, int maxQueued, double ratePerSecond, int rateBurst) {}

  private final String engine;
  private final Limits limits;
  private final Ticker ticker;
  private final Executor executor;
  private final ScheduledExecutorService timer;
  private final Supplier<FoleyException> breakerOpen;
  private final StopSignal stop;
  private final Object lock = Monitor.leaf("admission");
  private final TreeSet<Entry> waiting = new TreeSet<>(Urgency.<Entry>of(Entry::priority, Entry::sequence, e -> -1)
      .thenComparingLong(Entry::seq)); // guarded by lock
  private long entrySeq; // guarded by lock
  private int slotsInUse; // guarded by lock
  private long memoryInUse; // guarded by lock
  private boolean drained; // guarded by lock: after close, nothing more starts
  private ScheduledFuture<?> wakeUp; // guarded by lock
  private long wakeUpAt; // guarded by lock, System.nanoTime() of wakeUp
  // not guarded: counters read lock-free by stats
  private final Map<Priority, AtomicInteger> queued = new EnumMap<>(Priority.class);
  private final AtomicInteger queuedTotal = new AtomicInteger(); // first-time waiting, all priorities
  private final AtomicInteger running = new AtomicInteger();
  private final Map<String, TokenBucket> buckets = new ConcurrentHashMap<>();
  private final AtomicInteger promotions = new AtomicInteger(); // work-in-progress counter of promote()

  /**
   * A waiting ticket with its rank and need as they were when it came (a flight's priority may rise
   * meanwhile, and a probe's need is known only after it ran): what is reserved is what is released.
   */
  private record Entry(Ticket ticket, int priority, long sequence, long need, long seq) {}

  /**
   * @param executor runs started tickets (the request threads)
   * @param timer wakes a promotion at the earliest deadline of a waiting ticket
   * @param breakerOpen why work is refused now because every device's breaker is open, or null
   */
  Admission(String engine, Limits limits, Ticker ticker, Executor executor, ScheduledExecutorService timer,
      Supplier<FoleyException> breakerOpen, StopSignal stop) {
    this.engine = engine;
    this.limits = limits;
    this.ticker = ticker;
    this.executor = executor;
    this.timer = timer;
    this.breakerOpen = breakerOpen;
    this.stop = stop;
    for (Priority p : Priority.values()) {
      queued.put(p, new AtomicInteger());
    }
  }

  // ---- refusal ---------------------------------------------------------------------------------

  /**
   * Why a request is turned away at once, or null after reserving its place in the queue (given
   * back by {@link #firstStart} or {@link #unqueue}). Nothing is started for a refused request.
   *
   * @param warmUp the engine's own warm-up request, which takes no client's rate token
   */
  FoleyException refuse(FoleyRequest request, boolean warmUp) {
    if (stop.isClosing()) {
      return closedError();
    }
    FoleyException breaker = breakerOpen.get();
    if (breaker != null) {
      return breaker;
    }
    if (limits.ratePerSecond() > 0 && !warmUp) {
      String client = request.clientId() == null ? "" : request.clientId();
      if (buckets.size() > 10_000) {
        buckets.values().removeIf(TokenBucket::isFull); // forget idle clients: a full bucket is a new one
      }
      TokenBucket b = buckets.computeIfAbsent(client, c -> new TokenBucket(limits.ratePerSecond(), limits.rateBurst(),
          ticker));
      if (!b.tryTake()) {
        return new FoleyException(FoleyException.Code.REJECTED, "rate limit for client \"" + client + "\" exceeded ("
            + limits.ratePerSecond() + " requests/s, burst " + limits.rateBurst() + "); retry in "
            + Math.max(1, b.nanosUntilToken() / 1_000_000) + " ms");
      }
    }
    // reserve a place last, so that no other refusal has to give it back
    for (int n; (n = queuedTotal.get()) < limits.maxQueued(); ) {
      if (queuedTotal.compareAndSet(n, n + 1)) {
        queued.get(request.priority()).incrementAndGet();
        return null;
      }
    }
    return new FoleyException(FoleyException.Code.REJECTED, "engine " + engine + " queue is full: "
        + queuedTotal.get() + " requests waiting (maxQueuedRequests " + limits.maxQueued()
        + "); retry later or send to another node");
  }

  /** Refuses at once a job whose memory need can never fit the budget. */
  void checkNeed(long jobId, long need) {
    if (need > limits.memoryBudgetBytes()) {
      throw new FoleyException(FoleyException.Code.REJECTED, String.format(java.util.Locale.ROOT,
          "request %d needs about %.1f MiB of frames, activations and audio in flight, more than the engine's "
              + "memory budget of %.1f MiB: it can never be admitted; raise memoryBudgetBytes (or the heap), or send a shorter or lower-resolution video",
          jobId, need / 1048576.0, limits.memoryBudgetBytes() / 1048576.0));
    }
  }

  /** Reserves a queue place without the refusals: a job that runs again on its own (see RequestRun). */
  void requeue(Priority p) {
    queuedTotal.incrementAndGet();
    queued.get(p).incrementAndGet();
  }

  FoleyException closedError() {
    return new FoleyException(FoleyException.Code.CLOSED, "engine " + engine + " is closed; build a new one");
  }

  /** A queued job started for the first time: it leaves the queue counts and runs. */
  void firstStart(Priority p) {
    unqueue(p);
    running.incrementAndGet();
  }

  /** A queued job left the queue without starting. */
  void unqueue(Priority p) {
    queued.get(p).decrementAndGet();
    queuedTotal.decrementAndGet();
  }

  /** A job that started is done with its computation (it completed, failed or was abandoned). */
  void finished() {
    running.decrementAndGet();
  }

  // ---- waiting and starting ----------------------------------------------------------------------

  /**
   * Adds {@code t} to the waiting set and starts what fits. A ticket that can never fit the memory
   * budget is refused before it waits; after close has drained the set, {@code t} is abandoned.
   */
  void enqueue(Ticket t) {
    checkNeed(t.sequence(), t.need());
    boolean refused;
    synchronized (lock) {
      assert LockOrder.taken(lock);
      refused = drained;
      if (!refused) {
        waiting.add(new Entry(t, t.priority(), t.sequence(), t.need(), entrySeq++));
      }
    }
    if (refused) {
      t.abandon(closedError());
      return;
    }
    promote();
  }

  /**
   * Starts every waiting ticket that fits, in order, stopping at the first that does not; drops the
   * ones nobody wants. Re-entrant and lock-free to call: a call made while another thread (or this
   * one, from a ticket's callback) is promoting is carried out by that promotion's next pass.
   */
  void promote() {
    if (promotions.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      promoteOnce();
      missed = promotions.addAndGet(-missed);
    } while (missed != 0);
  }

  private void promoteOnce() {
    List<Entry> snapshot;
    synchronized (lock) {
      assert LockOrder.taken(lock);
      snapshot = new ArrayList<>(waiting);
    }
    // outside the lock: expiring a job runs its listener
    List<Entry> dead = new ArrayList<>();
    long soonest = Long.MAX_VALUE;
    for (Entry e : snapshot) {
      if (!e.ticket.stillWanted()) {
        dead.add(e);
      } else {
        soonest = Math.min(soonest, e.ticket.nanosToDeadline());
      }
    }
    List<Entry> start = new ArrayList<>();
    synchronized (lock) {
      assert LockOrder.taken(lock);
      waiting.removeAll(dead);
      while (!waiting.isEmpty() && !drained) {
        Entry head = waiting.first();
        if (slotsInUse >= limits.slots() || memoryInUse + head.need() > limits.memoryBudgetBytes()) {
          break; // the most urgent waits, and so does everything behind it
        }
        waiting.pollFirst();
        slotsInUse++;
        memoryInUse += head.need();
        start.add(head);
      }
      scheduleWakeUp(soonest);
      if (waiting.isEmpty() && slotsInUse == 0) {
        lock.notifyAll(); // awaitIdle
      }
    }
    for (Entry e : dead) {
      abandonQuietly(e.ticket, null);
    }
    for (Entry e : start) {
      try {
        executor.execute(() -> runAndRelease(e));
      } catch (RejectedExecutionException closed) {
        release(e.need());
        abandonQuietly(e.ticket, closedError());
      }
    }
  }

  private void runAndRelease(Entry e) {
    try {
      e.ticket.run();
    } finally {
      release(e.need());
      promote();
    }
  }

  private void release(long need) {
    synchronized (lock) {
      assert LockOrder.taken(lock);
      slotsInUse--;
      memoryInUse -= need;
      if (waiting.isEmpty() && slotsInUse == 0) {
        lock.notifyAll();
      }
    }
  }

  private void abandonQuietly(Ticket t, FoleyException why) {
    try {
      t.abandon(why);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "engine " + engine + ": dropping a waiting job failed", e);
    }
  }

  /** Under the lock: a promotion at the earliest deadline of a waiting ticket, if none comes sooner. */
  private void scheduleWakeUp(long nanosToDeadline) {
    if (nanosToDeadline == Long.MAX_VALUE || drained) {
      return;
    }
    long at = System.nanoTime() + Math.max(0, nanosToDeadline) + 1_000_000; // just past it
    if (wakeUp != null && !wakeUp.isDone() && wakeUpAt - at <= 0) {
      return; // one already comes no later
    }
    if (wakeUp != null) {
      wakeUp.cancel(false);
    }
    try {
      wakeUp = timer.schedule(this::promote, at - System.nanoTime(), TimeUnit.NANOSECONDS);
      wakeUpAt = at;
    } catch (RejectedExecutionException closing) {
      wakeUp = null; // the engine is closing: its drain fails what still waits
    }
  }

  // ---- close ---------------------------------------------------------------------------------------

  /**
   * Waits up to {@code nanos} until nothing waits or runs (waiting tickets keep being started
   * meanwhile), through interrupts (restored by the caller from the return value); true if idle.
   */
  boolean awaitIdle(long nanos, boolean[] interrupted) {
    long deadline = System.nanoTime() + nanos;
    synchronized (lock) {
      assert LockOrder.taken(lock);
      while (!(waiting.isEmpty() && slotsInUse == 0)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          interrupted[0] = true;
        }
      }
      return true;
    }
  }

  /** From now on nothing starts; the tickets still waiting are abandoned with CLOSED. */
  void drain(FoleyException why) {
    List<Entry> left;
    synchronized (lock) {
      assert LockOrder.taken(lock);
      drained = true;
      left = new ArrayList<>(waiting);
      waiting.clear();
      if (wakeUp != null) {
        wakeUp.cancel(false);
      }
      lock.notifyAll();
    }
    for (Entry e : left) {
      abandonQuietly(e.ticket, why);
    }
  }

  // ---- statistics ------------------------------------------------------------------------------------

  /** Jobs waiting for their first start, per priority. */
  Map<Priority, Integer> queued() {
    Map<Priority, Integer> q = new EnumMap<>(Priority.class);
    queued.forEach((p, a) -> q.put(p, Math.max(0, a.get())));
    return q;
  }

  /** Jobs waiting for their first start, all priorities. */
  int queuedTotal() {
    return queuedTotal.get();
  }

  /** Jobs started and not finished (including those waiting for memory after their probe). */
  int running() {
    return running.get();
  }

  long memoryInUse() {
    synchronized (lock) {
      assert LockOrder.taken(lock);
      return memoryInUse;
    }
  }

  /** Tickets waiting now (first-time and probed). */
  int waiting() {
    synchronized (lock) {
      assert LockOrder.taken(lock);
      return waiting.size();
    }
  }
}
