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
  private final Process process;

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
    String exe = executable();
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
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

  String uri() {
    return "redis://127.0.0.1:" + port;
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
