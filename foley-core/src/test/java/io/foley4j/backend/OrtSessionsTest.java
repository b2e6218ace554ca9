package io.foley4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.onnxruntime.OrtException;
import io.foley4j.FoleyException;
import io.foley4j.TestSupport;
import io.foley4j.bundle.ModelBundle;
import io.foley4j.bundle.Stage;
import io.foley4j.bundle.StageSpec;
import io.foley4j.bundle.TensorSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The public hook that GPU backends open stages through. */
class OrtSessionsTest {

  @Test
  void opensAStageLikeTheCpuBackendAfterCallingTheHookOnce() throws Exception {
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      StageSpec spec = bundle.manifest().stage(Stage.TEXT_ENCODER);
      AtomicInteger calls = new AtomicInteger();
      Map<String, Tensor> in = inputs(spec);
      try (StageSession hooked = OrtSessions.open(spec, bundle.stageFile(Stage.TEXT_ENCODER), Backends.cpu(), so -> {
        calls.incrementAndGet();
        try {
          so.addConfigEntry("session.disable_prepacking", "1"); // an option the hook may set; no effect on results
        } catch (OrtException e) {
          throw new AssertionError(e);
        }
      });
          StageSession plain = Backends.cpu().open(spec, bundle.stageFile(Stage.TEXT_ENCODER))) {
        assertEquals(1, calls.get(), "the hook runs once, before the session is created");
        assertSame(spec, hooked.spec());
        Map<String, Tensor> a = hooked.run(in);
        Map<String, Tensor> b = plain.run(in);
        assertEquals(b.keySet(), a.keySet());
        for (String k : a.keySet()) {
          assertArrayEquals(b.get(k).shape(), a.get(k).shape(), k);
          assertArrayEquals(b.get(k).floats(), a.get(k).floats(), 0f, k);
        }
      }
    }
  }

  @Test
  void aFoleyExceptionFromTheHookIsRethrownAsItIs() {
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      StageSpec spec = bundle.manifest().stage(Stage.TEXT_ENCODER);
      FoleyException thrown = new FoleyException(FoleyException.Code.BACKEND_FAILURE, "provider X cannot start");
      FoleyException e = assertThrows(FoleyException.class, () -> OrtSessions.open(spec,
          bundle.stageFile(Stage.TEXT_ENCODER), Backends.cpu(), so -> {
            throw thrown;
          }));
      assertSame(thrown, e);
    }
  }

  @Test
  void theCpuSettingsCarryOver() {
    CpuBackend cpu = CpuBackend.builder().intraOpThreads(1).memoryArena(false).build();
    assertEquals(false, cpu.memoryArena());
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      StageSpec spec = bundle.manifest().stage(Stage.TEXT_ENCODER);
      try (StageSession s = OrtSessions.open(spec, bundle.stageFile(Stage.TEXT_ENCODER), cpu, so -> {})) {
        assertEquals(spec.outputs().size(), s.run(inputs(spec)).size());
      }
    }
  }

  @Test
  void nullArgumentsAreATypedError() {
    try (ModelBundle bundle = TestSupport.referenceBundle()) {
      StageSpec spec = bundle.manifest().stage(Stage.TEXT_ENCODER);
      FoleyException e = assertThrows(FoleyException.class,
          () -> OrtSessions.open(spec, bundle.stageFile(Stage.TEXT_ENCODER), null, so -> {}));
      assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
      assertEquals("OrtSessions.open needs a spec, a model file, CPU settings and a configure hook; got null for cpu (use"
          + " Backends.cpu())", e.getMessage());
    }
  }

  /** Batch-1 inputs for every declared input (symbolic dimensions other than the batch get 4). */
  static Map<String, Tensor> inputs(StageSpec spec) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    for (TensorSpec t : spec.inputs()) {
      long[] shape = t.shape();
      shape[0] = 1;
      int n = 1;
      for (int i = 1; i < shape.length; i++) {
        shape[i] = shape[i] < 0 ? 4 : shape[i];
        n *= (int) shape[i];
      }
      if (t.dtype().equals("int64")) {
        long[] v = new long[n];
        java.util.Arrays.fill(v, 1L);
        in.put(t.name(), Tensor.ofLongs(v, shape));
      } else {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = (float) Math.sin(i * 0.37);
        }
        in.put(t.name(), Tensor.of(v, shape));
      }
    }
    return in;
  }
}
