package io.foley4j.server;

import io.foley4j.jcodec.JcodecVideoSources;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSources;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.models.stream.PendingMessage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two service JVMs on one Redis stream: this one and a child process. The child is killed with
 * SIGKILL while it holds jobs; every job still completes once, with the right audio.
 */
class TwoNodesTest {
  static final int JOBS = 8;
  static final int STEPS = 40;
  @TempDir Path dir;

  @Test
  void aNodeKilledMidJobLosesNothingAndDoublesNothing() throws Exception {
    Path shared = dir.resolve("shared");
    Path video = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1.5).flash(0.4, 0.1, 0xFFFFFF).movingSquare(0.8, 1.4, 0x00FF00)
        .build(), video);
    try (Redis redisServer = new Redis(dir);
         ModelBundle bundle = TestSupport.referenceBundle()) {
      ServiceConfig config = ServiceConfig.defaults(shared)
          .withRedis(URI.create(redisServer.uri()), "a", Duration.ofSeconds(2)).withWorkerJobs(2);
      Process child = startChild(redisServer.uri(), shared);
      RedisClient client = RedisClient.create(redisServer.uri());
      try (FoleyService a = FoleyService.start(config, FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()),
               JcodecVideoSources.jcodec());
           StatefulRedisConnection<String, String> conn = client.connect()) {
        RedisCommands<String, String> redis = conn.sync();
        Http viaA = new Http(a.uri());
        Http viaB = new Http(awaitListening(child));

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < JOBS; i++) {
          Http node = i % 2 == 0 ? viaA : viaB;
          HttpResponse<String> r = node.post(new Http.Form().video(video).field("prompt", "tap " + i)
              .field("steps", Integer.toString(STEPS)).field("seed", Integer.toString(i)));
          assertEquals(202, r.statusCode(), r.body());
          ids.add(Http.json(r).get("id").getAsString());
        }
        // foley serve warms up with a whole request by default (WarmUp.FULL), and logs its readiness
        long logWait = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!nodeBLog.toString().contains("engine ready: ") && System.nanoTime() < logWait) {
          Thread.sleep(20);
        }
        java.util.regex.Matcher warm = java.util.regex.Pattern.compile("engine ready: build [0-9.]+ ms \\(warm-up [0-9.]+"
            + " ms, warm-up request ([0-9.]+) ms\\)").matcher(nodeBLog);
        assertTrue(warm.find(), "node b's readiness line:\n" + nodeBLog);
        assertTrue(Double.parseDouble(warm.group(1)) > 0, "node b ran its warm-up request: " + warm.group());

        // status from any node: a job submitted through A, read through B
        assertEquals(200, viaB.get("/v1/jobs/" + ids.get(0)).statusCode());

        // wait until B holds jobs, then kill it without warning
        Set<String> heldByB = new HashSet<>();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (heldByB.isEmpty() && System.nanoTime() < deadline) {
          for (PendingMessage p : redis.xpending(RedisJobs.STREAM, RedisJobs.GROUP, Range.create("-", "+"),
              Limit.from(100))) {
            if (p.getConsumer().equals("b")) {
              heldByB.add(p.getId());
            }
          }
          if (heldByB.isEmpty()) {
            Thread.sleep(20);
          }
        }
        assertFalse(heldByB.isEmpty(), "node b took jobs from the stream");
        child.destroyForcibly(); // SIGKILL on Linux
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, child.exitValue(), "killed by SIGKILL");

        // every job finishes, read through the surviving node
        List<JsonObject> done = new ArrayList<>();
        for (String id : ids) {
          JsonObject j = viaA.awaitFinished(id);
          assertEquals("done", j.get("status").getAsString(), j.toString());
          done.add(j);
        }
        // none lost: nothing left pending; none doubled: one terminal event per job, recorded once
        assertEquals(0L, redis.xpending(RedisJobs.STREAM, RedisJobs.GROUP).getCount(), "all acknowledged");
        int reclaimed = 0;
        for (String id : ids) {
          List<String> frames = redis.lrange("foley:job:" + id + ":events", 0, -1);
          long terminal = frames.stream().filter(f -> f.startsWith("event: done") || f.startsWith("event: failed")
              || f.startsWith("event: cancelled")).count();
          assertEquals(1, terminal, "job " + id + " ended exactly once");
          assertTrue(frames.get(frames.size() - 1).startsWith("event: done"), "done is the last event");
        }
        // the jobs b held at its death were finished by a
        for (String entry : heldByB) {
          String jobId = redis.xrange(RedisJobs.STREAM, Range.create(entry, entry)).get(0).getBody().get("id");
          assertEquals("a", redis.hget("foley:job:" + jobId, "node"), "job " + jobId + " was reclaimed by a");
          reclaimed++;
        }
        assertTrue(reclaimed >= 1);

        // SSE from the surviving node for a job submitted through the dead one
        HttpResponse<java.io.InputStream> sse = viaA.client.send(viaA.request("/v1/jobs/" + ids.get(1) + "/events")
            .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        String last = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
          for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith("event: ")) {
              last = line;
            }
          }
        }
        assertEquals("event: done", last);

        // correct audio: each result equals the same request run on an engine of its own
        try (FoleyEngine alone = FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()).build()) {
          for (int i = 0; i < JOBS; i++) {
            short[] served = Http.wavSamples(viaA.bytes("/v1/jobs/" + ids.get(i) + "/audio").body());
            float[] ref = alone.generate(FoleyRequest.builder(video).prompt("tap " + i).steps(STEPS).seed(i).build())
                .toArray();
            assertEquals(ref.length, served.length, "exact length");
            assertEquals(72_000, served.length);
            for (int k = 0; k < ref.length; k++) {
              int q = (int) Math.max(-32768, Math.min(32767, Math.round(ref[k] * 32767.0)));
              if (Math.abs(q - served[k]) > 2) {
                throw new AssertionError("job " + i + " sample " + k + ": " + served[k] + " instead of " + q);
              }
            }
          }
        }
      } finally {
        child.destroyForcibly();
        client.shutdown();
      }
    }
  }

  /** Node b's output apart from the listening line (the first 20 000 characters). */
  private static final StringBuffer nodeBLog = new StringBuffer();

  private Process startChild(String redisUri, Path shared) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = List.of(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
        "io.foley4j.cli.FoleyCli", "serve", "--port", "0", "--redis", redisUri, "--node-id", "b",
        "--data-dir", shared.toString(), "--visibility-timeout", "PT2S", "--max-concurrent", "2",
        "--bundle", TestSupport.referenceBundleDir().toString());
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** Reads the child's output until it says where it listens; keeps draining it afterwards. */
  private static URI awaitListening(Process child) throws Exception {
    CompletableFuture<URI> uri = new CompletableFuture<>();
    StringBuffer log = nodeBLog;
    Thread t = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.startsWith("foley serve: listening on ")) {
            uri.complete(URI.create(line.substring("foley serve: listening on ".length()).split(" ")[0]));
          } else if (log.length() < 20_000) {
            log.append(line).append('\n');
          }
        }
      } catch (java.io.IOException ignored) {
        // the child died
      }
      uri.completeExceptionally(new AssertionError("node b exited before listening:\n" + log));
    }, "node-b-output");
    t.setDaemon(true);
    t.start();
    return uri.get(2, TimeUnit.MINUTES);
  }
}
