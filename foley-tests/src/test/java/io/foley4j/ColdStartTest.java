package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.backend.Backend;
import io.foley4j.backend.Backends;
import io.foley4j.backend.CpuBackend;
import io.foley4j.backend.StageSession;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parallel stage loading at build(), the readiness report and the optimized-model cache. */
class ColdStartTest {

  /** The CPU backend, recording when each open starts and ends, how many overlap, and closes. */
  static class RecordingBackend implements Backend {
    final Backend delegate;
    final Map<Stage, long[]> times = new ConcurrentHashMap<>();
    final AtomicInteger inOpen = new AtomicInteger();
    final AtomicInteger maxInOpen = new AtomicInteger();
    final AtomicInteger opened = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();
    final CountDownLatch secondStarted = new CountDownLatch(2);
    volatile Stage failing;

    RecordingBackend(Backend delegate) {
      this.delegate = delegate;
    }

    @Override
    public String name() {
      return "recording-cpu";
    }

    @Override
    public StageSession open(StageSpec spec, Path modelFile) {
      long t0 = System.nanoTime();
      maxInOpen.accumulateAndGet(inOpen.incrementAndGet(), Math::max);
      secondStarted.countDown();
      try {
        // Wait (bounded) until another open has started: sequential opens would never see one.
        secondStarted.await(20, TimeUnit.SECONDS);
        if (spec.stage() == failing) {
          throw new InvalidBundleException("stage " + spec.stage().key() + " is broken on purpose");
        }
        StageSession s = delegate.open(spec, modelFile);
        opened.incrementAndGet();
        return new StageSession() {
          private final java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();

          @Override
          public StageSpec spec() {
            return s.spec();
          }

          @Override
          public Map<String, Tensor> run(Map<String, Tensor> inputs) {
            return s.run(inputs);
          }

          @Override
          public long runNanos() {
            return s.runNanos();
          }

          @Override
          public boolean optimizedModelCacheHit() {
            return s.optimizedModelCacheHit();
          }

          @Override
          public void close() {
            if (once.compareAndSet(false, true)) {
              closed.incrementAndGet();
            }
            s.close();
          }
        };
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new FoleyException(FoleyException.Code.CANCELLED, "interrupted");
      } finally {
        inOpen.decrementAndGet();
        times.put(spec.stage(), new long[] {t0, System.nanoTime()});
      }
    }
  }

  @Test
  void stagesOpenInParallelOnNamedLoadThreads() throws Exception {
    RecordingBackend backend = new RecordingBackend(Backends.cpu());
    Map<Stage, String> threads = new ConcurrentHashMap<>();
    Backend naming = new Backend() {
      @Override
      public String name() {
        return backend.name();
      }

      @Override
      public StageSession open(StageSpec spec, Path modelFile) {
        threads.put(spec.stage(), Thread.currentThread().getName());
        return backend.open(spec, modelFile);
      }
    };
    try (FoleyEngine engine = FoleyEngine.builder().bundle(TestSupport.referenceBundle()).backend(naming)
        .name("par").build()) {
      assertEquals(5, backend.times.size());
      assertTrue(backend.maxInOpen.get() >= 2, "at most one open ran at a time: " + backend.maxInOpen);
      // Some two opens' intervals intersect.
      List<long[]> iv = List.copyOf(backend.times.values());
      boolean overlap = false;
      for (int i = 0; i < iv.size(); i++) {
        for (int j = i + 1; j < iv.size(); j++) {
          overlap |= iv.get(i)[0] < iv.get(j)[1] && iv.get(j)[0] < iv.get(i)[1];
        }
      }
      assertTrue(overlap, "no two stage opens overlapped");
      assertEquals(5, threads.size());
      threads.values().forEach(n -> assertTrue(n.startsWith("foley-par-load-"), n));
      assertEquals(5, backend.opened.get());
    }
    assertEquals(5, backend.closed.get());
    TestSupport.joinThreads("foley-par-load-");
  }

  @Test
  void aFailingStageLeavesNoSessionOpen() throws Exception {
    RecordingBackend backend = new RecordingBackend(Backends.cpu());
    backend.failing = Stage.DENOISER;
    InvalidBundleException e = assertThrows(InvalidBundleException.class,
        () -> FoleyEngine.builder().bundle(TestSupport.referenceBundle()).backend(backend).name("fail").build());
    assertTrue(e.getMessage().contains("broken on purpose"), e.getMessage());
    assertTrue(backend.opened.get() >= 1, "nothing had opened, so nothing was closed: " + backend.opened);
    assertEquals(backend.opened.get(), backend.closed.get(), "sessions left open");
    TestSupport.joinThreads("foley-fail-load-");
  }

  @Test
  void anInterruptedBuildClosesWhatOpened() throws Exception {
    RecordingBackend backend = new RecordingBackend(Backends.cpu());
    ModelBundle bundle = TestSupport.referenceBundle();
    Thread.currentThread().interrupt();
    FoleyException e;
    try {
      e = assertThrows(FoleyException.class,
          () -> FoleyEngine.builder().bundle(bundle).backend(backend).name("intr").build());
    } finally {
      assertTrue(Thread.interrupted(), "build() must keep the interrupt");
    }
    assertEquals(FoleyException.Code.CANCELLED, e.code());
    TestSupport.joinThreads("foley-intr-load-");
    TestSupport.awaitCondition("every opened session closed", () -> backend.opened.get() == backend.closed.get());
  }

  @Test
  void readinessAndTheOptimizedModelCache(@TempDir Path dir) throws Exception {
    Path cache = dir.resolve("ort-cache");
    CpuBackend cpu = CpuBackend.builder().optimizedModelCache(cache).build();
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).flash(1, 0.12, 0xFFFFFF).build(), video);
    FoleyRequest req = FoleyRequest.builder(video).prompt("bell").seed(7).steps(4).build();
    ModelBundle bundle = TestSupport.referenceBundle();

    float[] first;
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(cpu).build()) {
      Readiness r = engine.readiness();
      assertSame(r, engine.readiness());
      assertEquals(List.of(Stage.values()), List.copyOf(r.stages().keySet()));
      r.stages().forEach((s, st) -> {
        assertTrue(st.loadMillis() >= 0 && st.warmUpMillis() >= 0, s + ": " + st);
        assertFalse(st.optimizedModelCacheHit(), s + " hit an empty cache");
      });
      assertTrue(r.buildMillis() >= r.slowestLoadMillis(), r.toString());
      assertThrows(UnsupportedOperationException.class, () -> r.stages().clear());
      first = engine.generate(req).toArray();
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(cache)) {
      files = s.toList();
    }
    assertEquals(5, files.size(), "one optimized graph per stage, no temp files: " + files);
    for (Stage s : Stage.values()) {
      String sha = bundle.manifest().stage(s).sha256().toLowerCase(java.util.Locale.ROOT);
      assertTrue(files.stream().anyMatch(f -> f.getFileName().toString().contains(sha)
          && f.getFileName().toString().contains(ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion())),
          s + " has no file keyed by its SHA-256 and the ORT version: " + files);
    }

    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(cpu).build()) {
      Readiness r = engine.readiness();
      r.stages().forEach((s, st) -> assertTrue(st.optimizedModelCacheHit(), s + " did not use the cache"));
      assertTrue(r.allFromOptimizedModelCache());
      assertArrayEquals(first, engine.generate(req).toArray(), "audio differs from the cached graphs");
    }
  }

  @Test
  void aDamagedCacheFileIsReplaced(@TempDir Path dir) throws Exception {
    Path cache = dir.resolve("c");
    CpuBackend cpu = CpuBackend.builder().optimizedModelCache(cache).build();
    ModelBundle bundle = TestSupport.referenceBundle();
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(cpu).build()) {
      assertFalse(engine.readiness().stages().get(Stage.VAE_DECODER).optimizedModelCacheHit());
    }
    Path vae;
    try (Stream<Path> s = Files.list(cache)) {
      vae = s.filter(f -> f.getFileName().toString().startsWith(Stage.VAE_DECODER.key() + "-")).findFirst().orElseThrow();
    }
    Files.write(vae, new byte[] {1, 2, 3});
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(cpu).build()) {
      Readiness r = engine.readiness();
      assertFalse(r.stages().get(Stage.VAE_DECODER).optimizedModelCacheHit());
      assertTrue(r.stages().get(Stage.DENOISER).optimizedModelCacheHit());
    }
    assertTrue(Files.size(vae) > 3, "the damaged file was not replaced");
  }
}
