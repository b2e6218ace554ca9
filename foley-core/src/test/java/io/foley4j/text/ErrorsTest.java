package io.foley4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.foley4j.FoleyException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErrorsTest {

  private static FoleyException loadFails(Consumer<JsonObject> customize) {
    return assertThrows(FoleyException.class, () -> Fixtures.roberta(customize));
  }

  private static FoleyException parseFails(String json) {
    return assertThrows(
        FoleyException.class,
        () -> Tokenizer.fromJson(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8))));
  }

  @Test
  void unknownPreTokenizerTypeNamesComponentTypeAndAlternatives() {
    FoleyException e = loadFails(root -> root.add("pre_tokenizer", Fixtures.type("FancySplit")));
    assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
    assertTrue(e.getMessage().contains("pre_tokenizer"), e.getMessage());
    assertTrue(e.getMessage().contains("'FancySplit'"), e.getMessage());
    assertTrue(e.getMessage().contains("ByteLevel, Whitespace"), e.getMessage());
  }

  @Test
  void unknownTypesElsewhere() {
    FoleyException model = loadFails(root -> root.getAsJsonObject("model").addProperty("type", "Unigram"));
    assertEquals(FoleyException.Code.INVALID_BUNDLE, model.code());
    assertTrue(model.getMessage().contains("model type 'Unigram'") && model.getMessage().contains("WordPiece"), model.getMessage());
    FoleyException normalizer = loadFails(root -> root.add("normalizer", Fixtures.type("Precompiled")));
    assertTrue(normalizer.getMessage().contains("normalizer type 'Precompiled'"), normalizer.getMessage());
    FoleyException post = loadFails(root -> root.add("post_processor", Fixtures.type("Magic")));
    assertTrue(post.getMessage().contains("post_processor type 'Magic'"), post.getMessage());
    FoleyException nested =
        loadFails(
            root -> {
              JsonObject seq = Fixtures.type("Sequence");
              com.google.gson.JsonArray list = new com.google.gson.JsonArray();
              list.add(Fixtures.type("Lowercase"));
              list.add(Fixtures.type("Wobble"));
              seq.add("normalizers", list);
              root.add("normalizer", seq);
            });
    assertTrue(nested.getMessage().contains("'Wobble'"), nested.getMessage());
  }

  @Test
  void malformedJson() {
    for (String bad : new String[] {"{\"model\": ", "", "{'model': 1}", "{\"model\": {}} trailing", "[1,2]", "null"}) {
      FoleyException e = parseFails(bad);
      assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code(), bad);
      assertTrue(e.getMessage().startsWith("tokenizer.json: "), e.getMessage());
    }
    assertTrue(parseFails("{\"model\": ").getMessage().contains("malformed JSON"));
  }

  @Test
  void duplicateKeysAreRefusedWithTheirPath() {
    // Gson would keep the last "ow" silently; Hugging Face's serde keeps one of them too.
    String json = Fixtures.roberta().toString().replaceFirst("\"vocab\":\\{", "\"vocab\":{\"ow\":5,");
    FoleyException e = parseFails(json);
    assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
    assertTrue(e.getMessage().startsWith("tokenizer.json: ") && e.getMessage().contains("duplicate key \"ow\"")
        && e.getMessage().contains("$.model.vocab"), e.getMessage());
    FoleyException top = parseFails("{\"model\": {}, \"model\": {}}");
    assertTrue(top.getMessage().contains("duplicate key \"model\""), top.getMessage());
  }

  @Test
  void malformedJsonMessagesAreCleanAndSayWhere() {
    FoleyException e = parseFails("{\"model\": {\"type\": 'BPE'}}");
    assertTrue(e.getMessage().contains("line 1 column") && !e.getMessage().contains("LENIENT")
        && !e.getMessage().contains("https://"), e.getMessage());
    FoleyException deep = parseFails("[".repeat(100_000));
    assertEquals(FoleyException.Code.INVALID_BUNDLE, deep.code());
    FoleyException big = parseFails("{\"model\": 1e99999}");
    assertEquals(FoleyException.Code.INVALID_BUNDLE, big.code());
    assertTrue(big.getMessage().contains("out of range"), big.getMessage());
  }

  @Test
  void aRegexThatBacktracksCatastrophicallyStopsWithATypedError() {
    // Found by TokenizerFuzzTest: tokenizer.json patterns are compiled as given, so a hostile or
    // careless one, such as ((a+)+)+$, takes exponential time on 40 a's and a b: hang the engine.
    String text = "a".repeat(40) + "b";
    JsonObject split = Fixtures.type("Split");
    JsonObject regex = new JsonObject();
    regex.addProperty("Regex", "((a+)+)+$");
    split.add("pattern", regex);
    split.addProperty("behavior", "Isolated");
    Tokenizer pre = Fixtures.roberta(root -> root.add("pre_tokenizer", split));
    JsonObject replace = Fixtures.type("Replace");
    replace.add("pattern", regex);
    replace.addProperty("content", "x");
    Tokenizer norm = Fixtures.roberta(root -> root.add("normalizer", replace));
    for (Tokenizer t : new Tokenizer[] {pre, norm}) {
      FoleyException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
          () -> assertThrows(FoleyException.class, () -> t.encode(text, 16)));
      assertEquals(FoleyException.Code.INVALID_BUNDLE, e.code());
      assertTrue(e.getMessage().contains("((a+)+)+$") && e.getMessage().contains("backtrack"), e.getMessage());
      assertEquals(16, t.encode("a few words", 16).ids().length, "ordinary text still encodes");
    }
  }

  @Test
  void structuralErrorsAreInvalidBundle() {
    FoleyException merge =
        loadFails(root -> root.getAsJsonObject("model").getAsJsonArray("merges").add("x y"));
    assertEquals(FoleyException.Code.INVALID_BUNDLE, merge.code());
    assertTrue(merge.getMessage().contains("not in the vocabulary"), merge.getMessage());
    FoleyException vocab =
        loadFails(root -> root.getAsJsonObject("model").getAsJsonObject("vocab").addProperty("x", "one"));
    assertTrue(vocab.getMessage().contains("model.vocab[x]"), vocab.getMessage());
    FoleyException noModel = loadFails(root -> root.remove("model"));
    assertEquals(FoleyException.Code.INVALID_BUNDLE, noModel.code());
  }

  @Test
  void maxLengthTooSmall() {
    Tokenizer t = Fixtures.load(Fixtures.roberta());
    FoleyException e = assertThrows(FoleyException.class, () -> t.encode("low", 1));
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(e.getMessage().contains("at least 2"), e.getMessage());
    assertEquals(FoleyException.Code.INVALID_ARGUMENT, assertThrows(FoleyException.class, () -> t.encode("", -5)).code());
    assertThrows(NullPointerException.class, () -> t.encode(null, 10));
  }

  @Test
  void filesAreReadAndMissingFilesAreIoErrors(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, Fixtures.roberta().toString());
    assertEquals(
        Fixtures.load(Fixtures.roberta()).encode("lower", 5), Tokenizer.fromJson(file).encode("lower", 5));
    FoleyException e = assertThrows(FoleyException.class, () -> Tokenizer.fromJson(dir.resolve("nope.json")));
    assertEquals(FoleyException.Code.IO, e.code());
  }
}
