package io.foley4j.ffmpeg;

import io.foley4j.TestSupport;
import io.foley4j.bundle.ModelBundle;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * The setup of the test classes that run FFmpeg-decoded clips through the reference model: ffmpeg
 * required ({@link Clips#require()}), one reference bundle a class in {@code bundle}, closed after the
 * class's own {@code @AfterAll} (an engine on it closes first), and a folder for the class's files.
 */
abstract class ReferenceBundleTest {
  @TempDir
  static Path dir;
  static ModelBundle bundle;

  @BeforeAll
  static void openReferenceBundle() {
    Clips.require();
    bundle = TestSupport.referenceBundle();
  }

  @AfterAll
  static void closeReferenceBundle() {
    if (bundle != null) {
      bundle.close();
      bundle = null;
    }
  }
}
