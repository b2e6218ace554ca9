package io.foley4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.TestSupport;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The real bytedeco CUDA redist (and the TensorRT one, when on the class path) on a machine
 * without an NVIDIA driver: the libraries load, the probe then finds them, and a CUDA session
 * fails with a typed error saying the driver is missing or insufficient, not with a crash.
 * Tagged {@code redist}: only {@code mvn -Pgpu,cuda-redist} runs it (a 2.0 GB download; the
 * command is in docs/gpu.md). Extracts under target/redist-cache (about 1.9 GB, kept between runs).
 */
@Tag("redist")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CudaRedistRealTest {
  static final Path CACHE = Path.of("target", "redist-cache").toAbsolutePath();

  private static void noDriver() {
    Assumptions.assumeFalse(GpuProbe.run().cudaDriver().ok(), "this machine has a working NVIDIA driver");
    assertTrue(OrtJars.hasProvider(CudaRedistRealTest.class.getClassLoader(), "cuda"),
        "the redist tests need onnxruntime_gpu: run them with -Pgpu,cuda-redist");
  }


  @Test
  @Order(1)
  void theCudaRedistLoadsAndADriverlessMachineGetsATypedDriverError() {
    noDriver();
    CudaRedist.Report r = CudaRedist.loadCuda(CACHE);
    System.out.println("CudaRedistRealTest: " + r);
    for (String lib : GpuProbe.CUDA_PROVIDER_LIBRARIES) {
      assertTrue(r.libraries().contains(lib), lib + " in " + r.libraries());
    }
    GpuReport probed = GpuProbe.run();
    assertTrue(probed.cudaLibraries().stream().allMatch(GpuCheck::ok), "the probe finds the loaded libraries by name: "
        + probed.cudaLibraries());

    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      // the real probe: only the driver is missing now
      CudaBackend cuda = CudaBackend.builder().loadRedist(true).build();
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> cuda.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER)));
      System.out.println("CudaRedistRealTest: probe: " + e.getMessage());
      assertTrue(e.getMessage().startsWith("CUDA backend cannot run on device 0: (1) no NVIDIA driver: libcuda.so.1 not"
          + " found"), e.getMessage());
      assertFalse(e.getMessage().contains("(2)"), e.getMessage());
      assertFalse(e.getMessage().contains("libraries not found"), e.getMessage());

      // a probe that claims a driver: ONNX Runtime loads its CUDA provider with the redist's
      // libraries and CUDA itself reports the missing driver
      long t0 = System.nanoTime();
      CudaBackend past = CudaBackend.builder().loadRedist(true).probe(FakeReports::healthyMachine).build();
      e = assertThrows(GpuUnavailableException.class,
          () -> past.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER)));
      System.out.println("CudaRedistRealTest: ONNX Runtime (" + (System.nanoTime() - t0) / 1_000_000 + " ms): "
          + e.getMessage());
      assertTrue(e.getMessage().startsWith("CUDA backend cannot run on device 0: (1) the NVIDIA driver is missing or too"
          + " old for CUDA 12 (ONNX Runtime: "), e.getMessage());
      assertTrue(e.getMessage().contains("CUDA driver version is insufficient"), e.getMessage());
      assertTrue(e.getCause() instanceof ai.onnxruntime.OrtException, String.valueOf(e.getCause()));
      assertEquals("cuda:0", past.name());
    }
  }

  @Test
  @Order(2)
  void theTensorRtRedistLoadsWhenOnTheClassPath() {
    noDriver();
    Assumptions.assumeTrue(getClass().getClassLoader().getResource("org/bytedeco/tensorrt/" + CudaRedist.platform() + "/")
        != null, "the TensorRT redist is not on the class path (-Ptensorrt-redist)");
    CudaRedist.Report r = CudaRedist.loadTensorRt(CACHE);
    System.out.println("CudaRedistRealTest: " + r);
    assertTrue(r.libraries().containsAll(List.of("libnvinfer.so.10", "libnvonnxparser.so.10")), r.libraries().toString());
    GpuReport probed = GpuProbe.run();
    assertTrue(probed.tensorRt().ok(), probed.tensorRt().message());
    assertEquals("TensorRT 10.6.0", probed.tensorRt().message());

    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      TensorRtBackend trt = TensorRtBackend.builder().loadRedist(true).build();
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> trt.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER)));
      System.out.println("CudaRedistRealTest: TensorRT probe: " + e.getMessage());
      assertTrue(e.getMessage().startsWith("TensorRT backend cannot run on device 0: (1) no NVIDIA driver"), e.getMessage());
      assertFalse(e.getMessage().contains("TensorRT: "), "TensorRT itself is found: " + e.getMessage());
    }
  }
}
