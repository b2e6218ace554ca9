package io.foley4j.text;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** Small hand-written tokenizer.json documents. */
final class Fixtures {
  private Fixtures() {}

  /** The GPT-2 byte characters, written out independently of the code under test. */
  static char byteChar(int b) {
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) {
      return (char) b;
    }
    int n = 0;
    for (int x = 0; x < b; x++) {
      if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) {
        n++;
      }
    }
    return (char) (256 + n);
  }

  /** RoBERTa-style merges: rank order is list order. */
  static final List<String[]> ROBERTA_MERGES =
      List.of(
          new String[] {"Ġ", "l"}, // 0
          new String[] {"o", "w"}, // 1
          new String[] {"Ġl", "ow"}, // 2
          new String[] {"e", "r"}, // 3
          new String[] {"Ġlow", "er"}, // 4
          new String[] {"b", "c"}, // 5: lower rank than "a b", so "abc" -> a + bc
          new String[] {"a", "b"}, // 6
          new String[] {"'", "s"}, // 7
          new String[] {"i", "t"}, // 8
          new String[] {"Ġ", "it"}, // 9
          new String[] {"a", "a"}, // 10
          new String[] {"aa", "aa"}); // 11

  /**
   * specials {@code <s>=0 <pad>=1 </s>=2 <unk>=3}, the 256 byte characters at 4..259 (byte order),
   * then one token per merge, then {@code <mask>}.
   */
  static Map<String, Integer> robertaVocab() {
    Map<String, Integer> vocab = new LinkedHashMap<>();
    for (String s : new String[] {"<s>", "<pad>", "</s>", "<unk>"}) {
      vocab.put(s, vocab.size());
    }
    for (int b = 0; b < 256; b++) {
      vocab.put(String.valueOf(byteChar(b)), vocab.size());
    }
    for (String[] m : ROBERTA_MERGES) {
      vocab.putIfAbsent(m[0] + m[1], vocab.size());
    }
    vocab.put("<mask>", vocab.size());
    return vocab;
  }

  static JsonObject roberta() {
    Map<String, Integer> vocab = robertaVocab();
    JsonObject root = new JsonObject();
    root.addProperty("version", "1.0");
    root.add("truncation", JsonNull.INSTANCE);
    root.add("padding", JsonNull.INSTANCE);
    JsonArray added = new JsonArray();
    added.add(addedToken(0, "<s>", true, false));
    added.add(addedToken(1, "<pad>", true, false));
    added.add(addedToken(2, "</s>", true, false));
    added.add(addedToken(3, "<unk>", true, false));
    added.add(addedToken(vocab.get("<mask>"), "<mask>", true, true));
    root.add("added_tokens", added);
    root.add("normalizer", JsonNull.INSTANCE);
    JsonObject pre = new JsonObject();
    pre.addProperty("type", "ByteLevel");
    pre.addProperty("add_prefix_space", true);
    pre.addProperty("trim_offsets", true);
    pre.addProperty("use_regex", true);
    root.add("pre_tokenizer", pre);
    JsonObject post = new JsonObject();
    post.addProperty("type", "RobertaProcessing");
    post.add("sep", pair("</s>", 2));
    post.add("cls", pair("<s>", 0));
    post.addProperty("trim_offsets", true);
    post.addProperty("add_prefix_space", true);
    root.add("post_processor", post);
    JsonObject decoder = new JsonObject();
    decoder.addProperty("type", "ByteLevel");
    root.add("decoder", decoder);
    JsonObject model = new JsonObject();
    model.addProperty("type", "BPE");
    model.add("dropout", JsonNull.INSTANCE);
    model.addProperty("unk_token", "<unk>");
    model.add("continuing_subword_prefix", JsonNull.INSTANCE);
    model.add("end_of_word_suffix", JsonNull.INSTANCE);
    model.addProperty("fuse_unk", false);
    model.addProperty("byte_fallback", false);
    model.add("vocab", vocabObject(vocab));
    JsonArray merges = new JsonArray();
    for (String[] m : ROBERTA_MERGES) {
      merges.add(m[0] + " " + m[1]);
    }
    model.add("merges", merges);
    root.add("model", model);
    return root;
  }

  static JsonObject addedToken(int id, String content, boolean special, boolean lstrip) {
    JsonObject t = new JsonObject();
    t.addProperty("id", id);
    t.addProperty("content", content);
    t.addProperty("single_word", false);
    t.addProperty("lstrip", lstrip);
    t.addProperty("rstrip", false);
    t.addProperty("normalized", false);
    t.addProperty("special", special);
    return t;
  }

  static JsonArray pair(String token, int id) {
    JsonArray a = new JsonArray();
    a.add(token);
    a.add(id);
    return a;
  }

  static JsonObject vocabObject(Map<String, Integer> vocab) {
    JsonObject v = new JsonObject();
    vocab.forEach(v::addProperty);
    return v;
  }

  static JsonObject type(String type) {
    JsonObject o = new JsonObject();
    o.addProperty("type", type);
    return o;
  }

  static Tokenizer load(JsonObject root) {
    return Tokenizer.fromJson(
        new ByteArrayInputStream(root.toString().getBytes(StandardCharsets.UTF_8)));
  }

  static Tokenizer roberta(Consumer<JsonObject> customize) {
    JsonObject root = roberta();
    customize.accept(root);
    return load(root);
  }

  /** The real ids of an encoding (without padding). */
  static long[] real(Encoding e) {
    return java.util.Arrays.copyOf(e.ids(), e.length());
  }
}
