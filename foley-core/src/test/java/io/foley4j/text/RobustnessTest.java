package io.foley4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Any Unicode input, huge inputs and concurrent use. */
class RobustnessTest {
  private static final Tokenizer TOKENIZER = Fixtures.load(Fixtures.roberta());

  static final List<String> TEXTS =
      List.of(
          "",
          "a dog barks twice, then a door slams",
          "\uD83C\uDFB5\uD83D\uDD0A rain \uD83C\uDF27\uFE0F on a tin roof \uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67",
          "\u96E8\u306E\u97F3\u3001\u96F7\u9CF4\u304C\u9060\u304F\u3067\u97FF\u304F",
          "e\u0301 a\u0308\u0308\u0308 Z\u0351\u0352\u0353\u0354\u0355",
          "\u05E9\u05DC\u05D5\u05DD \u0645\u0631\u062D\u0628\u0627 \u202Eabc\u202C",
          "lone \uD800 high, lone \uDC00 low, swapped \uDC00\uD800 end\uD83D",
          "nul\u0000inside\u0000",
          "\t\r\n\u000B\f\u0085\u00A0\u2028\u3000 spaces",
          "<s></s><pad><mask> <mask>< s>",
          "\uFFFF\uFFFE\u0001\u007F\u00AD");

  private static void assertWellFormed(Encoding e, int maxLength, String text) {
    long[] ids = e.ids();
    long[] mask = e.attentionMask();
    assertEquals(maxLength, ids.length, text);
    assertEquals(maxLength, mask.length, text);
    long sum = 0;
    for (int i = 0; i < maxLength; i++) {
      assertTrue(ids[i] >= 0 && ids[i] < TOKENIZER.vocabSize(), text + ": id " + ids[i]);
      assertTrue(mask[i] == 0 || mask[i] == 1, text);
      sum += mask[i];
      if (i >= e.length()) {
        assertEquals(TOKENIZER.padId(), ids[i], text);
      }
    }
    assertEquals(e.length(), sum, text);
    assertEquals(0, ids[0], text);
    assertEquals(2, ids[e.length() - 1], text);
  }

  @Test
  void anyUnicodeGivesValidIds() {
    for (String text : TEXTS) {
      for (int maxLength : new int[] {2, 3, 7, 77, 512}) {
        assertWellFormed(TOKENIZER.encode(text, maxLength), maxLength, text);
      }
    }
  }

  @Test
  void emojiIsSpelledInUtf8Bytes() {
    // " 🎵" -> Ġ + F0 9F 8E B5 (no merges apply)
    assertArrayEquals(
        new long[] {0, 4 + 0x20, 4 + 0xF0, 4 + 0x9F, 4 + 0x8E, 4 + 0xB5, 2},
        Fixtures.real(TOKENIZER.encode("\uD83C\uDFB5", 20)));
  }

  @Test
  void loneSurrogatesReadAsReplacementCharacter() {
    assertEquals(TOKENIZER.encode("x\uFFFDy", 20), TOKENIZER.encode("x\uD800y", 20));
    assertEquals(TOKENIZER.encode("x\uFFFD", 20), TOKENIZER.encode("x\uDC00", 20));
    assertEquals(TOKENIZER.encode("\uFFFD\uFFFD", 20), TOKENIZER.encode("\uDC00\uD800", 20));
    // U+FFFD is EF BF BD.
    assertArrayEquals(
        new long[] {0, 4 + 0x20, 4 + 0xEF, 4 + 0xBF, 4 + 0xBD, 2},
        Fixtures.real(TOKENIZER.encode("\uD800", 20)));
  }

  @Test
  void millionCharacterInputsFinishQuickly() {
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 1_000_000) {
      sb.append(TEXTS.get(sb.length() / 7 % TEXTS.size())).append(' ');
    }
    String mixed = sb.substring(0, 1_000_000);
    String oneWord = "a".repeat(1_000_000);
    String spaces = " ".repeat(999_999) + "x";
    String lines = "\n".repeat(1_000_000);
    for (String text : List.of(mixed, oneWord, spaces, lines, mixed, oneWord, spaces, lines)) {
      long start = System.nanoTime();
      Encoding e = TOKENIZER.encode(text, 77);
      long micros = (System.nanoTime() - start) / 1000;
      System.out.printf("encode of %d chars (%s...): %d us%n", text.length(), text.substring(0, 3).replace("\n", "\\n"), micros);
      assertWellFormed(e, 77, "long input");
      assertEquals(77, e.length());
      assertTrue(e.truncated());
    }
    // One word of a million 'a': aaaa merges everywhere.
    long[] ids = TOKENIZER.encode(oneWord, 6).ids();
    long aaaa = Fixtures.robertaVocab().get("aaaa");
    assertArrayEquals(new long[] {0, 4 + 0x20, aaaa, aaaa, aaaa, 2}, ids);
  }

  @Test
  void concurrentUseGivesIdenticalResults() throws Exception {
    List<String> inputs = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      inputs.add(TEXTS.get(i % TEXTS.size()) + " low" + i + " lower it's abc".substring(i % 7));
    }
    List<Encoding> expected = new ArrayList<>();
    Tokenizer reference = Fixtures.load(Fixtures.roberta());
    for (String s : inputs) {
      expected.add(reference.encode(s, 64));
    }
    Tokenizer shared = Fixtures.load(Fixtures.roberta()); // cold cache, filled concurrently
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<List<Encoding>>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int offset = t * 50;
        futures.add(
            pool.submit(
                () -> {
                  List<Encoding> out = new ArrayList<>();
                  for (int i = 0; i < inputs.size(); i++) {
                    out.add(shared.encode(inputs.get((i + offset) % inputs.size()), 64));
                  }
                  return out;
                }));
      }
      for (int t = 0; t < 8; t++) {
        List<Encoding> out = futures.get(t).get();
        for (int i = 0; i < inputs.size(); i++) {
          assertEquals(expected.get((i + t * 50) % inputs.size()), out.get(i), inputs.get(i));
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
