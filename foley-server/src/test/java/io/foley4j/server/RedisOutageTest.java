package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyEngine;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.jcodec.JcodecVideoSources;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.video.SyntheticVideo;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node on a Redis that restarts without its data, stops, or freezes: the consumer group is
 * recreated and new jobs run; while Redis cannot answer, requests fail fast with 503 and
 * Retry-After and {@code /health/ready} is 503; when it is back, the node recovers.
 */
class RedisOutageTest {
  /** Far below the 60 s a request took before (Lettuce's default timeout), far above the 3 s configured. */
  private static final long FAST_NANOS = TimeUnit.SECONDS.toNanos(20);

  @TempDir Path dir;

  private FoleyService node(ModelBundle bundle, Redis redis) {
    ServiceConfig c = ServiceConfig.defaults(dir.resolve("shared")).withDrainTimeout(Duration.ofSeconds(5))
        .withRedis(URI.create(redis.uri()), "a", Duration.ofSeconds(2)).withWorkerJobs(1);
    return FoleyService.start(c, FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()),
        JcodecVideoSources.jcodec());
  }

  private Path video() throws Exception {
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1).flash(0.3, 0.1, 0xFFFFFF).build(), video);
    return video;
  }

  /** Posts until the node accepts (it answers 503 while it reconnects); returns the job's id. */
  private static String submitWhenAccepted(Http h, Path video, String prompt) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    HttpResponse<String> r;
    do {
      r = h.post(new Http.Form().video(video).field("prompt", prompt).field("steps", "2"));
      if (r.statusCode() == 202) {
        return Http.json(r).get("id").getAsString();
      }
      assertEquals(503, r.statusCode(), r.body());
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("the node did not accept a job within a minute: " + r.statusCode() + " " + r.body());
  }

  @Test
  void aRedisRestartWithoutItsDataDoesNotStallTheNode() throws Exception {
    Path video = video();
    try (Redis redis = new Redis(dir);
         ModelBundle bundle = TestSupport.referenceBundle();
         FoleyService a = node(bundle, redis)) {
      Http h = new Http(a.uri());
      assertEquals("done", h.awaitFinished(submitWhenAccepted(h, video, "before")).get("status").getAsString());

      redis.stop();
      redis.start(); // empty: the stream and the consumer group are gone

      String after = submitWhenAccepted(h, video, "after");
      assertEquals("done", h.awaitFinished(after).get("status").getAsString(), "a job queued after the restart runs");
      TestSupport.awaitCondition("ready again", () -> status(h, "/health/ready") == 200);
    }
  }

  @Test
  void anUnreachableRedisAnswers503FastAndTheNodeRecovers() throws Exception {
    Path video = video();
    try (Redis redis = new Redis(dir);
         ModelBundle bundle = TestSupport.referenceBundle();
         FoleyService a = node(bundle, redis)) {
      Http h = new Http(a.uri());
      String id = submitWhenAccepted(h, video, "before");
      assertEquals("done", h.awaitFinished(id).get("status").getAsString());
      assertEquals(200, status(h, "/health/ready"));

      // down: refused connections
      redis.stop();
      assertUnavailable(h, video, id);

      // back (empty): ready again, and jobs run
      redis.start();
      TestSupport.awaitCondition("ready after Redis came back", () -> status(h, "/health/ready") == 200);
      assertEquals("done", h.awaitFinished(submitWhenAccepted(h, video, "back")).get("status").getAsString());

      // frozen: the connection stays open but nothing answers, so only timeouts tell
      String known = submitWhenAccepted(h, video, "known");
      h.awaitFinished(known);
      redis.pause();
      try {
        assertUnavailable(h, video, known);
      } finally {
        redis.resume();
      }
      TestSupport.awaitCondition("ready after Redis woke", () -> status(h, "/health/ready") == 200);
      assertEquals(200, h.get("/v1/jobs/" + known).statusCode());
    }
  }

  /** POST and GET answer 503 with Retry-After, each well within {@link #FAST_NANOS}; ready turns 503. */
  private static void assertUnavailable(Http h, Path video, String id) throws Exception {
    TestSupport.awaitCondition("ready 503 while Redis cannot answer", () -> status(h, "/health/ready") == 503);
    HttpResponse<String> ready = h.get("/health/ready");
    assertEquals(503, ready.statusCode());
    assertNotNull(ready.headers().firstValue("Retry-After").orElse(null), "ready's Retry-After");

    long t0 = System.nanoTime();
    HttpResponse<String> post = h.post(new Http.Form().video(video).field("prompt", "while down").field("steps", "2"));
    long postNanos = System.nanoTime() - t0;
    assertEquals(503, post.statusCode(), post.body());
    assertTrue(post.headers().firstValue("Retry-After").isPresent(), "POST's Retry-After");
    assertTrue(Http.json(post).getAsJsonObject("error").get("message").getAsString().contains("Redis"), post.body());
    assertTrue(postNanos < FAST_NANOS, "POST answered in " + postNanos / 1_000_000 + " ms");

    t0 = System.nanoTime();
    HttpResponse<String> get = h.get("/v1/jobs/" + id);
    long getNanos = System.nanoTime() - t0;
    assertEquals(503, get.statusCode(), get.body());
    assertTrue(get.headers().firstValue("Retry-After").isPresent(), "GET's Retry-After");
    assertTrue(getNanos < FAST_NANOS, "GET answered in " + getNanos / 1_000_000 + " ms");
  }

  private static int status(Http h, String path) {
    try {
      return h.get(path).statusCode();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
