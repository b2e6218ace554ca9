package io.foley4j.examples;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.audio.WavFormat;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.reference.ReferenceModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code foley generate}: one video and prompt in, a WAV (and optionally a video with sound) out. */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Generate audio for a video (H.264 MP4/MOV).")
final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--video", required = true, description = "Input video (H.264 in MP4/MOV).")
  Path video;

  @Option(names = "--prompt", required = true, description = "What the sound is, e.g. \"footsteps on gravel\".")
  String prompt;

  @Option(names = "--neg-prompt", description = "What the sound should not be (default: the bundle's).")
  String negPrompt;

  @Option(names = "--steps", description = "Denoiser steps (default: the bundle's).")
  Integer steps;

  @Option(names = "--cfg", description = "Classifier-free guidance scale (default: the bundle's).")
  Double cfg;

  @Option(names = "--seed", defaultValue = "0", description = "Noise seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", defaultValue = "foley.wav", description = "Output WAV (default ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--float", description = "Write 32-bit float WAV instead of 16-bit PCM.")
  boolean floatWav;

  @Option(names = "--mux", description = "Also write this .mov: the source video with the audio track.")
  Path mux;

  @Option(names = "--bundle", description = "Model bundle directory or archive (default: the built-in reference model).")
  Path bundlePath;

  @Override
  public Integer call() {
    FoleyRequest.Builder rb = FoleyRequest.builder(video).prompt(prompt).seed(seed);
    if (negPrompt != null) {
      rb.negativePrompt(negPrompt);
    }
    if (steps != null) {
      rb.steps(steps);
    }
    if (cfg != null) {
      rb.cfgScale(cfg);
    }
    FoleyRequest request = rb.build();
    try (ModelBundle bundle = bundlePath != null ? ModelBundle.open(bundlePath) : ReferenceModel.bundle();
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle).name("cli").build()) {
      ProgressBar bar = new ProgressBar(System.err);
      FoleyResult result = engine.submit(request, bar).await();
      bar.finish();
      result.writeWav(out, floatWav ? WavFormat.FLOAT_32 : WavFormat.PCM_16);
      System.out.printf("wrote %s: %d samples, %.3f s at %d Hz%n", out, result.sampleCount(), result.durationSeconds(),
          result.sampleRate());
      if (mux != null) {
        result.writeVideoWithSound(mux);
        System.out.println("wrote " + mux);
      }
      System.out.println(result.timings());
    }
    return 0;
  }
}
