package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import io.foley4j.bundle.TensorSpec;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The device worker with stub sessions: batching by rows, and stopping a call nobody wants. */
class DeviceSchedulerTest {

  /** Doubles its input; optionally blocks until terminated. */
  static final class StubSession implements StageSession {
    final StageSpec spec;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch terminate = new CountDownLatch(1);
    volatile boolean block;
    volatile boolean failBatches; // fail calls of more than one row, as a poisoned batch would
    volatile boolean failAll;
    volatile int calls;
    volatile long lastRows;
    final List<String> shapes = new java.util.concurrent.CopyOnWriteArrayList<>();

    StubSession(Stage stage) {
      this.spec = new StageSpec(stage, "x.onnx", "0".repeat(64),
          List.of(new TensorSpec("x", "float32", new long[] {-1, 2})),
          List.of(new TensorSpec("y", "float32", new long[] {-1, 2})));
    }

    @Override
    public StageSpec spec() {
      return spec;
    }

    @Override
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
      calls++;
      Tensor x = inputs.get("x");
      lastRows = x.dim(0);
      shapes.add(java.util.Arrays.toString(x.shape()));
      entered.countDown();
      if (failAll || failBatches && x.dim(0) > 1) {
        throw new FoleyException(FoleyException.Code.BACKEND_FAILURE, "injected");
      }
      if (block) {
        try {
          if (!terminate.await(30, TimeUnit.SECONDS)) {
            throw new AssertionError("never terminated");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new FoleyException(FoleyException.Code.BACKEND_FAILURE, "terminated");
      }
      float[] y = x.floats().clone();
      for (int i = 0; i < y.length; i++) {
        y[i] *= 2;
      }
      return Map.of("y", Tensor.of(y, x.shape()));
    }

    @Override
    public void terminateRunning() {
      terminate.countDown();
    }

    @Override
    public long runNanos() {
      return 0;
    }

    @Override
    public void close() {}
  }

  static final class Owner implements DeviceScheduler.Owner {
    final long seq;
    final int priority;
    volatile FoleyException stop;

    Owner(long seq) {
      this(seq, 1);
    }

    Owner(long seq, int priority) {
      this.seq = seq;
      this.priority = priority;
    }

    @Override
    public int priority() {
      return priority;
    }

    @Override
    public long sequence() {
      return seq;
    }

    @Override
    public FoleyException stopReason() {
      return stop;
    }
  }

  private static DeviceScheduler scheduler(StubSession s, int maxBatch) {
    Map<Stage, StageSession> sessions = new EnumMap<>(Stage.class);
    for (Stage st : Stage.values()) {
      sessions.put(st, st == s.spec.stage() ? s : new StubSession(st));
    }
    // a long queue delay: a batch runs when full or when every registered party has submitted
    return new DeviceScheduler("test-device", sessions, new BatchPolicy(maxBatch, 60_000_000_000L, null), Ticker.system(),
        new CircuitBreaker(1, 1_000_000_000L, Ticker.system()));
  }

  /**
   * Job a's denoiser steps chain on the device (each submitted from the previous one's completion,
   * as {@code DeviceCalls.chain} does), so the denoiser always has an item queued when a call ends.
   * A later job's encoder item of the same priority still runs after one more step, not after all
   * of them; one of a less urgent priority waits for them all.
   */
  @Test
  void stagesOfOnePriorityTakeTurnsWhileChainedStepsAreAlwaysQueued() throws Exception {
    assertEquals(List.of(Stage.DENOISER, Stage.VISUAL_ENCODER, Stage.DENOISER, Stage.DENOISER, Stage.DENOISER),
        chainedStepsThenAnEncoderItem(1));
    assertEquals(List.of(Stage.DENOISER, Stage.DENOISER, Stage.DENOISER, Stage.DENOISER, Stage.VISUAL_ENCODER),
        chainedStepsThenAnEncoderItem(2));
  }

  /** The stages of the calls run: 4 chained steps of job 1 (priority 1), and job 2's encoder item queued during the first. */
  private static List<Stage> chainedStepsThenAnEncoderItem(int encoderPriority) throws Exception {
    List<Stage> order = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch firstEntered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Map<Stage, StageSession> sessions = new EnumMap<>(Stage.class);
    for (Stage st : Stage.values()) {
      StubSession stub = new StubSession(st);
      sessions.put(st, new StageSession() {
        @Override
        public io.foley4j.bundle.StageSpec spec() {
          return stub.spec();
        }

        @Override
        public Map<String, Tensor> run(Map<String, Tensor> inputs) {
          order.add(st);
          if (order.size() == 1) { // hold the first step until the other job's item is queued
            firstEntered.countDown();
            try {
              assertTrue(release.await(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return stub.run(inputs);
        }

        @Override
        public void terminateRunning() {}

        @Override
        public long runNanos() {
          return 0;
        }

        @Override
        public void close() {}
      });
    }
    try (DeviceScheduler d = new DeviceScheduler("test-device", sessions, new BatchPolicy(8, 60_000_000_000L, null),
        Ticker.system(), new CircuitBreaker(1, 1_000_000_000L, Ticker.system()))) {
      Owner a = new Owner(1);
      d.enter(Stage.DENOISER);
      CompletableFuture<Void> chainDone = new CompletableFuture<>();
      java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
      Runnable[] step = new Runnable[1];
      step[0] = () -> d.submit(Stage.DENOISER, Map.of("x", Tensor.of(new float[] {1, 2}, 1, 2)), 1, a, 0)
          .whenComplete((out, err) -> {
            if (err != null) {
              chainDone.completeExceptionally(err);
            } else if (done.incrementAndGet() < 4) {
              step[0].run(); // on the device's worker, before it forms its next batch
            } else {
              chainDone.complete(null);
            }
          });
      step[0].run();
      assertTrue(firstEntered.await(30, TimeUnit.SECONDS));
      CompletableFuture<Map<String, Tensor>> enc = d.submit(Stage.VISUAL_ENCODER,
          Map.of("x", Tensor.of(new float[] {3, 4}, 1, 2)), 1, new Owner(2, encoderPriority), 0);
      release.countDown();
      chainDone.get(30, TimeUnit.SECONDS);
      assertEquals(List.of(6f, 8f), boxed(enc.get(30, TimeUnit.SECONDS).get("y").floats()));
      d.exit(Stage.DENOISER);
    }
    return order;
  }

  @Test
  void itemsOfSeveralRowsAreConcatenatedAndSplitBack() {
    StubSession s = new StubSession(Stage.DENOISER);
    s.block = false;
    try (DeviceScheduler d = scheduler(s, 8)) {
      d.enter(Stage.DENOISER);
      d.enter(Stage.DENOISER);
      CompletableFuture<Map<String, Tensor>> a = d.submit(Stage.DENOISER,
          Map.of("x", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)), 2, new Owner(1), 0);
      CompletableFuture<Map<String, Tensor>> b = d.submit(Stage.DENOISER,
          Map.of("x", Tensor.of(new float[] {5, 6}, 1, 2)), 1, new Owner(2), 0);
      assertEquals(List.of(2f, 4f, 6f, 8f), boxed(a.join().get("y").floats()));
      assertEquals(List.of(10f, 12f), boxed(b.join().get("y").floats()));
      assertEquals(2, a.join().get("y").dim(0));
      assertEquals(1, s.calls, "one call for both");
      assertEquals(3, s.lastRows);
    }
  }

  @Test
  void onlyItemsOfEqualShapeShareACall() {
    StubSession s = new StubSession(Stage.DENOISER);
    try (DeviceScheduler d = scheduler(s, 8)) {
      d.enter(Stage.DENOISER);
      d.enter(Stage.DENOISER);
      d.enter(Stage.DENOISER);
      // passes of two lengths (2 and 3 latents): a and c can share a call, b cannot
      CompletableFuture<Map<String, Tensor>> a = d.submit(Stage.DENOISER,
          Map.of("x", Tensor.of(new float[] {1, 2}, 1, 2)), 1, new Owner(1), 0);
      CompletableFuture<Map<String, Tensor>> b = d.submit(Stage.DENOISER,
          Map.of("x", Tensor.of(new float[] {3, 4, 5}, 1, 3)), 1, new Owner(2), 0);
      CompletableFuture<Map<String, Tensor>> c = d.submit(Stage.DENOISER,
          Map.of("x", Tensor.of(new float[] {6, 7}, 1, 2)), 1, new Owner(3), 0);
      assertEquals(List.of(2f, 4f), boxed(a.join().get("y").floats()));
      assertEquals(List.of(12f, 14f), boxed(c.join().get("y").floats()));
      d.exit(Stage.DENOISER); // a's and c's owners are done: b need not wait for them
      d.exit(Stage.DENOISER);
      assertEquals(List.of(6f, 8f, 10f), boxed(b.join().get("y").floats()));
      assertEquals(List.of("[2, 2]", "[1, 3]"), s.shapes, "a and c in one call, then b on its own");
    }
  }

  @Test
  void aCallNobodyWantsIsTerminatedWithoutBlamingTheBackend() throws Exception {
    StubSession s = new StubSession(Stage.VAE_DECODER);
    s.block = true;
    try (DeviceScheduler d = scheduler(s, 8)) {
      Owner o = new Owner(1);
      CompletableFuture<Map<String, Tensor>> f = d.submit(Stage.VAE_DECODER,
          Map.of("x", Tensor.of(new float[] {1, 2}, 1, 2)), 1, o, 0);
      assertTrue(s.entered.await(10, TimeUnit.SECONDS));
      d.ownerStopped(); // the owner still wants it: nothing happens
      assertEquals(1, s.terminate.getCount());
      FoleyException cancelled = new FoleyException(FoleyException.Code.CANCELLED, "cancelled");
      o.stop = cancelled;
      d.ownerStopped();
      CompletionException e = assertThrows(CompletionException.class, f::join);
      assertSame(cancelled, e.getCause());
      assertEquals(EngineStats.BreakerState.CLOSED, d.breaker().state(), "a stopped call is no backend failure");
    }
  }

  @Test
  void aFailedBatchProbeDoesNotJamTheBreaker() {
    StubSession s = new StubSession(Stage.DENOISER);
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    Map<Stage, StageSession> sessions = new EnumMap<>(Stage.class);
    for (Stage st : Stage.values()) {
      sessions.put(st, st == Stage.DENOISER ? s : new StubSession(st));
    }
    try (DeviceScheduler d = new DeviceScheduler("test-device", sessions, new BatchPolicy(8, Long.MAX_VALUE / 4, null), now::get,
        new CircuitBreaker(1, 1000, now::get))) {
      s.failAll = true;
      Owner o = new Owner(1);
      assertThrows(CompletionException.class, () -> d.submit(Stage.DENOISER,
          Map.of("x", Tensor.of(new float[] {1, 2}, 1, 2)), 1, o, 0).join());
      assertEquals(EngineStats.BreakerState.OPEN, d.breaker().state());
      s.failAll = false;
      s.failBatches = true; // the probe will be a batch of two that fails; each item alone succeeds
      now.addAndGet(2000);
      d.enter(Stage.DENOISER);
      d.enter(Stage.DENOISER);
      CompletableFuture<Map<String, Tensor>> a = d.submit(Stage.DENOISER,
          Map.of("x", Tensor.of(new float[] {1, 2}, 1, 2)), 1, new Owner(2), 0);
      CompletableFuture<Map<String, Tensor>> b = d.submit(Stage.DENOISER,
          Map.of("x", Tensor.of(new float[] {3, 4}, 1, 2)), 1, new Owner(3), 0);
      assertEquals(List.of(2f, 4f), boxed(a.join().get("y").floats()));
      assertEquals(List.of(6f, 8f), boxed(b.join().get("y").floats()));
      assertEquals(EngineStats.BreakerState.CLOSED, d.breaker().state());
      assertEquals(1, d.histogram(Stage.DENOISER)[2], "the probe was the failed batch of two");
    }
  }

  private static List<Float> boxed(float[] a) {
    List<Float> l = new java.util.ArrayList<>();
    for (float v : a) {
      l.add(v);
    }
    return l;
  }
}
