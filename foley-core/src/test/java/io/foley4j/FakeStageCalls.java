package io.foley4j;

import io.foley4j.StageTimings.Phase;
import io.foley4j.backend.Tensor;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A {@link StageCalls} that answers each stage with a function of its inputs and records every
 * call, for unit tests of pipeline steps without an engine, a device or a model.
 */
final class FakeStageCalls implements StageCalls {
  /** One recorded call. */
  record Call(Stage stage, Phase phase, Map<String, Tensor> inputs, int rows, int segment, int step) {}

  final List<Call> calls = Collections.synchronizedList(new ArrayList<>());
  private final Map<Stage, Function<Call, Map<String, Tensor>>> answers = new EnumMap<>(Stage.class);
  final Map<Stage, AtomicInteger> parties = new EnumMap<>(Stage.class);
  final AtomicInteger maxParties = new AtomicInteger();

  FakeStageCalls() {
    for (Stage s : Stage.values()) {
      parties.put(s, new AtomicInteger());
    }
  }

  /** Answers {@code stage} with {@code f}; a stage with no answer fails its calls with BACKEND_FAILURE. */
  FakeStageCalls answer(Stage stage, Function<Call, Map<String, Tensor>> f) {
    answers.put(stage, f);
    return this;
  }

  @Override
  public PendingCall submit(Stage stage, Phase phase, Map<String, Tensor> inputs, int rows, int segment, int step) {
    Call c = new Call(stage, phase, inputs, rows, segment, step);
    calls.add(c);
    CompletableFuture<Map<String, Tensor>> f = new CompletableFuture<>();
    Function<Call, Map<String, Tensor>> a = answers.get(stage);
    if (a == null) {
      f.completeExceptionally(new FoleyException(FoleyException.Code.BACKEND_FAILURE, "no answer for " + stage));
    } else {
      f.complete(a.apply(c));
    }
    return PendingCall.of(f);
  }

  @Override
  public void enter(Stage stage) {
    maxParties.accumulateAndGet(parties.get(stage).incrementAndGet(), Math::max);
  }

  @Override
  public void exit(Stage stage) {
    parties.get(stage).decrementAndGet();
  }

  @Override
  public StageCalls on(DeviceScheduler device) {
    return this;
  }

  List<Call> of(Stage s) {
    synchronized (calls) {
      return calls.stream().filter(c -> c.stage() == s).toList();
    }
  }

  /** The pipeline configuration of {@code bundle} with these batch sizes and no caches. */
  static PipelineConfig pipeline(ModelBundle bundle, int visualBatch, int syncBatch) {
    var u = bundle.unconditional();
    return new PipelineConfig(bundle.manifest(), bundle.tokenizer(), u.visual(), u.sync(), u.text().orElse(null),
        visualBatch, syncBatch, null, 1, java.time.Duration.ofHours(1), null, null, false, bundle.digest(), 1, 0,
        Long.MAX_VALUE, FoleyEngine.DEFAULT_MAX_PICTURE_PIXELS);
  }
}
