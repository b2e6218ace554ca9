package io.foley4j.cli;

import io.foley4j.FoleyException;
import io.foley4j.bundle.BundleManifest;
import io.foley4j.bundle.BundleVerification;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import io.foley4j.reference.ReferenceModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code foley bundle verify|check|info|reference}. */
@Command(name = "bundle", mixinStandardHelpOptions = true, description = "Inspect, verify or create model bundles.",
    subcommands = {BundleCommand.Verify.class, BundleCommand.Check.class, BundleCommand.Info.class,
        BundleCommand.Reference.class})
final class BundleCommand implements Runnable {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = {"Check a bundle: the manifest, every file's sha256 and the shapes against the rates, then"
          + " (unless --shallow) read the tokenizer and encode a test prompt, read the unconditional embeddings, and"
          + " load every stage with ONNX Runtime, compare its inputs and outputs with the manifest and run it once"
          + " on inputs of the declared shapes at the smallest lengths a request can give them: an output that is"
          + " missing, of another shape, or not finite (NaN/Inf) fails, naming the stage.",
          "Exit code 0: the bundle is valid; 2: it is not (one line on stderr says why)."})
  static final class Verify implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", description = "Bundle directory, .tar.gz or .zip")
    Path path;

    @picocli.CommandLine.Mixin
    ExtractLimit extractLimit = new ExtractLimit();

    @picocli.CommandLine.ArgGroup(exclusive = true)
    Depth depth;

    static final class Depth {
      @Option(names = "--deep", description = "Load every file as the engine would and run each stage once (the default).")
      boolean deep;

      @Option(names = "--shallow", description = "Check the manifest and the sha256 of every file only (nothing is"
          + " loaded or run).")
      boolean shallow;
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      boolean shallow = depth != null && depth.shallow;
      try (ModelBundle b = extractLimit.open(path)) {
        if (shallow) {
          System.out.println("OK " + path + ": " + b.manifest().name() + ", " + b.manifest().files().digests().size()
              + " files match their sha256, digest " + b.digest() + " (shallow: nothing was loaded)");
          printIgnored(b);
          return 0;
        }
        BundleVerification v = b.verifyDeep();
        System.out.println("OK " + path + ": " + v.bundleName() + ", " + b.manifest().files().digests().size()
            + " files match their sha256, every stage loads and runs once (deep), digest " + v.digest());
        v.checks().forEach(c -> System.out.println("  " + c));
        printIgnored(b);
        return 0;
      } // a FoleyException reaches FoleyCli: one line "foley: <message>", exit 2 for a bad bundle
    }

    private static void printIgnored(ModelBundle b) {
      if (!b.manifest().ignoredKeys().isEmpty()) {
        System.out.println("  note: ignored unknown manifest keys: " + b.manifest().ignoredKeys()
            + " (from a newer format revision, or typos)");
      }
    }

  }

  @Command(name = "check", mixinStandardHelpOptions = true,
      description = {"Per-stage parity of an export: run each stage of the bundle on the inputs recorded in an"
          + " .npz (arrays named <stage>.<tensor>, as `/usr/bin/python3 -m foley_export export --parity-out` writes them"
          + " from the PyTorch modules) and compare the outputs by relative L2 distance.",
          "Exit code 0: every output is within the tolerance; 1: some are not; 2: bad input."})
  static final class Check implements Callable<Integer> {
    @Parameters(paramLabel = "BUNDLE", description = "Bundle directory, .tar.gz or .zip")
    Path path;

    @picocli.CommandLine.Mixin
    ExtractLimit extractLimit = new ExtractLimit();

    @Option(names = "--against", required = true, paramLabel = "NPZ", description = "The recorded stage inputs and outputs.")
    Path against;

    @Option(names = "--tolerance", defaultValue = "1e-3", description = "Largest relative L2 distance accepted "
        + "(default: ${DEFAULT-VALUE}).")
    double tolerance;

    @Override
    public Integer call() {
      if (!(tolerance >= 0)) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "--tolerance must be a number >= 0, found "
            + tolerance);
      }
      try (ModelBundle b = extractLimit.open(path)) {
        java.util.List<io.foley4j.backend.StageCheck.Result> results =
            io.foley4j.backend.StageCheck.run(b, io.foley4j.backend.Backends.cpu(), against);
        boolean ok = true;
        for (io.foley4j.backend.StageCheck.Result r : results) {
          boolean within = r.within(tolerance);
          ok &= within;
          System.out.println((within ? "OK   " : "FAIL ") + r);
        }
        System.out.println((ok ? "OK " : "FAIL ") + results.size() + " outputs of " + path + " against " + against
            + " (tolerance " + tolerance + ")");
        return ok ? 0 : 1;
      }
    }
  }

  @Command(name = "info", mixinStandardHelpOptions = true, description = "Print a bundle's stages and rates.")
  static final class Info implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", description = "Bundle directory, .tar.gz or .zip")
    Path path;

    @picocli.CommandLine.Mixin
    ExtractLimit extractLimit = new ExtractLimit();

    @Override
    public Integer call() {
      try (ModelBundle b = extractLimit.open(path)) {
        BundleManifest m = b.manifest();
        System.out.println("name:      " + m.name());
        System.out.println("digest:    " + b.digest());
        System.out.printf("segment:   %.2f s with %.2f s overlap%n", m.segment().seconds(), m.segment().overlapSeconds());
        System.out.printf("visual:    %.0f fps, %dx%d, %s, %s%n", m.visual().fps(), m.visual().size(), m.visual().size(),
            m.visual().resize(), m.visual().filter());
        System.out.printf("sync:      %.0f fps, %dx%d, %s, %s, windows of %d every %d%n", m.sync().fps(), m.sync().size(),
            m.sync().size(), m.sync().resize(), m.sync().filter(), m.sync().window(), m.sync().stride());
        System.out.printf("text:      %d tokens%n", m.text().maxTokens());
        System.out.printf("latent:    %.0f/s x %d channels, %d per segment%n", m.latent().rate(), m.latent().channels(),
            m.segment().latents());
        System.out.printf("audio:     %d Hz mono, %d samples per segment%n", m.audio().sampleRate(), m.segment().decodedSamples());
        System.out.printf("sampler:   %d steps, cfg %.2f, shift %.2f, negative \"%s\"%n", m.sampler().steps(),
            m.sampler().cfgScale(), m.sampler().shift(), m.sampler().negativePrompt());
        for (Stage s : Stage.values()) {
          StageSpec st = m.stage(s);
          System.out.printf("stage %-15s %s  in %s  out %s%n", s.key(), st.file(), st.inputs(), st.outputs());
        }
      }
      return 0;
    }
  }

  @Command(name = "reference", mixinStandardHelpOptions = true,
      description = "Write the built-in reference model as a bundle directory.")
  static final class Reference implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "Directory to write.")
    Path out;

    @Option(names = "--width", defaultValue = "64", description = "Hidden width of the cost layers.")
    int width;

    @Option(names = "--external-data", description = "Write the denoiser's weights as ONNX external data "
        + "(bundle format v2), as a denoiser over 2 GB must be.")
    boolean externalData;

    @Option(names = "--depth", defaultValue = "1", description = "Hidden layers per stage.")
    int depth;

    @Option(names = "--fp16", description = "Declare the stages' float inputs and outputs float16 (bundle format v2;"
        + " the graphs cast at their boundary, the backend converts).")
    boolean fp16;

    @Option(names = "--bf16", description = "Like --fp16 with bfloat16.")
    boolean bf16;

    @Override
    public Integer call() {
      if (fp16 && bf16) {
        throw new io.foley4j.FoleyException(io.foley4j.FoleyException.Code.INVALID_ARGUMENT,
            "foley bundle reference: --fp16 and --bf16 exclude each other");
      }
      ReferenceModel.Precision precision = fp16 ? ReferenceModel.Precision.FLOAT16
          : bf16 ? ReferenceModel.Precision.BFLOAT16 : ReferenceModel.Precision.FLOAT32;
      ReferenceModel.writeBundle(out, ReferenceModel.options().width(width).depth(depth).externalData(externalData)
          .precision(precision).build());
      System.out.println("wrote reference bundle to " + out + (fp16 || bf16 ? " (" + precision.dtype() + " tensors)" : ""));
      return 0;
    }
  }
}
