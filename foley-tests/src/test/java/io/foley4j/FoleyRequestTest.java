package io.foley4j;

import io.foley4j.jcodec.SyntheticMp4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every builder check fails with INVALID_ARGUMENT and a message naming the option and the fix. */
class FoleyRequestTest {
  private static final Path V = Path.of("v.mp4");

  private static FoleyException invalid(Executable call, String... fragments) {
    FoleyException e = assertThrows(FoleyException.class, call);
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code(), e.toString());
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), () -> "\"" + e.getMessage() + "\" should contain \"" + f + "\"");
    }
    return e;
  }

  @Test
  void outOfRangeOptionsAreInvalidArguments() {
    invalid(() -> FoleyRequest.builder(V).steps(0), "steps", "1 and 1000", "0");
    invalid(() -> FoleyRequest.builder(V).steps(1001), "steps", "1001");
    invalid(() -> FoleyRequest.builder(V).cfgScale(Double.NaN), "cfgScale", "NaN");
    invalid(() -> FoleyRequest.builder(V).cfgScale(-1), "cfgScale");
    invalid(() -> FoleyRequest.builder(V).cfgScale(Double.POSITIVE_INFINITY), "cfgScale");
    invalid(() -> FoleyRequest.builder(V).deadline(Duration.ZERO), "deadline", "positive");
    invalid(() -> FoleyRequest.builder(V).deadline(Duration.ofMillis(-1)), "deadline", "positive");
    invalid(() -> FoleyRequest.builder(V).clientId(""), "clientId", "1-256");
    invalid(() -> FoleyRequest.builder(V).clientId("x".repeat(257)), "clientId", "257");
  }

  @Test
  void nullsAndMissingPromptAreInvalidArgumentsNotNullPointers() {
    invalid(() -> FoleyRequest.builder((java.nio.file.Path) null), "video");
    invalid(() -> FoleyRequest.of(null, "x"), "video");
    invalid(() -> FoleyRequest.of(V, null), "prompt", "\"\"");
    invalid(() -> FoleyRequest.builder(V).negativePrompt(null), "negativePrompt");
    invalid(() -> FoleyRequest.builder(V).priority(null), "priority");
    invalid(() -> FoleyRequest.builder(V).deadline(null), "deadline");
    invalid(() -> FoleyRequest.builder(V).clientId(null), "clientId");
    invalid(() -> FoleyRequest.builder(V).build(), "prompt is required", "\"\"");
  }

  @Test
  void settingAnOptionTwiceIsAnInvalidArgument() {
    invalid(() -> FoleyRequest.builder(V).prompt("a").prompt("b"), "prompt", "already set", "\"a\"");
    invalid(() -> FoleyRequest.builder(V).steps(3).steps(4), "steps", "already set", "3");
    invalid(() -> FoleyRequest.builder(V).seed(1).seed(2), "seed", "already set");
    invalid(() -> FoleyRequest.builder(V).deadline(Duration.ofSeconds(1)).deadline(Duration.ofSeconds(2)), "deadline");
  }

  @Test
  void hugeDeadlinesAreRefusedBeforeTheyCanOverflowTheEngineClock() {
    // Duration.ofSeconds(Long.MAX_VALUE).toNanos() throws ArithmeticException; the engine adds the
    // deadline to a nanosecond clock, so anything near 292 years would overflow there.
    invalid(() -> FoleyRequest.builder(V).deadline(Duration.ofSeconds(Long.MAX_VALUE)), "deadline", "at most",
        "leave it unset");
    invalid(() -> FoleyRequest.builder(V).deadline(Duration.ofDays(200 * 365L)), "deadline", "at most");
    invalid(() -> FoleyRequest.builder(V).deadline(FoleyRequest.MAX_DEADLINE.plusNanos(1)), "deadline");
    FoleyRequest max = FoleyRequest.builder(V).prompt("").deadline(FoleyRequest.MAX_DEADLINE).build();
    assertEquals(FoleyRequest.MAX_DEADLINE, max.deadline().orElseThrow());
    assertEquals(FoleyRequest.MAX_DEADLINE.toNanos(), max.deadlineNanos());
    assertEquals(Long.MAX_VALUE, FoleyRequest.of(V, "").deadlineNanos(), "none");
  }

  @Test
  void theLongestDeadlineRunsThroughTheEngine(@org.junit.jupiter.api.io.TempDir Path dir) {
    Path v = dir.resolve("v.mp4");
    SyntheticMp4.write(io.foley4j.video.SyntheticVideo.builder().size(64, 48).fps(25, 1).durationSeconds(1).build(), v);
    try (io.foley4j.bundle.ModelBundle b = TestSupport.referenceBundle();
        FoleyEngine engine = FoleyEngine.builder().bundle(b).build()) {
      FoleyResult r = engine.generate(FoleyRequest.builder(v).prompt("").steps(1).deadline(FoleyRequest.MAX_DEADLINE)
          .build());
      assertEquals(48000, r.sampleCount());
    }
  }

  @Test
  void validRequestsKeepTheirSettings() {
    FoleyRequest r = FoleyRequest.builder(V).prompt("rain").negativePrompt("hiss").steps(1000).cfgScale(0).seed(-3)
        .priority(Priority.HIGH).deadline(Duration.ofMinutes(5)).clientId("c".repeat(256)).build();
    assertEquals(1000, r.steps().getAsInt());
    assertEquals(0.0, r.cfgScale().getAsDouble());
    assertEquals(-3, r.seed());
    assertEquals(Duration.ofMinutes(5), r.deadline().orElseThrow());
    assertEquals(Priority.HIGH, r.priority());
  }
}
