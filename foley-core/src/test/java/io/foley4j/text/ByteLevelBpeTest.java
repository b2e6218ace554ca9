package io.foley4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** RoBERTa-style byte-level BPE, worked by hand. */
class ByteLevelBpeTest {
  private static final Map<String, Integer> V = Fixtures.robertaVocab();
  private static final Tokenizer TOKENIZER = Fixtures.load(Fixtures.roberta());

  private static long v(String token) {
    Integer id = V.get(token);
    if (id == null) {
      throw new AssertionError("not in the test vocabulary: " + token);
    }
    return id;
  }

  private static long b(int aByte) {
    return 4 + aByte;
  }

  @Test
  void gpt2ByteTableHasTheKnownEntries() {
    assertEquals('\u0120', ByteLevelTable.charOf(0x20)); // 'Ġ'
    assertEquals('\u010A', ByteLevelTable.charOf(0x0A)); // 'Ċ'
    assertEquals('\u0100', ByteLevelTable.charOf(0x00));
    assertEquals('\u0121', ByteLevelTable.charOf(0x7F)); // 'ġ'
    assertEquals('\u0142', ByteLevelTable.charOf(0xA0)); // 'ł'
    assertEquals('\u0143', ByteLevelTable.charOf(0xAD)); // 'Ń'
    assertEquals('A', ByteLevelTable.charOf('A'));
    assertEquals('\u00E9', ByteLevelTable.charOf(0xE9));
    Set<Character> seen = new HashSet<>();
    for (int x = 0; x < 256; x++) {
      char c = ByteLevelTable.charOf(x);
      assertEquals(Fixtures.byteChar(x), c, "byte " + x);
      assertFalse(Character.isWhitespace(c) || Character.isISOControl(c), "byte " + x);
      seen.add(c);
    }
    assertEquals(256, seen.size());
    assertEquals("\u0120h\u00C3\u00A9\u010A", ByteLevelTable.encode(" h\u00E9\n"));
  }

  @Test
  void mergesApplyInRankOrder() {
    Encoding e = TOKENIZER.encode("lower low", 8);
    assertArrayEquals(
        new long[] {0, v("Ġlower"), v("Ġlow"), 2, 1, 1, 1, 1}, e.ids());
    assertArrayEquals(new long[] {1, 1, 1, 1, 0, 0, 0, 0}, e.attentionMask());
    assertEquals(4, e.length());
    assertFalse(e.truncated());
  }

  @Test
  void lowerRankMergeWinsOverLeftToRight() {
    // "a b" comes first left to right, but "b c" has the lower rank: a + bc, not ab + c.
    long[] ids = Fixtures.real(TOKENIZER.encode("abc", 10));
    assertArrayEquals(new long[] {0, v("Ġ"), v("a"), v("bc"), 2}, ids);
    assertNotEquals(v("ab"), ids[2]);
    // Without the "b c" merge, "a b" applies.
    long[] ab = Fixtures.real(TOKENIZER.encode("abd", 10));
    assertArrayEquals(new long[] {0, v("Ġ"), v("ab"), b('d'), 2}, ab);
  }

  @Test
  void equalRanksMergeLeftmostFirst() {
    // "aaa": pairs (0,1) and (1,2) both "a a"; leftmost wins -> aa + a.
    assertArrayEquals(
        new long[] {0, v("Ġ"), v("aa"), v("a"), 2}, Fixtures.real(TOKENIZER.encode("aaa", 10)));
    // "aaaaa" -> aa aa a -> aaaa a
    assertArrayEquals(
        new long[] {0, v("Ġ"), v("aaaa"), v("a"), 2},
        Fixtures.real(TOKENIZER.encode("aaaaa", 10)));
  }

  @Test
  void addPrefixSpace() {
    Tokenizer noPrefix =
        Fixtures.roberta(
            root -> root.getAsJsonObject("pre_tokenizer").addProperty("add_prefix_space", false));
    assertArrayEquals(
        new long[] {0, v("l"), v("ow"), 2}, Fixtures.real(noPrefix.encode("low", 10)));
    assertArrayEquals(new long[] {0, v("Ġlow"), 2}, Fixtures.real(TOKENIZER.encode("low", 10)));
    // A text that already starts with a space gets no second one.
    assertArrayEquals(new long[] {0, v("Ġlow"), 2}, Fixtures.real(TOKENIZER.encode(" low", 10)));
  }

  @Test
  void contractionsAreSplit() {
    assertArrayEquals(
        new long[] {0, v("Ġit"), v("'s"), 2}, Fixtures.real(TOKENIZER.encode("it's", 10)));
    java.util.List<String> words = new java.util.ArrayList<>();
    PreTokenizer.Splitter.split(
        "I'm don't  go\n\nnow 42!?",
        PreTokenizer.GPT2,
        PreTokenizer.Splitter.Behavior.ISOLATED,
        false,
        words::add);
    assertEquals(
        java.util.List.of("I", "'m", " don", "'t", " ", " go", "\n", "\n", "now", " 42", "!?"),
        words);
  }

  @Test
  void whitespaceAndNewlinesBecomeByteCharacters() {
    // "a\nlow": " a", "\n", "low" -> Ġ a, Ċ, l ow
    assertArrayEquals(
        new long[] {0, v("Ġ"), v("a"), b('\n'), v("l"), v("ow"), 2},
        Fixtures.real(TOKENIZER.encode("a\nlow", 20)));
  }

  @Test
  void lowercaseNormalizer() {
    Tokenizer lower = Fixtures.roberta(root -> root.add("normalizer", Fixtures.type("Lowercase")));
    assertArrayEquals(new long[] {0, v("Ġlower"), 2}, Fixtures.real(lower.encode("LoWeR", 10)));
    assertArrayEquals(
        new long[] {0, v("Ġ"), b('L'), v("o"), b('W'), v("e"), b('R'), 2},
        Fixtures.real(TOKENIZER.encode("LoWeR", 10)));
  }

  @Test
  void truncationKeepsTheClosingToken() {
    Encoding e = TOKENIZER.encode("low low low low low", 4);
    assertArrayEquals(new long[] {0, v("Ġlow"), v("Ġlow"), 2}, e.ids());
    assertArrayEquals(new long[] {1, 1, 1, 1}, e.attentionMask());
    assertEquals(4, e.length());
    assertTrue(e.truncated());
    Encoding exact = TOKENIZER.encode("low low", 4);
    assertFalse(exact.truncated());
    Encoding minimal = TOKENIZER.encode("low", 2);
    assertArrayEquals(new long[] {0, 2}, minimal.ids());
    assertTrue(minimal.truncated());
    assertFalse(TOKENIZER.encode("", 2).truncated());
  }

  @Test
  void paddingIdAndMask() {
    assertEquals(1, TOKENIZER.padId());
    Encoding e = TOKENIZER.encode("", 5);
    assertArrayEquals(new long[] {0, 2, 1, 1, 1}, e.ids());
    assertArrayEquals(new long[] {1, 1, 0, 0, 0}, e.attentionMask());
    assertEquals(2, e.length());
    Tokenizer custom =
        Fixtures.roberta(
            root -> {
              JsonObject padding = new JsonObject();
              padding.addProperty("pad_id", 3);
              padding.addProperty("pad_token", "<unk>");
              root.add("padding", padding);
            });
    assertEquals(3, custom.padId());
    assertArrayEquals(new long[] {0, v("Ġlow"), 2, 3}, custom.encode("low", 4).ids());
  }

  @Test
  void addedTokensInsideTextMapToTheirIds() {
    assertArrayEquals(
        new long[] {0, v("Ġlow"), 0, v("Ġlow"), 2, 2},
        Fixtures.real(TOKENIZER.encode("low<s>low</s>", 20)));
    // <mask> has lstrip: it swallows the space before it.
    assertArrayEquals(
        new long[] {0, v("Ġlow"), v("<mask>"), 2},
        Fixtures.real(TOKENIZER.encode("low <mask>", 20)));
    // A partial special token is ordinary text.
    assertArrayEquals(
        new long[] {0, v("Ġ"), b('<'), b('s'), 2}, Fixtures.real(TOKENIZER.encode("<s", 20)));
  }

  @Test
  void longestAddedTokenWins() {
    Tokenizer t =
        Fixtures.roberta(
            root -> {
              JsonArray added = root.getAsJsonArray("added_tokens");
              added.add(Fixtures.addedToken(V.size(), "<s>low", false, false));
            });
    assertEquals(V.size() + 1, t.vocabSize());
    assertArrayEquals(new long[] {0, V.size(), 2}, Fixtures.real(t.encode("<s>low", 10)));
  }

  @Test
  void mergesAsPairsEqualMergesAsStrings() {
    Tokenizer pairs =
        Fixtures.roberta(
            root -> {
              JsonArray merges = new JsonArray();
              for (String[] m : Fixtures.ROBERTA_MERGES) {
                JsonArray p = new JsonArray();
                p.add(m[0]);
                p.add(m[1]);
                merges.add(p);
              }
              root.getAsJsonObject("model").add("merges", merges);
            });
    for (String text : new String[] {"lower low", "abc", "it's aaaaa", "low\u00E9"}) {
      assertEquals(TOKENIZER.encode(text, 16), pairs.encode(text, 16), text);
    }
  }

  @Test
  void vocabSizeCoversAllIds() {
    assertEquals(V.size(), TOKENIZER.vocabSize());
  }
}
