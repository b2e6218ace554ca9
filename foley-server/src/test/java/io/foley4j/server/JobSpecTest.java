package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.foley4j.Priority;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A job's stream entry carries its variants; an entry of a node from before variants is one variant. */
class JobSpecTest {
  private static JobSpec spec(int variants) {
    return new JobSpec("0123456789abcdef0123456789abcdef", "key", "rain", null, 3, Double.NaN, 9, Priority.HIGH, "c",
        null, variants, null);
  }

  @Test
  void variantsSurviveTheStreamEntry() {
    for (int n : new int[] {1, 3, 8}) {
      JobSpec back = JobSpec.fromFields(spec(n).toFields());
      assertEquals(spec(n), back);
      assertEquals(n, back.toRequest(java.nio.file.Path.of("uploads")).variants());
    }
  }

  @Test
  void anEntryWithoutVariantsIsOneAndABadCountNamesTheField() {
    Map<String, String> old = new java.util.HashMap<>(spec(4).toFields());
    old.remove("variants");
    assertEquals(1, JobSpec.fromFields(old).variants());
    old.put("variants", "many");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JobSpec.fromFields(old));
    assertEquals(true, e.getMessage().contains("field variants"), e.getMessage());
  }

  @Test
  void resultFilesOfVariantsAreNamedAfterTheJob() {
    assertEquals("abc.wav", JobSpec.resultName("abc", 0, ".wav"));
    assertEquals("abc.v3.mov", JobSpec.resultName("abc", 3, ".mov"));
  }
}
