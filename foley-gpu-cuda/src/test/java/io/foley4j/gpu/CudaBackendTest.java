package io.foley4j.gpu;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.TestSupport;
import io.foley4j.backend.Backends;
import io.foley4j.backend.CpuBackend;
import io.foley4j.backend.StageSession;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CUDA backend on a machine without CUDA: options, errors, fallback. */
class CudaBackendTest {
  @TempDir
  Path dir;

  @Test
  void optionsAreValidatedSetOnceAndHandedToOrtByItsNames() {
    FoleyException e = assertThrows(FoleyException.class, () -> CudaBackend.builder().deviceId(-1));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertEquals("deviceId must be between 0 and 1023, was -1", e.getMessage());
    e = assertThrows(FoleyException.class, () -> CudaBackend.builder().gpuMemLimit(1000));
    assertEquals("gpuMemLimit must be at least 1 MiB (1048576 bytes), was 1000", e.getMessage());
    e = assertThrows(FoleyException.class, () -> CudaBackend.builder().fallback(null));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    IllegalStateException twice = assertThrows(IllegalStateException.class,
        () -> CudaBackend.builder().deviceId(1).deviceId(2));
    assertEquals("deviceId was already set to 1", twice.getMessage());
    assertThrows(IllegalStateException.class, () -> CudaBackend.builder().useTf32(true).useTf32(true));
    assertThrows(IllegalStateException.class, () -> CudaBackend.builder().fallback(Fallback.CPU).fallback(Fallback.FAIL));

    CudaBackend.Builder b = CudaBackend.builder().deviceId(1).gpuMemLimit(8L << 30)
        .arenaExtendStrategy(CudaBackend.ArenaExtendStrategy.SAME_AS_REQUESTED)
        .cudnnConvAlgoSearch(CudaBackend.ConvAlgoSearch.HEURISTIC).useTf32(true).copyInDefaultStream(false)
        .cudnnConvUseMaxWorkspace(true).cudnnConv1dPadToNc1d(true).preferNhwc(false);
    CudaBackend cuda = b.build();
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("device_id", "1");
    expected.put("gpu_mem_limit", Long.toString(8L << 30));
    expected.put("arena_extend_strategy", "kSameAsRequested");
    expected.put("cudnn_conv_algo_search", "HEURISTIC");
    expected.put("use_tf32", "1");
    expected.put("do_copy_in_default_stream", "0");
    expected.put("cudnn_conv_use_max_workspace", "1");
    expected.put("cudnn_conv1d_pad_to_nc1d", "1");
    expected.put("prefer_nhwc", "0");
    assertEquals(expected, cuda.providerOptions());
    assertEquals("cuda:1", cuda.name());
    assertEquals(cuda.providerOptions(), b.build().providerOptions(), "build() does not change the builder");

    CudaBackend defaults = CudaBackend.builder().build();
    assertEquals(Map.of("device_id", "0", "use_tf32", "0"), defaults.providerOptions(), "TF32 is off unless asked");
    assertEquals(Fallback.FAIL, defaults.fallback());
    assertThrows(UnsupportedOperationException.class, () -> defaults.providerOptions().put("x", "y"));
  }

  @Test
  void withoutCudaTheErrorNamesEveryProblemAndTheFix() {
    Assumptions.assumeFalse(GpuProbe.run().cudaDriver().ok(), "this machine has a working CUDA driver");
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      CudaBackend cuda = CudaBackend.builder().build();
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> cuda.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER)));
      String m = e.getMessage();
      assertEquals(FoleyException.Code.BACKEND_FAILURE, e.code());
      assertTrue(m.startsWith("CUDA backend cannot run on device 0: (1) "), m);
      assertTrue(m.contains("no NVIDIA driver: libcuda.so.1 not found"), m);
      assertTrue(m.contains("CUDA 12 / cuDNN 9 libraries not found: libcudart.so.12, libcublasLt.so.12, libcublas.so.12,"
          + " libcurand.so.10, libcufft.so.11, libcudnn.so.9"), m);
      assertTrue(m.contains("CUDA 12 (Linux 525.60.13 or newer), the CUDA 12.x runtime, cuBLAS, cuFFT and cuRAND, and cuDNN"
          + " 9.x"), m);
      assertTrue(m.endsWith("To run on the CPU instead, choose fallback CPU (foley generate --fallback cpu)."), m);
      if (!OrtJars.hasProvider(getClass().getClassLoader(), "cuda")) {
        assertTrue(m.contains("the CUDA execution provider (libonnxruntime_providers_cuda.so) is not on the class path"), m);
        assertTrue(m.contains("use com.microsoft.onnxruntime:onnxruntime_gpu:1.23.2 instead"), m);
      }
      assertEquals("cuda:0", cuda.name(), "FAIL never falls back");
    }
  }

  @Test
  void freeMemoryComesFromNvmlForItsDeviceCappedByTheMemoryLimit() {
    CudaBackend plain = CudaBackend.builder().deviceId(0).probe(FakeReports::healthyMachine).build();
    CudaBackend limited = CudaBackend.builder().deviceId(0).gpuMemLimit(8L << 30).probe(FakeReports::healthyMachine)
        .build();
    CudaBackend other = CudaBackend.builder().deviceId(3).probe(FakeReports::healthyMachine).build();
    if (System.getenv("CUDA_VISIBLE_DEVICES") == null) {
      assertEquals(java.util.OptionalLong.of(20L << 30), plain.freeMemoryBytes(), "NVML's free memory of device 0");
      assertEquals(java.util.OptionalLong.of(8L << 30), limited.freeMemoryBytes(), "at most gpu_mem_limit");
    }
    assertEquals(java.util.OptionalLong.empty(), other.freeMemoryBytes(), "NVML does not describe device 3");
    assertEquals(java.util.OptionalLong.empty(), GpuMemory.free(FakeReports::healthyMachine, 0, -1, false, "1,0"),
        "with CUDA_VISIBLE_DEVICES, NVML's indices are not CUDA's");
    assertEquals(java.util.OptionalLong.empty(), GpuMemory.free(FakeReports::healthyMachine, 0, -1, true, null),
        "fell back to the CPU");
    assertEquals(java.util.OptionalLong.empty(), GpuMemory.free(() -> {
      throw new IllegalStateException("probe bug");
    }, 0, -1, false, null), "a failing probe is no answer, not a failure");
    TensorRtBackend trt = TensorRtBackend.builder().deviceId(0).probe(FakeReports::healthyMachine).build();
    if (System.getenv("CUDA_VISIBLE_DEVICES") == null) {
      assertEquals(java.util.OptionalLong.of(20L << 30), trt.freeMemoryBytes());
    }
  }


  @Test
  void anOnnxRuntimeThatCannotAddCudaIsATypedErrorNotACrash() {
    Assumptions.assumeFalse(OrtJars.hasProvider(getClass().getClassLoader(), "cuda"), "built with onnxruntime_gpu");
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      // the CPU jar, but a class loader and a probe that claim everything is there: ONNX Runtime's own refusal
      ClassLoader claimsGpu = new ClassLoader(getClass().getClassLoader()) {
        @Override
        public java.net.URL getResource(String name) {
          return name.endsWith("libonnxruntime_providers_cuda.so") ? super.getResource(OrtJars.CLASS) : super.getResource(name);
        }
      };
      CudaBackend cuda = CudaBackend.builder().probe(FakeReports::healthyMachine).classLoader(claimsGpu).build();
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> cuda.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER)));
      assertTrue(e.getMessage().startsWith("CUDA backend cannot run on device 0: (1) ONNX Runtime has no GPU provider ("),
          e.getMessage());
      assertTrue(e.getMessage().contains("Failed to find CUDA shared provider"), e.getMessage());
      assertTrue(e.getMessage().contains("use com.microsoft.onnxruntime:onnxruntime_gpu:1.23.2 instead"), e.getMessage());
      assertTrue(e.getCause() instanceof ai.onnxruntime.OrtException, String.valueOf(e.getCause()));
    }
  }

  @Test
  void withTheGpuJarButNoCudaLibrariesOrtsOwnErrorNamesLibcublasLt() {
    // runs with -Pgpu (onnxruntime_gpu) on a machine without CUDA: the probe is told all is well,
    // so ONNX Runtime really adds the CUDA provider and fails loading its libraries
    Assumptions.assumeTrue(OrtJars.hasProvider(getClass().getClassLoader(), "cuda"), "needs onnxruntime_gpu (-Pgpu)");
    Assumptions.assumeFalse(GpuProbe.run().cudaLibraries().stream().allMatch(GpuCheck::ok), "CUDA libraries are installed");
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      CudaBackend cuda = CudaBackend.builder().probe(FakeReports::healthyMachine).build();
      GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
          () -> cuda.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER)));
      assertTrue(e.getMessage().startsWith("CUDA backend cannot run on device 0: (1) ONNX Runtime could not load"
          + " libcublasLt.so.12 ("), e.getMessage());
      assertTrue(e.getCause() instanceof ai.onnxruntime.OrtException, String.valueOf(e.getCause()));
    }
  }

  @Test
  void ortErrorsAreExplained() {
    ai.onnxruntime.OrtException lib = new ai.onnxruntime.OrtException(ai.onnxruntime.OrtException.OrtErrorCode.ORT_FAIL,
        "Error loading \"libonnxruntime_providers_cuda.so\" which depends on \"libcublasLt.so.12\" which is missing."
            + " (Error 2: libcublasLt.so.12: cannot open shared object file: No such file or directory)");
    String m = GpuEnvironment.fromOrt("CUDA", 0, lib, false).getMessage();
    assertTrue(m.startsWith("CUDA backend cannot run on device 0: (1) ONNX Runtime could not load libcublasLt.so.12 ("), m);
    assertTrue(m.contains("add its directory to LD_LIBRARY_PATH"), m);
    ai.onnxruntime.OrtException driver = new ai.onnxruntime.OrtException(ai.onnxruntime.OrtException.OrtErrorCode.ORT_FAIL,
        "CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version ; GPU=0");
    m = GpuEnvironment.fromOrt("CUDA", 0, driver, false).getMessage();
    assertTrue(m.contains("the NVIDIA driver is missing or too old for CUDA 12 (ONNX Runtime: "), m);
    assertTrue(m.contains("CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version"), m);
    assertSame(driver, GpuEnvironment.fromOrt("CUDA", 0, driver, false).getCause());
  }

  @Test
  void fallbackCpuWarnsOnceAndGivesTheCpuBackendsAudio() throws Exception {
    Assumptions.assumeFalse(GpuProbe.run().cudaDriver().ok(), "this machine has a working CUDA driver");
    Path video = dir.resolve("v.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(2).flash(1, 0.1, 0xFFFFFF).build(), video);
    FoleyRequest request = FoleyRequest.builder(video).prompt("glass clink").seed(3).steps(4).build();
    CpuBackend cpu = CpuBackend.builder().intraOpThreads(1).build();
    CudaBackend cuda = CudaBackend.builder().fallback(Fallback.CPU).cpu(cpu).build();
    AtomicInteger warnings = new AtomicInteger();
    List<String> texts = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Logger log = java.util.logging.Logger.getLogger("io.foley4j.gpu");
    java.util.logging.Handler h = new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord r) {
        if (r.getLevel() == java.util.logging.Level.WARNING) {
          warnings.incrementAndGet();
          texts.add(r.getMessage());
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    log.addHandler(h);
    FoleyResult viaFallback;
    FoleyResult viaCpu;
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(cuda).build()) {
        viaFallback = engine.submit(request, null).await();
      }
      try (FoleyEngine engine = FoleyEngine.builder().bundle(bundle).backend(cpu).build()) {
        viaCpu = engine.submit(request, null).await();
      }
    } finally {
      log.removeHandler(h);
    }
    assertEquals(1, warnings.get(), "one warning for all five stages: " + texts);
    assertTrue(texts.get(0).startsWith("running on the CPU instead of CUDA:0 (fallback CPU): CUDA backend cannot run on"
        + " device 0: "), texts.get(0));
    assertTrue(texts.get(0).contains("libcublasLt.so.12"), texts.get(0));
    assertEquals("cpu (fallback from cuda:0)", cuda.name());
    assertArrayEquals(viaCpu.toArray(), viaFallback.toArray(), 0f);
    assertEquals(2 * 48000, viaFallback.sampleCount());
  }

  @Test
  void aBrokenModelFailsAsABrokenBundleEvenWithFallback() throws Exception {
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      Path junk = dir.resolve("junk.onnx");
      java.nio.file.Files.write(junk, new byte[] {1, 2, 3});
      CudaBackend cuda = CudaBackend.builder().fallback(Fallback.CPU).probe(FakeReports::healthyMachine)
          .classLoader(new ClassLoader(getClass().getClassLoader()) {
            @Override
            public java.net.URL getResource(String name) {
              return name.endsWith("libonnxruntime_providers_cuda.so") ? super.getResource(OrtJars.CLASS) : super.getResource(name);
            }
          }).build();
      // the provider cannot start here, so this falls back, and the CPU backend then refuses the file
      FoleyException e = assertThrows(FoleyException.class,
          () -> cuda.open(bundle.manifest().stage(Stage.TEXT_ENCODER), junk));
      assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code(), e.toString());
      try (StageSession s = cuda.open(bundle.manifest().stage(Stage.TEXT_ENCODER), bundle.stageFile(Stage.TEXT_ENCODER))) {
        assertEquals(Stage.TEXT_ENCODER, s.spec().stage());
      }
    }
    assertSame(Backends.cpu().getClass(), CpuBackend.class);
  }
}
