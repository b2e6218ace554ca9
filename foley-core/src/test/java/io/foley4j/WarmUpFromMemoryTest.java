package io.foley4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.VideoSourceFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link WarmUp#FULL}'s request reads its synthetic clip from memory: it needs no decoder, and opens none. */
class WarmUpFromMemoryTest {

  @Test
  void theWarmUpRequestRunsWithoutOpeningTheEnginesVideoSources() {
    AtomicInteger opened = new AtomicInteger();
    VideoSourceFactory refusing = file -> {
      opened.incrementAndGet();
      throw new UnsupportedVideoException(FoleyException.Code.UNSUPPORTED_VIDEO, "no decoder here");
    };
    try (ModelBundle bundle = TestSupport.smallReferenceBundle();
        FoleyEngine e = FoleyEngine.builder().bundle(bundle).videoSources(refusing).warmUp(WarmUp.FULL).build()) {
      assertTrue(e.readiness().requestWarmUpMillis() > 0, e.readiness().toString());
      assertEquals(0, opened.get(), "the warm-up clip's frames come from memory");
      assertEquals(0, e.stats().runningJobs());
    }
  }
}
