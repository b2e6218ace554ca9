package io.foley4j.video;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How VideoSources picks a decoder among providers: preference, fallback with one warning, no fallback by name. */
class VideoSourceDiscoveryTest {
  private final List<LogRecord> logged = new ArrayList<>();
  private final Handler handler = new Handler() {
    @Override
    public void publish(LogRecord r) {
      logged.add(r);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };
  private final Logger jul = Logger.getLogger("io.foley4j.video");

  @BeforeEach
  void listen() {
    jul.addHandler(handler);
  }

  @AfterEach
  void stop() {
    jul.removeHandler(handler);
  }

  private static final VideoSourceFactory WORKING = new VideoSourceFactory() {
    @Override
    public VideoSource open(Path file) {
      throw new UnsupportedOperationException();
    }

    @Override
    public String id() {
      return "working-1";
    }
  };

  private static VideoSourceProvider provider(String name, int priority, boolean loads) {
    return new VideoSourceProvider() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public int priority() {
        return priority;
      }

      @Override
      public VideoSourceFactory factory() {
        if (!loads) {
          throw new FoleyException(FoleyException.Code.UNSUPPORTED_VIDEO, "no natives for this platform");
        }
        return WORKING;
      }
    };
  }

  @Test
  void autoTakesTheFirstThatLoadsAndWarnsOncePerSkippedProvider() {
    VideoSourceFactory f = VideoSources.auto(List.of(provider("broken", 200, false), provider("good", 100, true)));
    assertSame(WORKING, f);
    assertEquals(1, logged.size(), "one warning");
    assertTrue(logged.get(0).getMessage().contains("broken") && logged.get(0).getMessage().contains("no natives"),
        logged.get(0).getMessage());
  }

  @Test
  void autoWithNoProviderThatLoadsFailsNamingTheModulesToAdd() {
    FoleyException e = assertThrows(FoleyException.class, () -> VideoSources.auto(List.of(provider("ffmpeg", 100, false))));
    assertEquals(FoleyException.Code.UNSUPPORTED_VIDEO, e.code());
    assertTrue(e.getMessage().contains("no natives for this platform"), e.getMessage());
    assertTrue(e.getMessage().contains("io.foley4j:foley-ffmpeg") && e.getMessage().contains("io.foley4j:foley-jcodec"),
        e.getMessage());
    assertEquals(1, logged.size());
    assertTrue(logged.get(0).getMessage().contains("ffmpeg") && logged.get(0).getMessage().contains("no natives"),
        logged.get(0).getMessage());
    e = assertThrows(FoleyException.class, () -> VideoSources.auto(List.of()));
    assertEquals(FoleyException.Code.UNSUPPORTED_VIDEO, e.code());
    assertTrue(e.getMessage().contains("io.foley4j:foley-ffmpeg") && e.getMessage().contains("io.foley4j:foley-jcodec"),
        e.getMessage());
  }

  @Test
  void namedNeverFallsBack() {
    FoleyException e = assertThrows(FoleyException.class,
        () -> VideoSources.named("ffmpeg", List.of(provider("ffmpeg", 100, false))));
    assertEquals(FoleyException.Code.UNSUPPORTED_VIDEO, e.code());
    e = assertThrows(FoleyException.class, () -> VideoSources.named("ffmpeg", List.of()));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().contains("foley-ffmpeg"), e.getMessage());
    assertSame(WORKING, VideoSources.named(" Good ", List.of(provider("good", 1, true))));
    e = assertThrows(FoleyException.class, () -> VideoSources.named("jcodec", List.of(provider("good", 1, true))));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().contains("io.foley4j:foley-jcodec") && e.getMessage().contains("good"), e.getMessage());
    assertEquals(FoleyException.Code.INVALID_ARGUMENT,
        assertThrows(FoleyException.class, () -> VideoSources.named(null)).code());
  }

  @Test
  void foleyCoreAloneHasNoDecoder() {
    FoleyException e = assertThrows(FoleyException.class, VideoSources::auto);
    assertEquals(FoleyException.Code.UNSUPPORTED_VIDEO, e.code());
    assertTrue(e.getMessage().contains("io.foley4j:foley-jcodec"), e.getMessage());
  }
}
