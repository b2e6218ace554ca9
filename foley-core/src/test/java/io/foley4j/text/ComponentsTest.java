package io.foley4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Normalizers and pre-tokenizers on their own. */
class ComponentsTest {

  private static List<String> split(String preTokenizerJson, String text, boolean first) {
    JsonElement json = JsonParser.parseString(preTokenizerJson);
    List<String> words = new ArrayList<>();
    PreTokenizer.parse(json, "pre_tokenizer").split(text, first, words::add);
    return words;
  }

  private static List<String> split(String text, PreTokenizer.Splitter.Behavior behavior) {
    List<String> words = new ArrayList<>();
    PreTokenizer.Splitter.split(text, Pattern.compile("-"), behavior, false, words::add);
    return words;
  }

  @Test
  void splitBehaviours() {
    String s = "the-final--countdown";
    assertEquals(List.of("the", "final", "countdown"), split(s, PreTokenizer.Splitter.Behavior.REMOVED));
    assertEquals(
        List.of("the", "-", "final", "-", "-", "countdown"),
        split(s, PreTokenizer.Splitter.Behavior.ISOLATED));
    assertEquals(
        List.of("the-", "final-", "-", "countdown"),
        split(s, PreTokenizer.Splitter.Behavior.MERGED_WITH_PREVIOUS));
    assertEquals(
        List.of("the", "-final", "-", "-countdown"),
        split(s, PreTokenizer.Splitter.Behavior.MERGED_WITH_NEXT));
    assertEquals(
        List.of("the", "-", "final", "--", "countdown"),
        split(s, PreTokenizer.Splitter.Behavior.CONTIGUOUS));
  }

  @Test
  void splitPreTokenizerFromJson() {
    assertEquals(
        List.of("a", "b c"),
        split("{\"type\":\"Split\",\"pattern\":{\"String\":\", \"},\"behavior\":\"Removed\",\"invert\":false}", "a, b c", true));
    assertEquals(
        List.of("12", "ab", "3"),
        split("{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\p{N}+|\\\\p{L}+\"},\"behavior\":\"Removed\",\"invert\":true}", "12ab 3", true));
  }

  @Test
  void whitespacePreTokenizers() {
    assertEquals(
        List.of("Hey", "friend", "!", "How", "are", "you", "?!"),
        split("{\"type\":\"Whitespace\"}", "Hey friend!  How are you?!", true));
    assertEquals(
        List.of("Hey", "friend!", "How"), split("{\"type\":\"WhitespaceSplit\"}", " Hey friend!\u3000How ", true));
  }

  @Test
  void metaspaceAndSequence() {
    String always = "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"add_prefix_space\":true}";
    assertEquals(List.of("\u2581Hey", "\u2581friend"), split(always, "Hey friend", false));
    String first = "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"first\"}";
    assertEquals(List.of("Hey", "\u2581friend"), split(first, "Hey friend", false));
    assertEquals(List.of("\u2581Hey", "\u2581friend"), split(first, "Hey friend", true));
    String sequence =
        "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"WhitespaceSplit\"},"
            + "{\"type\":\"Digits\",\"individual_digits\":true}]}";
    assertEquals(List.of("a", "1", "2", "b", "3"), split(sequence, "a12b 3", true));
  }

  @Test
  void byteLevelWithoutRegex() {
    assertEquals(
        List.of("\u0120hi\u0120there"),
        split("{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"use_regex\":false}", "hi there", true));
  }

  @Test
  void normalizers() {
    Normalizer n =
        Normalizer.parse(
            JsonParser.parseString(
                "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Strip\",\"strip_left\":true,\"strip_right\":true},"
                    + "{\"type\":\"NFKC\"},{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\u2581\"},"
                    + "{\"type\":\"Prepend\",\"prepend\":\"\u2581\"}]}"),
            "normalizer");
    assertEquals("\u2581fi\u2581x", n.normalize("  \uFB01 x \u3000"));
    assertEquals("", n.normalize("   "));
    Normalizer nfd = Normalizer.parse(JsonParser.parseString("{\"type\":\"NFD\"}"), "n");
    assertEquals("e\u0301", nfd.normalize("\u00E9"));
    Normalizer nfc = Normalizer.parse(JsonParser.parseString("{\"type\":\"NFC\"}"), "n");
    assertEquals("\u00E9", nfc.normalize("e\u0301"));
    Normalizer regex =
        Normalizer.parse(
            JsonParser.parseString("{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" \"}"), "n");
    assertEquals("a b c", regex.normalize("a \t b\n\nc"));
    Normalizer bert =
        Normalizer.parse(JsonParser.parseString("{\"type\":\"BertNormalizer\",\"lowercase\":true}"), "n");
    assertEquals("cafe \u96E8  \u97F3  x", bert.normalize("Caf\u00E9\u96E8\u97F3\tx\u0000"));
  }
}
