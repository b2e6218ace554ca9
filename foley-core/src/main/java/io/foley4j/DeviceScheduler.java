package io.foley4j;

import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.Stage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one worker that runs backend calls for a device, forming batches across all jobs.
 *
 * <p>Callers submit work items (one denoiser step of one segment, a batch of frames for an
 * encoder, ...) and wait for their future. The worker repeatedly picks the stage whose most urgent
 * item (priority, then arrival) comes first, takes up to {@code maxBatchSize} items of that stage
 * in the same order, concatenates them along the batch axis, runs the session once and hands each
 * item its rows. This is iteration-level (continuous) batching: a denoiser batch is one Euler step
 * for segments of any jobs at any step, and a job arriving mid-flight joins the next step.
 *
 * <p>A batch waits (at most the policy's delay) only while some registered party of that stage has
 * not submitted yet ({@link #enter}/{@link #exit}). A failed call is retried item by item so that
 * only the items that fail alone are failed; non-finite outputs fail their item; repeated failures
 * open the {@link CircuitBreaker}. Items of jobs that finished, were cancelled or passed their
 * deadline are dropped at the next batch formation.
 */
final class DeviceScheduler implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("io.foley4j.schedule");

  /** What the scheduler needs to know about the job behind an item. */
  interface Owner {
    /** 0 = most urgent. */
    int priority();

    /** Submission order of the job, for FIFO within a priority. */
    long sequence();

    /** Null while the job should go on; otherwise the reason its items are dropped. */
    FoleyException stopReason();
  }

  private static final class Item {
    final Stage stage;
    final Map<String, Tensor> inputs;
    final int rows;
    final Owner owner;
    final int segment;
    final long seq;
    final long enqueued;
    final int priority; // the owner's at submission: a queued item's place must not change under the heap
    final CompletableFuture<Map<String, Tensor>> future = new CompletableFuture<>();

    Item(Stage stage, Map<String, Tensor> inputs, int rows, Owner owner, int segment, long seq, long enqueued) {
      this.stage = stage;
      this.inputs = inputs;
      this.rows = rows;
      this.owner = owner;
      this.priority = owner.priority();
      this.segment = segment;
      this.seq = seq;
      this.enqueued = enqueued;
    }
  }

  /**
   * Priority, then job (first come first served), then the job's earlier segment first (so its first
   * chunk is not held up by encoding later segments; callers may rank encoder work of a segment a
   * job will soon run as an earlier one, see {@code DeviceCalls.urgency}), then the earlier stage of
   * the pipeline (encoders before the denoiser at the same rank), then arrival.
   */
  private static final Comparator<Item> ORDER = Urgency.<Item>of(i -> i.priority, i -> i.owner.sequence(),
      i -> i.segment).thenComparingInt(i -> i.stage.ordinal()).thenComparingLong(i -> i.seq);

  private final Map<Stage, StageSession> sessions;
  private final BatchPolicy policy;
  private final Ticker ticker;
  private final CircuitBreaker breaker;
  private final ReentrantLock lock = new UserCode.TrackedLock();
  private final Condition changed = lock.newCondition();
  private final EnumMap<Stage, PriorityQueue<Item>> queues = new EnumMap<>(Stage.class);
  private final EnumMap<Stage, Integer> parties = new EnumMap<>(Stage.class);
  private final AtomicLong seq = new AtomicLong();
  private final Thread worker;
  private boolean closed;
  private Stage lastStage; // the stage of the last batch taken; the worker's own
  private final Object runLock = Monitor.running("running batch");
  private List<Item> runningBatch; // guarded by runLock

  // statistics
  private final long startedAt;
  private final AtomicLongArray busyNanos = new AtomicLongArray(Stage.values().length);
  private final AtomicLongArray calls = new AtomicLongArray(Stage.values().length);
  private final AtomicLongArray[] histogram = new AtomicLongArray[Stage.values().length];
  private final AtomicLong backendFailures = new AtomicLong();

  DeviceScheduler(String threadName, Map<Stage, StageSession> sessions, BatchPolicy policy, Ticker ticker,
      CircuitBreaker breaker) {
    this.sessions = new EnumMap<>(sessions);
    this.policy = policy;
    this.ticker = ticker;
    this.breaker = breaker;
    for (Stage s : Stage.values()) {
      queues.put(s, new PriorityQueue<>(ORDER));
      parties.put(s, 0);
      histogram[s.ordinal()] = new AtomicLongArray(policy.maxBatchSize() + 1);
    }
    this.startedAt = System.nanoTime(); // wall time, as busyNanos (the ticker may be a test's fake)
    this.worker = new Thread(this::loop, threadName);
    worker.setDaemon(true);
    worker.start();
  }

  /** Registers a caller that will submit items of this stage (one at a time) until {@link #exit}. */
  void enter(Stage stage) {
    lock.lock();
    try {
      parties.merge(stage, 1, Integer::sum);
    } finally {
      lock.unlock();
    }
  }

  void exit(Stage stage) {
    lock.lock();
    try {
      parties.merge(stage, -1, Integer::sum);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Queues one work item; {@code rows} is its size along the batch axis of every input and
   * {@code segment} the first segment of its job it serves (-1 for whole-job work such as text).
   */
  CompletableFuture<Map<String, Tensor>> submit(Stage stage, Map<String, Tensor> inputs, int rows, Owner owner,
      int segment) {
    Item item = new Item(stage, inputs, rows, owner, segment, seq.incrementAndGet(), ticker.nanos());
    lock.lock();
    try {
      if (closed) {
        item.future.completeExceptionally(new FoleyException(FoleyException.Code.CLOSED, "the engine is closed"));
        return item.future;
      }
      queues.get(stage).add(item);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    return item.future;
  }

  /** Waits for a submitted item. @throws FoleyException the item's failure */
  static Map<String, Tensor> join(CompletableFuture<Map<String, Tensor>> item) {
    try {
      return item.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof FoleyException f) {
        throw f;
      }
      throw new FoleyException(FoleyException.Code.INTERNAL, "backend call failed: " + e.getCause(), e.getCause());
    }
  }

  private void loop() {
    while (true) {
      List<Item> batch = nextBatch();
      if (batch == null) {
        return;
      }
      try {
        execute(batch);
      } catch (Throwable t) { // never let the device thread die: every waiting job would hang
        FoleyException e = new FoleyException(FoleyException.Code.INTERNAL, "backend call failed: " + t, t);
        batch.forEach(i -> i.future.completeExceptionally(e));
        LOG.log(System.Logger.Level.ERROR, "device worker caught " + t + "; failed its batch and goes on", t);
      }
    }
  }

  /**
   * Waits until a batch should run and takes it; null once closed and drained. Stages are tried in
   * the order of their most urgent item; the first whose batch is ready runs, so a stage that waits
   * for stragglers never leaves the device idle while another stage has work.
   */
  private List<Item> nextBatch() {
    lock.lock();
    try {
      while (true) {
        dropStopped();
        List<Stage> byUrgency = new ArrayList<>();
        for (Map.Entry<Stage, PriorityQueue<Item>> e : queues.entrySet()) {
          if (!e.getValue().isEmpty()) {
            byUrgency.add(e.getKey());
          }
        }
        if (byUrgency.isEmpty()) {
          if (closed) {
            return null;
          }
          changed.awaitUninterruptibly();
          continue;
        }
        byUrgency.sort((a, b) -> ORDER.compare(queues.get(a).peek(), queues.get(b).peek()));
        takeTurns(byUrgency);
        long now = ticker.nanos();
        long wait = Long.MAX_VALUE;
        for (Stage stage : byUrgency) {
          PriorityQueue<Item> q = queues.get(stage);
          long age = now - oldest(q);
          int n = closed ? Math.min(q.size(), policy.maxBatchSize())
              : policy.decide(q.size(), parties.get(stage), age);
          if (n > 0) {
            lastStage = stage;
            return take(q, n);
          }
          wait = Math.min(wait, Math.max(1, policy.maxQueueDelayNanos() - age));
        }
        try {
          changed.awaitNanos(wait);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return null;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stages of equal priority take turns: when the stage that ran last is again the most urgent,
   * the next stage whose most urgent item has the same priority goes first, for one call. Chained
   * denoiser steps ({@link StageCalls#chain}) are queued again the moment their call ends, so
   * without turns the denoiser of the jobs that came first would hold the device until they were
   * done, and a job that came later could not encode its video (nor join the denoiser's batches)
   * until then. A more urgent priority still goes first.
   */
  private void takeTurns(List<Stage> byUrgency) {
    if (lastStage == null || byUrgency.size() < 2 || byUrgency.get(0) != lastStage) {
      return;
    }
    int priority = queues.get(lastStage).peek().priority;
    for (int i = 1; i < byUrgency.size(); i++) {
      if (queues.get(byUrgency.get(i)).peek().priority == priority) {
        byUrgency.add(0, byUrgency.remove(i));
        return;
      }
    }
  }

  /**
   * Takes up to {@code n} items in queue order that can share one call: the same shape, apart from
   * the batch axis, for every input (passes of different lengths, or texts padded to different
   * lengths, run in separate calls). Items of other shapes stay queued, in their order.
   */
  private static List<Item> take(PriorityQueue<Item> q, int n) {
    List<Item> batch = new ArrayList<>(n);
    List<Item> other = new ArrayList<>();
    long bytes = 0;
    while (batch.size() < n && !q.isEmpty()) {
      Item next = q.peek();
      if (!batch.isEmpty() && !sameShapes(batch.get(0), next)) {
        other.add(q.poll());
        continue;
      }
      long b = inputBytes(next);
      if (!batch.isEmpty() && bytes + b > MAX_BATCH_INPUT_BYTES) {
        break; // keep one call's inputs (and the runtime's copy of them) bounded
      }
      bytes += b;
      batch.add(q.poll());
    }
    q.addAll(other);
    return batch;
  }

  /** True when every input of {@code a} and {@code b} has the same shape apart from the batch axis. */
  static boolean sameShapes(Item a, Item b) {
    if (!a.inputs.keySet().equals(b.inputs.keySet())) {
      return false;
    }
    for (Map.Entry<String, Tensor> e : a.inputs.entrySet()) {
      long[] x = e.getValue().shape();
      long[] y = b.inputs.get(e.getKey()).shape();
      if (x.length != y.length) {
        return false;
      }
      for (int d = 1; d < x.length; d++) {
        if (x[d] != y[d]) {
          return false;
        }
      }
    }
    return true;
  }

  /** Most bytes of inputs one batched call may gather (a single item may exceed it). */
  static final long MAX_BATCH_INPUT_BYTES = 128L << 20;

  private static long inputBytes(Item i) {
    long n = 0;
    for (Tensor t : i.inputs.values()) {
      n += t.size() * (t.isFloat() ? 4L : 8L);
    }
    return n;
  }

  private static long oldest(PriorityQueue<Item> q) {
    long t = Long.MAX_VALUE;
    for (Item i : q) {
      t = Math.min(t, i.enqueued);
    }
    return t;
  }

  /** Fails and removes the items whose jobs stopped; called with the lock held. */
  private void dropStopped() {
    for (PriorityQueue<Item> q : queues.values()) {
      if (q.isEmpty()) {
        continue;
      }
      q.removeIf(i -> {
        FoleyException why = i.owner.stopReason();
        if (why != null) {
          i.future.completeExceptionally(why);
          return true;
        }
        return false;
      });
    }
  }

  /**
   * Called when some job stopped (cancelled, failed, expired): if nobody wants the call now
   * running any more, it is terminated; queued items of stopped jobs are dropped.
   */
  void ownerStopped() {
    // Under runLock the running batch cannot change, so the terminate reaches this batch's call.
    synchronized (runLock) {
      assert LockOrder.taken(runLock);
      List<Item> batch = runningBatch;
      if (batch != null && allStopped(batch)) {
        sessions.get(batch.get(0).stage).terminateRunning();
      }
    }
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private static boolean allStopped(List<Item> batch) {
    for (Item i : batch) {
      if (i.owner.stopReason() == null) {
        return false;
      }
    }
    return true;
  }

  private void execute(List<Item> batch) {
    Stage stage = batch.get(0).stage;
    if (!breaker.tryAcquire()) {
      FoleyException e = breakerOpen();
      batch.forEach(i -> i.future.completeExceptionally(e));
      return;
    }
    boolean judged = false; // whether the breaker got a verdict for the slot acquired above
    try {
      Map<String, Tensor> out = timedCall(stage, batch);
      breaker.onSuccess();
      judged = true;
      deliver(stage, batch, out);
    } catch (FoleyException e) {
      backendFailures.incrementAndGet();
      if (allStopped(batch)) { // terminated (or failed) after every job behind it stopped: not the backend's fault
        batch.forEach(i -> i.future.completeExceptionally(stopped(i)));
        return;
      }
      if (batch.size() == 1) {
        breaker.onFailure();
        judged = true;
        batch.get(0).future.completeExceptionally(e);
        return;
      }
      // Isolate the poisoned input: run each item alone once. The batch's verdict is left to them.
      breaker.onAbandoned();
      judged = true;
      LOG.log(System.Logger.Level.WARNING, "batch of " + batch.size() + " on stage " + stage.key()
          + " failed; retrying its items one by one: " + e.getMessage());
      for (Item i : batch) {
        retryAlone(stage, i);
      }
    } catch (RuntimeException bug) {
      FoleyException e = internal(bug);
      batch.forEach(i -> i.future.completeExceptionally(e));
    } finally {
      if (!judged) {
        breaker.onAbandoned(); // never keep a probe slot without a verdict
      }
    }
  }

  private void retryAlone(Stage stage, Item i) {
    if (i.owner.stopReason() != null) {
      i.future.completeExceptionally(stopped(i));
      return;
    }
    if (!breaker.tryAcquire()) {
      i.future.completeExceptionally(breakerOpen());
      return;
    }
    boolean judged = false;
    try {
      Map<String, Tensor> one = timedCall(stage, List.of(i));
      breaker.onSuccess();
      judged = true;
      deliver(stage, List.of(i), one);
    } catch (FoleyException single) {
      backendFailures.incrementAndGet();
      if (i.owner.stopReason() == null) {
        breaker.onFailure();
        judged = true;
      }
      i.future.completeExceptionally(single);
    } catch (RuntimeException bug) {
      i.future.completeExceptionally(internal(bug));
    } finally {
      if (!judged) {
        breaker.onAbandoned();
      }
    }
  }

  /** One backend call, with the batch published for {@link #ownerStopped} and its time recorded. */
  private Map<String, Tensor> timedCall(Stage stage, List<Item> batch) {
    synchronized (runLock) {
      assert LockOrder.taken(runLock);
      runningBatch = batch;
    }
    long t0 = System.nanoTime();
    try {
      return call(stage, batch);
    } finally {
      record(stage, batch.size(), System.nanoTime() - t0);
      synchronized (runLock) {
        assert LockOrder.taken(runLock);
        runningBatch = null;
      }
    }
  }

  private FoleyException breakerOpen() {
    return new FoleyException(FoleyException.Code.REJECTED, "circuit breaker is open after " + breaker.threshold()
        + " consecutive backend failures; rejecting work for another "
        + Math.max(1, breaker.nanosUntilProbe() / 1_000_000) + " ms until a probe call succeeds");
  }

  private static FoleyException internal(RuntimeException e) {
    return new FoleyException(FoleyException.Code.INTERNAL, "scheduler failed to run a batch: " + e, e);
  }

  private void record(Stage stage, int size, long nanos) {
    busyNanos.addAndGet(stage.ordinal(), nanos);
    calls.incrementAndGet(stage.ordinal());
    histogram[stage.ordinal()].incrementAndGet(Math.min(size, policy.maxBatchSize()));
  }

  /**
   * Runs the stage once on the items' inputs concatenated along the batch axis
   * ({@link StageSession#runBatch}: the backend copies them into its own memory, and keeps a
   * segment's conditioning there while the batch's items pass the same tensors again).
   */
  private Map<String, Tensor> call(Stage stage, List<Item> batch) {
    List<Map<String, Tensor>> items = new ArrayList<>(batch.size());
    for (Item i : batch) {
      items.add(i.inputs);
    }
    return sessions.get(stage).runBatch(items);
  }

  /** Splits outputs by rows, checks each item's values are finite, completes the futures. */
  private void deliver(Stage stage, List<Item> batch, Map<String, Tensor> out) {
    int row = 0;
    for (Item i : batch) {
      Map<String, Tensor> mine = new HashMap<>();
      FoleyException bad = null;
      for (Map.Entry<String, Tensor> e : out.entrySet()) {
        Tensor t = e.getValue();
        int per = t.size() / (int) t.dim(0);
        long[] shape = t.shape();
        shape[0] = i.rows;
        float[] data = batch.size() == 1 ? t.floats() : java.util.Arrays.copyOfRange(t.floats(), row * per,
            (row + i.rows) * per);
        for (float v : data) {
          if (!Float.isFinite(v)) {
            bad = new FoleyException(FoleyException.Code.BACKEND_FAILURE, "stage " + stage.key()
                + " produced non-finite values (NaN/Inf) in output " + e.getKey()
                + " for this request; its inputs or the model are broken");
            break;
          }
        }
        mine.put(e.getKey(), Tensor.of(data, shape));
      }
      row += i.rows;
      if (bad != null) {
        i.future.completeExceptionally(bad);
      } else {
        i.future.complete(mine);
      }
    }
  }

  // ---- stats ----------------------------------------------------------------------------------

  CircuitBreaker breaker() {
    return breaker;
  }

  BatchPolicy policy() {
    return policy;
  }

  /** Items waiting per stage. */
  Map<Stage, Integer> queued() {
    lock.lock();
    try {
      Map<Stage, Integer> m = new EnumMap<>(Stage.class);
      queues.forEach((s, q) -> m.put(s, q.size()));
      return m;
    } finally {
      lock.unlock();
    }
  }

  /** Registered parties per stage (for the denoiser: segments in flight). */
  int parties(Stage stage) {
    lock.lock();
    try {
      return parties.get(stage);
    } finally {
      lock.unlock();
    }
  }

  long busyNanos(Stage s) {
    return busyNanos.get(s.ordinal());
  }

  long calls(Stage s) {
    return calls.get(s.ordinal());
  }

  /** Count of calls per batch size (index = items in the batch). */
  long[] histogram(Stage s) {
    AtomicLongArray h = histogram[s.ordinal()];
    long[] out = new long[h.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = h.get(i);
    }
    return out;
  }

  long backendFailures() {
    return backendFailures.get();
  }

  long startedAt() {
    return startedAt;
  }

  /** Why an item's call was dropped or terminated; never null (its owner may have gained a job since). */
  private static FoleyException stopped(Item i) {
    FoleyException why = i.owner.stopReason();
    return why != null ? why : new RequestRun.StopJob();
  }

  /** Whether {@code t} is this scheduler's device worker. */
  boolean isWorker(Thread t) {
    return t == worker;
  }

  /** Joins {@code t} for up to {@code millis}, through interrupts; true if one came. */
  private static boolean joinUninterruptibly(Thread t, long millis) {
    boolean interrupted = false;
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (t.isAlive()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        t.join(Math.max(1, left / 1_000_000L));
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    return interrupted;
  }

  /** Total nanoseconds inside the runtime (all stages). */
  long runtimeNanos() {
    long n = 0;
    for (StageSession s : sessions.values()) {
      n += s.runNanos();
    }
    return n;
  }

  /**
   * Stops after running what is queued, then closes the sessions. If the worker is stuck in a
   * call, the call is terminated; sessions are never closed under a running call (they leak
   * instead, with a warning). Idempotent.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (Thread.currentThread() == worker) {
      throw new IllegalStateException("the device worker cannot close its own scheduler");
    }
    boolean interrupted = joinUninterruptibly(worker, 60_000);
    if (worker.isAlive()) {
      synchronized (runLock) {
        assert LockOrder.taken(runLock);
        List<Item> batch = runningBatch;
        if (batch != null) {
          sessions.get(batch.get(0).stage).terminateRunning();
        }
      }
      interrupted |= joinUninterruptibly(worker, 10_000);
    }
    if (interrupted) {
      Thread.currentThread().interrupt(); // restored once the waits are over
    }
    if (worker.isAlive()) {
      LOG.log(System.Logger.Level.WARNING, "device worker still busy after close; leaving its sessions open");
      return;
    }
    for (StageSession s : sessions.values()) {
      s.close();
    }
  }
}
