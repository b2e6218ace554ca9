package io.foley4j.backend;

import io.foley4j.FoleyException;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Npz;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import io.foley4j.bundle.TensorSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs a bundle's stages on recorded inputs and compares their outputs with recorded outputs: the
 * per-stage parity check of an export ({@code foley bundle check BUNDLE --against stages.npz}).
 *
 * <p>The recording is an {@code .npz} whose arrays are named {@code <stage>.<tensor>} (for example
 * {@code denoiser.latents}, {@code denoiser.velocity}), as the export tool writes them from the
 * PyTorch modules. A stage is checked when every input it declares is present; its outputs that
 * are present are compared by relative L2 distance, {@code ||got − want|| / ||want||}.
 */
public final class StageCheck {
  /** One compared output. */
  public record Result(Stage stage, String output, long[] shape, double relativeL2, double maxAbsDifference) {
    public boolean within(double tolerance) {
      return relativeL2 <= tolerance;
    }

    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "%s.%s %s: relative L2 %.3g, max |diff| %.3g", stage.key(), output,
          java.util.Arrays.toString(shape), relativeL2, maxAbsDifference);
    }
  }

  private StageCheck() {}

  /**
   * Checks every stage the recording covers.
   *
   * @throws FoleyException {@code INVALID_ARGUMENT} if the recording is unreadable, covers no stage,
   *     or holds an array whose type or shape the stage cannot take
   */
  public static List<Result> run(ModelBundle bundle, Backend backend, Path recording) {
    Map<String, Npz.Array> arrays = Npz.read(recording);
    List<Result> results = new ArrayList<>();
    for (Stage stage : Stage.values()) {
      StageSpec spec = bundle.manifest().stage(stage);
      boolean all = spec.inputs().stream().allMatch(t -> arrays.containsKey(stage.key() + "." + t.name()));
      if (!all) {
        continue;
      }
      Map<String, Tensor> in = new java.util.HashMap<>();
      for (TensorSpec t : spec.inputs()) {
        in.put(t.name(), tensor(arrays.get(stage.key() + "." + t.name()), t, stage));
      }
      Map<String, Tensor> out;
      try (StageSession session = backend.open(spec, bundle.stageFile(stage))) {
        out = session.run(in);
      }
      for (TensorSpec t : spec.outputs()) {
        Npz.Array want = arrays.get(stage.key() + "." + t.name());
        if (want == null) {
          continue;
        }
        Tensor got = out.get(t.name());
        if (!java.util.Arrays.equals(got.shape(), want.shape())) {
          throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "stage " + stage.key() + " output "
              + t.name() + " has shape " + java.util.Arrays.toString(got.shape()) + " but the recording has "
              + java.util.Arrays.toString(want.shape()));
        }
        results.add(compare(stage, t.name(), got.floats(), floats(want), got.shape()));
      }
    }
    if (results.isEmpty()) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, recording + " covers no stage of bundle "
          + bundle.manifest().name() + ": it needs arrays named <stage>.<input> for every input of a stage (e.g. "
          + "denoiser.latents) and <stage>.<output> for the outputs to compare; it has " + arrays.keySet());
    }
    return results;
  }

  static Result compare(Stage stage, String output, float[] got, float[] want, long[] shape) {
    double diff = 0;
    double norm = 0;
    double max = 0;
    for (int i = 0; i < want.length; i++) {
      double d = (double) got[i] - want[i];
      diff += d * d;
      norm += (double) want[i] * want[i];
      max = Math.max(max, Math.abs(d));
    }
    double rel = norm == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(diff / norm);
    return new Result(stage, output, shape, rel, max);
  }

  private static float[] floats(Npz.Array a) {
    if (a.isFloat()) {
      return a.floats();
    }
    float[] f = new float[a.longs().length];
    for (int i = 0; i < f.length; i++) {
      f[i] = a.longs()[i];
    }
    return f;
  }

  private static Tensor tensor(Npz.Array a, TensorSpec spec, Stage stage) {
    long[] shape = a.shape();
    boolean ok = shape.length == spec.rank();
    for (int i = 0; ok && i < shape.length; i++) {
      ok = spec.dim(i) < 0 || spec.dim(i) == shape[i];
    }
    if (!ok || shape.length == 0 || shape[0] < 1) {
      throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "recorded input " + stage.key() + "."
          + spec.name() + " has shape " + java.util.Arrays.toString(shape) + ", which does not fit the stage's " + spec);
    }
    if (spec.dtype().equals("int64")) {
      if (a.isFloat()) {
        throw new FoleyException(FoleyException.Code.INVALID_ARGUMENT, "recorded input " + stage.key() + "."
            + spec.name() + " must hold integers (the stage takes int64)");
      }
      return Tensor.ofLongs(a.longs(), shape);
    }
    return Tensor.of(floats(a), shape);
  }
}
