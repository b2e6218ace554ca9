package io.foley4j.bench;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.ffmpeg.FfmpegVideoSources;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.server.FoleyService;
import io.foley4j.server.ServiceConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code foley bench upload}: one client uploads a clip to {@code foley serve} on loopback at a
 * throttled rate and waits for the job's first {@code chunk} event; printed for each way of
 * uploading, side by side in one run: the upload's time, the first chunk's time (both from the
 * first byte sent), and their quotient. The ways: multipart to {@code POST /v1/jobs} (stored whole,
 * then the job), {@code POST /v1/jobs/stream?read_whole=1} (the job starts at once, but reads the
 * video whole before decoding it) and {@code POST /v1/jobs/stream} (decoded as it arrives).
 */
@Command(name = "upload", mixinStandardHelpOptions = true,
    description = "First chunk ÷ upload time for a throttled client on loopback: multipart, streamed read whole, streamed.")
final class UploadBench implements Callable<Integer> {
  private static final Pattern ID = Pattern.compile("\"id\":\"(\\w+)\"");

  @Parameters(index = "0", arity = "0..1", description = "The video (default: a 60 s 320x240 H.264 MP4 with its index "
      + "first, made with the ffmpeg CLI).")
  Path video;

  @Option(names = "--video-seconds", defaultValue = "60", description = "Length of the made clip (default ${DEFAULT-VALUE}).")
  double videoSeconds;

  @Option(names = "--upload-seconds", defaultValue = "20",
      description = "How long the throttled client takes to send the video (default ${DEFAULT-VALUE}).")
  double uploadSeconds;

  @Option(names = "--steps", defaultValue = "4", description = "Denoiser steps per job (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--bundle", description = "A bundle directory (default: the built-in reference model).")
  Path bundle;

  /** One way's numbers, in seconds from the first byte sent. */
  record Run(String name, double upload, double firstChunk, double done) {
    double ratio() {
      return firstChunk / upload;
    }
  }

  @Override
  public Integer call() throws Exception {
    if (steps < 1 || !(uploadSeconds > 0) || !(videoSeconds > 0)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--steps, --upload-seconds and --video-seconds"
          + " must be positive");
    }
    Path dir = Files.createTempDirectory("foley-bench-upload-");
    Path clip = video;
    if (clip == null) {
      clip = dir.resolve("clip.mp4");
      Process p = new ProcessBuilder("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
          String.format(Locale.ROOT, "testsrc2=s=320x240:r=25:d=%.3f", videoSeconds), "-c:v", "libx264", "-pix_fmt",
          "yuv420p", "-preset", "veryfast", "-g", "25", "-movflags", "+faststart", clip.toString())
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new FoleyException(FoleyException.Code.IO, "the ffmpeg CLI could not make the clip: " + out
            + "; pass a video instead");
      }
    } else if (!Files.isRegularFile(clip)) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "no video file " + clip);
    }
    byte[] bytes = Files.readAllBytes(clip);
    double rate = bytes.length / uploadSeconds;
    System.out.printf(Locale.ROOT, "video %s: %d bytes; client sends %.0f bytes/s (%.1f s); %d steps; FFmpeg decoder%n",
        clip.getFileName(), bytes.length, rate, uploadSeconds, steps);
    try (ModelBundle b = bundle != null ? ModelBundle.open(bundle) : ReferenceModel.bundle();
        FoleyService service = FoleyService.start(ServiceConfig.defaults(dir.resolve("data"))
            .withMaxUpload(Math.max(bytes.length * 2L, 1 << 20)), FoleyEngine.builder().bundle(b)
            .backend(Backends.cpu()), FfmpegVideoSources.ffmpeg())) {
      URI uri = service.uri();
      Run[] runs = {
        multipart(uri, bytes, rate, 1),
        streamed(uri, bytes, rate, 2, true),
        streamed(uri, bytes, rate, 3, false),
      };
      System.out.printf(Locale.ROOT, "%-46s %10s %12s %10s %10s%n", "", "upload s", "1st chunk s", "done s",
          "1st/upload");
      for (Run r : runs) {
        System.out.printf(Locale.ROOT, "%-46s %10.2f %12.2f %10.2f %10.3f%n", r.name, r.upload, r.firstChunk, r.done,
            r.ratio());
      }
      System.out.printf(Locale.ROOT, "first chunk: streamed %.2f s vs multipart %.2f s (%.3fx)%n", runs[2].firstChunk,
          runs[0].firstChunk, runs[2].firstChunk / runs[0].firstChunk);
    }
    return 0;
  }

  /** Sends {@code body} at {@code rate} bytes/s from {@code start} (System.nanoTime); returns the seconds it took. */
  private static double send(OutputStream out, byte[] body, double rate, long start) throws IOException {
    int piece = 16 * 1024;
    for (int off = 0; off < body.length; off += piece) {
      int n = Math.min(piece, body.length - off);
      long due = start + (long) ((off + n) / rate * 1e9);
      long wait = due - System.nanoTime();
      if (wait > 0) {
        try {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
      }
      out.write(body, off, n);
      out.flush();
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private Run streamed(URI uri, byte[] bytes, double rate, long seed, boolean readWhole) throws Exception {
    try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /v1/jobs/stream?prompt=rain&steps=" + steps + "&seed=" + seed + (readWhole ? "&read_whole=1" : "")
          + " HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nContent-Type: video/mp4\r\nContent-Length: " + bytes.length
          + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      long start = System.nanoTime();
      CompletableFuture<double[]> events = CompletableFuture.supplyAsync(() -> follow(s, start));
      double upload = send(out, bytes, rate, start);
      double[] t = events.get();
      return new Run(readWhole ? "POST /v1/jobs/stream?read_whole=1" : "POST /v1/jobs/stream (decoded as it arrives)",
          upload, t[0], t[1]);
    }
  }

  private Run multipart(URI uri, byte[] bytes, double rate, long seed) throws Exception {
    String boundary = "bench" + seed;
    ByteArrayOutputStream form = new ByteArrayOutputStream();
    String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nrain\r\n"
        + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"steps\"\r\n\r\n" + steps + "\r\n"
        + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"seed\"\r\n\r\n" + seed + "\r\n"
        + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"video\"; filename=\"clip.mp4\"\r\n"
        + "Content-Type: video/mp4\r\n\r\n";
    form.write(head.getBytes(StandardCharsets.UTF_8));
    form.write(bytes);
    form.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    byte[] body = form.toByteArray();
    String id;
    long start;
    double upload;
    try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
      OutputStream out = s.getOutputStream();
      out.write(("POST /v1/jobs HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nContent-Type: multipart/form-data; boundary="
          + boundary + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.UTF_8));
      start = System.nanoTime();
      upload = send(out, body, rate, start);
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      Matcher m = ID.matcher(answer);
      if (!answer.startsWith("HTTP/1.1 202") || !m.find()) {
        throw new FoleyException(FoleyException.Code.INTERNAL, "the service answered: " + answer);
      }
      id = m.group(1);
    }
    try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
      s.getOutputStream().write(("GET /v1/jobs/" + id + "/events HTTP/1.1\r\nHost: " + uri.getHost() + "\r\n\r\n")
          .getBytes(StandardCharsets.UTF_8));
      double[] t = follow(s, start);
      return new Run("POST /v1/jobs (multipart, stored whole)", upload, t[0], t[1]);
    }
  }

  /** Reads an SSE answer until done: seconds from {@code start} to the first chunk event and to the done event. */
  private static double[] follow(Socket s, long start) {
    try {
      InputStream in = s.getInputStream();
      double first = Double.NaN;
      StringBuilder seen = new StringBuilder();
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) >= 0; ) {
        seen.append(new String(buf, 0, n, StandardCharsets.UTF_8)); // chunked framing never splits one event's line
        if (Double.isNaN(first) && seen.indexOf("event: chunk") >= 0) {
          first = (System.nanoTime() - start) / 1e9;
        }
        if (seen.indexOf("event: failed") >= 0) {
          throw new FoleyException(FoleyException.Code.INTERNAL, "the job failed: " + seen);
        }
        if (seen.indexOf("event: done") >= 0) {
          return new double[] {first, (System.nanoTime() - start) / 1e9};
        }
      }
      throw new FoleyException(FoleyException.Code.INTERNAL, "the event stream ended early: " + seen);
    } catch (IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "reading the event stream failed: " + e, e);
    }
  }
}
