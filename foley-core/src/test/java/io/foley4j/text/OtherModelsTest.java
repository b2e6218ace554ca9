package io.foley4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** WordPiece with BERT components, byte fallback with Metaspace, CLIP-style suffixes. */
class OtherModelsTest {

  private static JsonObject bert(JsonObject postProcessor) {
    Map<String, Integer> vocab = new LinkedHashMap<>();
    for (String s :
        new String[] {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "##s", "un", "##aff",
          "##able", ",", "!"}) {
      vocab.put(s, vocab.size());
    }
    JsonObject root = new JsonObject();
    JsonArray added = new JsonArray();
    added.add(Fixtures.addedToken(0, "[PAD]", true, false));
    added.add(Fixtures.addedToken(1, "[UNK]", true, false));
    added.add(Fixtures.addedToken(2, "[CLS]", true, false));
    added.add(Fixtures.addedToken(3, "[SEP]", true, false));
    root.add("added_tokens", added);
    JsonObject normalizer = Fixtures.type("BertNormalizer");
    normalizer.addProperty("clean_text", true);
    normalizer.addProperty("handle_chinese_chars", true);
    normalizer.add("strip_accents", JsonNull.INSTANCE);
    normalizer.addProperty("lowercase", true);
    root.add("normalizer", normalizer);
    root.add("pre_tokenizer", Fixtures.type("BertPreTokenizer"));
    root.add("post_processor", postProcessor);
    JsonObject model = Fixtures.type("WordPiece");
    model.addProperty("unk_token", "[UNK]");
    model.addProperty("continuing_subword_prefix", "##");
    model.addProperty("max_input_chars_per_word", 100);
    model.add("vocab", Fixtures.vocabObject(vocab));
    root.add("model", model);
    return root;
  }

  private static final String TEMPLATE =
      "{\"type\":\"TemplateProcessing\","
          + "\"single\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},"
          + "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},"
          + "{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}}],"
          + "\"pair\":[],"
          + "\"special_tokens\":{\"[CLS]\":{\"id\":\"[CLS]\",\"ids\":[2],\"tokens\":[\"[CLS]\"]},"
          + "\"[SEP]\":{\"id\":\"[SEP]\",\"ids\":[3],\"tokens\":[\"[SEP]\"]}}}";

  @Test
  void wordPieceWithTemplateProcessing() {
    Tokenizer t = Fixtures.load(bert(JsonParser.parseString(TEMPLATE).getAsJsonObject()));
    assertEquals(0, t.padId());
    assertEquals(12, t.vocabSize());
    Encoding e = t.encode("Hello, UNAFFABLE worlds! xyz", 14);
    // [CLS] hello , un ##aff ##able world ##s ! [UNK] [SEP] pad pad pad
    assertArrayEquals(new long[] {2, 4, 10, 7, 8, 9, 5, 6, 11, 1, 3, 0, 0, 0}, e.ids());
    assertEquals(11, e.length());
    // Truncation keeps [SEP] last.
    assertArrayEquals(new long[] {2, 4, 10, 3}, t.encode("Hello, UNAFFABLE worlds!", 4).ids());
  }

  @Test
  void bertProcessingAndStringTemplatesGiveTheSameIds() {
    JsonObject bertProcessing = Fixtures.type("BertProcessing");
    bertProcessing.add("sep", Fixtures.pair("[SEP]", 3));
    bertProcessing.add("cls", Fixtures.pair("[CLS]", 2));
    JsonObject stringTemplate = JsonParser.parseString(TEMPLATE).getAsJsonObject();
    stringTemplate.addProperty("single", "[CLS]:0 $A:0 [SEP]:0");
    Encoding expected =
        Fixtures.load(bert(JsonParser.parseString(TEMPLATE).getAsJsonObject())).encode("hello worlds", 8);
    assertEquals(expected, Fixtures.load(bert(bertProcessing)).encode("hello worlds", 8));
    assertEquals(expected, Fixtures.load(bert(stringTemplate)).encode("hello worlds", 8));
    assertArrayEquals(new long[] {2, 4, 5, 6, 3, 0, 0, 0}, expected.ids());
  }

  /** Llama-style: Metaspace, BPE with byte fallback, a template that only prepends {@code <s>}. */
  private static Tokenizer llama(boolean byteFallback) {
    Map<String, Integer> vocab = new LinkedHashMap<>();
    vocab.put("<unk>", 0);
    vocab.put("<s>", 1);
    vocab.put("</s>", 2);
    for (int b = 0; b < 256; b++) {
      vocab.put(String.format("<0x%02X>", b), vocab.size());
    }
    for (String s : new String[] {"\u2581", "a", "b", "\u2581a", "ab", "\u2581ab"}) {
      vocab.put(s, vocab.size());
    }
    JsonObject root = new JsonObject();
    JsonObject pre = Fixtures.type("Metaspace");
    pre.addProperty("replacement", "\u2581");
    pre.addProperty("prepend_scheme", "first");
    pre.addProperty("split", true);
    root.add("pre_tokenizer", pre);
    JsonObject post = Fixtures.type("TemplateProcessing");
    post.add(
        "single",
        JsonParser.parseString("[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}]"));
    post.add(
        "special_tokens",
        JsonParser.parseString("{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}"));
    root.add("post_processor", post);
    JsonObject model = Fixtures.type("BPE");
    model.addProperty("unk_token", "<unk>");
    model.addProperty("fuse_unk", true);
    model.addProperty("byte_fallback", byteFallback);
    model.add("vocab", Fixtures.vocabObject(vocab));
    model.add("merges", JsonParser.parseString("[[\"a\",\"b\"],[\"\u2581\",\"a\"],[\"\u2581\",\"ab\"]]"));
    root.add("model", model);
    return Fixtures.load(root);
  }

  @Test
  void byteFallbackSpellsUnknownCharactersAsBytes() {
    Tokenizer t = llama(true);
    assertEquals(0, t.padId()); // no <pad>, no [PAD]: 0
    // "ab é" -> "▁ab", "▁é" -> ▁ab, ▁, <0xC3>, <0xA9>
    int base = 3;
    int meta = base + 256;
    assertArrayEquals(
        new long[] {1, meta + 5, meta, base + 0xC3, base + 0xA9},
        Fixtures.real(t.encode("ab \u00E9", 10)));
    // Without byte fallback the unknown characters become one fused <unk>.
    assertArrayEquals(
        new long[] {1, meta + 3, meta, 0}, Fixtures.real(llama(false).encode("a \u00E9\u00E9", 10)));
  }

  @Test
  void endOfWordSuffixAndIgnoreMerges() {
    Map<String, Integer> vocab = new LinkedHashMap<>();
    for (String s : List.of("l", "o", "w", "w</w>", "lo", "low</w>", "lw</w>")) {
      vocab.put(s, vocab.size());
    }
    JsonObject root = new JsonObject();
    root.add("pre_tokenizer", Fixtures.type("WhitespaceSplit"));
    JsonObject model = Fixtures.type("BPE");
    model.addProperty("end_of_word_suffix", "</w>");
    model.add("vocab", Fixtures.vocabObject(vocab));
    model.add("merges", JsonParser.parseString("[\"l o\", \"lo w</w>\"]"));
    root.add("model", model);
    Tokenizer t = Fixtures.load(root);
    // "low" -> l o w</w> -> lo w</w> -> low</w>; "lw" -> l w</w>; "ow" -> o w</w>
    assertArrayEquals(new long[] {5, 0, 3, 1, 3}, Fixtures.real(t.encode("low lw  ow", 10)));
    model.addProperty("ignore_merges", true);
    vocab.put("lw", vocab.size());
    model.add("vocab", Fixtures.vocabObject(vocab));
    assertArrayEquals(new long[] {7}, Fixtures.real(Fixtures.load(root).encode("lw", 10)));
  }
}
