package io.foley4j.jcodec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The factory's warm-up (called by WarmUp.FULL) decodes a synthetic clip and leaves no file behind. */
class JcodecWarmUpTest {

  private static long warmUpDirs() throws Exception {
    try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.filter(p -> p.getFileName().toString().startsWith("foley-jcodec-warm-up-")).count();
    }
  }

  @Test
  void warmUpDecodesAClipAndDeletesIt() throws Exception {
    long before = warmUpDirs();
    JcodecVideoSources.jcodec().warmUp();
    assertEquals(before, warmUpDirs());
  }
}
