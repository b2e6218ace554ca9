package io.foley4j.gpu;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** Probe reports for tests: what {@link GpuProbe} would say on machines the tests do not have. */
final class FakeReports {
  private FakeReports() {}

  /**
   * A working driver (CUDA 12.4), one A10G (24 GiB, 20 GiB free, sm 8.6), every library and
   * TensorRT 10.6: a backend given it goes on to ask ONNX Runtime itself.
   */
  static GpuReport healthyMachine() {
    GpuCheck ok = GpuCheck.ok("x", "fake");
    GpuDevice d = new GpuDevice(0, "NVIDIA A10G", "GPU-0", 24L << 30, 20L << 30, 0, 0, 8, 6, ok);
    return new GpuReport(ok, ok, List.of(ok), ok, ok, Optional.of("550.54.15"), OptionalInt.of(12040), List.of(d),
        OptionalInt.of(100600));
  }
}
