package io.foley4j;

import io.foley4j.jcodec.Mp4Outputs;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.foley4j.FoleyException.Code;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.cache.CacheEntry;
import io.foley4j.cache.CacheStats;
import io.foley4j.cache.TensorCache;
import io.foley4j.video.SyntheticVideo;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input matrix: every kind of hostile input a user can give, each row with the code it
 * must fail with (or "ok" where the input is odd but valid), and each run next to a good request
 * on the same engine, which must still complete with its full audio: a bad input fails only its
 * own job.
 */
class BadInputMatrixTest {
  static ModelBundle bundle;
  static FoleyEngine engine;

  @TempDir
  static Path dir;
  static Path good;

  @BeforeAll
  static void setUp() {
    bundle = TestSupport.referenceBundle();
    good = dir.resolve("good.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).flash(1, 0.12, 0xFFFFFF).build(), good);
    engine = FoleyEngine.builder().bundle(bundle).maxConcurrentRequests(3).maxVideoDuration(Duration.ofMinutes(10))
        .build();
  }

  @AfterAll
  static void tearDown() {
    engine.close();
    bundle.close();
  }

  /** Runs {@code bad} next to a good request; returns the bad one's failure, or null if it succeeded. */
  private static FoleyException alongsideGood(FoleyEngine e, Supplier<FoleyJob> bad) {
    FoleyJob ok = e.submit(FoleyRequest.builder(good).prompt("glass").steps(2).build());
    FoleyException failure = null;
    try {
      bad.get().await();
    } catch (FoleyException f) {
      failure = f;
    }
    assertEquals(96000, ok.await().sampleCount(), "the good request next to it completes");
    return failure;
  }

  private static void check(String row, Code expected, FoleyException got) {
    if (expected == null) {
      assertEquals(null, got, row + " must succeed");
      return;
    }
    assertTrue(got != null, row + " must fail with " + expected);
    assertEquals(expected, got.code(), row + ": " + got);
    assertFalse(got instanceof RequestRun.StopJob, row);
    assertTrue(got.getMessage() != null && got.getMessage().length() > 15, row + ": a message that explains: " + got);
  }

  // ---- video ---------------------------------------------------------------------------------

  static Stream<Arguments> videos() {
    List<Arguments> rows = new ArrayList<>();
    rows.add(Arguments.of("random bytes", (Function<Path, Path>) d -> write(d, "random.mp4", random(4096)),
        Code.CORRUPT_VIDEO));
    rows.add(Arguments.of("empty file", (Function<Path, Path>) d -> write(d, "empty.mp4", new byte[0]),
        Code.CORRUPT_VIDEO));
    rows.add(Arguments.of("text named .mp4", (Function<Path, Path>) d -> write(d, "text.mp4",
        "hello, I am not a video\n".repeat(50).getBytes(StandardCharsets.UTF_8)), Code.CORRUPT_VIDEO));
    rows.add(Arguments.of("truncated to a third", (Function<Path, Path>) d -> {
      byte[] whole = read(good);
      return write(d, "truncated.mp4", java.util.Arrays.copyOf(whole, whole.length / 3));
    }, Code.CORRUPT_VIDEO));
    rows.add(Arguments.of("missing file", (Function<Path, Path>) d -> d.resolve("nope.mp4"), Code.IO));
    rows.add(Arguments.of("a directory", (Function<Path, Path>) d -> mkdir(d.resolve("a-dir.mp4")),
        Code.INVALID_ARGUMENT));
    rows.add(Arguments.of("a FIFO with no writer", (Function<Path, Path>) d -> fifo(d.resolve("pipe.mp4")),
        Code.INVALID_ARGUMENT));
    rows.add(Arguments.of("header claims 1 hour over 2 s of frames", (Function<Path, Path>) d ->
        write(d, "liar.mp4", claimDuration(read(good), 3600)), Code.CORRUPT_VIDEO));
    rows.add(Arguments.of("longer than maxVideoDuration", (Function<Path, Path>) d -> {
      Path p = d.resolve("eleven-minutes.mp4");
      SyntheticMp4.write(SyntheticVideo.builder().size(16, 16).fps(1, 1).durationSeconds(660).build(), p);
      return p;
    }, Code.UNSUPPORTED_VIDEO));
    // made by ffmpeg: containers and codecs jcodec does not read
    rows.add(ffmpegRow("HEVC in MP4", "hevc.mp4", Code.UNSUPPORTED_VIDEO, "-c:v", "libx265"));
    rows.add(ffmpegRow("MJPEG in MOV", "mjpeg.mov", Code.UNSUPPORTED_VIDEO, "-c:v", "mjpeg"));
    rows.add(ffmpegRow("audio only (no video track)", "audio.mp4", Code.CORRUPT_VIDEO, "-f", "lavfi",
        "-i", "sine=duration=2", "-map", "1:a", "-c:a", "aac"));
    rows.add(ffmpegRow("H.264 10-bit", "ten-bit.mp4", Code.UNSUPPORTED_VIDEO, "-c:v", "libx264", "-pix_fmt",
        "yuv420p10le"));
    rows.add(ffmpegRow("H.264 4:4:4", "444.mp4", Code.UNSUPPORTED_VIDEO, "-c:v", "libx264", "-pix_fmt", "yuv444p"));
    rows.add(ffmpegRow("Matroska", "clip.mkv", Code.UNSUPPORTED_VIDEO, "-c:v", "libx264", "-pix_fmt", "yuv420p"));
    rows.add(ffmpegRow("WebM", "clip.webm", Code.UNSUPPORTED_VIDEO, "-c:v", "libvpx"));
    rows.add(ffmpegRow("MPEG-TS", "clip.ts", Code.UNSUPPORTED_VIDEO, "-c:v", "libx264", "-pix_fmt", "yuv420p"));
    rows.add(ffmpegRow("fragmented MP4 (frag_keyframe)", "frag.mp4", null, "-c:v", "libx264", "-pix_fmt", "yuv420p",
        "-g", "25", "-movflags", "frag_keyframe"));
    rows.add(ffmpegRow("fragmented MP4 (empty moov)", "frag-empty.mp4", null, "-c:v", "libx264", "-pix_fmt",
        "yuv420p", "-g", "25", "-movflags", "frag_keyframe+empty_moov"));
    return rows.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("videos")
  void badVideo(String row, Function<Path, Path> make, Code expected) throws IOException {
    Path sub = Files.createTempDirectory(dir, "v");
    Path video = make.apply(sub);
    assumeTrue(video != null, "needs ffmpeg or mkfifo");
    FoleyException e = alongsideGood(engine, () -> engine.submit(FoleyRequest.builder(video).prompt("x").steps(2)
        .build()));
    check(row, expected, e);
    if (e != null && expected != Code.IO) {
      assertTrue(e.getMessage().contains(video.getFileName().toString()), row + ": names the file: " + e.getMessage());
    }
  }

  /** A fragmented or otherwise odd but valid file must give exactly the container's length. */
  @Test
  void fragmentedMp4GivesItsWholeLength() {
    Path frag = ffmpeg(dir, "frag4s.mp4", 4, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25", "-movflags",
        "frag_keyframe");
    assumeTrue(frag != null, "needs ffmpeg");
    FoleyResult r = engine.generate(FoleyRequest.builder(frag).prompt("x").steps(2).build());
    assertEquals(4 * 48000, r.sampleCount(), "4 s of video give 4 s of audio, not one GOP's worth");
  }

  // ---- prompt and request parameters ------------------------------------------------------------

  static Stream<Arguments> prompts() {
    return Stream.of(
        Arguments.of("empty prompt", ""),
        Arguments.of("100k characters", "footsteps ".repeat(10_000)),
        Arguments.of("control characters and NUL", "glass\u0000\u0007\u001b[31m\r\n\t"),
        Arguments.of("emoji, RTL, combining marks", "🔥💥 زجاج a\u0301\u0302 \uD83D\uDC4D\u200D"),
        Arguments.of("lone surrogates", "glass \uD800 \uDFFF end"),
        Arguments.of("only whitespace", " \t\n "));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("prompts")
  void oddPromptsAreValid(String row, String prompt) {
    FoleyException e = alongsideGood(engine, () -> engine.submit(FoleyRequest.builder(good).prompt(prompt)
        .negativePrompt(prompt).steps(2).build()));
    check(row, null, e);
  }

  static Stream<Arguments> parameters() {
    return Stream.of(
        Arguments.of("steps 0", (Supplier<FoleyRequest>) () -> FoleyRequest.builder(good).prompt("x").steps(0).build()),
        Arguments.of("steps -5", (Supplier<FoleyRequest>) () -> FoleyRequest.builder(good).prompt("x").steps(-5).build()),
        Arguments.of("steps 1e6", (Supplier<FoleyRequest>) () -> FoleyRequest.builder(good).prompt("x").steps(1_000_000)
            .build()),
        Arguments.of("cfg NaN", (Supplier<FoleyRequest>) () -> FoleyRequest.builder(good).prompt("x")
            .cfgScale(Double.NaN).build()),
        Arguments.of("cfg infinite", (Supplier<FoleyRequest>) () -> FoleyRequest.builder(good).prompt("x")
            .cfgScale(Double.POSITIVE_INFINITY).build()),
        Arguments.of("negative deadline", (Supplier<FoleyRequest>) () -> FoleyRequest.builder(good).prompt("x")
            .deadline(Duration.ofSeconds(-1)).build()),
        Arguments.of("deadline of Long.MAX_VALUE seconds", (Supplier<FoleyRequest>) () -> FoleyRequest.builder(good)
            .prompt("x").deadline(Duration.ofSeconds(Long.MAX_VALUE)).build()),
        Arguments.of("null video", (Supplier<FoleyRequest>) () -> FoleyRequest.builder((java.nio.file.Path) null).prompt("x").build()),
        Arguments.of("no prompt", (Supplier<FoleyRequest>) () -> FoleyRequest.builder(good).build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("parameters")
  void badParametersAreInvalidArguments(String row, Supplier<FoleyRequest> build) {
    FoleyException e = assertThrows(FoleyException.class, build::get, row);
    check(row, Code.INVALID_ARGUMENT, e);
  }

  @Test
  void theLongestDeadlineRuns() {
    FoleyException e = alongsideGood(engine, () -> engine.submit(FoleyRequest.builder(good).prompt("x").steps(2)
        .deadline(FoleyRequest.MAX_DEADLINE).build()));
    check("deadline of FoleyRequest.MAX_DEADLINE", null, e);
  }

  // ---- outputs -------------------------------------------------------------------------------

  /** A source replaced after the job read it is refused at mux time (it would mix two videos). */
  @Test
  void sourceReplacedAfterTheJobIsRefusedAtMux() throws IOException {
    Path src = dir.resolve("swapped.mp4");
    Files.copy(good, src);
    FoleyResult r = engine.generate(FoleyRequest.builder(src).prompt("x").steps(2).build());
    Path other = dir.resolve("other-3s.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).flash(0.5, 0.12, 0xFF0000).build(), other);
    Files.move(other, src, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    FoleyException e = assertThrows(FoleyException.class, () -> Mp4Outputs.writeVideoWithSound(r, dir.resolve("mux.mov")));
    check("source replaced since the job", Code.INVALID_ARGUMENT, e);
    assertFalse(Files.exists(dir.resolve("mux.mov")), "nothing written");
  }

  @Test
  void outputThatIsTheSourceIsRefused() {
    FoleyResult r = engine.generate(FoleyRequest.builder(good).prompt("x").steps(2).build());
    check("WAV over its own video", Code.INVALID_ARGUMENT, assertThrows(FoleyException.class, () -> r.writeWav(good)));
    check("MOV over its own video", Code.INVALID_ARGUMENT,
        assertThrows(FoleyException.class, () -> Mp4Outputs.writeVideoWithSound(r, good)));
    assertEquals(96000, engine.generate(FoleyRequest.builder(good).prompt("x").steps(2).build()).sampleCount(),
        "the source is intact");
  }

  // ---- bundle and archive -------------------------------------------------------------------

  static Stream<Arguments> bundles() {
    return Stream.of(
        Arguments.of("a stage's bytes changed", (Function<Path, Path>) d -> {
          Path b = copyBundle(d);
          append(b.resolve(stageFile(b, Stage.DENOISER)), new byte[] {1});
          return b;
        }),
        Arguments.of("garbage .onnx with its hash updated", (Function<Path, Path>) d -> {
          Path b = copyBundle(d);
          replace(b, stageFile(b, Stage.VAE_DECODER), random(2048));
          return b;
        }),
        Arguments.of("text encoder and VAE swapped, hashes updated", (Function<Path, Path>) d -> {
          Path b = copyBundle(d);
          byte[] text = read(b.resolve(stageFile(b, Stage.TEXT_ENCODER)));
          byte[] vae = read(b.resolve(stageFile(b, Stage.VAE_DECODER)));
          replace(b, stageFile(b, Stage.TEXT_ENCODER), vae);
          replace(b, stageFile(b, Stage.VAE_DECODER), text);
          return b;
        }),
        Arguments.of("garbage tokenizer.json with its hash updated", (Function<Path, Path>) d -> {
          Path b = copyBundle(d);
          replace(b, "tokenizer.json", "{\"model\": 42, ".getBytes(StandardCharsets.UTF_8));
          return b;
        }),
        Arguments.of("garbage safetensors with its hash updated", (Function<Path, Path>) d -> {
          Path b = copyBundle(d);
          replace(b, unconditionalFile(b), random(100));
          return b;
        }),
        Arguments.of("manifest is not JSON", (Function<Path, Path>) d -> {
          Path b = copyBundle(d);
          write(b, "foley-bundle.json", "{{{".getBytes(StandardCharsets.UTF_8));
          return b;
        }),
        Arguments.of("zip with an entry escaping the folder", (Function<Path, Path>) d -> zip(d.resolve("slip.zip"),
            Map.of("foley-bundle.json", "{}".getBytes(StandardCharsets.UTF_8), "../../evil", new byte[] {1}))),
        Arguments.of("external data outside the bundle (../), hashes updated", (Function<Path, Path>) d ->
            externalData(d, "../xx/er.onnx.data")),
        Arguments.of("external data the manifest does not list, hashes updated", (Function<Path, Path>) d ->
            externalData(d, "denoiser.other.dat")),
        Arguments.of("truncated external data with its hash updated", (Function<Path, Path>) d -> {
          try {
            Path b = d.resolve("truncated-external");
            io.foley4j.reference.ReferenceModel.writeBundle(b,
                io.foley4j.reference.ReferenceModel.options().externalData(true).build());
            byte[] w = read(b.resolve("denoiser.onnx.data"));
            Files.write(b.resolve("denoiser.onnx.data"), java.util.Arrays.copyOf(w, w.length / 2));
            io.foley4j.bundle.TamperedBundles.rehash(b);
            return b;
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }),
        Arguments.of("zip of random bytes", (Function<Path, Path>) d -> write(d, "random.zip", random(1000))),
        Arguments.of("tar.gz of random bytes", (Function<Path, Path>) d -> write(d, "random.tar.gz", random(1000))));
  }

  /** The reference model whose denoiser reads its weights from {@code location} instead of its listed file. */
  private static Path externalData(Path parent, String location) {
    try {
      return io.foley4j.bundle.TamperedBundles.externalDataElsewhere(parent, "external", location);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bundles")
  void badBundlesAreInvalidBundles(String row, Function<Path, Path> make) throws IOException {
    Path sub = Files.createTempDirectory(dir, "b");
    Path path = make.apply(sub);
    FoleyException e = alongsideGood(engine, () -> {
      try (ModelBundle b = ModelBundle.open(path); FoleyEngine other = FoleyEngine.builder().bundle(b).build()) {
        throw new AssertionError(row + ": a bad bundle was loaded");
      }
    });
    check(row, Code.INVALID_BUNDLE, e);
  }

  // ---- caches --------------------------------------------------------------------------------

  /** Stores that return garbage or throw are misses and dropped writes: the job still computes. */
  static Stream<Arguments> caches() {
    CacheEntry wrongShape = CacheEntry.of(Map.of("audio", io.foley4j.bundle.Safetensors.Tensor.f32(new float[7], 7),
        "visual", io.foley4j.bundle.Safetensors.Tensor.f32(new float[3], 3),
        "sync", io.foley4j.bundle.Safetensors.Tensor.f32(new float[3], 3)),
        Map.of("sampleRate", "48000", "durationTicks", "x", "durationTimescale", "-1"));
    CacheEntry otherRate = CacheEntry.of(Map.of("audio", io.foley4j.bundle.Safetensors.Tensor.f32(new float[96000],
        96000)), Map.of("sampleRate", "16000"));
    CacheEntry hugeDuration = CacheEntry.of(Map.of("visual", io.foley4j.bundle.Safetensors.Tensor.f32(new float[3], 3),
        "sync", io.foley4j.bundle.Safetensors.Tensor.f32(new float[3], 3)),
        Map.of("durationTicks", Long.toString(Long.MAX_VALUE), "durationTimescale", "1"));
    return Stream.of(
        Arguments.of("store throws on get and put", new FakeStore(k -> {
          throw new IllegalStateException("store down");
        }, true)),
        Arguments.of("entries of the wrong shape", new FakeStore(k -> wrongShape, false)),
        Arguments.of("audio at another sample rate", new FakeStore(k -> otherRate, false)),
        Arguments.of("a duration of Long.MAX_VALUE ticks", new FakeStore(k -> hugeDuration, false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("caches")
  void corruptCachesAreMisses(String row, FakeStore store) {
    try (FoleyEngine cached = FoleyEngine.builder().bundle(bundle).resultCache(store).featureCache(store).build()) {
      FoleyException e = alongsideGood(cached, () -> cached.submit(FoleyRequest.builder(good).prompt("x").steps(2)
          .build()));
      check(row, null, e);
      assertTrue(store.gets.get() > 0, "the store was asked");
    }
  }

  // ---- backend faults --------------------------------------------------------------------------

  /**
   * A denoiser batch that throws: the scheduler retries its items alone, and only the poisoned
   * job fails. The poisoned call is recognised by its first latent row, the job's own noise.
   */
  @Test
  void backendExceptionMidBatchFailsOnlyItsJob() {
    InterceptingBackend backend = new InterceptingBackend();
    float poison = Sampler.noise(1234, 0, 1)[0];
    backend.fail = (stage, in) -> stage == Stage.DENOISER && hasRowStartingWith(in.get("latents"), poison);
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(backend).maxConcurrentRequests(3).build()) {
      FoleyException f = alongsideGood(e, () -> e.submit(FoleyRequest.builder(good).prompt("x").steps(2).seed(1234)
          .build()));
      check("exception in a denoiser batch", Code.BACKEND_FAILURE, f);
    }
  }

  /** NaN in a denoiser output fails its job only (unbatched, so the NaN lands in its rows). */
  @Test
  void nanFromTheBackendFailsOnlyItsJob() {
    InterceptingBackend backend = new InterceptingBackend();
    float marker = Sampler.noise(4321, 0, 1)[0];
    backend.nan = (stage, in) -> stage == Stage.DENOISER && hasRowStartingWith(in.get("latents"), marker);
    try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(backend).maxBatchSize(1).build()) {
      FoleyException f = alongsideGood(e, () -> e.submit(FoleyRequest.builder(good).prompt("x").steps(2).seed(4321)
          .build()));
      check("NaN in the denoiser output", Code.BACKEND_FAILURE, f);
    }
  }

  private static boolean hasRowStartingWith(io.foley4j.backend.Tensor t, float v) {
    float[] d = t.floats();
    int per = d.length / (int) t.dim(0);
    for (int r = 0; r < t.dim(0); r++) {
      if (d[r * per] == v) {
        return true;
      }
    }
    return false;
  }

  // ---- shutdown under load -------------------------------------------------------------------

  @Test
  void closeUnderLoadEndsEveryJobWithAResultOrClosed() {
    FoleyEngine e = FoleyEngine.builder().bundle(bundle).maxConcurrentRequests(2).closeTimeout(Duration.ofMillis(300))
        .build();
    List<FoleyJob> jobs = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      jobs.add(e.submit(FoleyRequest.builder(good).prompt("x").steps(3).seed(i).build()));
    }
    e.close();
    for (FoleyJob j : jobs) {
      assertTrue(j.result().isDone(), "no job left pending by close()");
      try {
        assertEquals(96000, j.await().sampleCount());
      } catch (FoleyException f) {
        assertEquals(Code.CLOSED, f.code(), f.toString());
      }
    }
    check("submit after close", Code.CLOSED, assertThrows(FoleyException.class,
        () -> e.submit(FoleyRequest.of(good, "x")).await()));
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** A store answering every get with {@code answer}; optionally throwing on put. */
  static final class FakeStore implements TensorCache {
    final Function<String, CacheEntry> answer;
    final boolean throwOnPut;
    final java.util.concurrent.atomic.AtomicInteger gets = new java.util.concurrent.atomic.AtomicInteger();
    final Map<String, CacheEntry> puts = new ConcurrentHashMap<>();

    FakeStore(Function<String, CacheEntry> answer, boolean throwOnPut) {
      this.answer = answer;
      this.throwOnPut = throwOnPut;
    }

    @Override
    public CacheEntry get(String key) {
      gets.incrementAndGet();
      return answer.apply(key);
    }

    @Override
    public void put(String key, CacheEntry entry) {
      if (throwOnPut) {
        throw new IllegalStateException("store refuses writes");
      }
      puts.put(key, entry);
    }

    @Override
    public CacheStats stats() {
      return CacheStats.empty();
    }

    @Override
    public String toString() {
      return "FakeStore";
    }
  }

  private static Arguments ffmpegRow(String row, String name, Code expected, String... codec) {
    return Arguments.of(row, (Function<Path, Path>) d -> ffmpeg(d, name, 2, codec), expected);
  }

  /** A small test pattern made by ffmpeg with {@code codec} options, or null without ffmpeg. */
  static Path ffmpeg(Path d, String name, int seconds, String... codec) {
    if (!TestSupport.ffmpegAvailable()) {
      return null;
    }
    Path out = d.resolve(name);
    List<String> cmd = new ArrayList<>(List.of("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
        "testsrc=size=64x48:rate=25:duration=" + seconds));
    cmd.addAll(List.of(codec));
    cmd.add(out.toString());
    TestSupport.run(cmd.toArray(new String[0]));
    return out;
  }

  private static Path fifo(Path p) {
    try {
      Process mk = new ProcessBuilder("mkfifo", p.toString()).start();
      return mk.waitFor(10, TimeUnit.SECONDS) && mk.exitValue() == 0 ? p : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Rewrites the duration fields of mvhd, tkhd and mdhd to {@code seconds}. */
  static byte[] claimDuration(byte[] mp4, int seconds) {
    byte[] out = mp4.clone();
    for (int i = 4; i + 32 < out.length; i++) {
      String type = new String(out, i, 4, StandardCharsets.ISO_8859_1);
      boolean mvhd = type.equals("mvhd");
      boolean mdhd = type.equals("mdhd");
      boolean tkhd = type.equals("tkhd");
      if (!(mvhd || mdhd || tkhd) || out[i + 4] != 0) {
        continue; // version 0 boxes only (what our writer and ffmpeg produce for short clips)
      }
      int base = i + 8; // after type, version and flags
      int scaleAt = tkhd ? -1 : base + 8;
      int durAt = tkhd ? base + 16 : base + 12;
      long scale = scaleAt < 0 ? movieTimescale(out) : readInt(out, scaleAt);
      writeInt(out, durAt, scale * seconds);
    }
    return out;
  }

  private static long movieTimescale(byte[] b) {
    for (int i = 4; i + 24 < b.length; i++) {
      if (b[i] == 'm' && b[i + 1] == 'v' && b[i + 2] == 'h' && b[i + 3] == 'd') {
        return readInt(b, i + 16);
      }
    }
    throw new AssertionError("no mvhd");
  }

  private static long readInt(byte[] b, int at) {
    return ((b[at] & 0xFFL) << 24) | ((b[at + 1] & 0xFFL) << 16) | ((b[at + 2] & 0xFFL) << 8) | (b[at + 3] & 0xFFL);
  }

  private static void writeInt(byte[] b, int at, long v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
  }

  private static Path copyBundle(Path d) {
    return TestSupport.copyReferenceBundle(d.resolve("bundle"));
  }

  private static String stageFile(Path bundleDir, Stage s) {
    return manifest(bundleDir).getAsJsonObject("stages").getAsJsonObject(s.key()).get("file").getAsString();
  }

  private static String unconditionalFile(Path bundleDir) {
    return manifest(bundleDir).getAsJsonObject("files").getAsJsonObject("unconditional").get("file").getAsString();
  }

  private static com.google.gson.JsonObject manifest(Path bundleDir) {
    return com.google.gson.JsonParser.parseString(new String(read(bundleDir.resolve("foley-bundle.json")),
        StandardCharsets.UTF_8)).getAsJsonObject();
  }

  /** Replaces a file and updates its sha256 in the manifest, so only deeper checks can catch it. */
  private static void replace(Path bundleDir, String file, byte[] bytes) {
    write(bundleDir, file, bytes);
    String hash = sha(bytes);
    com.google.gson.JsonObject m = manifest(bundleDir);
    List<com.google.gson.JsonObject> entries = new ArrayList<>();
    m.getAsJsonObject("stages").entrySet().forEach(e -> entries.add(e.getValue().getAsJsonObject()));
    m.getAsJsonObject("files").entrySet().forEach(e -> entries.add(e.getValue().getAsJsonObject()));
    boolean found = false;
    for (com.google.gson.JsonObject entry : entries) {
      if (entry.get("file").getAsString().equals(file)) {
        entry.addProperty("sha256", hash);
        found = true;
      }
    }
    assertTrue(found, file + " is listed in the manifest");
    write(bundleDir, "foley-bundle.json", m.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static String sha(byte[] b) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private static Path zip(Path out, Map<String, byte[]> entries) {
    try (OutputStream os = Files.newOutputStream(out); ZipOutputStream z = new ZipOutputStream(os)) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out;
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  private static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Path write(Path d, String name, byte[] bytes) {
    try {
      return Files.write(d.resolve(name), bytes);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void append(Path p, byte[] bytes) {
    try {
      Files.write(p, bytes, java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Path mkdir(Path p) {
    try {
      return Files.createDirectories(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
