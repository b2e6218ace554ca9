package io.foley4j.examples;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.backend.CpuBackend;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.jcodec.SyntheticMp4;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Path;

/**
 * Several devices in one engine: {@code devices(...)} takes one backend per device (here two CPU
 * backends of one thread each, as a stand-in for two GPUs); each segment of a job runs on the
 * least-loaded device, several segments in flight. Usage: {@code DevicesExample [outDir]}; writes
 * {@code devices.wav}.
 */
public final class DevicesExample {
  private DevicesExample() {}

  public static void main(String[] args) {
    Path dir = Path.of(args.length > 0 ? args[0] : ".");
    Path clip = dir.resolve("devices-clip.mp4"); // 20 s: three segments of the reference model
    SyntheticMp4.write(SyntheticVideo.builder().size(160, 120).fps(25, 1).durationSeconds(20)
        .movingSquare(2, 18, 0x40C040).build(), clip);

    try (ModelBundle bundle = ReferenceModel.bundle();
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle)
            .devices(CpuBackend.builder().intraOpThreads(1).build(), CpuBackend.builder().intraOpThreads(1).build())
            .segmentsInFlight(2)
            .build()) {
      FoleyResult r = engine.generate(FoleyRequest.builder(clip).prompt("a car passes").steps(2).seed(5).build());
      r.writeWav(dir.resolve("devices.wav"));
      System.out.println(engine.readiness());
      System.out.printf("%.2f s of audio; %s%n", r.durationSeconds(), r.timings());
    }
  }
}
