package io.foley4j.bundle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.foley4j.InvalidBundleException;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The manifest's optional {@code workingMemory} per stage: parsing, refusals and interpolation. */
class WorkingMemoryTest {
  private static JsonObject withMemory(JsonObject manifest, String stage, String json) {
    manifest.getAsJsonObject("stages").getAsJsonObject(stage).add("workingMemory", JsonParser.parseString(json));
    return manifest;
  }

  private static final String DENOISER = "{\"batch\": 1, \"method\": \"measured\", \"points\": ["
      + "{\"latents\": 100, \"bytes\": 100000000}, {\"latents\": 400, \"bytes\": 400000000},"
      + " {\"latents\": 750, \"bytes\": 1000000000}]}";

  @Test
  void aBundleWithoutItHasNoneAndStaysValid() {
    BundleManifest m = TestManifests.parse(TestManifests.hvf());
    for (Stage s : Stage.values()) {
      assertFalse(m.stage(s).workingMemory().isPresent(), s.key());
    }
    assertTrue(m.ignoredKeys().isEmpty());
  }

  @Test
  void isReadPerStageInVersion1And2() {
    for (JsonObject base : new JsonObject[] {TestManifests.hvf(), TestManifests.hvfV2()}) {
      JsonObject o = withMemory(base, "denoiser", DENOISER);
      withMemory(o, "visual_encoder", "{\"batch\": 8, \"points\": [{\"bytes\": 80000000}]}");
      BundleManifest m = TestManifests.parse(o);
      WorkingMemory w = m.stage(Stage.DENOISER).workingMemory().orElseThrow();
      assertEquals(1, w.batch());
      assertEquals(WorkingMemory.Method.MEASURED, w.method());
      assertEquals(3, w.latents().length);
      assertEquals(400_000_000L, w.bytes()[1]);
      WorkingMemory v = m.stage(Stage.VISUAL_ENCODER).workingMemory().orElseThrow();
      assertFalse(v.hasLengths());
      assertEquals(null, v.method());
      assertTrue(m.ignoredKeys().isEmpty(), m.ignoredKeys().toString());
    }
  }

  @Test
  void interpolatesInTheLengthAndScalesWithTheRows() {
    WorkingMemory w = TestManifests.parse(withMemory(TestManifests.hvfV2(), "denoiser", DENOISER))
        .stage(Stage.DENOISER).workingMemory().orElseThrow();
    assertEquals(400_000_000L, w.bytesFor(1, 400), "a point");
    assertEquals(800_000_000L, w.bytesFor(2, 400), "a CFG pair: two rows of batch 1");
    assertEquals(250_000_000L, w.bytesFor(1, 250), "between the first two points");
    assertEquals(100_000_000L, w.bytesFor(1, 32), "below the first point: the first point's bytes");
    // past the last point: the slope of the last two ((1e9 - 4e8) / 350 per latent)
    assertEquals(1_085_714_286L, w.bytesFor(1, 800));
    WorkingMemory one = new WorkingMemory(2, new int[] {400}, new long[] {1000}, null);
    assertEquals(1000, one.bytesFor(2, 400));
    assertEquals(2000, one.bytesFor(2, 800), "one point: in proportion to the length");
    assertEquals(3000, one.bytesFor(6, 400), "rows over the recorded batch");
  }

  @Test
  void aFixedPartIsChargedOncePerCallWhateverItsRows() {
    WorkingMemory w = TestManifests.parse(withMemory(TestManifests.hvfV2(), "denoiser", "{\"batch\": 1, \"fixed\": 700,"
        + " \"points\": [{\"latents\": 100, \"bytes\": 100}, {\"latents\": 400, \"bytes\": 400}]}"))
        .stage(Stage.DENOISER).workingMemory().orElseThrow();
    assertEquals(700, w.fixedBytes());
    assertEquals(700 + 250, w.bytesFor(1, 250));
    assertEquals(700 + 2 * 250, w.bytesFor(2, 250), "the rows scale the points, not the fixed part");
    assertEquals(700 + 8 * 400, w.bytesFor(8, 400));
    assertEquals(0, TestManifests.parse(withMemory(TestManifests.hvfV2(), "denoiser", DENOISER))
        .stage(Stage.DENOISER).workingMemory().orElseThrow().fixedBytes(), "absent: none");
    assertTrue(w.toString().contains("a call"), w.toString());
  }

  @Test
  void eachPointsOwnFixedPartIsReadBetweenThePointsAndChargedOncePerCall() {
    WorkingMemory w = TestManifests.parse(withMemory(TestManifests.hvfV2(), "denoiser", "{\"batch\": 1, \"points\": ["
        + "{\"latents\": 100, \"bytes\": 100, \"fixed\": 600}, {\"latents\": 400, \"bytes\": 400},"
        + " {\"latents\": 750, \"bytes\": 1100}]}"))
        .stage(Stage.DENOISER).workingMemory().orElseThrow();
    assertArrayEquals(new long[] {600, 0, 0}, w.pointFixed());
    assertEquals(0, w.fixedBytes());
    assertEquals(600 + 100, w.bytesFor(1, 100));
    assertEquals(600 + 2 * 100, w.bytesFor(2, 100), "the rows scale the bytes, not the fixed part");
    assertEquals(300 + 2 * 250, w.bytesFor(2, 250), "half way: half of each end's fixed part");
    assertEquals(2 * 400, w.bytesFor(2, 400));
    assertEquals(600 + 100, w.bytesFor(1, 50), "below the first point: the first point's");
    assertEquals(1300, w.bytesFor(1, 850), "past the last: the last two's slope, the fixed part not below 0");
    assertTrue(w.toString().contains("(+ 0.0 MiB a call)"), w.toString());
    assertFalse(w.equals(TestManifests.parse(withMemory(TestManifests.hvfV2(), "denoiser", "{\"batch\": 1, \"points\": ["
        + "{\"latents\": 100, \"bytes\": 100}, {\"latents\": 400, \"bytes\": 400},"
        + " {\"latents\": 750, \"bytes\": 1100}]}")).stage(Stage.DENOISER).workingMemory().orElseThrow()));
    WorkingMemory both = new WorkingMemory(1, new int[] {100}, new long[] {10}, new long[] {5}, null, 1000);
    assertEquals(1000 + 5 + 3 * 10, both.bytesFor(3, 100), "with the entry's own fixed part as well");
    assertThrows(IllegalArgumentException.class,
        () -> new WorkingMemory(1, new int[] {100}, new long[] {10}, new long[] {-1}, null, 0));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "batch 0|denoiser|{\"batch\": 0, \"points\": [{\"latents\": 400, \"bytes\": 1}]}|stages.denoiser.workingMemory.batch must be in 1..65536",
      "no points|denoiser|{\"batch\": 1, \"points\": []}|stages.denoiser.workingMemory.points must be an array of 1 to 64 {\"latents\", \"bytes\"} objects, found an array of 0; re-measure",
      "negative bytes|denoiser|{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": -1}]}|points[0].bytes must be an integer in 0..2^50",
      "fractional bytes|denoiser|{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": 1.5}]}|points[0].bytes must be an integer",
      "absurd bytes|denoiser|{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": 1e30}]}|points[0].bytes must be an integer in 0..2^50",
      "bytes a string|denoiser|{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": \"1\"}]}|points[0].bytes must be an integer",
      "no latents|denoiser|{\"batch\": 1, \"points\": [{\"bytes\": 1}]}|points[0].latents is missing",
      "latents not increasing|vae_decoder|{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": 1}, {\"latents\": 400, \"bytes\": 2}]}|points[1].latents must be larger than the point before it (400)",
      "bytes shrinking|denoiser|{\"batch\": 1, \"points\": [{\"latents\": 100, \"bytes\": 5}, {\"latents\": 400, \"bytes\": 4}]}|a longer pass cannot work in less memory",
      "latents on an encoder|sync_encoder|{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": 1}]}|has latents, but stage sync_encoder has no pass length",
      "two points on an encoder|text_encoder|{\"batch\": 1, \"points\": [{\"bytes\": 1}, {\"bytes\": 2}]}|must be an array of one {\"bytes\"} object, found an array of 2",
      "unknown method|denoiser|{\"batch\": 1, \"method\": \"guess\", \"points\": [{\"latents\": 400, \"bytes\": 1}]}|method must be \"measured\" or \"graph\", found \"guess\"",
      "not an object|denoiser|[1, 2]|\"stages.denoiser.workingMemory\" must be an object",
      "negative point fixed|denoiser|{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": 1, \"fixed\": -3}]}|points[0].fixed must be an integer in 0..2^50",
      "point fixed a string|denoiser|{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": 1, \"fixed\": \"3\"}]}|points[0].fixed must be an integer",
      "negative fixed|denoiser|{\"batch\": 1, \"fixed\": -1, \"points\": [{\"latents\": 400, \"bytes\": 1}]}|workingMemory.fixed must be an integer in 0..2^50",
  })
  void nonsenseIsRefusedNamingTheField(String rule, String stage, String json, String message) {
    JsonObject o = withMemory(TestManifests.hvfV2(), stage, json);
    InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> TestManifests.parse(o), rule);
    assertTrue(e.getMessage().contains(message), rule + ": " + e.getMessage());
  }

  @Test
  void anUnknownKeyInsideIsIgnoredWithAWarningLikeAnyOther() {
    JsonObject o = withMemory(TestManifests.hvfV2(), "denoiser",
        "{\"batch\": 1, \"points\": [{\"latents\": 400, \"bytes\": 1, \"note\": 2}], \"arena\": true}");
    BundleManifest m = TestManifests.parse(o);
    assertTrue(m.ignoredKeys().contains("stages.denoiser.workingMemory.arena"), m.ignoredKeys().toString());
    assertTrue(m.stage(Stage.DENOISER).workingMemory().isPresent());
  }

  @Test
  void jsonNullCountsAsMissing() {
    JsonObject o = TestManifests.hvfV2();
    o.getAsJsonObject("stages").getAsJsonObject("denoiser").add("workingMemory", com.google.gson.JsonNull.INSTANCE);
    assertFalse(TestManifests.parse(o).stage(Stage.DENOISER).workingMemory().isPresent());
  }

  /**
   * The charges of working-memory-charges.json, which the export tool's {@code memory.charge} must
   * also give (tests/test_memory.py reads the same file): the two agree to the byte, including a
   * length at a point where (dy/dx)·dx and dy·dx/dx round differently, the points' fixed part below
   * 0 past the last point, and sums beyond a long (charged as the largest long, never negative).
   */
  @Test
  void chargesTheTableTheExportToolAlsoGives() throws IOException {
    JsonObject table;
    try (InputStream in = WorkingMemoryTest.class.getResourceAsStream("working-memory-charges.json")) {
      table = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
    }
    JsonArray cases = table.getAsJsonArray("cases");
    assertTrue(cases.size() >= 300, "cases: " + cases.size());
    for (JsonElement e : cases) {
      JsonObject c = e.getAsJsonObject();
      JsonArray points = c.getAsJsonArray("points");
      int n = points.size();
      int[] latents = new int[n];
      long[] bytes = new long[n];
      long[] fixed = new long[n];
      for (int i = 0; i < n; i++) {
        JsonObject p = points.get(i).getAsJsonObject();
        latents[i] = p.get("latents").getAsInt();
        bytes[i] = p.get("bytes").getAsLong();
        fixed[i] = p.has("fixed") ? p.get("fixed").getAsLong() : 0;
      }
      WorkingMemory w = new WorkingMemory(c.get("batch").getAsInt(), latents, bytes, fixed,
          WorkingMemory.Method.MEASURED, c.get("fixed").getAsLong());
      long charged = w.bytesFor(c.get("rows").getAsInt(), c.get("latents").getAsInt());
      assertEquals(c.get("charge").getAsLong(), charged, c.get("why").getAsString() + ": " + c);
      assertTrue(charged >= 0, c.toString());
    }
  }
}
