package io.foley4j.cli;

import io.foley4j.FoleyEngine;
import io.foley4j.FoleyException;
import io.foley4j.FoleyRequest;
import io.foley4j.FoleyResult;
import io.foley4j.audio.WavFormat;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.ffmpeg.FfmpegOutputs;
import io.foley4j.reference.ReferenceModel;
import io.foley4j.video.VideoSourceFactory;
import io.foley4j.video.VideoSources;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code foley generate}: one video and prompt in, a WAV (and optionally a video with sound) out. */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Generate audio for a video (any container/codec FFmpeg decodes; H.264 MP4/MOV with jcodec).")
final class GenerateCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  EngineOptions engineOptions = new EngineOptions();

  @Option(names = "--video", required = true, description = "Input video: MP4/MOV/MKV/WebM/TS with H.264, HEVC, VP9,"
      + " AV1, ProRes or MJPEG (jcodec: H.264 in MP4/MOV only). '-' reads it from stdin, into memory (at most"
      + " --max-stdin-mib); --mux needs a file.")
  Path video;

  @Option(names = "--max-stdin-mib", defaultValue = "512", description = "With --video -: the most MiB read from stdin"
      + " (default ${DEFAULT-VALUE}); a longer video is refused: pass a file.")
  long maxStdinMib;

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

  @Option(names = "--variants", defaultValue = "1", description = "How many variants to generate, 1-8 (default"
      + " ${DEFAULT-VALUE}): the video is decoded and encoded once and the variants denoised as one batch. Variant i"
      + " (1-based) uses seed --seed + i - 1 and is written to NAME-i.EXT for --out NAME.EXT (and --mux likewise).")
  int variants;

  @Option(names = "--out", defaultValue = "foley.wav", description = "Output WAV (default ${DEFAULT-VALUE}); "
      + "'-' writes it to stdout. A symlink is written through, a FIFO or device streamed into.")
  Path out;

  @Option(names = "--float", description = "Write 32-bit float WAV instead of 16-bit PCM.")
  boolean floatWav;

  @Option(names = "--format", description = "Audio file format: wav, flac or m4a (AAC); default: from --out's"
      + " extension, else wav.")
  String format;

  @Option(names = "--bitrate", defaultValue = "128", description = "AAC bit rate in kbit/s for m4a and .mp4 output"
      + " (default ${DEFAULT-VALUE}).")
  int bitrateKbps;

  @Option(names = "--mux", description = "Also write the source video with the audio track: .mp4 (AAC), .mov (PCM)"
      + " or .mkv (FLAC); the video stream is copied, not re-encoded.")
  Path mux;


  @picocli.CommandLine.Mixin
  ExtractLimit extractLimit = new ExtractLimit();

  @picocli.CommandLine.Mixin
  VerifiedFilesOption verifiedFiles = new VerifiedFilesOption();

  @Option(names = "--bundle", description = "Model bundle directory or archive (default: the built-in reference model).")
  Path bundlePath;

  @Option(names = "--progress", defaultValue = "auto", description = "Progress on stderr: auto (a bar on a "
      + "terminal, else one line per segment), bar, lines or none (default ${DEFAULT-VALUE}).")
  ProgressBar.Mode progress;




  @Override
  public Integer call() {
    boolean toStdout = out.toString().equals("-");
    checkPaths(toStdout);
    engineOptions.configure(FoleyEngine.builder()); // refuse bad backend options before any work
    FoleyRequest.Builder rb = (fromStdin() ? stdinRequest() : FoleyRequest.builder(video)).prompt(prompt).seed(seed)
        .variants(variants);
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
    WavFormat wavFormat = floatWav ? WavFormat.FLOAT_32 : WavFormat.PCM_16;
    String fileFormat = audioFormat(toStdout);
    VideoSourceFactory sources = engineOptions.decoder();
    try (ModelBundle bundle = bundlePath != null ? extractLimit.open(bundlePath, verifiedFiles) : ReferenceModel.bundle();
        FoleyEngine engine = engineOptions.configure(FoleyEngine.builder().bundle(bundle).name("cli")
            .videoSources(sources)).build()) {
      ProgressBar bar = new ProgressBar(System.err, progress);
      FoleyResult first = engine.submit(request, bar).await();
      bar.finish();
      for (int v = 0; v < first.variantCount(); v++) {
        FoleyResult result = first.variant(v);
        Path audioOut = variantPath(out, v, first.variantCount());
        if (toStdout) {
          result.writeWav(wavOut, wavFormat);
          wavOut.flush();
          if (wavOut.checkError()) {
            throw new FoleyException(FoleyException.Code.IO, "writing the WAV to stdout failed (closed pipe?)");
          }
        } else if (fileFormat.equals("wav")) {
          result.writeWav(audioOut, wavFormat);
        } else {
          FfmpegOutputs.writeAudio(result, withExtension(audioOut, fileFormat), bitrateKbps * 1000);
        }
        info.printf("wrote %s: %d samples, %.3f s at %d Hz%s%n", toStdout ? "stdout" : audioOut, result.sampleCount(),
            result.durationSeconds(), result.sampleRate(), first.variantCount() > 1 ? ", seed " + result.seed() : "");
        if (mux != null) {
          Path muxOut = variantPath(mux, v, first.variantCount());
          FfmpegOutputs.mux(result, video, muxOut, muxCodec(), bitrateKbps * 1000);
          info.println("wrote " + muxOut + " (" + muxCodec() + " audio, video copied)");
        }
      }
      FoleyResult result = first;
      info.println("decoder: " + sources.id());
      info.println(result.timings());
    }
    return 0;
  }

  /**
   * The file of variant {@code v} (0-based) of {@code n}: {@code p} itself for one variant, else
   * {@code name-(v+1).ext} beside it ({@code name-(v+1)} without an extension).
   */
  static Path variantPath(Path p, int v, int n) {
    if (n == 1) {
      return p;
    }
    String name = p.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String numbered = dot > 0 ? name.substring(0, dot) + "-" + (v + 1) + name.substring(dot)
        : name + "-" + (v + 1);
    return p.resolveSibling(numbered);
  }

  /** wav, flac or m4a: --format, else --out's extension, else wav. */
  private String audioFormat(boolean toStdout) {
    String f = format;
    if (f == null) {
      String n = toStdout ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
      f = n.endsWith(".flac") ? "flac" : n.endsWith(".m4a") ? "m4a" : "wav";
    }
    f = f.toLowerCase(Locale.ROOT);
    if (!f.equals("wav") && !f.equals("flac") && !f.equals("m4a")) {
      throw invalid("--format " + format + " is not one of wav, flac, m4a");
    }
    if (toStdout && !f.equals("wav")) {
      throw invalid("--out - writes WAV only; give a file for --format " + f);
    }
    if (floatWav && !f.equals("wav")) {
      throw invalid("--float applies to WAV only, not --format " + f);
    }
    if (bitrateKbps < 16 || bitrateKbps > 512) {
      throw invalid("--bitrate " + bitrateKbps + " is outside 16-512 kbit/s");
    }
    return f;
  }

  /** FfmpegOutputs picks the format by extension: a --format that disagrees with --out's must match it. */
  private static Path withExtension(Path p, String ext) {
    String n = p.getFileName().toString();
    if (n.toLowerCase(Locale.ROOT).endsWith("." + ext)) {
      return p;
    }
    throw invalid("--out " + p + " must end in ." + ext + " for --format " + ext);
  }

  private FfmpegOutputs.AudioCodec muxCodec() {
    String n = mux.getFileName().toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".mp4")) {
      return FfmpegOutputs.AudioCodec.AAC;
    }
    if (n.endsWith(".mkv")) {
      return FfmpegOutputs.AudioCodec.FLAC;
    }
    if (n.endsWith(".mov")) {
      return FfmpegOutputs.AudioCodec.PCM;
    }
    throw invalid("--mux " + mux + " must end in .mp4, .mov or .mkv");
  }

  private boolean fromStdin() {
    return video.toString().equals("-");
  }

  /** The video read from stdin, once, into memory (an MP4's index may be at its end). */
  private FoleyRequest.Builder stdinRequest() {
    if (maxStdinMib < 1 || maxStdinMib > FoleyRequest.MAX_STREAM_BYTES >> 20) {
      throw invalid("--max-stdin-mib " + maxStdinMib + " is outside 1-" + (FoleyRequest.MAX_STREAM_BYTES >> 20));
    }
    return FoleyRequest.builder(System.in).maxStreamBytes(maxStdinMib << 20);
  }

  /** Refuses, before any work, a missing video and outputs that would overwrite it or each other. */
  private void checkPaths(boolean toStdout) {
    if (variants < 1 || variants > FoleyRequest.MAX_VARIANTS) {
      throw invalid("--variants must be between 1 and " + FoleyRequest.MAX_VARIANTS + ", was " + variants);
    }
    if (toStdout && variants > 1) {
      throw invalid("--out - writes one WAV; with --variants " + variants + " give a file name (NAME.wav gives"
          + " NAME-1.wav ... NAME-" + variants + ".wav)");
    }
    if (variants > 1) {
      for (int v = 0; v < variants; v++) {
        checkOutputs(toStdout, variantPath(out, v, variants), mux == null ? null : variantPath(mux, v, variants));
      }
      return;
    }
    checkOutputs(toStdout, out, mux);
  }

  /** The checks of {@link #checkPaths} for one variant's outputs. */
  private void checkOutputs(boolean toStdout, Path out, Path mux) {
    if (fromStdin()) {
      if (mux != null) {
        throw invalid("--mux needs the video as a file (its video track is copied from it); with --video - only the"
            + " audio is written: save the video to a file to mux it");
      }
      if (!toStdout && Files.isDirectory(out)) {
        throw invalid("--out " + out + " is a directory; give a file name such as " + out.resolve("foley.wav"));
      }
      return;
    }
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
    if (mux != null) {
      muxCodec(); // the container's extension, after the checks that protect the source
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
