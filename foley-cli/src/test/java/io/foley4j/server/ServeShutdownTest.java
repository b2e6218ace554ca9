package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.foley4j.FoleyEngine;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.jcodec.JcodecVideoSources;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.video.SyntheticVideo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a real {@code foley serve} process while a long job runs and others wait: the JVM
 * exits 0 without a crash (no hs_err file), and every accepted job gets a final SSE event. ONNX
 * Runtime's own shutdown hook frees its native environment, so the drain must be over (every
 * session closed) before the JVM's shutdown starts; repeated to catch the race.
 */
class ServeShutdownTest {
  @TempDir Path dir;

  @Test
  void sigtermWhileAJobRunsFinishesEveryAcceptedJobAndExitsCleanly() throws Exception {
    Path video = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1.5).flash(0.4, 0.1, 0xFFFFFF).build(), video);
    for (int run = 0; run < 3; run++) {
      Path work = dir.resolve("run" + run);
      Files.createDirectories(work);
      Node node = Node.start(work, "PT3M");
      try {
        Http h = new Http(node.uri);
        List<String> ids = new ArrayList<>();
        ids.add(accept(h, video, "long", 150));
        ids.add(accept(h, video, "queued a", 4));
        ids.add(accept(h, video, "queued b", 4));
        List<CompletableFuture<String>> lastEvents = new ArrayList<>();
        for (String id : ids) {
          lastEvents.add(lastEvent(h, id));
        }
        awaitRunning(h, ids.get(0));
        node.sigterm();
        assertTrue(node.process.waitFor(4, TimeUnit.MINUTES), "foley serve exits after SIGTERM");
        String log = node.output() + crashReport(work);
        assertEquals(0, node.process.exitValue(), "exit code after SIGTERM; output:\n" + log);
        assertFalse(log.contains("SIGSEGV") || log.contains("A fatal error has been detected"), log);
        assertTrue(log.contains("foley serve: stopping (SIGTERM)"), log);
        assertTrue(log.contains("foley serve: stopped"), "the drain ran to its end before the JVM's shutdown:\n" + log);
        try (Stream<Path> files = Files.list(work)) {
          assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith("hs_err")).toList(),
              "no JVM crash report");
        }
        for (int i = 0; i < ids.size(); i++) {
          String last = lastEvents.get(i).get(1, TimeUnit.MINUTES);
          assertEquals("event: done", last, "run " + run + ": the final event of job " + ids.get(i) + "\n" + log);
          assertTrue(Files.size(work.resolve("data/results/" + ids.get(i) + ".wav")) > 44, "its WAV was stored");
        }
      } finally {
        node.process.destroyForcibly();
      }
    }
  }

  @Test
  void sigtermWithAShortDrainCancelsWhatIsLeftWithAFinalEvent() throws Exception {
    Path video = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1.5).flash(0.4, 0.1, 0xFFFFFF).build(), video);
    Node node = Node.start(dir, "PT0.5S");
    try {
      Http h = new Http(node.uri);
      List<String> ids = List.of(accept(h, video, "long", 1000), accept(h, video, "queued", 1000));
      List<CompletableFuture<String>> lastEvents = List.of(lastEvent(h, ids.get(0)), lastEvent(h, ids.get(1)));
      awaitRunning(h, ids.get(0));
      node.sigterm();
      assertTrue(node.process.waitFor(2, TimeUnit.MINUTES), "foley serve exits after SIGTERM");
      String log = node.output() + crashReport(dir);
      assertEquals(0, node.process.exitValue(), "exit code after SIGTERM; output:\n" + log);
      try (Stream<Path> files = Files.list(dir)) {
        assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith("hs_err")).toList());
      }
      for (CompletableFuture<String> last : lastEvents) {
        assertEquals("event: cancelled", last.get(1, TimeUnit.MINUTES), log);
      }
    } finally {
      node.process.destroyForcibly();
    }
  }

  /** The head of a JVM crash report in {@code dir}, if there is one (what crashed, and where). */
  private static String crashReport(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      StringBuilder out = new StringBuilder();
      for (Path p : files.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList()) {
        List<String> lines = Files.readAllLines(p, StandardCharsets.ISO_8859_1);
        out.append("\n--- ").append(p.getFileName()).append('\n')
            .append(String.join("\n", lines.subList(0, Math.min(80, lines.size()))));
      }
      return out.toString();
    }
  }

  @Test
  void sigtermOnARedisNodeHandsItsJobsBackToAnotherNode() throws Exception {
    Path video = dir.resolve("clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(1).flash(0.3, 0.1, 0xFFFFFF).build(), video);
    // the job SIGTERM finds running must outlast the 0.5 s drain by far: 300 steps of a 1 s clip once
    // finished inside it on CI (no hand-back to check); 1000 steps of a 6 s clip take seconds
    Path longVideo = dir.resolve("long.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(6).flash(0.3, 0.1, 0xFFFFFF).build(), longVideo);
    try (Redis redis = new Redis(dir);
         ModelBundle bundle = TestSupport.referenceBundle()) {
      // node b alone (a child JVM, one job at a time, a short drain): it holds the long job, the other waits
      Node b = Node.start(dir, "PT0.5S", "--redis", redis.uri(), "--node-id", "b", "--visibility-timeout", "PT2S",
          "--worker-jobs", "1");
      List<String> ids;
      try {
        Http viaB = new Http(b.uri);
        ids = List.of(accept(viaB, longVideo, "long", 1000), accept(viaB, video, "queued", 3));
        awaitRunning(viaB, ids.get(0));
        b.sigterm();
        assertTrue(b.process.waitFor(2, TimeUnit.MINUTES), "foley serve exits after SIGTERM");
        String log = b.output() + crashReport(dir);
        assertEquals(0, b.process.exitValue(), "exit code after SIGTERM; output:\n" + log);
        assertTrue(log.contains("handing back job " + ids.get(0)), log);
      } finally {
        b.process.destroyForcibly();
      }
      // node a (this JVM) reclaims the handed-back job after the visibility timeout and takes the queued one
      ServiceConfig config = ServiceConfig.defaults(dir.resolve("data"))
          .withRedis(URI.create(redis.uri()), "a", Duration.ofSeconds(2)).withWorkerJobs(2);
      try (FoleyService a = FoleyService.start(config, FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()),
          JcodecVideoSources.jcodec())) {
        Http viaA = new Http(a.uri());
        for (String id : ids) {
          assertEquals("done", viaA.awaitFinished(id).get("status").getAsString(), "job " + id);
          assertEquals("event: done", lastEvent(viaA, id).get(1, TimeUnit.MINUTES), "the SSE stream of " + id);
        }
      }
    }
  }

  private static String accept(Http h, Path video, String prompt, int steps) throws Exception {
    HttpResponse<String> r = h.post(new Http.Form().video(video).field("prompt", prompt)
        .field("steps", Integer.toString(steps)));
    assertEquals(202, r.statusCode(), r.body());
    return Http.json(r).get("id").getAsString();
  }

  private static void awaitRunning(Http h, String id) throws Exception {
    TestSupport.awaitCondition("job " + id + " runs", () -> {
      try {
        JsonObject j = Http.json(h.get("/v1/jobs/" + id));
        return j.get("status").getAsString().equals("running")
            && j.getAsJsonObject("progress").get("stepsDone").getAsInt() > 0;
      } catch (IOException | InterruptedException e) {
        throw new AssertionError(e);
      }
    });
  }

  /** Follows a job's SSE stream to its end; completes with its last {@code event:} line (null if none). */
  private static CompletableFuture<String> lastEvent(Http h, String id) {
    return CompletableFuture.supplyAsync(() -> {
      String last = null;
      try {
        HttpResponse<java.io.InputStream> sse = h.client.send(h.request("/v1/jobs/" + id + "/events")
            .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader in = new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
          for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith("event: ")) {
              last = line;
            }
          }
        }
      } catch (IOException | InterruptedException e) {
        // the stream was cut: what was read so far counts
      }
      return last;
    });
  }

  /** A {@code foley serve} child JVM with its working directory in {@code work}. */
  private record Node(Process process, URI uri, ServeProcess serve) {
    void sigterm() throws IOException, InterruptedException {
      serve.signal("TERM");
    }

    /** Everything the process wrote, once it has ended. */
    String output() throws InterruptedException {
      return serve.outputAtEnd();
    }

    static Node start(Path work, String drain, String... more) throws Exception {
      List<String> args = new ArrayList<>(List.of("--data-dir", work.resolve("data").toString(), "--max-concurrent",
          "1", "--drain-timeout", drain, "--warm-up", "none", "--bundle", TestSupport.referenceBundleDir().toString()));
      args.addAll(List.of(more));
      ServeProcess s = ServeProcess.start(work, List.of("-XX:ErrorFile=" + work.resolve("hs_err_pid%p.log")), args);
      return new Node(s.process(), s.uri(), s);
    }
  }
}
