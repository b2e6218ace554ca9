package io.foley4j.jcodec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.video.VideoSources;
import org.junit.jupiter.api.Test;

/** foley-core finds this module through ServiceLoader, below foley-ffmpeg. */
class JcodecDiscoveryTest {

  @Test
  void withoutFoleyFfmpegTheDefaultIsJcodec() {
    assertEquals(JcodecVideoSources.jcodec().id(), VideoSources.auto().id());
  }

  @Test
  void namedJcodecIsThisModulesFactory() {
    assertSame(JcodecVideoSources.jcodec(), VideoSources.named("jcodec"));
    assertSame(JcodecVideoSources.jcodec(), VideoSources.named(" JCodec "));
  }

  @Test
  void itsPriorityIsBelowFoleyFfmpegs() {
    JcodecVideoSourceProvider p = new JcodecVideoSourceProvider();
    assertEquals("jcodec", p.name());
    assertTrue(p.priority() < 100, "foley-ffmpeg's provider has the default priority, 100");
  }
}
