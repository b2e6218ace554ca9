package io.foley4j.ffmpeg;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSourceFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 200 opens and closes leave the process's memory and thread count where they were. */
class FfmpegLeakTest {
  @TempDir
  Path dir;

  private static long status(String key) throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (l.startsWith(key + ":")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    throw new AssertionError(key + " not in /proc/self/status");
  }

  private static void cycle(VideoSourceFactory f, Path video, int n) {
    for (int i = 0; i < n; i++) {
      VideoSource s = f.open(video, 2); // two decoder threads each time: a leak would show as threads
      assertNotNull(s.next());
      if (i % 2 == 0) {
        assertNotNull(s.next());
      }
      s.close();
      s.close();
    }
  }

  @Test
  void twoHundredOpensLeakNoMemoryOrThreads() throws IOException {
    Clips.require();
    Path video = Clips.make(dir.resolve("leak.mp4"), "testsrc2=s=640x360:r=25:d=2", "-c:v", "libx264", "-pix_fmt",
        "yuv420p", "-g", "10");
    VideoSourceFactory f = FfmpegVideoSources.ffmpeg();
    cycle(f, video, 30); // warm-up: allocator pools, JIT
    System.gc();
    long rss0 = status("VmRSS");
    long threads0 = status("Threads");
    cycle(f, video, 200);
    System.gc();
    long rss1 = status("VmRSS");
    long threads1 = status("Threads");
    System.out.printf("200 open/close: RSS %d -> %d kB (%+d kB), threads %d -> %d%n", rss0, rss1, rss1 - rss0,
        threads0, threads1);
    // each open holds a 640x360 decoder (several MB of frame pools): a leak of one per open is > 200 MB
    assertTrue(rss1 - rss0 < 40_000, "RSS grew by " + (rss1 - rss0) + " kB");
    assertTrue(threads1 <= threads0 + 2, "threads " + threads0 + " -> " + threads1);
    List<Thread> java = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().contains("ffmpeg")).toList();
    assertTrue(java.isEmpty(), "threads left: " + java);
  }
}
