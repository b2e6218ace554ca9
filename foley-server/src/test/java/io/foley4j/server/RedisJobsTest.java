package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.foley4j.FoleyEngine;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.jcodec.JcodecVideoSources;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.video.SyntheticVideo;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One node on Redis: tenants, malformed ids and malformed stream entries (skips without redis-server). */
class RedisJobsTest {
  @TempDir Path dir;

  @Test
  void retentionDeletesUploadPartsThatAKilledNodeLeftInItsSpillDirectory() throws Exception {
    Path shared = dir.resolve("spills");
    try (Redis redis = new Redis(dir);
         ModelBundle bundle = TestSupport.referenceBundle();
         FoleyService node = FoleyService.start(ServiceConfig.defaults(shared)
             .withRedis(URI.create(redis.uri()), "solo", Duration.ofSeconds(2)).withRetention(Duration.ofHours(1)),
             FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()), JcodecVideoSources.jcodec())) {
      Path mine = shared.resolve("tmp").resolve("solo");
      assertTrue(java.nio.file.Files.isDirectory(mine), "each node spills into tmp/<node-id>");
      Path dead = java.nio.file.Files.createDirectories(shared.resolve("tmp").resolve("dead-node"));
      Path abandoned = java.nio.file.Files.write(dead.resolve("MultiPart123.tmp"), new byte[100]);
      java.nio.file.Files.setLastModifiedTime(abandoned, java.nio.file.attribute.FileTime.from(
          java.time.Instant.now().minus(Duration.ofHours(2))));
      Path live = java.nio.file.Files.write(dead.resolve("MultiPart456.tmp"), new byte[100]);
      node.expireNow();
      org.junit.jupiter.api.Assertions.assertFalse(java.nio.file.Files.exists(abandoned), "a part untouched for longer than the retention is deleted");
      assertTrue(java.nio.file.Files.exists(live), "a part written within the retention may still be arriving");
      assertTrue(java.nio.file.Files.isDirectory(mine), "a live node's spill directory stays");
    }
  }

  @Test
  void anM4aWhoseJobExpiresWhileItIsWrittenIsDeleted() throws Exception {
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1).flash(0.3, 0.1, 0xFFFFFF).build(), video);
    java.util.concurrent.CountDownLatch converting = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    FoleyService.AudioConverter held = (wav, target) -> {
      converting.countDown();
      try {
        assertTrue(release.await(2, java.util.concurrent.TimeUnit.MINUTES));
        java.nio.file.Files.write(target, new byte[] {1, 2, 3});
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    };
    Path shared = dir.resolve("shared");
    try (Redis redis = new Redis(dir);
         ModelBundle bundle = TestSupport.referenceBundle()) {
      ServiceConfig c = ServiceConfig.defaults(shared).withRedis(URI.create(redis.uri()), "solo", Duration.ofSeconds(2))
          .withWorkerJobs(1);
      RedisClient client = RedisClient.create(redis.uri());
      try (StatefulRedisConnection<String, String> conn = client.connect();
           FoleyService node = FoleyService.start(c, FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()),
               JcodecVideoSources.jcodec(), java.time.Clock.systemUTC(), held)) {
        Http h = new Http(node.uri());
        String id = Http.json(h.post(new Http.Form().video(video).field("prompt", "x").field("steps", "2")))
            .get("id").getAsString();
        assertEquals("done", h.awaitFinished(id).get("status").getAsString());
        java.util.concurrent.CompletableFuture<HttpResponse<String>> m4a =
            java.util.concurrent.CompletableFuture.supplyAsync(() -> {
              try {
                return h.get("/v1/jobs/" + id + "/audio?format=m4a");
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            });
        assertTrue(converting.await(1, java.util.concurrent.TimeUnit.MINUTES), "the conversion started");
        conn.sync().del("foley:job:" + id); // the job's key expires while the M4A is written
        release.countDown();
        HttpResponse<String> answer = m4a.get(1, java.util.concurrent.TimeUnit.MINUTES);
        assertEquals(404, answer.statusCode(), answer.body());
        assertTrue(!java.nio.file.Files.exists(shared.resolve("results").resolve(id + ".m4a")), "no M4A left");
        try (var files = java.nio.file.Files.list(shared.resolve("results"))) {
          assertEquals(List.of(), files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".part-"))
              .toList(), "no temporary file left");
        }
      } finally {
        client.shutdown();
      }
    }
  }

  @Test
  void aJobOfVariantsOnRedisStoresEveryVariantsFiles() throws Exception {
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1).flash(0.3, 0.1, 0xFFFFFF).build(), video);
    Path shared = dir.resolve("shared");
    try (Redis redis = new Redis(dir);
         ModelBundle bundle = TestSupport.referenceBundle()) {
      ServiceConfig c = ServiceConfig.defaults(shared).withRedis(URI.create(redis.uri()), "solo", Duration.ofSeconds(2))
          .withWorkerJobs(1);
      try (FoleyService node = FoleyService.start(c, FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()),
          JcodecVideoSources.jcodec())) {
        Http h = new Http(node.uri());
        String id = Http.json(h.post(new Http.Form().video(video).field("prompt", "x").field("steps", "2")
            .field("seed", "4").field("variants", "2"))).get("id").getAsString();
        JsonObject done = h.awaitFinished(id);
        assertEquals("done", done.get("status").getAsString(), done.toString());
        assertEquals(2, done.getAsJsonArray("variants").size(), done.toString());
        assertEquals(5, done.getAsJsonArray("variants").get(1).getAsJsonObject().get("seed").getAsLong());
        byte[] first = h.bytes("/v1/jobs/" + id + "/audio?variant=0").body();
        byte[] second = h.bytes("/v1/jobs/" + id + "/audio?variant=1").body();
        assertTrue(first.length > 44 && first.length == second.length, first.length + " / " + second.length);
        assertTrue(!java.util.Arrays.equals(first, second), "two variants, two sounds");
        assertEquals(200, h.bytes("/v1/jobs/" + id + "/video?variant=1").statusCode());
        assertEquals(404, h.bytes("/v1/jobs/" + id + "/audio?variant=2").statusCode());
        for (String name : List.of(id + ".wav", id + ".mov", id + ".v1.wav", id + ".v1.mov")) {
          assertTrue(java.nio.file.Files.exists(shared.resolve("results").resolve(name)), name);
        }
      }
    }
  }

  @Test
  void tenantsMalformedIdsAndMalformedEntries() throws Exception {
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1).flash(0.3, 0.1, 0xFFFFFF).build(), video);
    try (Redis redis = new Redis(dir);
         ModelBundle bundle = TestSupport.referenceBundle()) {
      ServiceConfig c = ServiceConfig.defaults(dir.resolve("shared")).withApiKeys(Set.of("k1", "k2"))
          .withAdminKeys(Set.of("root")).withRedis(URI.create(redis.uri()), "solo", Duration.ofSeconds(2))
          .withWorkerJobs(1);
      RedisClient client = RedisClient.create(redis.uri());
      try (StatefulRedisConnection<String, String> conn = client.connect();
           FoleyService node = FoleyService.start(c, FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()),
               JcodecVideoSources.jcodec())) {
        RedisCommands<String, String> r = conn.sync();
        Http one = new Http(node.uri());
        one.apiKey = "k1";
        Http two = new Http(node.uri());
        two.apiKey = "k2";
        Http admin = new Http(node.uri());
        admin.apiKey = "root";
        String id = Http.json(one.post(new Http.Form().video(video).field("prompt", "x").field("steps", "2")))
            .get("id").getAsString();
        assertEquals("done", one.awaitFinished(id).get("status").getAsString());
        assertTrue(!r.hgetall("foley:job:" + id).toString().contains("k1"), "the key itself is not stored");

        // another key's job is unknown to it; an admin sees it
        for (String path : List.of("", "/events", "/audio", "/video")) {
          assertEquals(404, two.get("/v1/jobs/" + id + path).statusCode(), path);
        }
        assertEquals(404, two.delete("/v1/jobs/" + id).statusCode());
        assertEquals(200, admin.get("/v1/jobs/" + id).statusCode());
        HttpResponse<String> copy = two.post(new Http.Form().video(video).field("prompt", "x").field("steps", "2"));
        assertEquals(202, copy.statusCode(), "not another key's job: " + copy.body());

        // ids that name other Redis keys are 404, not a Redis type error
        for (String bad : List.of(id + ":events", id + ":finished", id + ":cancel")) {
          for (Http h : List.of(one, admin)) {
            HttpResponse<String> g = h.get("/v1/jobs/" + bad);
            assertEquals(404, g.statusCode(), bad + ": " + g.body());
            assertEquals(404, h.get("/v1/jobs/" + bad + "/events").statusCode(), bad);
            assertEquals(404, h.delete("/v1/jobs/" + bad).statusCode(), bad);
          }
        }

        // a malformed entry is acknowledged and dead-lettered; an open job it names fails with the reason
        String open = "f".repeat(32);
        JsonObject queued = new JsonObject();
        queued.addProperty("id", open);
        queued.addProperty("status", "queued");
        r.hset("foley:job:" + open, Map.of("json", queued.toString(), "status", "queued",
            "owner", FoleyService.tenantOf("k1")));
        r.xadd(RedisJobs.STREAM, Map.of("id", "../../etc/passwd", "steps", "2"));
        r.xadd(RedisJobs.STREAM, Map.of("id", open, "key", "k", "client", "c", "steps", "many", "cfg", "NaN",
            "seed", "0", "priority", "NORMAL"));
        TestSupport.awaitCondition("both bad entries dead-lettered", () -> r.xlen(RedisJobs.DEAD) == 2);
        TestSupport.awaitCondition("nothing left pending", () ->
            r.xpending(RedisJobs.STREAM, RedisJobs.GROUP).getCount() == 0);
        List<StreamMessage<String, String>> dead = r.xrange(RedisJobs.DEAD, io.lettuce.core.Range.create("-", "+"));
        assertTrue(dead.get(0).getBody().get("dead_reason").contains("field id"), dead.get(0).getBody().toString());
        assertTrue(dead.get(1).getBody().get("dead_reason").contains("field steps is \"many\""),
            dead.get(1).getBody().toString());
        JsonObject failed = one.awaitFinished(open);
        assertEquals("failed", failed.get("status").getAsString(), failed.toString());
        assertEquals("INVALID_ARGUMENT", failed.getAsJsonObject("error").get("code").getAsString());
        assertTrue(failed.getAsJsonObject("error").get("message").getAsString().contains("steps"), failed.toString());
      } finally {
        client.shutdown();
      }
    }
  }
}
