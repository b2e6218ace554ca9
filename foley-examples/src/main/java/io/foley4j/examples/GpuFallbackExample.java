package io.foley4j.examples;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.gpu.CudaBackend;
import io.foley4j.gpu.Fallback;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;

/**
 * A GPU backend with CPU fallback (foley-gpu-cuda): {@link CudaBackend} runs on an NVIDIA GPU when
 * the driver, CUDA and ONNX Runtime's GPU build are there; with {@link Fallback#CPU}, anywhere else
 * it logs one warning saying why and runs on the CPU. Usage: {@code GpuFallbackExample [outDir]};
 * writes {@code gpu-or-cpu.wav}.
 */
public final class GpuFallbackExample {
  private GpuFallbackExample() {}

  public static void main(String[] args) {
    Path dir = Path.of(args.length > 0 ? args[0] : ".");
    Path clip = dir.resolve("gpu-clip.mp4");
    SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(25, 1).durationSeconds(3)
        .flash(1.5, 0.1, 0xFFFFFF).build(), clip);

    try (ModelBundle bundle = ReferenceModel.bundle();
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle)
            .backend(CudaBackend.builder().deviceId(0).fallback(Fallback.CPU).build())
            .build()) {
      System.out.println(engine.readiness()); // says which device each stage runs on
      FoleyResult r = engine.generate(FoleyRequest.builder(clip).prompt("glass breaks").steps(4).seed(2).build());
      r.writeWav(dir.resolve("gpu-or-cpu.wav"));
      System.out.printf("%.2f s of audio; %s%n", r.durationSeconds(), r.timings());
    }
  }
}
