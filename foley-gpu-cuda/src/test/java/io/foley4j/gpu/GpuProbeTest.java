package io.foley4j.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GpuProbe on this machine (no driver on CI) and against fake NVIDIA libraries built from C. */
class GpuProbeTest {
  @TempDir
  Path dir;

  @Test
  void withoutADriverEveryPartIsAStatusWithAMessageNotAnException() {
    GpuReport r = GpuProbe.run();
    if (r.nvml().ok()) { // a machine with a GPU: then it must have found devices
      assertFalse(r.devices().isEmpty(), r.describe());
      assertTrue(r.driverVersion().isPresent(), r.describe());
      return;
    }
    assertEquals(ProbeStatus.LIBRARY_NOT_FOUND, r.nvml().status(), r.describe());
    assertTrue(r.nvml().message().contains("libnvidia-ml.so.1") && r.nvml().message().contains("no NVIDIA driver"),
        r.nvml().message());
    assertEquals(ProbeStatus.LIBRARY_NOT_FOUND, r.cudaDriver().status());
    assertTrue(r.cudaDriver().message().contains("libcuda.so.1"), r.cudaDriver().message());
    assertTrue(r.devices().isEmpty());
    assertTrue(r.driverVersion().isEmpty());
    assertTrue(r.cudaDriverVersion().isEmpty());
    assertTrue(r.describe().contains("devices: none found"), r.describe());
    assertEquals(GpuProbe.CUDA_PROVIDER_LIBRARIES.size(), r.cudaLibraries().size());
    for (GpuCheck c : r.checks()) {
      assertFalse(c.message().isBlank(), c.toString());
      assertTrue(r.describe().contains(c.what()), c.what());
    }
  }

  @Test
  void withTheCpuJarTheProvidersCheckSaysWhichJarToUse() {
    GpuCheck c = GpuProbe.run().ortProviders();
    if (OrtJars.hasProvider(getClass().getClassLoader(), "cuda")) {
      assertEquals(ProbeStatus.OK, c.status(), c.toString()); // built with -Pgpu
      return;
    }
    assertEquals(ProbeStatus.LIBRARY_NOT_FOUND, c.status());
    assertTrue(c.message().contains("onnxruntime-1.23.2.jar has no CUDA or TensorRT provider"), c.message());
    assertTrue(c.message().contains("onnxruntime_gpu:1.23.2"), c.message());
  }

  @Test
  void readsEveryFieldFromADriverThatAnswers() throws Exception {
    Path lib = FakeLibraries.build(dir, false);
    GpuReport r = new GpuProbe(FakeLibraries.names(lib), getClass().getClassLoader()).probe();
    assertEquals(ProbeStatus.OK, r.nvml().status(), r.describe());
    assertEquals("driver 550.54.15, 2 device(s)", r.nvml().message());
    assertEquals("550.54.15", r.driverVersion().orElseThrow());
    assertEquals(12040, r.cudaDriverVersion().getAsInt());
    assertEquals(ProbeStatus.OK, r.cudaDriver().status(), r.cudaDriver().toString());
    assertEquals("driver supports CUDA 12.4, 2 device(s)", r.cudaDriver().message());
    assertEquals(100600, r.tensorRtVersion().getAsInt());
    assertEquals("TensorRT 10.6.0", r.tensorRt().message());
    assertTrue(r.cudaLibraries().stream().allMatch(GpuCheck::ok));
    assertEquals(2, r.devices().size());
    GpuDevice a = r.devices().get(0);
    assertEquals(new GpuDevice(0, "NVIDIA A10G", "GPU-00000000-1111-2222-3333-444444444444", 24L << 30, 20L << 30, 37, 12,
        8, 6, GpuCheck.ok("device 0", "NVIDIA A10G")), a);
    assertEquals("8.6", a.computeCapability());
    GpuDevice b = r.devices().get(1);
    assertEquals("NVIDIA A100-SXM4-80GB", b.name());
    assertEquals(80L << 30, b.memoryTotalBytes());
    assertEquals("8.0", b.computeCapability());
    String table = r.describe();
    assertTrue(table.contains("device 0: NVIDIA A10G, GPU-00000000-1111-2222-3333-444444444444, compute 8.6, memory 20480 MiB"
        + " free of 24576 MiB, utilization gpu 37% memory 12%"), table);
    assertTrue(table.contains("driver: 550.54.15, CUDA driver API: 12.4, TensorRT: 10.6.0"), table);
    // what a backend concludes from it: nothing wrong with the driver, device 1 exists, device 2 does not
    List<String> onDevice2 = GpuEnvironment.cudaProblems(r, getClass().getClassLoader(), 2);
    assertTrue(onDevice2.stream().anyMatch(p -> p.equals("device 2 does not exist: the driver sees 2 GPU(s) (ids 0 to 1)")),
        onDevice2.toString());
    assertFalse(GpuEnvironment.cudaProblems(r, getClass().getClassLoader(), 1).stream()
        .anyMatch(p -> p.contains("driver") || p.contains("device")));
  }

  @Test
  void aDriverWithoutDevicesAndAnUnsupportedQueryAreStatusesToo() throws Exception {
    Path lib = FakeLibraries.build(dir, true);
    GpuReport r = new GpuProbe(FakeLibraries.names(lib), getClass().getClassLoader()).probe();
    assertEquals(ProbeStatus.NO_DEVICE, r.cudaDriver().status(), r.describe());
    assertEquals("cuInit failed: CUDA_ERROR_NO_DEVICE (100)", r.cudaDriver().message());
    GpuDevice d = r.devices().get(0);
    assertEquals(ProbeStatus.CALL_FAILED, d.check().status());
    assertEquals("nvmlDeviceGetUtilizationRates: not supported on this device", d.check().message());
    assertEquals(-1, d.gpuUtilizationPercent());
    assertEquals(24L << 30, d.memoryTotalBytes(), "the other fields are still read");
    assertTrue(r.describe().contains("utilization gpu ?% memory ?% [CALL_FAILED"), r.describe());
    List<String> problems = GpuEnvironment.cudaProblems(r, getClass().getClassLoader(), 0);
    assertTrue(problems.contains("the NVIDIA driver does not work: cuInit failed: CUDA_ERROR_NO_DEVICE (100)"),
        problems.toString());
  }

  @Test
  void aLibraryWithoutTheFunctionsIsSymbolNotFound() {
    // libm is there on every glibc machine and has none of NVIDIA's functions (by file name: JNA's
    // plain "c" is the whole process, which may hold the fake library of another test)
    List<String> libm = List.of("libm.so.6");
    GpuProbe.Names libc = new GpuProbe.Names(libm, libm, List.of(), libm, libm);
    GpuReport r = new GpuProbe(libc, getClass().getClassLoader()).probe();
    assertEquals(ProbeStatus.SYMBOL_NOT_FOUND, r.nvml().status(), r.describe());
    assertTrue(r.nvml().message().contains("has no nvmlInit_v2"), r.nvml().message());
    assertEquals(ProbeStatus.SYMBOL_NOT_FOUND, r.cudaDriver().status());
    assertTrue(r.cudaDriver().message().contains("has no cuDriverGetVersion"), r.cudaDriver().message());
    assertEquals(ProbeStatus.SYMBOL_NOT_FOUND, r.tensorRt().status());
  }

  @Test
  void theLoadersReasonIsKeptAndJnasWrappingDropped() {
    assertEquals("libcuda.so.1: cannot open shared object file: No such file or directory", GpuProbe.loaderReason(
        "Unable to load library 'libcuda.so.1':\nlibcuda.so.1: cannot open shared object file: No such file or directory\n"
            + "Native library (linux-x86-64/libcuda.so.1) not found in resource path (jna.jar)"));
    assertEquals("no reason given", GpuProbe.loaderReason(null));
    GpuReport r = GpuProbe.run();
    if (!r.cudaDriver().ok()) {
      assertTrue(r.cudaDriver().message().startsWith("libcuda.so.1 not found (libcuda.so.1: cannot open shared object file"),
          r.cudaDriver().message());
    }
  }

  @Test
  void versionEncodings() {
    assertEquals("12.4", GpuReport.cudaVersionString(12040));
    assertEquals("11.8", GpuReport.cudaVersionString(11080));
    assertEquals("10.9.0", GpuReport.tensorRtVersionString(100900));
    assertEquals("8.6.1", GpuReport.tensorRtVersionString(8601));
  }
}
