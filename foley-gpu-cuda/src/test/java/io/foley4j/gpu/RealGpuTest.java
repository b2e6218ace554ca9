package io.foley4j.gpu;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backend;
import io.foley4j.backend.Backends;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference model on a real GPU against the CPU. Tagged {@code gpu}: it skips unless the probe
 * finds a usable CUDA setup and the GPU jar is on the class path ({@code -Pgpu}); gpu-check.sh
 * runs it. It has never run on a GPU (there was none to run it on): the tolerance is a guess to
 * be confirmed there.
 */
@Tag("gpu")
class RealGpuTest {
  /** Largest sample difference accepted between a GPU run and the CPU run (float32 kernels differ in order). */
  static final float TOLERANCE = 1e-3f;

  @TempDir
  Path dir;

  private static GpuReport usable() {
    GpuReport r = GpuProbe.run();
    Assumptions.assumeTrue(GpuEnvironment.cudaProblems(r, RealGpuTest.class.getClassLoader(), 0).isEmpty(),
        "no usable CUDA here: " + GpuEnvironment.cudaProblems(r, RealGpuTest.class.getClassLoader(), 0));
    return r;
  }

  private float maxDifference(Backend gpu) {
    Path video = dir.resolve("v.mp4");
    if (!Files.exists(video)) {
      SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(25, 1).durationSeconds(3).flash(1, 0.1, 0xFFFFFF).build(), video);
    }
    FoleyRequest request = FoleyRequest.builder(video).prompt("glass clink").seed(7).steps(10).build();
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      float[] cpu;
      float[] onGpu;
      try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(Backends.cpu()).build()) {
        cpu = e.submit(request, null).await().toArray();
      }
      try (FoleyEngine e = FoleyEngine.builder().bundle(bundle).backend(gpu).build()) {
        onGpu = e.submit(request, null).await().toArray();
      }
      assertEquals(cpu.length, onGpu.length);
      float max = 0;
      for (int i = 0; i < cpu.length; i++) {
        max = Math.max(max, Math.abs(cpu[i] - onGpu[i]));
      }
      return max;
    }
  }

  @Test
  void cudaGivesTheCpusAudioWithinTolerance() {
    usable();
    CudaBackend cuda = CudaBackend.builder().build();
    float d = maxDifference(cuda);
    System.out.println("cuda:0 max |gpu - cpu| = " + d);
    assertEquals("cuda:0", cuda.name(), "no fallback");
    assertTrue(d <= TOLERANCE, "max difference " + d);
  }

  @Test
  void tensorRtGivesTheCpusAudioAndReusesItsEngines() throws Exception {
    GpuReport r = usable();
    Assumptions.assumeTrue(GpuEnvironment.tensorRtProblems(r, getClass().getClassLoader(), 0).isEmpty(), "no TensorRT");
    Path cache = dir.resolve("trt");
    TensorRtBackend trt = TensorRtBackend.builder().engineCacheDirectory(cache).build();
    float d = maxDifference(trt);
    System.out.println("tensorrt:0 max |gpu - cpu| = " + d);
    assertTrue(d <= TOLERANCE, "max difference " + d);
    try (var s = Files.list(cache)) {
      assertTrue(s.anyMatch(p -> p.getFileName().toString().startsWith("denoiser-")), "an engine directory per stage");
    }
  }
}
