package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * User code called by the engine (listeners, subscribers) can do anything a user may do — cancel
 * other jobs, wait for results, close the engine — without deadlocking it, because no foley4j lock
 * is held while it runs (the test build asserts that rule at every call). Also: close() frees the
 * native sessions whatever thread calls it.
 */
class CallbackSafetyTest {
  static ModelBundle bundle;

  @TempDir
  static Path dir;
  static Path video;

  @BeforeAll
  static void setUp() {
    bundle = TestSupport.referenceBundle();
    video = dir.resolve("v.mp4");
    // 20 s: three segments, so a job is still running when another one's first chunk arrives
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(20).flash(1, 0.12, 0xFFFFFF).build(), video);
  }

  @AfterAll
  static void tearDown() {
    bundle.close();
  }

  private static FoleyRequest request(String prompt) {
    return FoleyRequest.builder(video).prompt(prompt).steps(3).build();
  }

  /**
   * Job A's onChunk cancels job B while another thread cancels B, whose onFailure cancels A. With
   * callbacks under the job monitors this deadlocked: the cancelling thread held B and wanted A,
   * A's thread held A and wanted B.
   */
  @Test
  void crossCancellingListenersDoNotDeadlock() throws Exception {
    FoleyEngine engine = FoleyEngine.builder().bundle(bundle).maxConcurrentRequests(2)
        .closeTimeout(Duration.ofSeconds(1)).build();
    CountDownLatch aInChunk = new CountDownLatch(1);
    CountDownLatch bFailed = new CountDownLatch(1);
    CompletableFuture<FoleyJob> jobA = new CompletableFuture<>();
    CompletableFuture<FoleyJob> jobB = new CompletableFuture<>();
    FoleyJob b = engine.submit(request("b"), new FoleyListener() {
      @Override
      public void onFailure(FoleyException error) {
        bFailed.countDown();
        jobA.join().cancel();
      }
    });
    jobB.complete(b);
    FoleyJob a = engine.submit(request("a"), new FoleyListener() {
      @Override
      public void onChunk(AudioChunk chunk) {
        aInChunk.countDown();
        try {
          bFailed.await(5, TimeUnit.SECONDS); // B's onFailure is running (and wants A) now
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        jobB.join().cancel();
      }
    });
    jobA.complete(a);
    assertTrue(aInChunk.await(60, TimeUnit.SECONDS), "A emitted a chunk");
    CompletableFuture<Boolean> cancelB = CompletableFuture.supplyAsync(b::cancel);
    assertTrue(cancelB.get(20, TimeUnit.SECONDS), "cancelling B returns (no deadlock)");
    assertEquals(FoleyException.Code.CANCELLED, cause(a.result()).code());
    assertEquals(FoleyException.Code.CANCELLED, cause(b.result()).code());
    CompletableFuture<Void> close = CompletableFuture.runAsync(engine::close);
    close.get(20, TimeUnit.SECONDS);
  }

  /** The order: a job's future is complete when its onComplete runs, after every onChunk. */
  @Test
  void futureIsCompleteInsideOnCompleteAndAfterEveryChunk() throws Exception {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      CompletableFuture<FoleyJob> self = new CompletableFuture<>();
      AtomicReference<Object> seen = new AtomicReference<>();
      List<AudioChunk> chunks = new CopyOnWriteArrayList<>();
      FoleyJob job = engine.submit(request("x"), new FoleyListener() {
        @Override
        public void onChunk(AudioChunk chunk) {
          chunks.add(chunk);
        }

        @Override
        public void onComplete(FoleyResult result) {
          try {
            FoleyJob j = self.get(30, TimeUnit.SECONDS);
            seen.set(j.result().get(5, TimeUnit.SECONDS)); // timed out while onComplete ran first
          } catch (Exception e) {
            seen.set(e);
          }
        }
      });
      self.complete(job);
      FoleyResult r = job.await();
      // the listener saw every chunk before the caller could see the result
      assertEquals(3, chunks.size());
      assertTrue(chunks.get(2).isLast());
      TestSupport.awaitCondition("onComplete ran", () -> seen.get() != null);
      assertSame(r, seen.get(), "result() is complete inside onComplete: " + seen.get());
    }
  }

  /**
   * A subscriber that throws in onNext is cancelled and told so; the job, its listener, other
   * subscribers and the identical jobs that share its computation all complete normally.
   */
  @Test
  void throwingSubscriberIsCancelledAndNothingElseFails() throws Exception {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).singleFlight(true).maxConcurrentRequests(2)
        .build()) {
      FoleyJob leader = engine.submit(request("glass"));
      FoleyJob sibling = engine.submit(request("glass"));
      CompletableFuture<Throwable> thrownOut = new CompletableFuture<>();
      AtomicInteger nextCalls = new AtomicInteger();
      RuntimeException boom = new IllegalStateException("subscriber bug");
      leader.chunks().subscribe(new Flow.Subscriber<>() {
        @Override
        public void onSubscribe(Flow.Subscription s) {
          s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(AudioChunk item) {
          nextCalls.incrementAndGet();
          throw boom;
        }

        @Override
        public void onError(Throwable t) {
          thrownOut.complete(t);
        }

        @Override
        public void onComplete() {
          thrownOut.complete(null);
        }
      });
      Collector good = new Collector();
      leader.chunks().subscribe(good);
      FoleyResult a = leader.await();
      FoleyResult b = sibling.await();
      assertEquals(a.sampleCount(), b.sampleCount());
      Throwable t = thrownOut.get(30, TimeUnit.SECONDS);
      FoleyException fe = assertInstanceOf(FoleyException.class, t, "the thrower gets onError");
      assertSame(boom, fe.getCause());
      assertEquals(1, nextCalls.get(), "no onNext after the subscriber threw");
      assertEquals(3, good.done.get(30, TimeUnit.SECONDS).size(), "another subscriber got every chunk");
    }
  }

  /** A listener may close the engine; the close does not wait on its own thread and frees everything. */
  @Test
  void closeFromACallbackReturnsAndStopsEverything() throws Exception {
    InterceptingBackend backend = new InterceptingBackend();
    FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).name("cb-close")
        .closeTimeout(Duration.ofSeconds(120)).build();
    CompletableFuture<Long> closeTook = new CompletableFuture<>();
    FoleyJob job = engine.submit(request("x"), new FoleyListener() {
      @Override
      public void onChunk(AudioChunk chunk) {
        long t0 = System.nanoTime();
        engine.close();
        closeTook.complete(System.nanoTime() - t0);
      }
    });
    long nanos = closeTook.get(60, TimeUnit.SECONDS);
    // not the 120 s close timeout (a close that waits on its own thread), nor anything near it
    assertTrue(nanos < TimeUnit.SECONDS.toNanos(60), "close from a callback returned after " + nanos / 1e9 + " s");
    assertEquals(FoleyException.Code.CLOSED, cause(job.result()).code());
    TestSupport.joinThreads("foley-cb-close-");
    assertEquals(backend.opened.get(), backend.closed.get(), "every session freed");
    assertTrue(backend.opened.get() > 0);
  }

  /**
   * close() on an interrupted thread still frees the native sessions, and keeps the interrupt. A
   * backend call is in flight when close() starts (held until the engine terminates it), so the
   * device thread is busy while close waits for it; an interrupt used to cut that wait short and
   * leave every session open.
   */
  @Test
  void closeOnAnInterruptedThreadFreesTheSessions() throws Exception {
    InterceptingBackend backend = new InterceptingBackend();
    FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).name("irq-close")
        .closeTimeout(Duration.ofMillis(100)).build();
    backend.holdNextCallUntilTerminated();
    FoleyJob job = engine.submit(request("x"));
    backend.awaitHeld();
    Thread.currentThread().interrupt();
    try {
      engine.close();
      assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept for the caller");
    } finally {
      Thread.interrupted();
    }
    assertTrue(job.result().isDone());
    TestSupport.joinThreads("foley-irq-close-");
    assertEquals(backend.opened.get(), backend.closed.get(), "every session freed");
  }

  @Test
  void lockCheckSeesFoleyMonitors() {
    assertTrue(UserCode.assertNoFoleyLockHeld("nothing held"));
    Object m = Monitor.leaf("test");
    synchronized (m) {
      AssertionError e = assertThrows(AssertionError.class, () -> UserCode.assertNoFoleyLockHeld("a listener"));
      assertTrue(e.getMessage().contains("a listener"), e.getMessage());
    }
    UserCode.TrackedLock lock = new UserCode.TrackedLock();
    lock.lock();
    try {
      assertThrows(AssertionError.class, () -> UserCode.assertNoFoleyLockHeld("a subscriber"));
    } finally {
      lock.unlock();
    }
    assertTrue(UserCode.assertNoFoleyLockHeld("released"));
    assertTrue(CallbackSafetyTest.class.desiredAssertionStatus(), "the test build runs with assertions on");
  }

  // ---- helpers -------------------------------------------------------------------------------

  private static FoleyException cause(CompletableFuture<FoleyResult> f) throws Exception {
    try {
      f.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return assertInstanceOf(FoleyException.class, e.getCause());
    }
    throw new AssertionError("expected a failure, got a result");
  }

  /** Collects chunks; completes {@code done} on onComplete. */
  static class Collector implements Flow.Subscriber<AudioChunk> {
    final List<AudioChunk> chunks = new CopyOnWriteArrayList<>();
    final CompletableFuture<List<AudioChunk>> done = new CompletableFuture<>();

    @Override
    public void onSubscribe(Flow.Subscription s) {
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(AudioChunk item) {
      chunks.add(item);
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      done.complete(chunks);
    }
  }

  /** A subscriber whose onComplete throws an Error does not keep the others from completing. */
  @Test
  void subscriberThrowingAnErrorDoesNotStarveTheOthers() throws Exception {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      FoleyJob job = engine.submit(FoleyRequest.builder(video).prompt("x").steps(1).build());
      job.await();
      job.chunks().subscribe(new Collector() {
        @Override
        public void onComplete() {
          throw new Error("a subscriber's own error");
        }
      });
      Collector after = new Collector();
      job.chunks().subscribe(after);
      assertEquals(3, after.done.get(30, TimeUnit.SECONDS).size(), "the next subscriber completes");
      FoleyJob next = engine.submit(FoleyRequest.builder(video).prompt("y").steps(1).build());
      Collector live1 = new Collector() {
        @Override
        public void onComplete() {
          throw new Error("again, while the job runs");
        }
      };
      Collector live2 = new Collector();
      next.chunks().subscribe(live1);
      next.chunks().subscribe(live2);
      next.await();
      assertEquals(3, live2.done.get(30, TimeUnit.SECONDS).size(), "signals go on past a throwing subscriber");
    }
  }

  /** Nothing reaches a subscriber before its onSubscribe returned, even demand asked for inside it. */
  @Test
  void noSignalBeforeOnSubscribeReturns() throws Exception {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).build()) {
      FoleyJob job = engine.submit(FoleyRequest.builder(video).prompt("x").steps(1).build());
      job.await();
      AtomicBoolean subscribed = new AtomicBoolean();
      List<String> early = new CopyOnWriteArrayList<>();
      Collector c = new Collector() {
        @Override
        public void onSubscribe(Flow.Subscription s) {
          s.request(Long.MAX_VALUE); // the chunks are all there: they must wait until this returns
          subscribed.set(true);
        }

        @Override
        public void onNext(AudioChunk item) {
          if (!subscribed.get()) {
            early.add("onNext " + item.index());
          }
          super.onNext(item);
        }
      };
      job.chunks().subscribe(c);
      assertEquals(3, c.done.get(30, TimeUnit.SECONDS).size());
      assertEquals(List.of(), early, "signals inside onSubscribe");
    }
  }

  /**
   * A cache store that throws a checked exception it does not declare (as a Kotlin store may) is a
   * miss: the job completes, and an identical request after it is not stuck on a dead computation.
   */
  @Test
  void storeThrowingAnUndeclaredCheckedExceptionIsAMiss() throws Exception {
    io.foley4j.cache.TensorCache sneaky = new io.foley4j.cache.TensorCache() {
      @Override
      public io.foley4j.cache.CacheEntry get(String key) {
        return CallbackSafetyTest.<RuntimeException>sneakyThrow(new java.io.IOException("store unreachable"));
      }

      @Override
      public void put(String key, io.foley4j.cache.CacheEntry entry) {
        CallbackSafetyTest.<RuntimeException>sneakyThrow(new java.io.IOException("store read-only"));
      }

      @Override
      public io.foley4j.cache.CacheStats stats() {
        return io.foley4j.cache.CacheStats.empty();
      }
    };
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).resultCache(sneaky).featureCache(sneaky).build()) {
      FoleyRequest r = FoleyRequest.builder(video).prompt("x").steps(1).build();
      assertEquals(20 * 48000, engine.submit(r).result().get(60, TimeUnit.SECONDS).sampleCount());
      assertEquals(20 * 48000, engine.submit(r).result().get(60, TimeUnit.SECONDS).sampleCount(),
          "an identical request later runs too");
    }
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> io.foley4j.cache.CacheEntry sneakyThrow(Throwable t) throws E {
    throw (E) t;
  }

  /** A second close() returns only once the first has freed everything. */
  @Test
  void aSecondCloseWaitsForTheFirst() throws Exception {
    InterceptingBackend backend = new InterceptingBackend();
    FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).name("twice-close")
        .closeTimeout(Duration.ofMillis(100)).build();
    backend.holdNextCallUntilTerminated();
    engine.submit(request("x"));
    backend.awaitHeld();
    CompletableFuture<Void> first = CompletableFuture.runAsync(engine::close);
    TestSupport.awaitCondition("the first close started",
        () -> engine.submit(request("y")).result().isCompletedExceptionally());
    engine.close();
    assertEquals(backend.opened.get(), backend.closed.get(), "the second close returned after the sessions were freed");
    first.get(60, TimeUnit.SECONDS);
  }
}
