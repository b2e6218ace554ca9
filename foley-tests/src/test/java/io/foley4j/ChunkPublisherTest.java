package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FoleyJob.chunks(): a Flow.Publisher view with replay, demand and terminal signals. */
class ChunkPublisherTest {
  static ModelBundle bundle;
  static FoleyEngine engine;

  @TempDir
  static Path dir;
  static Path video;

  @BeforeAll
  static void setUp() {
    bundle = TestSupport.referenceBundle();
    engine = FoleyEngine.builder().bundle(bundle).build();
    video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(16).flash(2, 0.1, 0xFFFFFF).build(), video);
  }

  @AfterAll
  static void tearDown() {
    engine.close();
    bundle.close();
  }

  /** Requests one chunk at a time, from inside onNext. */
  static final class OneByOne implements Flow.Subscriber<AudioChunk> {
    final List<AudioChunk> got = new CopyOnWriteArrayList<>();
    final CompletableFuture<Throwable> end = new CompletableFuture<>();
    Flow.Subscription s;

    @Override
    public void onSubscribe(Flow.Subscription s) {
      this.s = s;
      s.request(1);
    }

    @Override
    public void onNext(AudioChunk c) {
      got.add(c);
      s.request(1);
    }

    @Override
    public void onError(Throwable t) {
      end.complete(t);
    }

    @Override
    public void onComplete() {
      end.complete(null);
    }
  }

  @Test
  void earlyAndLateSubscribersGetEveryChunkInOrderThenComplete() throws Exception {
    FoleyJob job = engine.submit(FoleyRequest.builder(video).prompt("x").steps(3).build());
    OneByOne early = new OneByOne();
    job.chunks().subscribe(early);
    FoleyResult r = job.await();
    OneByOne late = new OneByOne();
    job.chunks().subscribe(late); // after completion: full replay
    for (OneByOne sub : List.of(early, late)) {
      assertEquals(null, sub.end.get(30, TimeUnit.SECONDS), "onComplete");
      assertEquals(3, sub.got.size());
      float[] joined = new float[r.sampleCount()];
      long next = 0;
      for (AudioChunk c : sub.got) {
        assertEquals(next, c.sampleOffset());
        c.samples().get(joined, (int) c.sampleOffset(), c.length());
        next += c.length();
      }
      assertArrayEquals(r.toArray(), joined);
    }
  }

  @Test
  void demandIsRespectedAndCancelStopsDelivery() throws Exception {
    FoleyJob job = engine.submit(FoleyRequest.builder(video).prompt("x").steps(2).build());
    job.await();
    List<AudioChunk> got = new CopyOnWriteArrayList<>();
    Flow.Subscription[] sub = new Flow.Subscription[1];
    CompletableFuture<Boolean> terminal = new CompletableFuture<>();
    job.chunks().subscribe(new Flow.Subscriber<>() {
      @Override
      public void onSubscribe(Flow.Subscription s) {
        sub[0] = s;
      }

      @Override
      public void onNext(AudioChunk item) {
        got.add(item);
      }

      @Override
      public void onError(Throwable t) {
        terminal.complete(false);
      }

      @Override
      public void onComplete() {
        terminal.complete(true);
      }
    });
    assertEquals(0, got.size(), "nothing without demand");
    sub[0].request(2);
    assertEquals(2, got.size());
    sub[0].cancel();
    sub[0].request(5);
    assertEquals(2, got.size(), "nothing after cancel");
    assertTrue(!terminal.isDone(), "no terminal signal after cancel");
  }

  @Test
  void failureAndBadDemandAreSignalledAsErrors() throws Exception {
    FoleyJob bad = engine.submit(FoleyRequest.of(dir.resolve("missing.mp4"), "x"));
    OneByOne sub = new OneByOne();
    bad.chunks().subscribe(sub);
    Throwable t = sub.end.get(30, TimeUnit.SECONDS);
    assertInstanceOf(FoleyException.class, t);
    assertEquals(FoleyException.Code.IO, ((FoleyException) t).code());

    FoleyJob ok = engine.submit(FoleyRequest.builder(video).prompt("x").steps(1).build());
    CompletableFuture<Throwable> err = new CompletableFuture<>();
    ok.chunks().subscribe(new Flow.Subscriber<>() {
      @Override
      public void onSubscribe(Flow.Subscription s) {
        s.request(0);
      }

      @Override
      public void onNext(AudioChunk item) {}

      @Override
      public void onError(Throwable e) {
        err.complete(e);
      }

      @Override
      public void onComplete() {
        err.complete(null);
      }
    });
    assertInstanceOf(IllegalArgumentException.class, err.get(30, TimeUnit.SECONDS));
    ok.await();
  }
}
