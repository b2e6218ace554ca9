package io.foley4j;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The setup of the test classes that run the small reference bundle: one bundle a class in {@code
 * bundle}, opened before the class's own {@code @BeforeAll} and closed after its {@code @AfterAll}.
 */
abstract class SmallBundleTest {
  /** 1.2 s at 25 fps, 64 × 48: a flash at 0.4 s and a moving square (motion, so the audio is not silence). */
  static final SyntheticVideo CLIP = SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(1.2)
      .flash(0.4, 0.08, 0xFFFFFF).movingSquare(0.6, 1.1, 0xFF2020).build();

  static ModelBundle bundle;

  @BeforeAll
  static void openSmallBundle() {
    bundle = TestSupport.smallReferenceBundle();
  }

  @AfterAll
  static void closeSmallBundle() {
    if (bundle != null) {
      bundle.close();
      bundle = null;
    }
  }
}
