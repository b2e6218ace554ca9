package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.foley4j.TestSupport;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.video.SyntheticVideo;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real {@code foley serve} child JVM killed with SIGKILL (or stopped with SIGTERM and a 1 s drain)
 * while it has a job in every state (done, failed, cancelled, running, queued) and an upload half
 * received, then started again on the same data directory (docs/operations.md, "When a node dies"):
 *
 * <ul>
 *   <li>one node: its jobs lived in its memory and are gone (404); the restart deletes every upload,
 *       result and spilled upload part they left, and new jobs run;
 *   <li>with Redis: done, failed and cancelled jobs stay readable as they were (audio included);
 *       the queued job runs; the running job is reclaimed after the visibility timeout and runs
 *       again from the start; each ends once; the restart deletes the spilled part of the upload
 *       that was cut off.
 * </ul>
 */
class KillRestartTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"KILL", "TERM"})
  void oneNodeKilledOrStoppedForgetsItsJobsAndItsRestartDeletesWhatTheyLeft(String signal) throws Exception {
    Path video = clip();
    Path data = dir.resolve("data");
    Node node = Node.start(dir, data);
    Map<String, String> ids;
    try {
      Http h = new Http(node.uri);
      ids = everyState(h, data, "uploads/%s.mp4");
      assertTrue(files(data.resolve("tmp")) > 0, "the half-received upload's part was spilled to tmp/");
      assertTrue(files(data.resolve("uploads")) >= 3 && files(data.resolve("results")) >= 1, "files of the jobs");
      node.stop(signal);
    } finally {
      node.process.destroyForcibly();
    }
    Node again = Node.start(dir, data);
    try {
      Http h = new Http(again.uri);
      for (Map.Entry<String, String> e : ids.entrySet()) {
        assertEquals(404, h.get("/v1/jobs/" + e.getValue()).statusCode(), "the " + e.getKey() + " job died with its node");
      }
      // nothing the dead run left stays behind: before the fix every file here stayed forever
      assertEquals(0, files(data.resolve("uploads")), "uploads");
      assertEquals(0, files(data.resolve("results")), "results");
      assertEquals(0, files(data.resolve("tmp")), "spilled upload parts");
      assertTrue(again.output().contains("left by an earlier run of this node"), again.output());
      String id = accept(h, video, "after", 2);
      assertEquals("done", h.awaitFinished(id).get("status").getAsString());
    } finally {
      again.process.destroyForcibly();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"KILL", "TERM"})
  void aRedisNodeKilledOrStoppedAndRestartedKeepsFinishedJobsAndRunsTheRest(String signal) throws Exception {
    Path video = clip();
    Path data = dir.resolve("data");
    try (Redis redisServer = new Redis(dir)) {
      String[] redis = {"--redis", redisServer.uri(), "--node-id", "b", "--visibility-timeout", "PT2S",
          "--worker-jobs", "1"};
      Node node = Node.start(dir, data, redis);
      Map<String, String> ids;
      byte[] doneAudio;
      JsonObject failedBefore;
      try {
        Http h = new Http(node.uri);
        ids = everyState(h, data, "uploads/%s.mp4");
        assertTrue(files(data.resolve("tmp")) > 0, "the half-received upload's part was spilled");
        doneAudio = h.bytes("/v1/jobs/" + ids.get("done") + "/audio").body();
        failedBefore = Http.json(h.get("/v1/jobs/" + ids.get("failed")));
        assertEquals("running", json(h, ids.get("running")).get("status").getAsString(), "still running at the stop");
        node.stop(signal);
      } finally {
        node.process.destroyForcibly();
      }
      RedisClient client = RedisClient.create(redisServer.uri());
      // SIGTERM drains for 1 s: on a fast machine the running job may finish inside it (done and
      // acknowledged by b itself, nothing left to reclaim); SIGKILL never lets it finish
      boolean drained;
      try (StatefulRedisConnection<String, String> conn = client.connect()) {
        drained = conn.sync().lrange("foley:job:" + ids.get("running") + ":events", 0, -1).stream()
            .anyMatch(f -> f.startsWith("event: done"));
      }
      assertFalse(drained && signal.equals("KILL"), "a killed node finished its running job");
      Node again = Node.start(dir, data, redis);
      try (StatefulRedisConnection<String, String> conn = client.connect()) {
        RedisCommands<String, String> r = conn.sync();
        Http h = new Http(again.uri);
        // node b's own spill directory (tmp/b) is emptied at its start: before the fix the part stayed forever
        assertEquals(0, files(data.resolve("tmp")), "the cut-off upload's spilled part is deleted");
        // finished jobs are read as they were
        JsonObject done = Http.json(h.get("/v1/jobs/" + ids.get("done")));
        assertEquals("done", done.get("status").getAsString(), done.toString());
        assertArrayEquals(doneAudio, h.bytes("/v1/jobs/" + ids.get("done") + "/audio").body(), "the same WAV");
        assertEquals(200, h.bytes("/v1/jobs/" + ids.get("done") + "/video").statusCode());
        JsonObject failed = Http.json(h.get("/v1/jobs/" + ids.get("failed")));
        assertEquals("failed", failed.get("status").getAsString(), failed.toString());
        assertEquals(failedBefore.get("error").toString(), failed.get("error").toString());
        // the queued job runs, and the one that was running is reclaimed after the visibility timeout and run again
        for (String state : List.of("queued", "running")) {
          JsonObject j = h.awaitFinished(ids.get(state));
          assertEquals("done", j.get("status").getAsString(), state + ": " + j);
          assertEquals(200, h.bytes("/v1/jobs/" + ids.get(state) + "/audio").statusCode());
        }
        // the cancelled job stays cancelled: its stream entry is acknowledged without running it
        TestSupport.awaitCondition("nothing pending", () -> r.xpending(RedisJobs.STREAM, RedisJobs.GROUP).getCount() == 0);
        JsonObject cancelled = Http.json(h.get("/v1/jobs/" + ids.get("cancelled")));
        assertEquals("cancelled", cancelled.get("status").getAsString(), cancelled.toString());
        for (Map.Entry<String, String> e : ids.entrySet()) {
          List<String> frames = r.lrange("foley:job:" + e.getValue() + ":events", 0, -1);
          long terminal = frames.stream().filter(f -> f.startsWith("event: done") || f.startsWith("event: failed")
              || f.startsWith("event: cancelled")).count();
          assertEquals(1, terminal, "the " + e.getKey() + " job ended exactly once: " + frames);
        }
        if (!drained) {
          assertTrue(again.output().contains("reclaimed"), "the running job was reclaimed:\n" + again.output());
        }
      } finally {
        again.process.destroyForcibly();
        client.shutdown();
      }
    }
  }

  /**
   * Brings the node to one job in every state, one job at a time (the node runs one), and leaves an
   * upload half received: done; failed (its upload deleted while it waited, so it cannot open its
   * video); cancelled (DELETE while it waited); running (many steps, some done); queued behind it.
   */
  private Map<String, String> everyState(Http h, Path data, String uploadPattern) throws Exception {
    Path video = dir.resolve("clip.mp4");
    String done = accept(h, video, "done", 40);
    String failed = accept(h, video, "failed", 2); // waits behind 'done'
    Files.delete(data.resolve(String.format(uploadPattern, failed)));
    assertEquals("done", h.awaitFinished(done).get("status").getAsString());
    JsonObject f = h.awaitFinished(failed);
    assertEquals("failed", f.get("status").getAsString(), f.toString());
    Socket half = halfUpload(h.base);
    TestSupport.awaitCondition("the half upload's part is spilled", () -> files(data.resolve("tmp")) > 0);
    // long enough that it still runs when the test stops the node, however loaded the machine (300 steps
    // finished before a SIGTERM on a busy CI runner, leaving nothing to reclaim)
    String running = accept(h, video, "running", 800);
    String queued = accept(h, video, "queued", 3);
    String cancelled = accept(h, video, "cancelled", 3);
    assertEquals(200, h.delete("/v1/jobs/" + cancelled).statusCode());
    TestSupport.awaitCondition("the long job runs", () -> {
      JsonObject j = json(h, running);
      return j.get("status").getAsString().equals("running")
          && j.getAsJsonObject("progress").get("stepsDone").getAsInt() > 0;
    });
    assertEquals("queued", json(h, queued).get("status").getAsString());
    assertEquals("cancelled", json(h, cancelled).get("status").getAsString());
    assertTrue(!half.isClosed());
    return Map.of("done", done, "failed", failed, "cancelled", cancelled, "running", running, "queued", queued);
  }

  private static JsonObject json(Http h, String id) {
    try {
      return Http.json(h.get("/v1/jobs/" + id));
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** A POST whose video part is sent in part (256 KB of a declared 8 MB) and then left open. */
  private static Socket halfUpload(URI base) throws IOException {
    Socket s = new Socket(base.getHost(), base.getPort());
    String head = "--half\r\nContent-Disposition: form-data; name=\"video\"; filename=\"v.mp4\"\r\n"
        + "Content-Type: video/mp4\r\n\r\n";
    OutputStream out = s.getOutputStream();
    out.write(("POST /v1/jobs HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort() + "\r\n"
        + "Content-Type: multipart/form-data; boundary=half\r\nContent-Length: " + (8 << 20) + "\r\n\r\n" + head)
        .getBytes(StandardCharsets.US_ASCII));
    out.write(new byte[256 << 10]);
    out.flush();
    return s;
  }

  private Path clip() throws IOException {
    Path video = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1).flash(0.3, 0.1, 0xFFFFFF).build(), video);
    return video;
  }

  /** Regular files under {@code d} (0 when it does not exist). */
  private static long files(Path d) {
    if (!Files.isDirectory(d)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(d)) {
      return s.filter(Files::isRegularFile).count();
    } catch (IOException | java.io.UncheckedIOException e) {
      return files(d);
    }
  }

  private static String accept(Http h, Path video, String prompt, int steps) throws Exception {
    HttpResponse<String> r = h.post(new Http.Form().video(video).field("prompt", prompt)
        .field("steps", Integer.toString(steps)));
    assertEquals(202, r.statusCode(), r.body());
    return Http.json(r).get("id").getAsString();
  }

  /** A {@code foley serve} child JVM running one job at a time. */
  private record Node(Process process, URI uri, ServeProcess serve) {
    /**
     * {@code KILL}: SIGKILL, as {@code kill -9}: no drain, nothing written at exit. {@code TERM}: the
     * graceful shutdown, with the node's 1 s drain (the running and queued jobs are cancelled, or
     * handed back with Redis; the half upload is given up).
     */
    void stop(String signal) throws Exception {
      serve.signal(signal);
      assertTrue(process.waitFor(2, TimeUnit.MINUTES));
      assertEquals(signal.equals("KILL") ? 137 : 0, process.exitValue(), "exit after SIG" + signal + ":\n" + output());
    }

    String output() {
      return serve.output();
    }

    static Node start(Path work, Path data, String... more) throws Exception {
      List<String> args = new ArrayList<>(List.of("--data-dir", data.toString(), "--max-concurrent", "1",
          "--drain-timeout", "PT1S", "--warm-up", "none", "--bundle", TestSupport.referenceBundleDir().toString()));
      args.addAll(List.of(more));
      ServeProcess s = ServeProcess.start(work, List.of(), args);
      // ready: the engine is built (jobs are accepted)
      Http h = new Http(s.uri());
      TestSupport.awaitCondition("foley serve is ready", () -> {
        try {
          return h.get("/health/ready").statusCode() == 200;
        } catch (IOException | InterruptedException e) {
          return false;
        }
      });
      return new Node(s.process(), s.uri(), s);
    }
  }
}
