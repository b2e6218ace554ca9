package io.foley4j.cli;

import io.foley4j.gpu.GpuProbe;
import io.foley4j.gpu.GpuReport;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code foley gpu probe}. */
@Command(name = "gpu", mixinStandardHelpOptions = true, description = "GPU tools.", subcommands = GpuCommand.Probe.class)
final class GpuCommand implements Runnable {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  @Command(name = "probe", mixinStandardHelpOptions = true,
      description = {"Report the NVIDIA driver, the GPUs (NVML), the CUDA driver API (libcuda), the CUDA and cuDNN"
          + " libraries ONNX Runtime's CUDA provider needs, TensorRT, and whether the ONNX Runtime jar has the GPU"
          + " providers. Each part is OK or says what is missing.",
          "Exit code 0: a CUDA backend can run on device 0; 3: it cannot (the table says why)."})
  static final class Probe implements Callable<Integer> {
    @Override
    public Integer call() {
      GpuReport r = GpuProbe.run();
      System.out.print(r.describe());
      boolean usable = r.cudaDriver().ok() && r.ortProviders().ok() && !r.devices().isEmpty()
          && r.cudaLibraries().stream().allMatch(c -> c.ok());
      System.out.println(usable ? "CUDA backend: can run on device 0" : "CUDA backend: cannot run here (see above)");
      return usable ? 0 : 3;
    }
  }
}
