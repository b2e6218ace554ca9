package io.foley4j.cachestore;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** A real redis-server on a loopback port, without persistence. */
final class RedisServer implements AutoCloseable {
  private final int port;
  private final Path log;
  private Process process;

  private RedisServer(int port, Path log) {
    this.port = port;
    this.log = log;
  }

  /**
   * Skips the calling test when redis-server is not installed, unless FOLEY_REQUIRE_REDIS=1 (then it
   * fails).
   */
  static void assumeInstalled() {
    if (executable() != null) {
      return;
    }
    if ("1".equals(System.getenv("FOLEY_REQUIRE_REDIS"))) {
      fail("FOLEY_REQUIRE_REDIS=1 but redis-server is not on the PATH");
    }
    Assumptions.assumeTrue(false, "redis-server is not installed");
  }

  static String executable() {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/usr/local/bin");
    for (String d : (path + ":/usr/bin:/usr/local/bin").split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, "redis-server"))) {
        return Path.of(d, "redis-server").toString();
      }
    }
    return null;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Starts a server on a free port. */
  static RedisServer start(Path dir) throws IOException, InterruptedException {
    RedisServer server = new RedisServer(freePort(), dir.resolve("redis.log"));
    server.start();
    return server;
  }

  int port() {
    return port;
  }

  /** Starts (or restarts) the server and waits until it answers PING. */
  void start() throws IOException, InterruptedException {
    process = new ProcessBuilder(executable(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (ping()) {
        return;
      }
      if (!process.isAlive()) {
        break;
      }
      Thread.sleep(20);
    }
    process.destroyForcibly();
    fail("redis-server did not start on port " + port + ": " + Files.readString(log));
  }

  /** Kills the server (SIGKILL) and waits for it to exit. */
  void kill() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      process = null;
    }
  }

  private boolean ping() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
      s.setSoTimeout(500);
      OutputStream out = s.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] b = new byte[7];
      int n = in.readNBytes(b, 0, 7);
      return new String(b, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    try {
      kill();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
