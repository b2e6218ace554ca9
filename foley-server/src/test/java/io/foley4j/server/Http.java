package io.foley4j.server;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** A java.net.http client for the service's API, with a hand-built multipart body. */
final class Http {
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  final URI base;
  String apiKey;

  Http(URI base) {
    this.base = base;
  }

  /** A multipart/form-data job: the video file and text fields. */
  static final class Form {
    final Map<String, String> fields = new LinkedHashMap<>();
    byte[] video;
    String filename = "clip.mp4";

    Form video(Path p) throws IOException {
      video = Files.readAllBytes(p);
      return this;
    }

    Form video(byte[] bytes) {
      video = bytes;
      return this;
    }

    Form field(String k, String v) {
      fields.put(k, v);
      return this;
    }

    byte[] body(String boundary) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (Map.Entry<String, String> e : fields.entrySet()) {
        write(out, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + e.getKey() + "\"\r\n\r\n"
            + e.getValue() + "\r\n");
      }
      if (video != null) {
        write(out, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"video\"; filename=\"" + filename
            + "\"\r\nContent-Type: video/mp4\r\n\r\n");
        out.writeBytes(video);
        write(out, "\r\n");
      }
      write(out, "--" + boundary + "--\r\n");
      return out.toByteArray();
    }

    private static void write(ByteArrayOutputStream out, String s) {
      out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }
  }

  HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
    if (apiKey != null) {
      b.header("X-API-Key", apiKey);
    }
    return b;
  }

  HttpResponse<String> post(Form form) throws IOException, InterruptedException {
    String boundary = "foley" + System.nanoTime();
    return client.send(request("/v1/jobs").header("Content-Type", "multipart/form-data; boundary=" + boundary)
        .POST(HttpRequest.BodyPublishers.ofByteArray(form.body(boundary))).build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<byte[]> bytes(String path) throws IOException, InterruptedException {
    return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  HttpResponse<String> delete(String path) throws IOException, InterruptedException {
    return client.send(request(path).DELETE().build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonObject json(HttpResponse<String> r) {
    return JsonParser.parseString(r.body()).getAsJsonObject();
  }

  /** Polls a job until it is done, failed or cancelled (at most two minutes). */
  JsonObject awaitFinished(String id) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = get("/v1/jobs/" + id);
      if (r.statusCode() != 200) {
        throw new AssertionError("GET /v1/jobs/" + id + " answered " + r.statusCode() + ": " + r.body());
      }
      JsonObject j = json(r);
      String s = j.get("status").getAsString();
      if (s.equals("done") || s.equals("failed") || s.equals("cancelled")) {
        return j;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("job " + id + " did not finish in two minutes");
  }

  /** The samples of a 16-bit PCM mono WAV (header checked). */
  static short[] wavSamples(byte[] wav) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(wav).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    if (!new String(wav, 0, 4, StandardCharsets.US_ASCII).equals("RIFF")
        || !new String(wav, 8, 4, StandardCharsets.US_ASCII).equals("WAVE")) {
      throw new AssertionError("not a WAV file");
    }
    int pos = 12;
    while (pos + 8 <= wav.length) {
      String id = new String(wav, pos, 4, StandardCharsets.US_ASCII);
      int size = b.getInt(pos + 4);
      if (id.equals("fmt ")) {
        if (b.getShort(pos + 8) != 1 || b.getShort(pos + 10) != 1 || b.getShort(pos + 22) != 16) {
          throw new AssertionError("expected 16-bit PCM mono");
        }
      } else if (id.equals("data")) {
        short[] s = new short[size / 2];
        for (int i = 0; i < s.length; i++) {
          s[i] = b.getShort(pos + 8 + 2 * i);
        }
        return s;
      }
      pos += 8 + size + (size & 1);
    }
    throw new AssertionError("WAV without a data chunk");
  }
}
