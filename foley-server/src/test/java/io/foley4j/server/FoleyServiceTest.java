package io.foley4j.server;

import io.foley4j.jcodec.JcodecVideoSources;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import io.foley4j.video.VideoSources;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every endpoint and status code of foley serve, over real HTTP, on the reference model. */
class FoleyServiceTest {
  static final double SECONDS = 1.5;
  @TempDir static Path dir;
  static ModelBundle bundle;
  static FoleyService service;
  static Http http;
  static Path video;

  @BeforeAll
  static void start() throws Exception {
    bundle = TestSupport.referenceBundle();
    video = dir.resolve("flash.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().durationSeconds(SECONDS).flash(0.5, 0.1, 0xFFFFFF).build(), video);
    service = start(ServiceConfig.defaults(dir.resolve("main")), b -> b);
    http = new Http(service.uri());
  }

  @AfterAll
  static void stop() {
    if (service != null) {
      service.close();
    }
    if (bundle != null) {
      bundle.close();
    }
  }

  static FoleyService start(ServiceConfig config,
      java.util.function.UnaryOperator<FoleyEngine.Builder> tune) {
    return FoleyService.start(config, tune.apply(FoleyEngine.builder().bundle(bundle).backend(Backends.cpu())),
        JcodecVideoSources.jcodec());
  }

  static Http.Form job(String prompt, int seed) throws Exception {
    return new Http.Form().video(video).field("prompt", prompt).field("steps", "2").field("seed",
        Integer.toString(seed));
  }

  @Test
  void aJobRunsToTheSameAudioAsTheEngineAloneAndAnIdenticalOneIsAnsweredAtOnce() throws Exception {
    HttpResponse<String> r = http.post(job("footsteps", 11).field("priority", "high").field("cfg", "3.5"));
    assertEquals(202, r.statusCode(), r.body());
    JsonObject accepted = Http.json(r);
    String id = accepted.get("id").getAsString();
    assertTrue(Set.of("queued", "running").contains(accepted.get("status").getAsString()), r.body());
    assertEquals("/v1/jobs/" + id, r.headers().firstValue("Location").orElseThrow());
    assertTrue(accepted.getAsJsonObject("progress").get("fraction").getAsDouble() < 1.0, r.body());

    JsonObject done = http.awaitFinished(id);
    assertEquals("done", done.get("status").getAsString(), done.toString());
    long expectedSamples = Math.round(SECONDS * 48_000);
    assertEquals(expectedSamples, done.get("sampleCount").getAsLong(), "exact length");
    assertTrue(done.getAsJsonObject("timingsMs").get("denoise").getAsDouble() > 0, done.toString());
    assertEquals(1.0, done.getAsJsonObject("progress").get("fraction").getAsDouble());

    HttpResponse<byte[]> wav = http.bytes("/v1/jobs/" + id + "/audio");
    assertEquals(200, wav.statusCode());
    assertEquals("audio/wav", wav.headers().firstValue("Content-Type").orElseThrow());
    short[] served = Http.wavSamples(wav.body());
    assertEquals(expectedSamples, served.length);
    // the same request run on an engine of its own gives the same audio (16-bit quantised)
    try (FoleyEngine alone = FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()).build()) {
      FoleyResult ref = alone.generate(FoleyRequest.builder(video).prompt("footsteps").steps(2).seed(11)
          .cfgScale(3.5).build());
      float[] x = ref.toArray();
      int loud = 0;
      for (int i = 0; i < x.length; i++) {
        int q = (int) Math.max(-32768, Math.min(32767, Math.round(x[i] * 32767.0)));
        assertTrue(Math.abs(q - served[i]) <= 2, "sample " + i + ": " + q + " vs " + served[i]);
        loud += Math.abs(served[i]) > 100 ? 1 : 0;
      }
      assertTrue(loud > 100, "the flash makes sound");
    }

    HttpResponse<String> again = http.post(job("footsteps", 11).field("priority", "high").field("cfg", "3.5"));
    assertEquals(200, again.statusCode(), again.body());
    assertEquals(id, Http.json(again).get("id").getAsString());
    assertEquals("done", Http.json(again).get("status").getAsString());
    TestSupport.awaitCondition("Jetty's spilled upload parts are deleted", () -> {
      try (var files = Files.list(dir.resolve("main").resolve("tmp"))) {
        return files.count() == 0;
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  @Test
  void requestsThatDifferWhereANulFallsOrInANullNegativePromptAreTwoJobs() throws Exception {
    HttpResponse<String> first = http.post(job("x\u0000y", 31).field("negative_prompt", "z"));
    assertEquals(202, first.statusCode(), first.body());
    String a = Http.json(first).get("id").getAsString();
    assertEquals("done", http.awaitFinished(a).get("status").getAsString());
    HttpResponse<String> shifted = http.post(job("x", 31).field("negative_prompt", "y\u0000z"));
    assertEquals(202, shifted.statusCode(), "another request, not the earlier job: " + shifted.body());
    assertFalse(a.equals(Http.json(shifted).get("id").getAsString()));

    String plain = Http.json(http.post(job("nulls", 32))).get("id").getAsString();
    assertEquals("done", http.awaitFinished(plain).get("status").getAsString());
    HttpResponse<String> literal = http.post(job("nulls", 32).field("negative_prompt", "null"));
    assertEquals(202, literal.statusCode(), "the negative prompt \"null\" is not \"none\": " + literal.body());
    HttpResponse<String> same = http.post(job("nulls", 32));
    assertEquals(200, same.statusCode(), same.body());
    assertEquals(plain, Http.json(same).get("id").getAsString());
  }

  @Test
  void nonFiniteNumbersAre400NamingTheField() throws Exception {
    for (String cfg : List.of("NaN", "Infinity", "-Infinity", "1e999")) {
      HttpResponse<String> r = http.post(job("x", 1).field("cfg", cfg));
      assertEquals(400, r.statusCode(), cfg + ": " + r.body());
      JsonObject err = Http.json(r).getAsJsonObject("error");
      assertEquals("INVALID_ARGUMENT", err.get("code").getAsString());
      assertTrue(err.get("message").getAsString().contains("cfg must be a finite number"), r.body());
    }
  }

  @Test
  void malformedJobIdsAre404() throws Exception {
    String id = Http.json(http.post(job("ids", 41))).get("id").getAsString();
    for (String bad : List.of(id + ":events", id + ":finished", "nope", id.toUpperCase(java.util.Locale.ROOT))) {
      HttpResponse<String> r = http.get("/v1/jobs/" + bad);
      assertEquals(404, r.statusCode(), bad + ": " + r.body());
      assertEquals("NOT_FOUND", Http.json(r).getAsJsonObject("error").get("code").getAsString());
      assertEquals(404, http.delete("/v1/jobs/" + bad).statusCode(), bad);
    }
  }

  @Test
  void jobsBelongToTheKeyThatCreatedThemAndAnAdminKeySeesAll() throws Exception {
    try (FoleyService keyed = start(ServiceConfig.defaults(dir.resolve("tenants")).withApiKeys(Set.of("k1", "k2"))
        .withAdminKeys(Set.of("root")), b -> b)) {
      Http one = new Http(keyed.uri());
      one.apiKey = "k1";
      Http two = new Http(keyed.uri());
      two.apiKey = "k2";
      Http admin = new Http(keyed.uri());
      admin.apiKey = "root";
      String id = Http.json(one.post(job("mine", 51))).get("id").getAsString();
      assertEquals("done", one.awaitFinished(id).get("status").getAsString());
      String unknown = "0".repeat(32);
      for (String path : List.of("", "/events", "/audio", "/audio?format=flac", "/video")) {
        HttpResponse<String> other = two.get("/v1/jobs/" + id + path);
        assertEquals(404, other.statusCode(), path + ": " + other.body());
        assertEquals(Http.json(two.get("/v1/jobs/" + unknown)).toString().replace(unknown, "ID"),
            Http.json(other).toString().replace(id, "ID"), "the same answer as for a job that does not exist");
      }
      assertEquals(404, two.delete("/v1/jobs/" + id).statusCode());
      HttpResponse<String> copy = two.post(job("mine", 51));
      assertEquals(202, copy.statusCode(), "not answered with another key's job: " + copy.body());
      assertFalse(id.equals(Http.json(copy).get("id").getAsString()));

      assertEquals(200, one.get("/v1/jobs/" + id).statusCode());
      assertEquals(200, admin.get("/v1/jobs/" + id).statusCode(), "an admin key sees every key's jobs");
      short[] audio = Http.wavSamples(admin.bytes("/v1/jobs/" + id + "/audio").body());
      assertEquals(Math.round(48_000 * SECONDS), audio.length);
      String theirs = Http.json(two.post(new Http.Form().video(video).field("prompt", "long").field("steps", "400")))
          .get("id").getAsString();
      assertEquals(404, one.delete("/v1/jobs/" + theirs).statusCode());
      assertEquals(200, admin.delete("/v1/jobs/" + theirs).statusCode(), "an admin may cancel any job");
      assertEquals("cancelled", two.awaitFinished(theirs).get("status").getAsString());
    }
  }

  @Test
  void aVideoOverTheDurationLimitIsRefusedAtOnce() throws Exception {
    Path data = dir.resolve("short-videos");
    try (FoleyService s = start(ServiceConfig.defaults(data).withMaxVideoDuration(Duration.ofSeconds(1)), b -> b)) {
      HttpResponse<String> r = new Http(s.uri()).post(job("long", 1));
      assertEquals(400, r.statusCode(), r.body());
      JsonObject err = Http.json(r).getAsJsonObject("error");
      assertEquals("UNSUPPORTED_VIDEO", err.get("code").getAsString());
      assertTrue(err.get("message").getAsString().contains("lasts 1.5 s, longer than this service's limit of 1.0 s"),
          r.body());
      assertTrue(err.get("message").getAsString().contains("--max-video-duration"), r.body());
      try (var files = Files.list(data.resolve("uploads"))) {
        assertEquals(0, files.count(), "nothing is kept of a refused upload");
      }
    }
  }

  @Test
  void eventsStreamProgressChunksThatTileTheAudioAndDone() throws Exception {
    String id = Http.json(http.post(job("rain", 3))).get("id").getAsString();
    HttpResponse<java.io.InputStream> r = http.client.send(http.request("/v1/jobs/" + id + "/events")
        .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"));
    List<String[]> events = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String event = null;
      for (String line; (line = in.readLine()) != null; ) {
        if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ")) {
          events.add(new String[] {event, line.substring(6)});
        }
      }
    }
    assertTrue(events.stream().anyMatch(e -> e[0].equals("progress")), "progress events");
    String[] last = events.get(events.size() - 1);
    assertEquals("done", last[0], "the stream ends with done");
    long total = JsonParser.parseString(last[1]).getAsJsonObject().get("sampleCount").getAsLong();
    long next = 0;
    for (String[] e : events) {
      if (e[0].equals("chunk")) {
        JsonObject c = JsonParser.parseString(e[1]).getAsJsonObject();
        assertEquals(next, c.get("offset").getAsLong(), "chunks in order, without gaps");
        next += c.get("length").getAsLong();
      }
    }
    assertEquals(total, next, "chunks tile the whole audio");
  }

  @Test
  void variantsAreOneJobWithAResultAndChunksPerVariantEachItsSeedAlone() throws Exception {
    String id = Http.json(http.post(job("glass", 20).field("variants", "3"))).get("id").getAsString();
    HttpResponse<java.io.InputStream> r = http.client.send(http.request("/v1/jobs/" + id + "/events")
        .header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    List<String[]> events = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String event = null;
      for (String line; (line = in.readLine()) != null; ) {
        if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("data: ")) {
          events.add(new String[] {event, line.substring(6)});
        }
      }
    }
    String[] last = events.get(events.size() - 1);
    assertEquals("done", last[0], String.join(" ", last));
    JsonObject done = JsonParser.parseString(last[1]).getAsJsonObject();
    long total = done.get("sampleCount").getAsLong();
    long[] next = new long[3];
    for (String[] e : events) {
      if (e[0].equals("chunk")) {
        JsonObject c = JsonParser.parseString(e[1]).getAsJsonObject();
        int v = c.get("variant").getAsInt();
        assertEquals(next[v], c.get("offset").getAsLong(), "variant " + v + "'s chunks in order, without gaps");
        next[v] += c.get("length").getAsLong();
      }
    }
    assertArrayEquals(new long[] {total, total, total}, next, "each variant's chunks tile its audio");

    com.google.gson.JsonArray variants = done.getAsJsonArray("variants");
    assertEquals(3, variants.size(), done.toString());
    for (int v = 0; v < 3; v++) {
      JsonObject one = variants.get(v).getAsJsonObject();
      assertEquals(v, one.get("variant").getAsInt());
      assertEquals(20 + v, one.get("seed").getAsLong());
      HttpResponse<byte[]> wav = http.bytes(one.get("audio").getAsString());
      assertEquals(200, wav.statusCode(), one.toString());
      assertEquals(total, Http.wavSamples(wav.body()).length, "exact length");
      // the same job with one variant and that seed: the same WAV, byte for byte
      String single = Http.json(http.post(job("glass", 20 + v))).get("id").getAsString();
      assertEquals("done", http.awaitFinished(single).get("status").getAsString());
      assertArrayEquals(http.bytes("/v1/jobs/" + single + "/audio").body(), wav.body(), "variant " + v);
    }
    assertArrayEquals(http.bytes("/v1/jobs/" + id + "/audio").body(), http.bytes("/v1/jobs/" + id + "/audio?variant=0")
        .body(), "no variant given: variant 0");
    assertEquals(200, http.bytes("/v1/jobs/" + id + "/video?variant=2").statusCode());
    assertEquals(200, http.bytes("/v1/jobs/" + id + "/audio?variant=1&format=flac").statusCode());
    assertEquals(404, http.bytes("/v1/jobs/" + id + "/audio?variant=3").statusCode(), "the job has 3 variants");
    assertEquals(400, http.bytes("/v1/jobs/" + id + "/audio?variant=x").statusCode());

    HttpResponse<String> again = http.post(job("glass", 20).field("variants", "3"));
    assertEquals(200, again.statusCode(), "an identical job is answered at once");
    assertEquals(id, Http.json(again).get("id").getAsString());
    HttpResponse<String> two = http.post(job("glass", 20).field("variants", "2"));
    assertEquals(202, two.statusCode(), "another count is another job: " + two.body());
    HttpResponse<String> nine = http.post(job("glass", 20).field("variants", "9"));
    assertEquals(400, nine.statusCode(), nine.body());
    assertTrue(nine.body().contains("variants must be between 1 and 8"), nine.body());
  }

  @Test
  void theVideoComesBackWithItsNewSound() throws Exception {
    String id = Http.json(http.post(job("glass", 5))).get("id").getAsString();
    assertEquals("done", http.awaitFinished(id).get("status").getAsString());
    HttpResponse<byte[]> mov = http.bytes("/v1/jobs/" + id + "/video");
    assertEquals(200, mov.statusCode());
    assertEquals("video/quicktime", mov.headers().firstValue("Content-Type").orElseThrow());
    Path out = dir.resolve("back.mov");
    Files.write(out, mov.body());
    if (TestSupport.ffmpegAvailable()) {
      String streams = TestSupport.run("ffprobe", "-v", "error", "-show_entries", "stream=codec_type",
          "-of", "csv=p=0", out.toString());
      assertTrue(streams.contains("video") && streams.contains("audio"), streams);
    }
    assertTrue(new String(mov.body(), StandardCharsets.ISO_8859_1).contains("sowt"), "a PCM audio track");
  }

  @Test
  void theAudioComesAsFlacOrM4aOnRequest() throws Exception {
    String id = Http.json(http.post(job("rain", 6))).get("id").getAsString();
    assertEquals("done", http.awaitFinished(id).get("status").getAsString());
    short[] wav = Http.wavSamples(http.bytes("/v1/jobs/" + id + "/audio").body());
    HttpResponse<byte[]> flac = http.bytes("/v1/jobs/" + id + "/audio?format=flac");
    assertEquals(200, flac.statusCode(), () -> new String(flac.body(), StandardCharsets.UTF_8));
    assertEquals("audio/flac", flac.headers().firstValue("Content-Type").orElseThrow());
    HttpResponse<byte[]> m4a = http.bytes("/v1/jobs/" + id + "/audio?format=m4a");
    assertEquals(200, m4a.statusCode(), () -> new String(m4a.body(), StandardCharsets.UTF_8));
    assertEquals("audio/mp4", m4a.headers().firstValue("Content-Type").orElseThrow());
    HttpResponse<String> bad = http.get("/v1/jobs/" + id + "/audio?format=ogg");
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("format must be wav, flac or m4a"), bad.body());
    if (TestSupport.ffmpegAvailable()) { // an independent decoder: FLAC is lossless, M4A is AAC at 128 kbps
      Path f = dir.resolve(id + ".flac");
      Files.write(f, flac.body());
      Path w = dir.resolve(id + "-from-flac.wav");
      TestSupport.run("ffmpeg", "-v", "error", "-y", "-i", f.toString(), "-c:a", "pcm_s16le", w.toString());
      org.junit.jupiter.api.Assertions.assertArrayEquals(wav, Http.wavSamples(Files.readAllBytes(w)),
          "FLAC decodes to the WAV's samples");
      Path a = dir.resolve(id + ".m4a");
      Files.write(a, m4a.body());
      String probe = TestSupport.run("ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate",
          "-of", "csv=p=0", a.toString());
      assertTrue(probe.contains("aac") && probe.contains("48000"), probe);
    }
  }

  @Test
  void badInputGets4xxWithTheReason() throws Exception {
    HttpResponse<String> corrupt = http.post(new Http.Form().video("not a video at all".repeat(100)
        .getBytes(StandardCharsets.UTF_8)).field("prompt", "x"));
    assertEquals(400, corrupt.statusCode(), corrupt.body());
    assertEquals("CORRUPT_VIDEO", Http.json(corrupt).getAsJsonObject("error").get("code").getAsString());

    HttpResponse<String> noVideo = http.post(new Http.Form().field("prompt", "x"));
    assertEquals(400, noVideo.statusCode());
    assertTrue(noVideo.body().contains("'video'"), noVideo.body());

    HttpResponse<String> steps = http.post(job("x", 0).field("steps", "0"));
    assertEquals(400, steps.statusCode());
    assertTrue(steps.body().contains("steps must be between 1 and 1000"), steps.body());

    HttpResponse<String> prio = http.post(new Http.Form().video(video).field("priority", "urgent"));
    assertEquals(400, prio.statusCode());
    assertTrue(prio.body().contains("priority must be high, normal or low"), prio.body());

    HttpResponse<String> hook = http.post(new Http.Form().video(video).field("webhook", "ftp://x/y"));
    assertEquals(400, hook.statusCode());

    HttpResponse<String> notMultipart = http.client.send(http.request("/v1/jobs").header("Content-Type",
        "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(400, notMultipart.statusCode());

    assertEquals(404, http.get("/v1/jobs/nope").statusCode());
    assertEquals(404, http.bytes("/v1/jobs/nope/audio").statusCode());
    assertEquals(404, http.delete("/v1/jobs/nope").statusCode());
  }

  @Test
  void aHugeFormFieldIsRefusedNamingTheFieldAndItsOwnLimit() throws Exception {
    HttpResponse<String> r = http.post(job("x", 1).field("prompt", "a".repeat(200_000)));
    assertEquals(413, r.statusCode(), r.body());
    String message = Http.json(r).getAsJsonObject("error").get("message").getAsString();
    assertTrue(message.contains("'prompt'") && message.contains(FoleyService.MAX_FIELD_BYTES + " bytes"), message);
    assertFalse(message.contains("MB") || message.contains(Long.toString(500L << 20)), message);
  }

  @Test
  void anUploadOverTheLimitIs413() throws Exception {
    try (FoleyService small = start(ServiceConfig.defaults(dir.resolve("small")).withMaxUpload(16 * 1024), b -> b)) {
      Http h = new Http(small.uri());
      HttpResponse<String> r = h.post(new Http.Form().video(new byte[200 * 1024]).field("prompt", "x"));
      assertEquals(413, r.statusCode(), r.body());
      assertTrue(r.body().contains("limit of 16384 bytes"), r.body());
      // a streamed (chunked) upload has no length to check first: Jetty's own limit stops it
      String boundary = "b" + System.nanoTime();
      byte[] body = new Http.Form().video(new byte[200 * 1024]).body(boundary);
      HttpResponse<String> chunked = h.client.send(h.request("/v1/jobs")
          .header("Content-Type", "multipart/form-data; boundary=" + boundary)
          .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(413, chunked.statusCode(), chunked.body());
      try (var files = Files.list(dir.resolve("small").resolve("uploads"))) {
        assertEquals(0, files.count(), "nothing is kept of a refused upload");
      }
      TestSupport.awaitCondition("Jetty's spilled parts are deleted", () -> {
        try (var files = Files.list(dir.resolve("small").resolve("tmp"))) {
          return files.count() == 0;
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
    }
  }

  /**
   * A chunked multipart upload over the limit that its client goes on sending after Jetty's parser
   * gave up, longer than the server drains through the request: the server answers, shuts its side and
   * reads and drops the rest before closing. Closed at once with the client's bytes unread, the kernel
   * reset the connection and the client, writing all of its body before reading, lost the 413 (the race
   * that could fail anUploadOverTheLimitIs413 where its body cannot be drained).
   */
  @Test
  void anOverLimitChunkedUploadStillBeingSentGetsItsAnswer() throws Exception {
    try (FoleyService small = start(ServiceConfig.defaults(dir.resolve("linger")).withMaxUpload(16 * 1024), b -> b);
        java.net.Socket socket = new java.net.Socket()) {
      socket.setSendBufferSize(64 << 10);
      socket.connect(new java.net.InetSocketAddress(small.uri().getHost(), small.uri().getPort()));
      socket.setSoTimeout(30_000);
      String boundary = "b" + System.nanoTime();
      // more than the server drains through the request (8 MiB), then 7.5 MiB more: the client (a small send
      // buffer) is still writing when the server is done with the request; closed at once, this client got
      // "Broken pipe" (Linux, loopback)
      byte[] body = new Http.Form().video(new byte[(int) FoleyService.DRAIN_LIMIT_BYTES + (15 << 19)])
          .field("prompt", "x").body(boundary);
      java.io.OutputStream out = socket.getOutputStream();
      out.write(("POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
          + "Content-Type: multipart/form-data; boundary=" + boundary + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      for (int at = 0; at < body.length; at += 64 << 10) { // all of it before reading, as a simple client does
        int n = Math.min(64 << 10, body.length - at);
        out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body, at, n);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
      assertTrue(answer.contains("limit of 16384 bytes"), answer);
      assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), answer);
    }
  }

  @Test
  void cancelAndConflicts() throws Exception {
    // a long job (many steps) to cancel while it runs
    String id = Http.json(http.post(new Http.Form().video(video).field("prompt", "long").field("steps", "400")))
        .get("id").getAsString();
    assertEquals(409, http.get("/v1/jobs/" + id + "/audio").statusCode(), "no audio before done");
    HttpResponse<String> del = http.delete("/v1/jobs/" + id);
    assertEquals(200, del.statusCode(), del.body());
    assertEquals("cancelled", Http.json(del).get("status").getAsString());
    JsonObject after = http.awaitFinished(id);
    assertEquals("cancelled", after.get("status").getAsString());
    assertEquals("CANCELLED", after.getAsJsonObject("error").get("code").getAsString());
    assertEquals(409, http.delete("/v1/jobs/" + id).statusCode(), "cancelling twice");
  }

  @Test
  void apiKeysGuardEveryJobEndpointAndNothingRunsWithoutOne() throws Exception {
    try (FoleyService keyed = start(ServiceConfig.defaults(dir.resolve("keyed")).withApiKeys(Set.of("k1")), b -> b)) {
      Http h = new Http(keyed.uri());
      HttpResponse<String> none = h.post(job("x", 1));
      assertEquals(401, none.statusCode());
      assertTrue(none.body().contains("API key is required"), none.body());
      // a small upload refused before it was read is read to its end, so the connection stays usable
      assertEquals(java.util.Optional.empty(), none.headers().firstValue("connection"), none.headers().toString());
      h.apiKey = "wrong";
      assertEquals(401, h.post(job("x", 1)).statusCode());
      assertEquals(401, h.get("/v1/jobs/anything").statusCode());
      assertEquals(0, keyed.engine().stats().runningJobs() + keyed.engine().stats().queuedJobs());
      assertTrue(h.get("/metrics").body().contains("foley_serve_jobs_submitted_total 0.0"), "nothing ran");
      h.apiKey = "k1";
      HttpResponse<String> ok = h.post(job("x", 1));
      assertEquals(202, ok.statusCode(), ok.body());
      assertEquals("done", h.awaitFinished(Http.json(ok).get("id").getAsString()).get("status").getAsString());
      assertEquals(200, h.get("/health/live").statusCode(), "health needs no key");
      h.apiKey = null;
      HttpResponse<String> info = h.get("/v1/info");
      assertEquals(200, info.statusCode(), "the page learns that it needs a key without one: " + info.body());
      assertTrue(Http.json(info).get("apiKeyRequired").getAsBoolean(), info.body());
      assertEquals(200, h.bytes("/v1/example.mp4").statusCode(), "the example clip needs no key");
    }
  }

  @Test
  void infoGivesTheBundlesDefaultsAndLimitsAndTheExampleClipIsAShortVideo() throws Exception {
    HttpResponse<String> r = http.get("/v1/info");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
    JsonObject info = Http.json(r);
    var sampler = bundle.manifest().sampler();
    assertEquals(bundle.manifest().name(), info.get("bundle").getAsString(), r.body());
    assertEquals("[\"" + bundle.manifest().name() + "\"]", info.get("models").toString(), r.body());
    assertEquals(sampler.steps(), info.get("steps").getAsInt(), r.body());
    assertEquals(sampler.cfgScale(), info.get("cfg").getAsFloat(), r.body());
    assertEquals(sampler.negativePrompt(), info.get("negativePrompt").getAsString(), r.body());
    assertEquals(bundle.manifest().audio().sampleRate(), info.get("sampleRate").getAsInt(), r.body());
    assertEquals(500L << 20, info.get("maxUploadBytes").getAsLong(), r.body());
    assertEquals(600.0, info.get("maxVideoSeconds").getAsDouble(), r.body());
    assertEquals(FoleyRequest.MAX_VARIANTS, info.get("maxVariants").getAsInt(), r.body());
    assertEquals(1000, info.get("maxSteps").getAsInt(), r.body());
    assertFalse(info.get("apiKeyRequired").getAsBoolean(), r.body());
    assertEquals(JcodecVideoSources.jcodec().id(), info.get("decoder").getAsString(), r.body());

    HttpResponse<byte[]> clip = http.bytes(info.get("example").getAsString());
    assertEquals(200, clip.statusCode());
    assertEquals("video/mp4", clip.headers().firstValue("Content-Type").orElseThrow());
    Path file = dir.resolve("example.mp4");
    Files.write(file, clip.body());
    try (var source = JcodecVideoSources.jcodec().open(file)) {
      assertEquals(FoleyService.EXAMPLE_SECONDS, source.info().durationSeconds(), 0.05, "a short clip");
      assertEquals(320, source.info().width());
    }
    assertArrayEquals(clip.body(), http.bytes("/v1/example.mp4").body(), "made once, then served from memory");

    HttpResponse<String> page = http.get("/");
    assertEquals(200, page.statusCode());
    assertEquals(FoleyService.PAGE_POLICY, page.headers().firstValue("Content-Security-Policy").orElseThrow());
    assertFalse(page.body().contains("http://") || page.body().contains("https://") || page.body().contains("//cdn"),
        "the page loads nothing from elsewhere");
  }

  @Test
  void aRefusedUploadStillSeesItsAnswerWhileItsBodyArrivesSlowly() throws Exception {
    // Answering a refused upload at once, then closing while the client still sends, makes the kernel
    // reset the connection, and the reset can discard the 401 before the client reads it (CI saw
    // "header parser received no bytes"). Here the body comes after the answer could have gone out.
    try (FoleyService keyed = start(ServiceConfig.defaults(dir.resolve("slow")).withApiKeys(Set.of("k1")), b -> b);
        java.net.Socket s = new java.net.Socket(keyed.uri().getHost(), keyed.uri().getPort())) {
      s.setSoTimeout(20_000);
      int size = 1 << 20;
      java.io.OutputStream out = s.getOutputStream();
      out.write(("POST /v1/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
          + "Content-Length: " + size + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(300);
      byte[] chunk = new byte[64 << 10];
      for (int sent = 0; sent < size; sent += chunk.length) {
        out.write(chunk);
        out.flush();
        Thread.sleep(10);
      }
      java.io.InputStream in = s.getInputStream();
      String first = readResponse(in);
      assertTrue(first.startsWith("HTTP/1.1 401"), first);
      assertTrue(first.contains("API key is required"), first);
      // the same connection carries the next request
      out.write("GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String second = readResponse(in);
      assertTrue(second.startsWith("HTTP/1.1 200"), second);
    }
  }

  /** One HTTP/1.1 response with a Content-Length body, read from a raw socket. */
  private static String readResponse(java.io.InputStream in) throws java.io.IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new java.io.EOFException("the connection closed after: " + head);
      }
      head.append((char) c);
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
    assertTrue(m.find(), head.toString());
    return head + new String(in.readNBytes(Integer.parseInt(m.group(1))), StandardCharsets.UTF_8);
  }

  @Test
  void overTheClientRateIs429WithRetryAfter() throws Exception {
    try (FoleyService limited = start(ServiceConfig.defaults(dir.resolve("rate")).withRate(0.01, 1)
        .withApiKeys(Set.of("k1", "k2")), b -> b)) {
      Http h = new Http(limited.uri());
      h.apiKey = "k1";
      assertEquals(202, h.post(job("a", 1)).statusCode());
      HttpResponse<String> second = h.post(job("b", 2));
      assertEquals(429, second.statusCode(), second.body());
      long retry = Long.parseLong(second.headers().firstValue("Retry-After").orElseThrow());
      assertTrue(retry >= 1 && retry <= 100, "Retry-After " + retry);
      h.apiKey = "k2";
      assertEquals(202, h.post(job("c", 3)).statusCode(), "limits are per client");
    }
  }

  @Test
  void aFullEngineQueueIs503WithRetryAfter() throws Exception {
    try (FoleyService busy = start(ServiceConfig.defaults(dir.resolve("busy")).withDrainTimeout(Duration.ofMillis(1)),
        b -> b.maxConcurrentRequests(1).maxQueuedRequests(1))) {
      Http h = new Http(busy.uri());
      int accepted = 0;
      HttpResponse<String> refused = null;
      for (int i = 0; i < 6 && refused == null; i++) {
        HttpResponse<String> r = h.post(new Http.Form().video(video).field("prompt", "p" + i).field("steps", "500"));
        if (r.statusCode() == 202) {
          accepted++;
          if (accepted == 1) { // let the first job start running, so that the next one takes the queue's place
            String id = Http.json(r).get("id").getAsString();
            long until = System.nanoTime() + 60_000_000_000L;
            while (!Http.json(h.get("/v1/jobs/" + id)).get("status").getAsString().equals("running")) {
              assertTrue(System.nanoTime() < until, "the first job never started running");
              Thread.sleep(20);
            }
          }
        } else {
          refused = r;
        }
      }
      assertNotNull(refused, "the queue of one fills");
      assertEquals(503, refused.statusCode(), refused.body());
      assertTrue(refused.body().contains("queue is full"), refused.body());
      assertTrue(refused.headers().firstValue("Retry-After").isPresent());
      assertTrue(accepted >= 2, "one running and one queued were accepted, got " + accepted);
    }
  }

  /** The CPU backend whose denoiser calls fail while {@code failing} is set. */
  static final class FailingBackend implements io.foley4j.backend.Backend {
    final io.foley4j.backend.Backend cpu = Backends.cpu();
    volatile boolean failing;

    @Override
    public String name() {
      return "failing-cpu";
    }

    @Override
    public io.foley4j.backend.StageSession open(io.foley4j.bundle.StageSpec spec, Path modelFile) {
      io.foley4j.backend.StageSession s = cpu.open(spec, modelFile);
      return new io.foley4j.backend.StageSession() {
        @Override
        public io.foley4j.bundle.StageSpec spec() {
          return s.spec();
        }

        @Override
        public java.util.Map<String, io.foley4j.backend.Tensor> run(java.util.Map<String, io.foley4j.backend.Tensor> in) {
          if (failing && spec.stage() == io.foley4j.bundle.Stage.DENOISER) {
            throw new io.foley4j.FoleyException(io.foley4j.FoleyException.Code.BACKEND_FAILURE, "injected device failure");
          }
          return s.run(in);
        }

        @Override
        public long runNanos() {
          return s.runNanos();
        }

        @Override
        public void close() {
          s.close();
        }
      };
    }
  }

  @Test
  void anOpenBreakerIs503WithRetryAfter() throws Exception {
    FailingBackend backend = new FailingBackend();
    try (FoleyService s = FoleyService.start(ServiceConfig.defaults(dir.resolve("breaker")),
        // one failure opens it: the failing job's encoder calls succeed, and a success resets the count
        FoleyEngine.builder().bundle(bundle).backend(backend).circuitBreaker(1, Duration.ofSeconds(60)),
        JcodecVideoSources.jcodec())) {
      Http h = new Http(s.uri());
      backend.failing = true;
      JsonObject failed = h.awaitFinished(Http.json(h.post(job("broken", 100))).get("id").getAsString());
      assertEquals("failed", failed.get("status").getAsString(), failed.toString());
      assertEquals("BACKEND_FAILURE", failed.getAsJsonObject("error").get("code").getAsString());
      assertTrue(failed.getAsJsonObject("error").get("message").getAsString().contains("injected device failure"));
      HttpResponse<String> refused = h.post(job("after", 200));
      assertEquals(503, refused.statusCode(), refused.body());
      assertTrue(refused.body().contains("circuit breaker"), refused.body());
      long retry = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
      assertTrue(retry >= 1 && retry <= 60, "Retry-After " + retry + " from the breaker's own estimate");
      // the gauges share a snapshot of at most a second ago
      TestSupport.awaitCondition("the metrics show the open breaker", () -> {
        try {
          return h.get("/metrics").body().contains("foley_breaker_state{state=\"open\"} 1.0");
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
    }
  }

  @Test
  void theWebhookIsRetriedUntilItSucceeds() throws Exception {
    HttpServer hook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    List<String> bodies = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    hook.createContext("/hook", ex -> {
      bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      ex.sendResponseHeaders(calls.incrementAndGet() == 1 ? 500 : 204, -1);
      ex.close();
    });
    hook.start();
    try {
      String url = "http://127.0.0.1:" + hook.getAddress().getPort() + "/hook";
      HttpResponse<String> r = http.post(job("hooked", 9).field("webhook", url));
      assertEquals(202, r.statusCode(), r.body());
      String id = Http.json(r).get("id").getAsString();
      http.awaitFinished(id);
      TestSupport.awaitCondition("two webhook calls", () -> bodies.size() >= 2);
      Thread.sleep(500);
      assertEquals(2, bodies.size(), "no call after the success");
      JsonObject last = JsonParser.parseString(bodies.get(1)).getAsJsonObject();
      assertEquals(id, last.get("id").getAsString());
      assertEquals("done", last.get("status").getAsString());
    } finally {
      hook.stop(0);
    }
  }

  @Test
  void resultsAreDeletedAfterTheRetention() throws Exception {
    Path data = dir.resolve("short");
    try (FoleyService s = start(ServiceConfig.defaults(data).withRetention(Duration.ofMillis(800)), b -> b)) {
      Http h = new Http(s.uri());
      String id = Http.json(h.post(job("brief", 4))).get("id").getAsString();
      assertEquals("done", h.awaitFinished(id).get("status").getAsString());
      assertTrue(Files.exists(data.resolve("results").resolve(id + ".wav")));
      TestSupport.awaitCondition("expiry", () -> {
        try {
          return h.get("/v1/jobs/" + id).statusCode() == 404;
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      assertFalse(Files.exists(data.resolve("results").resolve(id + ".wav")));
      assertFalse(Files.exists(data.resolve("uploads").resolve(id + ".mp4")));
    }
  }

  @Test
  void theResultCacheHasTheConfiguredBoundAndZeroTurnsItOff() throws Exception {
    assertEquals(io.foley4j.FoleyException.Code.INVALID_ARGUMENT, org.junit.jupiter.api.Assertions.assertThrows(
        io.foley4j.FoleyException.class, () -> ServiceConfig.defaults(dir).withResultCacheBytes(-1)).code());
    // an identical request after the retention: answered from the result cache by default, run again without one
    for (long bytes : new long[] {ServiceConfig.DEFAULT_RESULT_CACHE_BYTES, 0}) {
      Path data = dir.resolve("cache-" + bytes);
      try (FoleyService s = start(ServiceConfig.defaults(data).withRetention(Duration.ofMillis(500))
          .withResultCacheBytes(bytes), b -> b)) {
        Http h = new Http(s.uri());
        String first = Http.json(h.post(job("cached", 8))).get("id").getAsString();
        JsonObject done = h.awaitFinished(first);
        assertFalse(done.get("resultCacheHit").getAsBoolean(), done.toString());
        TestSupport.awaitCondition("expiry", () -> {
          try {
            return h.get("/v1/jobs/" + first).statusCode() == 404;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
        HttpResponse<String> again = h.post(job("cached", 8));
        assertEquals(202, again.statusCode(), again.body());
        JsonObject second = h.awaitFinished(Http.json(again).get("id").getAsString());
        assertEquals("done", second.get("status").getAsString(), second.toString());
        assertEquals(bytes > 0, second.get("resultCacheHit").getAsBoolean(), bytes + ": " + second);
        String metrics = h.get("/metrics").body();
        assertEquals(bytes > 0, metrics.contains("foley_cache_bytes{cache=\"result\"}"), bytes + ": " + metrics);
      }
    }
  }

  /** A clock the test moves by hand. */
  static final class ManualClock extends java.time.Clock {
    private volatile java.time.Instant now = java.time.Instant.now();

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public java.time.Clock withZone(java.time.ZoneId zone) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.time.Instant instant() {
      return now;
    }
  }

  private static List<String> filesOf(Path data, String id) throws java.io.IOException {
    List<String> names = new ArrayList<>();
    for (String sub : List.of("results", "uploads")) {
      try (var files = Files.list(data.resolve(sub))) {
        files.map(f -> sub + "/" + f.getFileName()).filter(n -> n.contains(id)).forEach(names::add);
      }
    }
    return names;
  }

  @Test
  void anM4aMadeWhileItsResultExpiresIsNotLeftBehind() throws Exception {
    Path data = dir.resolve("racing");
    ManualClock clock = new ManualClock();
    java.util.concurrent.CountDownLatch converting = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    FoleyService.AudioConverter held = (wav, target) -> {
      converting.countDown();
      try {
        assertTrue(release.await(2, TimeUnit.MINUTES));
        Files.write(target, new byte[] {1, 2, 3});
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    };
    try (FoleyService s = FoleyService.start(ServiceConfig.defaults(data), FoleyEngine.builder().bundle(bundle)
        .backend(Backends.cpu()), JcodecVideoSources.jcodec(), clock, held)) {
      Http h = new Http(s.uri());
      String id = Http.json(h.post(job("race", 61))).get("id").getAsString();
      assertEquals("done", h.awaitFinished(id).get("status").getAsString());
      CompletableFuture<HttpResponse<String>> m4a = CompletableFuture.supplyAsync(() -> {
        try {
          return h.get("/v1/jobs/" + id + "/audio?format=m4a");
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      assertTrue(converting.await(1, TimeUnit.MINUTES), "the conversion started");
      clock.advance(Duration.ofHours(2)); // past the retention: expire while the M4A is being written
      s.expireNow();
      assertEquals(404, h.get("/v1/jobs/" + id).statusCode(), "expired");
      release.countDown();
      HttpResponse<String> answer = m4a.get(1, TimeUnit.MINUTES);
      assertEquals(404, answer.statusCode(), answer.body());
      assertEquals(List.of(), filesOf(data, id), "no file of the expired job is left");

      // a FLAC made before expiry is deleted with the job
      String second = Http.json(h.post(job("race", 62))).get("id").getAsString();
      assertEquals("done", h.awaitFinished(second).get("status").getAsString());
      assertEquals(200, h.bytes("/v1/jobs/" + second + "/audio?format=flac").statusCode());
      assertTrue(filesOf(data, second).contains("results/" + second + ".flac"), filesOf(data, second).toString());
      clock.advance(Duration.ofHours(2));
      s.expireNow();
      assertEquals(List.of(), filesOf(data, second));
    }
  }

  @Test
  void healthAndMetrics() throws Exception {
    assertEquals(200, http.get("/health/live").statusCode());
    assertEquals(200, http.get("/health/ready").statusCode());
    String id = Http.json(http.post(job("metrics", 21))).get("id").getAsString();
    http.awaitFinished(id);
    HttpResponse<String> m = http.get("/metrics");
    assertEquals(200, m.statusCode());
    String text = m.body();
    for (String metric : List.of("foley_queue_depth{priority=\"high\"}", "foley_batch_calls_total{size=\"1\",stage=\"denoiser\"}",
        "foley_stage_call_seconds_count{outcome=\"ok\",phase=\"denoise\"}", "foley_cache_hits_total{cache=\"result\"}",
        "foley_cache_misses_total{cache=\"result\"}", "foley_breaker_state{state=\"closed\"} 1.0", "foley_load_score",
        "foley_scale_advice{advice=\"hold\"}", "foley_queue_wait_seconds_count",
        "foley_stage_busy_seconds_total{stage=\"denoiser\"}", "foley_jobs_running", "foley_memory_used",
        "foley_utilization", "foley_cache_entries{cache=\"result\"}")) {
      assertTrue(text.contains(metric), metric + " in\n" + text);
    }
    assertFalse(text.contains("foley_stage_call_seconds_count{outcome=\"ok\",phase=\"denoise\"} 0.0"),
        "denoise calls were timed");
  }

  @Test
  void readyOnlyOnceTheEngineIsBuilt() throws Exception {
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    java.util.concurrent.CountDownLatch opening = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    io.foley4j.backend.Backend cpu = Backends.cpu();
    io.foley4j.backend.Backend slow = new io.foley4j.backend.Backend() {
      @Override
      public String name() {
        return "slow-to-load";
      }

      @Override
      public io.foley4j.backend.StageSession open(io.foley4j.bundle.StageSpec spec, Path file) {
        opening.countDown();
        try {
          release.await(); // the engine's build (loading and warm-up) waits here
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return cpu.open(spec, file);
      }
    };
    CompletableFuture<FoleyService> starting = CompletableFuture.supplyAsync(() -> FoleyService.start(
        ServiceConfig.defaults(dir.resolve("warm")).withPort(port), FoleyEngine.builder().bundle(bundle).backend(slow),
        JcodecVideoSources.jcodec()));
    try {
      assertTrue(opening.await(60, TimeUnit.SECONDS), "the engine started loading");
      Http h = new Http(java.net.URI.create("http://127.0.0.1:" + port));
      assertEquals(200, h.get("/health/live").statusCode(), "live while loading");
      HttpResponse<String> notReady = h.get("/health/ready");
      assertEquals(503, notReady.statusCode(), notReady.body());
      assertTrue(notReady.headers().firstValue("Retry-After").isPresent());
      assertEquals(503, h.post(job("early", 1)).statusCode(), "no job before the engine is ready");
      assertEquals(503, h.get("/v1/jobs/any").statusCode(), "nor job state");
    } finally {
      release.countDown();
    }
    try (FoleyService s = starting.get(2, TimeUnit.MINUTES)) {
      assertEquals(200, new Http(s.uri()).get("/health/ready").statusCode());
    }
  }

  @Test
  void gracefulShutdownFinishesRunningJobsAndRefusesNewOnes() throws Exception {
    Path data = dir.resolve("drain");
    FoleyService s = start(ServiceConfig.defaults(data).withDrainTimeout(Duration.ofMinutes(1)), b -> b);
    Http h = new Http(s.uri());
    String id = Http.json(h.post(new Http.Form().video(video).field("prompt", "d").field("steps", "30")))
        .get("id").getAsString();
    CompletableFuture<Void> closing = CompletableFuture.runAsync(s::close);
    TestSupport.awaitCondition("not ready while draining", () -> {
      try {
        return h.get("/health/ready").statusCode() == 503;
      } catch (Exception e) {
        return closing.isDone();
      }
    });
    if (!closing.isDone()) {
      HttpResponse<String> refused = h.post(job("late", 1));
      assertEquals(503, refused.statusCode(), refused.body());
    }
    closing.get(2, TimeUnit.MINUTES);
    assertTrue(Files.exists(data.resolve("results").resolve(id + ".wav")), "the running job was finished");
  }
}
