package io.foley4j.bundle;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** One stage of the manifest: its ONNX file, that file's SHA-256, and its inputs and outputs. */
public final class StageSpec {
  private final Stage stage;
  private final String file;
  private final String sha256;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final WorkingMemory workingMemory; // null: not declared
  private final boolean bfloat16Weights;

  /** A stage declared with this file, hash and tensors (the lists are copied). */
  public StageSpec(Stage stage, String file, String sha256, List<TensorSpec> inputs, List<TensorSpec> outputs) {
    this(stage, file, sha256, inputs, outputs, null);
  }

  /** The same, with the stage's declared working memory (null for none). */
  public StageSpec(Stage stage, String file, String sha256, List<TensorSpec> inputs, List<TensorSpec> outputs,
      WorkingMemory workingMemory) {
    this(stage, file, sha256, inputs, outputs, workingMemory, false);
  }

  /**
   * The same; {@code bfloat16Weights}: the file stores its weights in bfloat16 behind casts to
   * float32 (the manifest's {@code "weights": "bfloat16"}), which a runtime must not fold.
   */
  public StageSpec(Stage stage, String file, String sha256, List<TensorSpec> inputs, List<TensorSpec> outputs,
      WorkingMemory workingMemory, boolean bfloat16Weights) {
    this.bfloat16Weights = bfloat16Weights;
    this.stage = Objects.requireNonNull(stage);
    this.file = Objects.requireNonNull(file);
    this.sha256 = Objects.requireNonNull(sha256);
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
    this.workingMemory = workingMemory;
  }

  /** The working memory of one call the manifest declares ({@code workingMemory}), if any. */
  public Optional<WorkingMemory> workingMemory() {
    return Optional.ofNullable(workingMemory);
  }

  /**
   * Whether the stage's weights are stored in bfloat16 and widened to float32 by casts in the graph
   * (the manifest's {@code "weights": "bfloat16"}): computed in float32, half the weight bytes, as
   * long as the casts are not folded into float32 constants at load.
   */
  public boolean bfloat16Weights() {
    return bfloat16Weights;
  }

  /** Which stage this is. */
  public Stage stage() {
    return stage;
  }

  /** File name relative to the bundle directory. */
  public String file() {
    return file;
  }

  /** The file's SHA-256 (hex; lower-case when parsed from a manifest). */
  public String sha256() {
    return sha256;
  }

  /** The declared inputs, in manifest order. */
  public List<TensorSpec> inputs() {
    return inputs;
  }

  /** The declared outputs, in manifest order. */
  public List<TensorSpec> outputs() {
    return outputs;
  }

  /** The input with this name, if declared. */
  public Optional<TensorSpec> input(String name) {
    return inputs.stream().filter(t -> t.name().equals(name)).findFirst();
  }

  /** The output with this name, if declared. */
  public Optional<TensorSpec> output(String name) {
    return outputs.stream().filter(t -> t.name().equals(name)).findFirst();
  }
}
