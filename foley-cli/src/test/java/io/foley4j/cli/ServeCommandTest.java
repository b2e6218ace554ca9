package io.foley4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ServeCommandTest {

  @Test
  void sizesParse() {
    assertEquals(500L << 20, ServeCommand.parseSize("500MB"));
    assertEquals(2L << 30, ServeCommand.parseSize("2gb"));
    assertEquals(64 * 1024, ServeCommand.parseSize("64 KB"));
    assertEquals(65536, ServeCommand.parseSize("65536"));
    for (String bad : new String[] {"lots", "-5MB", "0", "MB", "99999999999GB"}) {
      FoleyException e = assertThrows(FoleyException.class, () -> ServeCommand.parseSize(bad), bad);
      assertTrue(e.getMessage().contains("--max-upload must be a size"), e.getMessage());
    }
  }

  @Test
  void theResultCacheSizeMayBeZeroButNotNegative() {
    assertEquals(256L << 20, ServeCommand.parseSize("--result-cache", "256MB", true));
    assertEquals(0, ServeCommand.parseSize("--result-cache", "0", true));
    for (String bad : new String[] {"lots", "-5MB", "MB"}) {
      FoleyException e = assertThrows(FoleyException.class, () -> ServeCommand.parseSize("--result-cache", bad, true));
      assertTrue(e.getMessage().startsWith("--result-cache must be a size") && e.getMessage().contains("0: none"),
          e.getMessage());
    }
    assertEquals(2, run("serve", "--result-cache", "lots", "--port", "0"));
  }

  @Test
  void maxVideoDurationMustBePositive() {
    assertEquals(java.time.Duration.ofMinutes(10), ServeCommand.positive(java.time.Duration.ofMinutes(10)));
    FoleyException e = assertThrows(FoleyException.class, () -> ServeCommand.positive(java.time.Duration.ZERO));
    assertTrue(e.getMessage().contains("--max-video-duration must be positive"), e.getMessage());
  }

  @Test
  void badOptionsExitWithCode2AndOneLine() {
    // the GPU backends are wired as in foley generate: on this machine (no GPU, the CPU ONNX Runtime) the
    // engine cannot be built on cuda, so the service stops (after the HTTP server's start-up log) and exits 2,
    // its last line naming the reason
    CliOutput cuda = CliOutput.of("serve", "--backend", "cuda", "--port", "0");
    assertEquals(2, cuda.rc(), cuda.toString());
    String[] lines = cuda.err().strip().split("\n");
    String last = lines[lines.length - 1];
    assertTrue(last.startsWith("foley: ") && last.toLowerCase(java.util.Locale.ROOT).contains("cuda"), cuda.toString());
    assertEquals(2, run("serve", "--decoder", "vlc", "--port", "0"));
    assertEquals(2, run("serve", "--max-upload", "lots", "--port", "0"));
    assertEquals(2, run("serve", "--api-keys-file", "/nonexistent/keys", "--port", "0"));
    assertEquals(2, run("serve", "--admin-keys-file", "/nonexistent/keys", "--port", "0"));
    assertEquals(2, run("serve", "--max-video-duration", "PT0S", "--port", "0"));
    assertEquals(2, run("serve", "--max-video-duration", "-PT5M", "--port", "0"));
    // several models: NAME=PATH, an existing path, not beside --bundle, a known default, a size
    assertEquals(2, run("serve", "--model", "nameonly", "--port", "0"));
    assertEquals(2, run("serve", "--model", "a=/nonexistent/bundle", "--port", "0"));
    assertEquals(2, run("serve", "--model", "a=.", "--bundle", ".", "--port", "0"));
    assertEquals(2, run("serve", "--model", "a=.", "--default-model", "b", "--port", "0"));
    assertEquals(2, run("serve", "--model", "a=.", "--models-memory", "lots", "--port", "0"));
  }

  private static int run(String... args) {
    PrintStream err = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      int code = FoleyCli.run(args);
      String text = buf.toString(StandardCharsets.UTF_8).strip();
      assertTrue(text.startsWith("foley: ") && !text.contains("\n"), "one line: " + text);
      return code;
    } finally {
      System.setErr(err);
    }
  }
}
