package io.foley4j.examples;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.audio.WavFormat;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.reference.ReferenceModel;
import java.io.PrintStream;
import java.nio.file.Files;
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

  @Option(names = "--out", defaultValue = "foley.wav", description = "Output WAV (default ${DEFAULT-VALUE}); "
      + "'-' writes it to stdout. A symlink is written through, a FIFO or device streamed into.")
  Path out;

  @Option(names = "--float", description = "Write 32-bit float WAV instead of 16-bit PCM.")
  boolean floatWav;

  @Option(names = "--mux", description = "Also write this .mov: the source video with the audio track.")
  Path mux;

  @Option(names = "--bundle", description = "Model bundle directory or archive (default: the built-in reference model).")
  Path bundlePath;

  @Option(names = "--progress", defaultValue = "auto", description = "Progress on stderr: auto (a bar on a "
      + "terminal, else one line per segment), bar, lines or none (default ${DEFAULT-VALUE}).")
  ProgressBar.Mode progress;

  @Option(names = "--backend", defaultValue = "cpu", description = "cpu, cuda or tensorrt (default ${DEFAULT-VALUE});"
      + " cuda and tensorrt need foley-gpu.jar's ONNX Runtime and an NVIDIA GPU (docs/gpu.md).")
  BackendChoice.Kind backend;

  @Option(names = "--device", description = "GPU device id for --backend cuda|tensorrt (default 0).")
  Integer device;

  @Option(names = "--fallback", description = "fail or cpu: what --backend cuda|tensorrt does when the GPU cannot be"
      + " used (default fail; cpu runs on the CPU after one warning).")
  BackendChoice.OnFailure fallback;

  @Override
  public Integer call() {
    boolean toStdout = out.toString().equals("-");
    checkPaths(toStdout);
    BackendChoice.of(backend, device, fallback); // refuse bad backend options before any work
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
    // with --out - stdout carries the WAV bytes only: every message (ours or a library's) goes to stderr
    PrintStream stdout = System.out;
    if (toStdout) {
      System.setOut(System.err);
    }
    try {
      return generate(request, toStdout ? stdout : null);
    } finally {
      System.setOut(stdout);
    }
  }

  private int generate(FoleyRequest request, PrintStream wavOut) {
    boolean toStdout = wavOut != null;
    PrintStream info = System.out;
    WavFormat format = floatWav ? WavFormat.FLOAT_32 : WavFormat.PCM_16;
    try (ModelBundle bundle = bundlePath != null ? ModelBundle.open(bundlePath) : ReferenceModel.bundle();
        FoleyEngine engine = FoleyEngine.builder().bundle(bundle).name("cli")
            .backend(BackendChoice.of(backend, device, fallback)).build()) {
      ProgressBar bar = new ProgressBar(System.err, progress);
      FoleyResult result = engine.submit(request, bar).await();
      bar.finish();
      if (toStdout) {
        result.writeWav(wavOut, format);
        wavOut.flush();
        if (wavOut.checkError()) {
          throw new FoleyException(FoleyException.Code.IO, "writing the WAV to stdout failed (closed pipe?)");
        }
      } else {
        result.writeWav(out, format);
      }
      info.printf("wrote %s: %d samples, %.3f s at %d Hz%n", toStdout ? "stdout" : out, result.sampleCount(),
          result.durationSeconds(), result.sampleRate());
      if (mux != null) {
        result.writeVideoWithSound(mux);
        info.println("wrote " + mux);
      }
      info.println(result.timings());
    }
    return 0;
  }

  /** Refuses, before any work, a missing video and outputs that would overwrite it or each other. */
  private void checkPaths(boolean toStdout) {
    if (!Files.isRegularFile(video)) {
      throw invalid(Files.exists(video) ? "--video " + video + " is not a regular file; give an MP4/MOV file"
          : "--video " + video + " does not exist; check the path");
    }
    if (!Files.isReadable(video)) {
      throw invalid("--video " + video + " is not readable; check its permissions");
    }
    if (!toStdout && Files.isDirectory(out)) {
      throw invalid("--out " + out + " is a directory; give a file name such as " + out.resolve("foley.wav"));
    }
    if (mux != null && Files.isDirectory(mux)) {
      throw invalid("--mux " + mux + " is a directory; give a file name such as " + mux.resolve("foley.mov"));
    }
    if (!toStdout && sameFile(out, video)) {
      throw invalid("--out " + out + " is the source video " + video + "; writing it would destroy the video: "
          + "choose another output path");
    }
    if (mux != null && sameFile(mux, video)) {
      throw invalid("--mux " + mux + " is the source video " + video + "; writing it would destroy the video: "
          + "choose another output path");
    }
    if (mux != null && !toStdout && (sameFile(mux, out) || mux.toAbsolutePath().normalize()
        .equals(out.toAbsolutePath().normalize()))) {
      throw invalid("--mux " + mux + " and --out " + out + " are the same file; give two paths");
    }
  }

  private static boolean sameFile(Path a, Path b) {
    try {
      return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
    } catch (java.io.IOException e) {
      throw new FoleyException(FoleyException.Code.IO, "cannot compare " + a + " with " + b + ": " + e, e);
    }
  }

  private static FoleyException invalid(String message) {
    return new FoleyException(FoleyException.Code.INVALID_ARGUMENT, message);
  }
}
