package io.foley4j.cli;

import io.foley4j.jcodec.SyntheticMp4;

import io.foley4j.jcodec.Mp4Outputs;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.SyntheticVideo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code foley demo}: makes a short video with visible events (white flashes, a moving square),
 * runs the built-in reference model on it, and writes {@code demo.wav} and
 * {@code demo-with-sound.mov}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Generate a sample video with visible events and give it sound with the built-in reference model.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--out-dir", defaultValue = ".", description = "Where to write the files (default: current directory).")
  Path outDir;

  @Option(names = "--prompt", defaultValue = "glass breaking", description = "Prompt (default \"${DEFAULT-VALUE}\").")
  String prompt;

  @Option(names = "--seconds", defaultValue = "10", description = "Length of the sample video (default ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--progress", defaultValue = "auto", description = "Progress on stderr: auto (a bar on a "
      + "terminal, else one line per segment), bar, lines or none (default ${DEFAULT-VALUE}).")
  ProgressBar.Mode progress;

  @Override
  public Integer call() throws Exception {
    Files.createDirectories(outDir);
    Path video = outDir.resolve("demo-input.mp4");
    SyntheticVideo.Builder vb = SyntheticVideo.builder().size(320, 240).fps(25, 1).durationSeconds(seconds)
        .background(0x202830);
    for (double t = 1.0; t < seconds - 0.5; t += 2.0) {
      vb.flash(t, 0.12, 0xFFFFFF);
    }
    if (seconds > 4) {
      vb.movingSquare(2.5, 3.5, 0xE04040);
    }
    SyntheticVideo sv = vb.build();
    SyntheticMp4.write(sv, video);
    System.out.printf("wrote %s: %.1f s, 320x240 @ 25 fps, white flashes at 1, 3, 5, ... s%n", video, seconds);
    try (ModelBundle bundle = ReferenceModel.bundle();
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle).name("demo").build()) {
      ProgressBar bar = new ProgressBar(System.err, progress);
      FoleyResult result = engine.submit(FoleyRequest.of(video, prompt), bar).await();
      bar.finish();
      Path wav = outDir.resolve("demo.wav");
      Path mov = outDir.resolve("demo-with-sound.mov");
      result.writeWav(wav);
      Mp4Outputs.writeVideoWithSound(result, mov);
      System.out.printf("wrote %s (%d samples, %.3f s at %d Hz)%n", wav, result.sampleCount(), result.durationSeconds(),
          result.sampleRate());
      System.out.println("wrote " + mov + " (the input video with the generated sound)");
      System.out.println(result.timings());
    }
    return 0;
  }
}
