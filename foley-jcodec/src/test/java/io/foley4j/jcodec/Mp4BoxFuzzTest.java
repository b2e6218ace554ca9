package io.foley4j.jcodec;

import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoInfo;
import io.foley4j.video.VideoSources;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.foley4j.FoleyException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzzes the MP4 box parser through the entry every source uses: arbitrary bytes in a file, opened
 * by {@link VideoSources#jcodec()} (container sniffing, box walk, sample tables, fragments, the
 * duration check, avcC and SPS parsing), read by {@link Mp4Movie#read} and remuxed by {@link
 * Remux#withAudio} (which copies header fields). The only acceptable
 * failure is a typed {@link FoleyException}; anything else (an index, arithmetic or null pointer
 * exception, an out-of-memory error) is a finding.
 *
 * <p>{@code mvn test} runs the corpus in {@code Mp4BoxFuzzTestInputs/parse/} (regression mode);
 * {@code JAZZER_FUZZ=1 mvn -pl foley-core test -Dtest=Mp4BoxFuzzTest} fuzzes for {@code
 * maxDuration}.
 */
class Mp4BoxFuzzTest {
  private static Path dir;

  private static synchronized Path dir() {
    if (dir == null) {
      try {
        dir = Files.createTempDirectory("foley4j-fuzz");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      dir.toFile().deleteOnExit();
      dir.resolve("in.mp4").toFile().deleteOnExit();
      dir.resolve("out.mov").toFile().deleteOnExit();
    }
    return dir;
  }

  @FuzzTest(maxDuration = "60s")
  void parse(byte[] data) throws IOException {
    Path file = dir().resolve("in.mp4");
    Path out = dir().resolve("out.mov");
    Files.write(file, data);
    try {
      Mp4Movie m = Mp4Movie.read(file);
      Mp4Movie.VideoTrack v = m.video;
      assertTrue(v.sampleCount >= 0);
      for (int i = 0; i < v.sampleCount; i++) {
        assertTrue(v.offsets[i] >= 0 && v.offsets[i] + v.sizes[i] <= data.length,
            "sample " + i + " must lie inside the file");
      }
    } catch (FoleyException e) {
      typed(e);
    }
    try (VideoSource s = JcodecVideoSources.jcodec().open(file)) {
      VideoInfo info = s.info();
      assertTrue(info.width() > 0 && info.height() > 0);
      assertTrue(info.frameCount() > 0);
    } catch (FoleyException e) {
      typed(e);
    }
    try {
      Remux.withAudio(file, new float[480], 48000, out);
      assertTrue(Files.size(out) > 0);
    } catch (FoleyException e) {
      typed(e);
    }
  }

  private static void typed(FoleyException e) {
    assertNotNull(e.code());
    assertNotNull(e.getMessage());
    assertTrue(e.getMessage().length() > 10, e.getMessage());
  }
}
