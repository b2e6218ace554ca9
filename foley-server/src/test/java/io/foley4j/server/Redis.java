package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** A redis-server of the test's own on a free loopback port, without persistence. */
final class Redis implements AutoCloseable {
  final int port;
  private final Path dir;
  private Process process;

  static String executable() {
    for (String d : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/local/bin").split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, "redis-server"))) {
        return Path.of(d, "redis-server").toString();
      }
    }
    if ("1".equals(System.getenv("FOLEY_REQUIRE_REDIS"))) {
      fail("FOLEY_REQUIRE_REDIS=1 but redis-server is not on the PATH");
    }
    Assumptions.assumeTrue(false, "redis-server is not installed");
    return null;
  }

  Redis(Path dir) throws IOException, InterruptedException {
    this.dir = dir;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    start();
  }

  /** Starts the server (again) on its port, empty: it never persists. */
  void start() throws IOException, InterruptedException {
    String exe = executable();
    process = new ProcessBuilder(exe, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile())).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
        s.getOutputStream().write("PING\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] b = new byte[7];
        if (s.getInputStream().read(b) > 0 && new String(b, java.nio.charset.StandardCharsets.US_ASCII)
            .startsWith("+PONG")) {
          return;
        }
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    process.destroyForcibly();
    throw new IOException("redis-server did not answer on port " + port + "; see " + dir.resolve("redis.log"));
  }

  /** Stops the server (SIGTERM, then SIGKILL); {@link #start()} brings it back, without its data. */
  void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  void pause() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** Lets a paused server go on (SIGCONT). */
  void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String name) throws IOException, InterruptedException {
    int rc = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start().waitFor();
    if (rc != 0) {
      throw new IOException("kill -" + name + " " + process.pid() + " exited " + rc);
    }
  }

  String uri() {
    return "redis://127.0.0.1:" + port;
  }

  @Override
  public void close() throws InterruptedException {
    try {
      resume(); // a paused server would not stop on SIGTERM
    } catch (IOException ignored) {
      // already gone
    }
    stop();
  }
}
