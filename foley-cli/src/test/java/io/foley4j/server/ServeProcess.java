package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@code foley serve} child JVM (the test class path, {@code io.foley4j.cli.FoleyCli serve --port 0
 * ...}) whose output is kept (up to 200,000 characters) and whose URI is read from its "listening
 * on" line. For the tests that signal or kill a real process.
 */
record ServeProcess(Process process, URI uri, StringBuffer log, Thread reader) {
  /** Starts {@code serve --port 0} with {@code args}, in {@code work}, and waits for its URI (2 minutes). */
  static ServeProcess start(Path work, List<String> jvmOptions, List<String> args) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g"));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.foley4j.cli.FoleyCli", "serve", "--port",
        "0"));
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true).start();
    StringBuffer log = new StringBuffer();
    CompletableFuture<URI> uri = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.startsWith("foley serve: listening on ")) {
            uri.complete(URI.create(line.substring("foley serve: listening on ".length()).split(" ")[0]));
          }
          if (log.length() < 200_000) {
            log.append(line).append('\n');
          }
        }
      } catch (IOException ignored) {
        // the process ended
      }
      uri.completeExceptionally(new AssertionError("foley serve exited before listening:\n" + log));
    }, "serve-output");
    t.setDaemon(true);
    t.start();
    URI u = uri.get(2, TimeUnit.MINUTES);
    assertNotNull(u);
    return new ServeProcess(p, u, log, t);
  }

  /**
   * Sends a signal as {@code kill -SIGNAL} does ({@code Process.destroy()} sends SIGTERM too, but it
   * also closes the pipes, so what the process writes while it stops would be lost).
   */
  void signal(String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    assertEquals(0, kill.waitFor(), "kill -" + signal + " " + process.pid());
  }

  /** What the process wrote so far. */
  String output() {
    return log.toString();
  }

  /** Everything the process wrote, once it has ended (its output is read to the end first). */
  String outputAtEnd() throws InterruptedException {
    reader.join(TimeUnit.SECONDS.toMillis(30));
    return log.toString();
  }
}
