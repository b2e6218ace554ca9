package io.foley4j.jcodec;

import io.foley4j.video.VideoSource;
import io.foley4j.video.VideoSources;
import io.foley4j.video.SyntheticVideo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Inputs that are not MP4/MOV files, not regular files, or not 4:2:0. */
class VideoInputTest {
  @TempDir Path tmp;

  private static final String TESTSRC = "testsrc2=size=64x48:rate=25";

  private static FoleyException rejects(Path p, FoleyException.Code code, String... words) {
    FoleyException e =
        assertThrows(FoleyException.class, () -> JcodecVideoSources.jcodec().open(p).close());
    assertEquals(code, e.code(), e.getMessage());
    for (String w : words) {
      assertTrue(e.getMessage().toLowerCase().contains(w.toLowerCase()),
          "message should mention '" + w + "': " + e.getMessage());
    }
    return e;
  }

  private static Path encode(String name, String... codecArgs) {
    String[] args = new String[4 + codecArgs.length];
    args[0] = "-f";
    args[1] = "lavfi";
    args[2] = "-i";
    args[3] = TESTSRC;
    System.arraycopy(codecArgs, 0, args, 4, codecArgs.length);
    return Ffmpeg.media(name, args);
  }

  // ---------------- containers ----------------

  @Test
  void matroskaIsUnsupportedAndNamed() {
    Path p = encode("clip.mkv", "-t", "0.2", "-c:v", "libx264", "-pix_fmt", "yuv420p");
    rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "Matroska", "MP4");
  }

  @Test
  void webmIsUnsupportedAndNamed() {
    Path p = encode("clip.webm", "-t", "0.2", "-c:v", "libvpx", "-deadline", "realtime");
    FoleyException e = rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "WebM", "MP4");
    assertTrue(!e.getMessage().contains("Matroska"), e.getMessage());
  }

  @Test
  void mpegTransportStreamIsUnsupportedAndNamed() {
    Path p = encode("clip.ts", "-t", "0.2", "-c:v", "libx264", "-pix_fmt", "yuv420p");
    rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "MPEG transport stream", "MP4");
  }

  @Test
  void otherContainersAreUnsupportedAndNamed() {
    rejects(encode("clip.avi", "-t", "0.2", "-c:v", "mpeg4"), FoleyException.Code.UNSUPPORTED_VIDEO,
        "AVI", "MP4");
    rejects(encode("clip.flv", "-t", "0.2", "-c:v", "flv"), FoleyException.Code.UNSUPPORTED_VIDEO,
        "FLV", "MP4");
    rejects(encode("clip.mpg", "-t", "0.2", "-c:v", "mpeg2video", "-f", "mpeg"),
        FoleyException.Code.UNSUPPORTED_VIDEO, "MPEG program stream", "MP4");
    rejects(Ffmpeg.media("clip.ogg", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.2",
        "-c:a", "libvorbis"), FoleyException.Code.UNSUPPORTED_VIDEO, "Ogg", "MP4");
    rejects(encode("frame.png", "-frames:v", "1"), FoleyException.Code.UNSUPPORTED_VIDEO, "PNG",
        "image");
    rejects(encode("frame.jpg", "-frames:v", "1"), FoleyException.Code.UNSUPPORTED_VIDEO, "JPEG",
        "image");
  }

  // ---------------- chroma ----------------

  @Test
  void chroma444IsReportedAsSuch() {
    Path p = encode("444.mp4", "-t", "0.2", "-c:v", "libx264", "-pix_fmt", "yuv444p");
    FoleyException e = rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "4:4:4", "4:2:0");
    assertTrue(!e.getMessage().contains("interlaced"), e.getMessage());
  }

  @Test
  void chroma400IsReportedAsSuch() {
    Path p = encode("400.mp4", "-t", "0.2", "-c:v", "libx264", "-pix_fmt", "gray");
    FoleyException e = rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "4:0:0", "4:2:0");
    assertTrue(!e.getMessage().contains("interlaced"), e.getMessage());
  }

  @Test
  void chroma422IsReportedAsSuch() {
    Path p = encode("422b.mp4", "-t", "0.2", "-c:v", "libx264", "-pix_fmt", "yuv422p");
    FoleyException e = rejects(p, FoleyException.Code.UNSUPPORTED_VIDEO, "4:2:2", "4:2:0");
    assertTrue(!e.getMessage().contains("interlaced"), e.getMessage());
  }

  // ---------------- non-regular files ----------------

  /** Runs {@code call} on another thread and fails if it does not finish within 10 s. */
  private static FoleyException promptlyThrows(Executable call) throws Exception {
    ExecutorService ex = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "open-probe");
      t.setDaemon(true);
      return t;
    });
    try {
      Future<FoleyException> f = ex.submit(() -> assertThrows(FoleyException.class, call));
      try {
        return f.get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof Error) {
          throw (Error) e.getCause();
        }
        throw e;
      }
    } finally {
      ex.shutdownNow();
    }
  }

  private Path fifo() throws Exception {
    Path f = tmp.resolve("pipe.mp4");
    Ffmpeg.Result r;
    try {
      r = Ffmpeg.exec(List.of("mkfifo", f.toString()));
    } catch (IOException e) {
      Assumptions.assumeTrue(false, "mkfifo not available: " + e);
      return null;
    }
    Assumptions.assumeTrue(r.rc == 0, "mkfifo failed: " + r.stderr);
    return f;
  }

  @Test
  void aFifoWithoutWriterIsRefusedPromptly() throws Exception {
    Path f = fifo();
    FoleyException e = promptlyThrows(() -> JcodecVideoSources.jcodec().open(f));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code(), e.getMessage());
    assertTrue(e.getMessage().contains("pipe"), e.getMessage());
    assertTrue(e.getMessage().contains("regular file"), e.getMessage());
    FoleyException r = promptlyThrows(() -> VideoSources.requireRegularFile(f));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, r.code());
    FoleyException m = promptlyThrows(
        () -> Remux.withAudio(f, new float[10], 48000, tmp.resolve("o.mov")));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, m.code(), m.getMessage());
  }

  @Test
  void aSymlinkToAFifoIsRefused() throws Exception {
    Path f = fifo();
    Path link = Files.createSymbolicLink(tmp.resolve("link.mp4"), f);
    FoleyException e = promptlyThrows(() -> VideoSources.requireRegularFile(link));
    assertTrue(e.getMessage().contains("pipe"), e.getMessage());
  }

  @Test
  void directoriesAndDevicesAreRefused() throws Exception {
    FoleyException d = promptlyThrows(() -> JcodecVideoSources.jcodec().open(tmp));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, d.code());
    assertTrue(d.getMessage().contains("directory"), d.getMessage());
    assertTrue(d.getMessage().contains("regular file"), d.getMessage());
    Path dev = Paths.get("/dev/zero");
    Assumptions.assumeTrue(Files.exists(dev), "no /dev/zero");
    FoleyException z = promptlyThrows(() -> VideoSources.requireRegularFile(dev));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, z.code());
    assertTrue(z.getMessage().contains("device"), z.getMessage());
  }

  @Test
  void regularFilesAndSymlinksToThemPass() throws Exception {
    Path a = tmp.resolve("a.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(32, 32).durationSeconds(0.2).build(), a);
    Path link = Files.createSymbolicLink(tmp.resolve("alink.mp4"), a);
    VideoSources.requireRegularFile(a);
    VideoSources.requireRegularFile(link);
    try (VideoSource s = JcodecVideoSources.jcodec().open(link)) {
      assertEquals(32, s.info().width());
    }
    FoleyException missing = assertThrows(FoleyException.class,
        () -> VideoSources.requireRegularFile(tmp.resolve("nope.mp4")));
    assertEquals(FoleyException.Code.IO, missing.code());
    FoleyException nul = assertThrows(FoleyException.class,
        () -> VideoSources.requireRegularFile(null));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, nul.code());
  }
}
