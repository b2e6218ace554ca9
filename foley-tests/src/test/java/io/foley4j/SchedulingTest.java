package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.text.Tokenizer;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Priorities, queue bounds, deadlines, failure isolation, breaker, rate limits, batching equivalence. */
class SchedulingTest {
  static ModelBundle bundle;
  static long poisonId;

  @TempDir
  static Path dir;
  static Path clip;
  static Path flashes;

  @BeforeAll
  static void setUp() {
    // scheduling, not model size, is under test here: small frames and embeddings keep 100+ jobs fast
    bundle = TestSupport.smallReferenceBundle();
    clip = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).flash(1, 0.12, 0xFFFFFF).build(), clip);
    flashes = dir.resolve("flashes.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(30, 1).durationSeconds(2.5).flash(0.5, 0.1, 0xFFFFFF)
        .movingSquare(1.2, 2.2, 0xFF0000).build(), flashes);
    // the id of a word the fault-injecting backend treats as poison
    poisonId = Tokenizer.fromJson(bundle.tokenizerFile()).encode("zzqx", 77).ids()[1];
  }

  @AfterAll
  static void tearDown() {
    bundle.close();
  }

  private static FoleyRequest quick(String prompt, Priority p) {
    return FoleyRequest.builder(clip).prompt(prompt).steps(2).priority(p).build();
  }

  /** Records the order in which jobs leave the queue, and pairs of call events. */
  static final class Recorder extends FoleyEventListener {
    final List<Long> started = new CopyOnWriteArrayList<>();
    final Map<String, AtomicInteger> open = new ConcurrentHashMap<>();
    final AtomicInteger starts = new AtomicInteger();
    final AtomicInteger ends = new AtomicInteger();
    final AtomicInteger unmatched = new AtomicInteger();

    @Override
    public void queueEnd(long jobId, long waitedNanos) {
      started.add(jobId);
    }

    @Override
    public void callStart(long jobId, StageTimings.Phase phase, int segment, int step) {
      starts.incrementAndGet();
      open.computeIfAbsent(jobId + "/" + phase + "/" + segment + "/" + step, k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public void callEnd(long jobId, StageTimings.Phase phase, int segment, int step, long nanos, boolean failed) {
      ends.incrementAndGet();
      AtomicInteger c = open.get(jobId + "/" + phase + "/" + segment + "/" + step);
      if (c == null || c.decrementAndGet() < 0) {
        unmatched.incrementAndGet();
      }
    }
  }

  @Test
  void higherPriorityStartsFirstAndFifoWithinALevel() throws Exception {
    InterceptingBackend backend = new InterceptingBackend();
    Recorder rec = new Recorder();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).maxConcurrentRequests(1)
        .eventListener(rec).build()) {
      backend.holdNextCall();
      FoleyJob first = engine.submit(quick("a", Priority.NORMAL));
      backend.awaitHeld();
      FoleyJob low = engine.submit(quick("b", Priority.LOW));
      FoleyJob n1 = engine.submit(quick("c", Priority.NORMAL));
      FoleyJob h1 = engine.submit(quick("d", Priority.HIGH));
      FoleyJob n2 = engine.submit(quick("e", Priority.NORMAL));
      FoleyJob h2 = engine.submit(quick("f", Priority.HIGH));
      EngineStats s = engine.stats();
      assertEquals(2, s.queuedByPriority().get(Priority.HIGH));
      assertEquals(2, s.queuedByPriority().get(Priority.NORMAL));
      assertEquals(1, s.queuedByPriority().get(Priority.LOW));
      assertEquals(1, s.runningJobs());
      backend.release();
      for (FoleyJob j : List.of(first, low, n1, h1, n2, h2)) {
        j.await();
      }
      assertEquals(List.of(first.id(), h1.id(), h2.id(), n1.id(), n2.id(), low.id()), rec.started);
      assertEquals(rec.starts.get(), rec.ends.get(), "every call start has an end");
      assertEquals(0, rec.unmatched.get());
    }
  }

  @Test
  void fullQueueRejectsAtOnceWithoutStartingAnything() throws Exception {
    InterceptingBackend backend = new InterceptingBackend();
    Recorder rec = new Recorder();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).maxConcurrentRequests(1)
        .maxQueuedRequests(2).eventListener(rec).build()) {
      backend.holdNextCall();
      FoleyJob running = engine.submit(quick("a", Priority.NORMAL));
      backend.awaitHeld();
      FoleyJob q1 = engine.submit(quick("b", Priority.NORMAL));
      FoleyJob q2 = engine.submit(quick("c", Priority.NORMAL));
      FoleyJob over = engine.submit(quick("d", Priority.HIGH));
      assertTrue(over.result().isDone(), "rejected immediately, not queued");
      FoleyException e = assertThrows(FoleyException.class, over::await);
      assertEquals(FoleyException.Code.REJECTED, e.code());
      assertTrue(e.getMessage().contains("queue is full"), e.getMessage());
      backend.release();
      running.await();
      q1.await();
      q2.await();
      assertFalse(rec.started.contains(over.id()), "the rejected job never started");
    }
  }

  @Test
  void theQueueBoundHoldsUnderConcurrentSubmission() throws Exception {
    InterceptingBackend backend = new InterceptingBackend();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).maxConcurrentRequests(1)
        .maxQueuedRequests(4).build()) {
      backend.holdNextCall();
      FoleyJob running = engine.submit(quick("a", Priority.NORMAL));
      backend.awaitHeld();
      java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
      List<FoleyJob> jobs = new CopyOnWriteArrayList<>();
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        Thread t = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          jobs.add(engine.submit(quick("q", Priority.NORMAL)));
        });
        t.start();
        threads.add(t);
      }
      go.countDown();
      for (Thread t : threads) {
        t.join();
      }
      long rejected = jobs.stream().filter(j -> j.result().isCompletedExceptionally()).count();
      assertEquals(12, rejected, "exactly maxQueuedRequests accepted while the device is held");
      assertEquals(4, engine.stats().queuedJobs());
      backend.release();
      running.await();
      for (FoleyJob j : jobs) {
        if (!j.result().isCompletedExceptionally()) {
          j.await();
        }
      }
      assertEquals(0, engine.stats().queuedJobs());
    }
  }

  @Test
  void deadlinesFailQueuedAndRunningJobs() throws Exception {
    AtomicLong now = new AtomicLong();
    InterceptingBackend backend = new InterceptingBackend();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).maxConcurrentRequests(1)
        .ticker(now::get).build()) {
      backend.holdNextCall();
      FoleyJob running = engine.submit(FoleyRequest.builder(clip).prompt("a").steps(3)
          .deadline(Duration.ofSeconds(1)).build());
      backend.awaitHeld();
      FoleyJob queued = engine.submit(FoleyRequest.builder(clip).prompt("b").steps(3)
          .deadline(Duration.ofSeconds(1)).build());
      FoleyJob relaxed = engine.submit(FoleyRequest.builder(clip).prompt("c").steps(3).build());
      now.addAndGet(Duration.ofSeconds(2).toNanos());
      backend.release();
      for (FoleyJob j : List.of(running, queued)) {
        FoleyException e = assertThrows(FoleyException.class, j::await);
        assertEquals(FoleyException.Code.DEADLINE_EXCEEDED, e.code(), e.toString());
      }
      assertEquals(96000, relaxed.await().sampleCount(), "a job without deadline is unaffected");
    }
  }

  @Test
  void cancellingAQueuedJobMeansItNeverRuns() throws Exception {
    InterceptingBackend backend = new InterceptingBackend();
    Recorder rec = new Recorder();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).maxConcurrentRequests(1)
        .maxQueuedRequests(1).eventListener(rec).build()) {
      backend.holdNextCall();
      FoleyJob running = engine.submit(quick("a", Priority.NORMAL));
      backend.awaitHeld();
      FoleyJob victim = engine.submit(quick("b", Priority.NORMAL));
      assertTrue(victim.cancel());
      assertEquals(FoleyException.Code.CANCELLED, assertThrows(FoleyException.class, victim::await).code());
      assertEquals(0, engine.stats().queuedJobs(), "a cancelled job leaves the queue at once");
      FoleyJob next = engine.submit(quick("b2", Priority.NORMAL)); // its place is free again
      backend.release();
      running.await();
      next.await();
      engine.generate(quick("c", Priority.NORMAL));
      assertFalse(rec.open.keySet().stream().anyMatch(k -> k.startsWith(victim.id() + "/")), "no backend call");
    }
  }

  @Test
  void aFailingInputFailsOnlyItsOwnRequestEvenInsideABatch() throws Exception {
    InterceptingBackend backend = new InterceptingBackend();
    backend.fail = (stage, in) -> stage == Stage.TEXT_ENCODER && contains(in.get("input_ids").longs(), poisonId);
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).maxConcurrentRequests(4)
        .build()) {
      backend.holdNextCall();
      FoleyJob blocker = engine.submit(quick("a", Priority.NORMAL));
      backend.awaitHeld();
      FoleyJob ok1 = engine.submit(quick("glass", Priority.NORMAL));
      FoleyJob bad = engine.submit(quick("zzqx", Priority.NORMAL));
      FoleyJob ok2 = engine.submit(quick("thunder", Priority.NORMAL));
      // the three wait at the text encoder behind the held call (four when the held call was one of the
      // blocker's encoder calls rather than its text call: which comes first depends on timing)
      TestSupport.awaitCondition("three text items queued", () -> engine.stats().queuedItems().get(Stage.TEXT_ENCODER) >= 3);
      backend.release();
      blocker.await();
      ok1.await();
      ok2.await();
      FoleyException e = assertThrows(FoleyException.class, bad::await);
      assertEquals(FoleyException.Code.BACKEND_FAILURE, e.code());
      assertTrue(e.getMessage().contains("injected failure"), e.getMessage());
      long[] textBatches = engine.stats().batchHistogram().get(Stage.TEXT_ENCODER);
      long multi = 0;
      for (int i = 2; i < textBatches.length; i++) {
        multi += textBatches[i];
      }
      assertTrue(multi >= 1, "the poisoned request was batched with others: " + java.util.Arrays.toString(textBatches));
      assertEquals(96000, engine.generate(quick("after", Priority.NORMAL)).sampleCount());
    }
  }

  @Test
  void nonFiniteOutputFailsThatRequestClearly() {
    InterceptingBackend backend = new InterceptingBackend();
    backend.nan = (stage, in) -> stage == Stage.TEXT_ENCODER && contains(in.get("input_ids").longs(), poisonId);
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).build()) {
      FoleyException e = assertThrows(FoleyException.class, () -> engine.generate(quick("zzqx", Priority.NORMAL)));
      assertEquals(FoleyException.Code.BACKEND_FAILURE, e.code());
      assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
      assertEquals(96000, engine.generate(quick("fine", Priority.NORMAL)).sampleCount());
    }
  }

  @Test
  void breakerOpensRejectsFastAndClosesAfterAProbe() {
    AtomicLong now = new AtomicLong();
    InterceptingBackend backend = new InterceptingBackend();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(backend).ticker(now::get)
        .circuitBreaker(2, Duration.ofSeconds(10)).build()) {
      backend.fail = (stage, in) -> true;
      // a job makes several backend calls (text, encoders): run jobs until two calls have failed
      for (int i = 0; i < 3 && engine.stats().breaker() != EngineStats.BreakerState.OPEN; i++) {
        FoleyException e = assertThrows(FoleyException.class, () -> engine.generate(quick("x", Priority.NORMAL)));
        assertTrue(e.code() == FoleyException.Code.BACKEND_FAILURE || e.code() == FoleyException.Code.REJECTED,
            e.toString());
      }
      assertEquals(EngineStats.BreakerState.OPEN, engine.stats().breaker());
      FoleyJob rejected = engine.submit(quick("x", Priority.NORMAL));
      assertTrue(rejected.result().isDone(), "rejected without queueing");
      FoleyException e = assertThrows(FoleyException.class, rejected::await);
      assertEquals(FoleyException.Code.REJECTED, e.code());
      assertTrue(e.getMessage().contains("circuit breaker"), e.getMessage());
      backend.fail = (stage, in) -> false;
      now.addAndGet(Duration.ofSeconds(11).toNanos());
      assertEquals(EngineStats.BreakerState.HALF_OPEN, engine.stats().breaker());
      assertEquals(96000, engine.generate(quick("x", Priority.NORMAL)).sampleCount());
      assertEquals(EngineStats.BreakerState.CLOSED, engine.stats().breaker());
    }
  }

  @Test
  void rateLimitPerClient() {
    AtomicLong now = new AtomicLong();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).ticker(now::get).rateLimit(1.0, 2).build()) {
      FoleyRequest a = FoleyRequest.builder(clip).prompt("x").steps(1).clientId("alice").build();
      FoleyRequest b = FoleyRequest.builder(clip).prompt("x").steps(1).clientId("bob").build();
      engine.submit(a).await();
      engine.submit(a).await();
      FoleyException e = assertThrows(FoleyException.class, () -> engine.submit(a).await());
      assertEquals(FoleyException.Code.REJECTED, e.code());
      assertTrue(e.getMessage().contains("rate limit for client \"alice\""), e.getMessage());
      engine.submit(b).await(); // another client has its own bucket
      now.addAndGet(Duration.ofSeconds(1).toNanos());
      engine.submit(a).await();
    }
  }

  @Test
  void requestThatCanNeverFitTheMemoryBudgetIsRejectedWithNumbers() {
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).memoryBudgetBytes(1 << 20).build()) {
      FoleyException e = assertThrows(FoleyException.class, () -> engine.generate(quick("x", Priority.NORMAL)));
      assertEquals(FoleyException.Code.REJECTED, e.code());
      assertTrue(e.getMessage().contains("MiB") && e.getMessage().contains("1.0 MiB"), e.getMessage());
    }
  }

  @Test
  void hundredRequestsFromSixteenThreadsMatchTheirSerialResults() throws Exception {
    int distinct = 6;
    List<FoleyRequest> kinds = new ArrayList<>();
    String[] prompts = {"glass breaking", "low thunder rumble", "footsteps", "bell", "explosion", "rain"};
    for (int i = 0; i < distinct; i++) {
      kinds.add(FoleyRequest.builder(i % 2 == 0 ? clip : flashes).prompt(prompts[i]).steps(4).seed(i).build());
    }
    List<float[]> serial = new ArrayList<>();
    try (FoleyEngine alone = FoleyEngine.builder().bundle(bundle).maxBatchSize(1).maxConcurrentRequests(1).build()) {
      for (FoleyRequest r : kinds) {
        serial.add(alone.generate(r).toArray());
      }
    }
    Recorder rec = new Recorder();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).maxConcurrentRequests(16).maxBatchSize(16)
        .decodeThreads(16).eventListener(rec).build()) {
      ExecutorService clients = Executors.newFixedThreadPool(16);
      List<Future<float[]>> results = new ArrayList<>();
      List<List<AudioChunk>> chunkLists = Collections.synchronizedList(new ArrayList<>());
      for (int i = 0; i < 100; i++) {
        FoleyRequest r = kinds.get(i % distinct);
        results.add(clients.submit(() -> {
          List<AudioChunk> chunks = new CopyOnWriteArrayList<>();
          chunkLists.add(chunks);
          return engine.submit(r, new FoleyListener() {
            @Override
            public void onChunk(AudioChunk c) {
              chunks.add(c);
            }
          }).await().toArray();
        }));
      }
      for (int i = 0; i < 100; i++) {
        float[] got = results.get(i).get(5, TimeUnit.MINUTES);
        float[] want = serial.get(i % distinct);
        assertEquals(want.length, got.length);
        double maxDiff = 0;
        for (int k = 0; k < want.length; k++) {
          maxDiff = Math.max(maxDiff, Math.abs(want[k] - got[k]));
        }
        assertTrue(maxDiff <= 1e-5, "request " + i + " differs from its serial result by " + maxDiff);
      }
      clients.shutdown();
      assertEquals(100, chunkLists.size());
      for (List<AudioChunk> chunks : chunkLists) {
        assertFalse(chunks.isEmpty(), "every request got chunks");
        long next = 0;
        for (int k = 0; k < chunks.size(); k++) {
          assertEquals(k, chunks.get(k).index());
          assertEquals(next, chunks.get(k).sampleOffset());
          assertEquals(k == chunks.size() - 1, chunks.get(k).isLast());
          next += chunks.get(k).length();
        }
        long total = next;
        assertTrue(serial.stream().anyMatch(a -> a.length == total), "the chunks add up to a whole result: " + total);
      }
      // a job's future completes just before its request thread unwinds and leaves the running count
      TestSupport.awaitCondition("request threads unwound", () -> engine.stats().runningJobs() == 0);
      EngineStats s = engine.stats();
      assertTrue(s.meanBatchSize(Stage.DENOISER) > 1.5, "denoiser steps were batched across requests: mean "
          + s.meanBatchSize(Stage.DENOISER));
      assertEquals(rec.starts.get(), rec.ends.get());
      // all work is done: nothing queued, running or admitted
      assertEquals(0, s.queuedJobs());
      assertEquals(0, s.runningJobs());
      assertEquals(0, s.memoryInUseBytes());
      assertEquals(s.loadScore() > 0.8 ? EngineStats.ScaleAdvice.SCALE_UP : s.loadScore() < 0.3
          ? EngineStats.ScaleAdvice.SCALE_DOWN : EngineStats.ScaleAdvice.HOLD, s.advice(), "advice follows the score");
      System.out.printf("stress: denoiser mean batch %.2f, histogram %s%n", s.meanBatchSize(Stage.DENOISER),
          java.util.Arrays.toString(s.batchHistogram().get(Stage.DENOISER)));
    }
  }

  private static boolean contains(long[] a, long v) {
    for (long x : a) {
      if (x == v) {
        return true;
      }
    }
    return false;
  }
}
