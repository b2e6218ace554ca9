package io.foley4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyException;
import io.foley4j.TestSupport;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import io.foley4j.bundle.TensorSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TensorRtBackend on CPU: option checks, profiles, cache keys and a clean failure. */
class TensorRtBackendTest {
  @TempDir
  Path dir;

  private static final GpuDevice A10G = new GpuDevice(0, "NVIDIA A10G", "GPU-0", 24L << 30, 20L << 30, 0, 0, 8, 6,
      GpuCheck.ok("device 0", "NVIDIA A10G"));
  private static final GpuDevice A100 = new GpuDevice(0, "NVIDIA A100-SXM4-80GB", "GPU-1", 80L << 30, 70L << 30, 0, 0, 8, 0,
      GpuCheck.ok("device 0", "A100"));

  /** A denoiser-shaped stage with a symbolic length axis "frames" and a fixed text axis. */
  private static StageSpec denoiser(String sha) {
    return new StageSpec(Stage.DENOISER, "denoiser.onnx", sha,
        List.of(new TensorSpec("latents", "float32", new long[] {-1, 128, -1}, new String[] {"batch", null, "frames"}),
            new TensorSpec("text", "float32", new long[] {-1, 77, 768}, new String[] {"batch", null, null})),
        List.of(new TensorSpec("velocity", "float32", new long[] {-1, 128, -1}, new String[] {"batch", null, "frames"})));
  }

  @Test
  void optionsAreValidatedAndSetOnce() {
    FoleyException e = assertThrows(FoleyException.class, () -> TensorRtBackend.builder().batchBuckets(1, 4, 2));
    assertEquals("batchBuckets sizes must be strictly increasing, got [1, 4, 2]", e.getMessage());
    e = assertThrows(FoleyException.class, () -> TensorRtBackend.builder().batchBuckets());
    assertEquals("batchBuckets needs at least one size", e.getMessage());
    e = assertThrows(FoleyException.class, () -> TensorRtBackend.builder().batchBuckets(0, 2));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    e = assertThrows(FoleyException.class, () -> TensorRtBackend.builder().builderOptimizationLevel(6));
    assertEquals("builderOptimizationLevel must be between 0 and 5, was 6", e.getMessage());
    e = assertThrows(FoleyException.class, () -> TensorRtBackend.builder().maxWorkspaceBytes(10));
    assertTrue(e.getMessage().startsWith("maxWorkspaceBytes must be at least 1 MiB"), e.getMessage());
    e = assertThrows(FoleyException.class, () -> TensorRtBackend.builder().lengthBuckets(" ", 10));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertThrows(IllegalStateException.class, () -> TensorRtBackend.builder().fp16(true).fp16(false));
    assertThrows(IllegalStateException.class, () -> TensorRtBackend.builder().lengthBuckets("frames", 10).lengthBuckets(
        "frames", 20));
    TensorRtBackend.builder().lengthBuckets("frames", 10).lengthBuckets("tokens", 77); // one call per axis
    e = assertThrows(FoleyException.class, () -> TensorRtBackend.builder().deviceId(1)
        .cuda(CudaBackend.builder().deviceId(0).build()).build());
    assertTrue(e.getMessage().startsWith("the CUDA backend given to TensorRtBackend runs on device 0 but TensorRT on device 1"),
        e.getMessage());
    Path file = dir.resolve("file");
    assertThrows(FoleyException.class, () -> {
      Files.writeString(file, "x");
      TensorRtBackend.builder().engineCacheDirectory(file);
    });

    TensorRtBackend t = TensorRtBackend.builder().fp16(true).bf16(true).engineCacheDirectory(dir).build();
    assertEquals("fp16+bf16", t.precision());
    assertEquals(List.of(1, 2, 4, 8), t.batchBuckets(), "default buckets up to the engine's default maxBatchSize");
    assertEquals("tensorrt:0", t.name());
    assertEquals(0, t.cuda().deviceId());
    assertEquals("fp32", TensorRtBackend.builder().build().precision());
  }

  @Test
  void profilesCoverEverySizeUpToTheLargestBucketWithFixedDimensionsFixed() {
    TrtProfiles p = TrtProfiles.of(denoiser("ab"), List.of(1, 4), Map.of("frames", List.of(100L, 200L)));
    assertEquals(4, p.count());
    assertEquals("latents:1x128x1,text:1x77x768,latents:1x128x101,text:1x77x768,"
        + "latents:2x128x1,text:2x77x768,latents:2x128x101,text:2x77x768", p.min());
    assertEquals("latents:1x128x100,text:1x77x768,latents:1x128x200,text:1x77x768,"
        + "latents:4x128x100,text:4x77x768,latents:4x128x200,text:4x77x768", p.opt());
    assertEquals(p.opt(), p.max(), "each profile is optimised for its bucket's own size");
  }

  @Test
  void aSymbolicAxisWithoutBucketsIsRefusedNamingIt() {
    FoleyException e = assertThrows(FoleyException.class, () -> TrtProfiles.of(denoiser("ab"), List.of(1), Map.of()));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().startsWith("stage denoiser input latents:float32[batch,128,frames] has the symbolic dimension"
        + " 'frames' but the TensorRT backend has no length buckets for it; give them with"
        + " TensorRtBackend.Builder.lengthBuckets(\"frames\", ...)"), e.getMessage());
  }

  @Test
  void theReferenceBundlesStagesGetOneProfilePerBatchBucket() {
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      for (Stage s : Stage.values()) {
        StageSpec spec = bundle.manifest().stage(s);
        TrtProfiles p = TrtProfiles.of(spec, List.of(1, 2, 4, 8), Map.of());
        assertEquals(4, p.count(), s.key());
        TensorSpec first = spec.inputs().get(0);
        assertTrue(p.max().startsWith(first.name() + ":1x"), p.max());
        assertTrue(p.max().contains(first.name() + ":8x"), p.max());
      }
    }
  }

  @Test
  void engineCacheKeysChangeWithEveryInputThatInvalidatesAnEngine() {
    TensorRtBackend fp16 = TensorRtBackend.builder().fp16(true).engineCacheDirectory(dir).build();
    TensorRtBackend fp32 = TensorRtBackend.builder().engineCacheDirectory(dir).build();
    TensorRtBackend otherBuckets = TensorRtBackend.builder().fp16(true).batchBuckets(1, 16).engineCacheDirectory(dir)
        .lengthBuckets("frames", 100).build();
    TensorRtBackend withFrames = TensorRtBackend.builder().fp16(true).engineCacheDirectory(dir).lengthBuckets("frames", 100)
        .build();
    String sha = "3f2a9c1b0d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd";
    Map<String, String> o = withFrames.providerOptions(denoiser(sha), A10G, "1.23.2", "10.6.0");
    Path engine = Path.of(o.get("trt_engine_cache_path"));
    assertEquals(dir.toAbsolutePath(), engine.getParent());
    assertTrue(engine.getFileName().toString().matches("denoiser-3f2a9c1b0d4e-ort1\\.23\\.2-nvidia-a10g-sm86-fp16-p[0-9a-f]{8}"),
        engine.toString());
    assertEquals(dir.toAbsolutePath().resolve("timing-nvidia-a10g-sm86-trt10.6.0").toString(), o.get("trt_timing_cache_path"));
    assertEquals(o, withFrames.providerOptions(denoiser(sha), A10G, "1.23.2", "10.6.0"), "deterministic");
    String other = "0" + sha.substring(1);
    assertNotEquals(engine, path(withFrames.providerOptions(denoiser(other), A10G, "1.23.2", "10.6.0")), "model");
    assertNotEquals(engine, path(withFrames.providerOptions(denoiser(sha), A100, "1.23.2", "10.6.0")), "GPU model");
    assertNotEquals(engine, path(withFrames.providerOptions(denoiser(sha), A10G, "1.24.1", "10.6.0")), "ORT version");
    assertNotEquals(engine, path(otherBuckets.providerOptions(denoiser(sha), A10G, "1.23.2", "10.6.0")), "profiles");
    StageSpec fixed = new StageSpec(Stage.DENOISER, "d.onnx", sha,
        List.of(new TensorSpec("latents", "float32", new long[] {-1, 128, 400})), List.of());
    assertNotEquals(path(fp16.providerOptions(fixed, A10G, "1.23.2", "10.6.0")),
        path(fp32.providerOptions(fixed, A10G, "1.23.2", "10.6.0")), "precision");
    assertEquals("1", o.get("trt_fp16_enable"));
    assertEquals(false, o.containsKey("trt_bf16_enable"), "bf16 is passed only when asked");
    assertEquals("1", TensorRtBackend.builder().bf16(true).engineCacheDirectory(dir).build()
        .providerOptions(fixed, A10G, "1.23.2", "10.6.0").get("trt_bf16_enable"));
    assertEquals("1", o.get("trt_engine_cache_enable"));
    assertEquals("1", o.get("trt_timing_cache_enable"));
    assertEquals(TrtProfiles.of(denoiser(sha), List.of(1, 2, 4, 8), Map.of("frames", List.of(100L))).min(),
        o.get("trt_profile_min_shapes"));
    assertEquals(false, TensorRtBackend.builder().timingCache(false).engineCacheDirectory(dir).build()
        .providerOptions(fixed, A10G, "1.23.2", "10.6.0").containsKey("trt_timing_cache_path"));
  }

  private static Path path(Map<String, String> o) {
    return Path.of(o.get("trt_engine_cache_path"));
  }

  @Test
  void aDriverThatNvmlCannotDescribeIsRefusedNotAnIndexError() {
    GpuCheck ok = GpuCheck.ok("x", "fake");
    GpuReport noNvml = new GpuReport(new GpuCheck("nvml", ProbeStatus.LIBRARY_NOT_FOUND, "libnvidia-ml.so.1 not found"), ok,
        List.of(ok), ok, ok, java.util.Optional.empty(), java.util.OptionalInt.of(12040), List.of(),
        java.util.OptionalInt.of(100600));
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      TensorRtBackend t = TensorRtBackend.builder().engineCacheDirectory(dir).probe(() -> noNvml).build();
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> t.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER)));
      assertTrue(e.getMessage().contains("NVML does not describe device 0 (libnvidia-ml.so.1 not found); the TensorRT"
          + " backend keys its engine cache by the GPU model NVML reports"), e.getMessage());
    }
  }

  @Test
  void withoutTensorRtOpenFailsCleanlyNamingWhatIsMissing() {
    Assumptions.assumeFalse(GpuProbe.run().tensorRt().ok(), "this machine has TensorRT");
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      TensorRtBackend t = TensorRtBackend.builder().engineCacheDirectory(dir.resolve("cache")).build();
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> t.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER)));
      assertTrue(e.getMessage().startsWith("TensorRT backend cannot run on device 0: (1) "), e.getMessage());
      assertTrue(e.getMessage().contains("TensorRT: libnvinfer.so.10 not found"), e.getMessage());
      assertTrue(e.getMessage().contains("its TensorRT provider also needs TensorRT 10.x"), e.getMessage());
      assertTrue(Files.notExists(dir.resolve("cache")), "nothing is written when nothing can run");
    }
  }
}
