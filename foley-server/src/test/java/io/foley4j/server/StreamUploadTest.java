package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.ffmpeg.FfmpegVideoSources;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/jobs/stream} with a slow client: the client sends 85 % of a 2-segment clip,
 * then waits for the first {@code chunk} event before it sends the rest. The event comes, so the
 * service decoded the upload while it arrived.
 */
@Timeout(600)
class StreamUploadTest {
  @TempDir static Path dir;
  static ModelBundle bundle;
  static FoleyService service;
  static Path clip;

  @BeforeAll
  static void start() {
    Assumptions.assumeTrue(TestSupport.ffmpegAvailable(), "ffmpeg not installed; skipping");
    bundle = TestSupport.referenceBundle();
    clip = dir.resolve("clip.mp4");
    // 12 s: two segments of the reference model (8 s, 1 s overlap); its index first (faststart)
    TestSupport.run("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=128x96:r=25:d=12",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-g", "25", "-movflags", "+faststart",
        clip.toString());
    service = FoleyService.start(ServiceConfig.defaults(dir.resolve("data")),
        FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()), FfmpegVideoSources.ffmpeg());
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

  /** Reads one HTTP/1.1 response's head, then its chunked body as SSE events, one at a time. */
  static final class SseReader {
    private final InputStream in;
    private final StringBuilder pending = new StringBuilder();
    final String head;
    private boolean ended;

    SseReader(InputStream in) throws IOException {
      this.in = in;
      this.head = line("\r\n\r\n");
    }

    private String line(String end) throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      while (!b.toString(StandardCharsets.UTF_8).endsWith(end)) {
        int c = in.read();
        if (c < 0) {
          throw new IOException("the connection closed: " + b.toString(StandardCharsets.UTF_8));
        }
        b.write(c);
      }
      return b.toString(StandardCharsets.UTF_8);
    }

    /** The next event's name and data, or null at the end of the body. */
    String[] next() throws IOException {
      while (true) {
        int end = pending.indexOf("\n\n");
        if (end >= 0) {
          String frame = pending.substring(0, end);
          pending.delete(0, end + 2);
          String event = null;
          String data = null;
          for (String l : frame.split("\n")) {
            if (l.startsWith("event: ")) {
              event = l.substring(7);
            } else if (l.startsWith("data: ")) {
              data = l.substring(6);
            }
          }
          if (event != null) {
            return new String[] {event, data};
          }
          continue; // retry: or a keep-alive comment
        }
        if (ended) {
          return null;
        }
        int size = Integer.parseInt(line("\r\n").trim(), 16);
        if (size == 0) {
          ended = true;
          continue;
        }
        byte[] chunk = in.readNBytes(size);
        line("\r\n");
        pending.append(new String(chunk, StandardCharsets.UTF_8));
      }
    }
  }

  @Test
  void theFirstChunkEventArrivesBeforeTheUploadCompletes() throws Exception {
    byte[] bytes = Files.readAllBytes(clip);
    int first = bytes.length * 85 / 100; // segment 0 is [0, 8 s) of 12 s: its frames are in the first 67 %
    URI uri = service.uri();
    List<String> events = new ArrayList<>();
    boolean chunkBeforeRest = false;
    String id = null;
    try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(300_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /v1/jobs/stream?prompt=rain&steps=2&seed=3 HTTP/1.1\r\nHost: " + uri.getHost() + "\r\n"
          + "Content-Type: video/mp4\r\nContent-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      out.write(bytes, 0, first);
      out.flush();
      SseReader sse = new SseReader(socket.getInputStream());
      assertTrue(sse.head.startsWith("HTTP/1.1 200"), sse.head);
      assertTrue(sse.head.toLowerCase(java.util.Locale.ROOT).contains("text/event-stream"), sse.head);
      boolean restSent = false;
      for (String[] e = sse.next(); e != null; e = sse.next()) {
        events.add(e[0]);
        if (e[0].equals("accepted")) {
          id = JsonParser.parseString(e[1]).getAsJsonObject().get("id").getAsString();
        }
        if (e[0].equals("chunk") && !restSent) {
          chunkBeforeRest = true;
        }
        if ((e[0].equals("chunk") || e[0].equals("failed") || e[0].equals("done")) && !restSent) {
          out.write(bytes, first, bytes.length - first);
          out.flush();
          restSent = true;
        }
        if (e[0].equals("done") || e[0].equals("failed")) {
          break;
        }
      }
    }
    assertEquals("accepted", events.get(0), events.toString());
    assertTrue(chunkBeforeRest, "a chunk event came while 15 % of the upload was still unsent: " + events);
    assertEquals("done", events.get(events.size() - 1), events.toString());
    assertEquals(2, events.stream().filter("chunk"::equals).count(), "two segments: " + events);
    // the job is the service's like any other: its audio has the clip's length, as the engine alone gives it
    Http http = new Http(service.uri());
    JsonObject status = Http.json(http.get("/v1/jobs/" + id));
    assertEquals("done", status.get("status").getAsString(), status.toString());
    short[] served = Http.wavSamples(http.bytes("/v1/jobs/" + id + "/audio").body());
    try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(Backends.cpu())
        .videoSources(FfmpegVideoSources.ffmpeg()).build()) {
      float[] alone = engine.generate(FoleyRequest.builder(clip).prompt("rain").steps(2).seed(3).build()).toArray();
      assertEquals(alone.length, served.length, "the clip's length");
      for (int i = 0; i < alone.length; i++) {
        int q = (int) Math.max(-32768, Math.min(32767, Math.round(alone[i] * 32767.0)));
        assertTrue(Math.abs(q - served[i]) <= 1, "sample " + i + ": " + q + " vs " + served[i]);
      }
    }
    assertTrue(Files.exists(dir.resolve("data").resolve("uploads").resolve(id + ".mp4")), "the upload is kept");
    assertEquals(bytes.length, Files.size(dir.resolve("data").resolve("uploads").resolve(id + ".mp4")));
  }

  @Test
  void aMultipartBodyOrAnOversizedOneIsRefusedBeforeAnythingRuns() throws Exception {
    var client = java.net.http.HttpClient.newHttpClient();
    var r = client.send(java.net.http.HttpRequest.newBuilder(service.uri().resolve("/v1/jobs/stream?prompt=x"))
        .header("Content-Type", "multipart/form-data; boundary=x")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(new byte[10])).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(r.body().contains("query string"), r.body());
    assertFalse(r.body().isEmpty());
  }
}
