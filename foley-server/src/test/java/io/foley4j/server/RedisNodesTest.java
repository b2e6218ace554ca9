package io.foley4j.server;

import io.foley4j.jcodec.JcodecVideoSources;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.foley4j.FoleyEngine;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSources;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two nodes in this JVM on one Redis stream: answers from any node, cancel anywhere, hand-back on shutdown. */
class RedisNodesTest {
  @TempDir Path dir;

  private static FoleyService node(ModelBundle bundle, Redis redis, Path shared, String name, Duration drain) {
    ServiceConfig c = ServiceConfig.defaults(shared).withDrainTimeout(drain)
        .withRedis(URI.create(redis.uri()), name, Duration.ofSeconds(2)).withWorkerJobs(1);
    return FoleyService.start(c, FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()), JcodecVideoSources.jcodec());
  }

  private static String node(StatefulRedisConnection<String, String> conn, String id) {
    return conn.sync().hget("foley:job:" + id, "node");
  }

  @Test
  void anyNodeAnswersCancelsAndTakesOverWhatAStoppingNodeHandsBack() throws Exception {
    Path shared = dir.resolve("shared");
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1).flash(0.3, 0.1, 0xFFFFFF).build(), video);
    try (Redis redis = new Redis(dir);
         ModelBundle bundle = TestSupport.referenceBundle()) {
      RedisClient client = RedisClient.create(redis.uri());
      try (StatefulRedisConnection<String, String> conn = client.connect();
           FoleyService b = node(bundle, redis, shared, "b", Duration.ofSeconds(30))) {
        Http viaB = new Http(b.uri());
        FoleyService a = node(bundle, redis, shared, "a", Duration.ofMillis(200));
        Http viaA = new Http(a.uri());
        try {
          // a short job through a, read through b; the identical request through b is answered 200
          String first = Http.json(viaA.post(new Http.Form().video(video).field("prompt", "x").field("steps", "2")))
              .get("id").getAsString();
          assertEquals("done", viaB.awaitFinished(first).get("status").getAsString());
          HttpResponse<String> again = viaB.post(new Http.Form().video(video).field("prompt", "x").field("steps", "2"));
          assertEquals(200, again.statusCode(), again.body());
          assertEquals(first, Http.json(again).get("id").getAsString());
          assertEquals(200, viaA.bytes("/v1/jobs/" + first + "/audio").statusCode());

          // a long job cancelled through the node that is not running it
          String longId = Http.json(viaA.post(new Http.Form().video(video).field("prompt", "long")
              .field("steps", "1000"))).get("id").getAsString();
          TestSupport.awaitCondition("the long job runs", () -> node(conn, longId) != null);
          Http other = node(conn, longId).equals("a") ? viaB : viaA;
          HttpResponse<String> del = other.delete("/v1/jobs/" + longId);
          assertEquals(200, del.statusCode(), del.body());
          assertEquals("cancelled", viaA.awaitFinished(longId).get("status").getAsString());
          assertEquals(409, other.delete("/v1/jobs/" + longId).statusCode());
          TestSupport.awaitCondition("the cancelled job is acknowledged", () ->
              conn.sync().xpending(RedisJobs.STREAM, RedisJobs.GROUP).getCount() == 0);

          // a job running on a when a shuts down is handed back and finished by b
          String handed = null;
          for (int i = 0; i < 20 && handed == null; i++) {
            String id = Http.json(viaA.post(new Http.Form().video(video).field("prompt", "h" + i).field("steps", "300")))
                .get("id").getAsString();
            TestSupport.awaitCondition("taken", () -> node(conn, id) != null);
            if (node(conn, id).equals("a")) {
              handed = id;
            }
          }
          assertTrue(handed != null, "node a took one of the jobs");
          CompletableFuture<Void> closing = CompletableFuture.runAsync(a::close);
          closing.get(1, TimeUnit.MINUTES);
          JsonObject end = viaB.awaitFinished(handed);
          assertEquals("done", end.get("status").getAsString(), end.toString());
          assertEquals("b", node(conn, handed), "reclaimed by b after the visibility timeout");
          assertEquals(48_000, Http.wavSamples(viaB.bytes("/v1/jobs/" + handed + "/audio").body()).length,
              "exactly one second of audio");
        } finally {
          a.close();
        }
      } finally {
        client.shutdown();
      }
    }
  }
}
