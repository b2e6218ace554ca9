package io.foley4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.foley4j.Priority;
import org.junit.jupiter.api.Test;

/** The identical-request key tells apart every two different parameter lists, and only those. */
class RequestKeyTest {
  private static String key(String owner, String prompt, String negative, int steps, double cfg, long seed) {
    return key(owner, prompt, negative, steps, cfg, seed, 1);
  }

  private static String key(String owner, String prompt, String negative, int steps, double cfg, long seed,
      int variants) {
    return RequestKey.of(owner, "ab12", new JobSpec("id", null, prompt, negative, steps, cfg, seed, Priority.NORMAL,
        owner, null, variants, null));
  }

  @Test
  void theNumberOfVariantsIsPartOfTheKey() {
    java.util.Set<String> keys = new java.util.HashSet<>();
    for (int n = 1; n <= 8; n++) {
      keys.add(key("o", "p", null, 2, 1, 5, n));
      assertEquals(key("o", "p", null, 2, 1, 5, n), key("o", "p", null, 2, 1, 5, n));
    }
    assertEquals(8, keys.size(), "eight counts, eight keys");
    assertNotEquals(key("o", "p", null, 2, 1, 5, 2), key("o", "p", null, 2, 1, 6, 1),
        "two variants from seed 5 are not one from seed 6");
  }

  @Test
  void fieldsCannotBleedIntoEachOther() {
    assertNotEquals(key("o", "x\u0000y", "z", 2, 1, 0), key("o", "x", "y\u0000z", 2, 1, 0));
    assertNotEquals(key("o", "xy", "z", 2, 1, 0), key("o", "x", "yz", 2, 1, 0));
    assertNotEquals(key("o", "p", null, 2, 1, 0), key("o", "p", "null", 2, 1, 0), "absent is not \"null\"");
    assertNotEquals(key("o", null, null, 2, 1, 0), key("o", "", null, 2, 1, 0), "absent is not empty");
    assertNotEquals(key("o", "p", null, 0, Double.NaN, 0), key("o", "p", null, 0, 0.0, 0));
    assertNotEquals(key("o", "p", null, 2, 1, 12), key("o", "p", null, 21, 1, 2));
  }

  @Test
  void theOwnerIsPartOfTheKey() {
    assertNotEquals(key("key:a", "p", null, 2, 1, 0), key("key:b", "p", null, 2, 1, 0));
  }

  @Test
  void equalRequestsHaveEqualKeys() {
    assertEquals(key("o", "p", "n", 2, 3.5, 7), key("o", "p", "n", 2, 3.5, 7));
    assertEquals(64, key("o", "p", "n", 2, 3.5, 7).length(), "SHA-256 in hex");
  }
}
