package io.foley4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.foley4j.FoleyException;
import io.foley4j.TestSupport;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageContract;
import io.foley4j.bundle.StageSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The CPU backend keeps each input of the last call in its own memory and feeds it again, without
 * copying, when the next call passes the same tensor objects (a segment's conditioning across its
 * denoiser steps). Every result is compared with a session opened for that one call and given
 * copies: a stale input would change the velocity.
 */
class HeldInputsTest {

  @Test
  void theSameConditioningObjectsGiveTheSameResultsStepAfterStep() {
    try (ModelBundle bundle = TestSupport.referenceBundle();
        StageSession s = open(bundle)) {
      Map<String, Tensor> step = item(s.spec(), 0, 0);
      for (int k = 1; k <= 3; k++) { // new latents and time every step, the same conditioning objects
        step = withLatents(step, k);
        assertOutputs(expected(bundle, List.of(step)), s.run(step), "step " + k);
      }
    }
  }

  @Test
  void newConditioningOfTheSameShapeReplacesTheHeldOne() {
    try (ModelBundle bundle = TestSupport.referenceBundle();
        StageSession s = open(bundle)) {
      Map<String, Tensor> a = item(s.spec(), 0, 0);
      Map<String, Tensor> b = new LinkedHashMap<>(a); // the same latents and time objects, other conditioning
      Map<String, Tensor> other = item(s.spec(), 0, 1);
      for (String c : List.of(StageContract.Denoiser.VISUAL, StageContract.Denoiser.SYNC, StageContract.Denoiser.TEXT)) {
        b.put(c, other.get(c));
      }
      Map<String, Tensor> expectA = expected(bundle, List.of(a));
      Map<String, Tensor> expectB = expected(bundle, List.of(b));
      assertFalse(Arrays.equals(expectA.get(StageContract.Denoiser.VELOCITY).floats(),
          expectB.get(StageContract.Denoiser.VELOCITY).floats()), "precondition: the conditioning changes the velocity");
      assertOutputs(expectA, s.run(a), "first conditioning");
      assertOutputs(expectB, s.run(b), "second conditioning");
      assertOutputs(expectA, s.run(a), "first conditioning again");
    }
  }

  @Test
  void aBatchWhoseCompositionChangesIsCopiedAgain() {
    try (ModelBundle bundle = TestSupport.referenceBundle();
        StageSession s = open(bundle)) {
      Map<String, Tensor> x = item(s.spec(), 0, 0);
      Map<String, Tensor> y = item(s.spec(), 1, 1);
      Map<String, Tensor> z = item(s.spec(), 2, 2);
      List<List<Map<String, Tensor>>> calls = List.of(List.of(x, y), List.of(x, y), List.of(y, x), List.of(x, z),
          List.of(x), List.of(x, y, z), List.of(z, y, x), List.of(x, y, z));
      for (List<Map<String, Tensor>> call : calls) {
        assertOutputs(expected(bundle, call), s.runBatch(call), call.size() + " items");
      }
      // the batch's rows are each item's own: y's rows of (x, y) equal y alone
      float[] both = s.runBatch(List.of(x, y)).get(StageContract.Denoiser.VELOCITY).floats();
      float[] alone = expected(bundle, List.of(y)).get(StageContract.Denoiser.VELOCITY).floats();
      assertArrayEquals(alone, Arrays.copyOfRange(both, both.length - alone.length, both.length), 1e-5f);
    }
  }

  @Test
  void itemsThatDifferApartFromTheBatchAxisAreRefused() {
    try (ModelBundle bundle = TestSupport.referenceBundle(); StageSession s = open(bundle)) {
      Map<String, Tensor> x = item(s.spec(), 0, 0);
      Map<String, Tensor> y = new LinkedHashMap<>(x);
      Tensor lat = x.get(StageContract.Denoiser.LATENTS);
      y.put(StageContract.Denoiser.LATENTS, Tensor.of(new float[lat.size() * 2], lat.dim(0), lat.dim(1), lat.dim(2) * 2));
      FoleyException e = assertThrows(FoleyException.class, () -> s.runBatch(List.of(x, y)));
      assertEquals(FoleyException.Code.INTERNAL, e.code());
    }
  }

  @Test
  void intraOpThreadsStopSpinningWhenACallReturns() {
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      StageSpec spec = bundle.manifest().stage(Stage.TEXT_ENCODER);
      AtomicReference<Map<String, String>> seen = new AtomicReference<>();
      try (StageSession s = OrtSessions.open(spec, bundle.stageFile(Stage.TEXT_ENCODER), Backends.cpu(),
          so -> seen.set(Map.copyOf(so.getConfigEntries())))) {
        assertEquals("1", seen.get().get("session.force_spinning_stop"), "set before the hook, which may change it");
        assertEquals(spec, s.spec());
      }
    }
  }

  @Test
  void concatJoinsAlongTheFirstAxis() {
    Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
    Tensor b = Tensor.of(new float[] {5, 6}, 1, 2);
    Tensor c = Tensor.concat(a, b);
    assertArrayEquals(new long[] {3, 2}, c.shape());
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, c.floats());
    assertArrayEquals(new long[] {7, 8, 9}, Tensor.concat(Tensor.ofLongs(new long[] {7}, 1),
        Tensor.ofLongs(new long[] {8, 9}, 2)).longs());
    assertThrows(IllegalArgumentException.class, () -> Tensor.concat(a, Tensor.of(new float[3], 1, 3)));
    assertThrows(IllegalArgumentException.class, () -> Tensor.concat(a, Tensor.ofLongs(new long[2], 1, 2)));
  }

  private static StageSession open(ModelBundle bundle) {
    return Backends.cpu().open(bundle.manifest().stage(Stage.DENOISER), bundle.stageFile(Stage.DENOISER));
  }

  /** The outputs for {@code items}, from a session opened for this one call, given copies. */
  private static Map<String, Tensor> expected(ModelBundle bundle, List<Map<String, Tensor>> items) {
    List<Map<String, Tensor>> copies = new ArrayList<>();
    items.forEach(i -> copies.add(copy(i)));
    try (StageSession once = open(bundle)) {
      return once.runBatch(copies);
    }
  }

  /** One denoiser item of batch 1; {@code seed} varies every input's values. */
  private static Map<String, Tensor> item(StageSpec spec, int latentSeed, int conditionSeed) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    OrtSessionsTest.inputs(spec).forEach((name, t) -> {
      int seed = name.equals(StageContract.Denoiser.LATENTS) || name.equals(StageContract.Denoiser.TIMESTEP)
          ? latentSeed : conditionSeed;
      float[] v = new float[t.size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) Math.sin(i * 0.37 + seed * 1.7 + name.length());
      }
      if (name.equals(StageContract.Denoiser.TIMESTEP)) {
        v[0] = 0.25f + 0.2f * seed;
      }
      in.put(name, Tensor.of(v, t.shape()));
    });
    return in;
  }

  /** {@code in} with new latents and time objects (step {@code k}), the conditioning objects kept. */
  private static Map<String, Tensor> withLatents(Map<String, Tensor> in, int k) {
    Map<String, Tensor> out = new LinkedHashMap<>(in);
    Tensor lat = in.get(StageContract.Denoiser.LATENTS);
    float[] v = new float[lat.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) Math.cos(i * 0.11 + k);
    }
    out.put(StageContract.Denoiser.LATENTS, Tensor.of(v, lat.shape()));
    out.put(StageContract.Denoiser.TIMESTEP, Tensor.of(new float[] {0.1f * k}, 1));
    return out;
  }

  /** New tensor objects over copies of the arrays. */
  private static Map<String, Tensor> copy(Map<String, Tensor> in) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    in.forEach((k, t) -> out.put(k, t.isFloat() ? Tensor.of(t.floats().clone(), t.shape())
        : Tensor.ofLongs(t.longs().clone(), t.shape())));
    return out;
  }

  private static void assertOutputs(Map<String, Tensor> expected, Map<String, Tensor> actual, String what) {
    assertEquals(expected.keySet(), actual.keySet(), what);
    for (String k : expected.keySet()) {
      assertArrayEquals(expected.get(k).shape(), actual.get(k).shape(), what + ": " + k);
      assertArrayEquals(expected.get(k).floats(), actual.get(k).floats(), 0f, what + ": " + k);
    }
  }
}
