package io.foley4j.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BpeTest {
  private final Bpe bpe = Bpe.reference();

  @Test
  void lexiconWordsAreSingleTokensWithPitch() {
    for (String w : Lexicon.WORDS) {
      assertEquals(1, bpe.bpe(Bpe.byteLevel(" " + w)).size(), w);
      assertEquals(1, bpe.bpe(Bpe.byteLevel(w)).size(), w);
    }
    assertEquals(1, bpe.pitch(bpe.id("Ġglass")));
    assertEquals(-1, bpe.pitch(bpe.id("Ġthunder")));
    assertEquals(0, bpe.pitch(bpe.id("Ġnoisy")));
    assertTrue(bpe.vocabSize() > 260 && bpe.vocabSize() < 6000, "vocab " + bpe.vocabSize());
  }

  @Test
  void encodeAddsSpecialsAndPads() {
    long[] ids = bpe.encode("Glass breaking");
    assertEquals(77, ids.length);
    assertEquals(Bpe.BOS_ID, ids[0]);
    assertEquals(bpe.id("Ġglass"), ids[1]);
    assertEquals(bpe.id("Ġbreaking"), ids[2]);
    assertEquals(Bpe.EOS_ID, ids[3]);
    assertEquals(Bpe.PAD_ID, ids[4]);
    long[] mask = Bpe.mask(ids);
    assertEquals(1, mask[3]);
    assertEquals(0, mask[4]);
    long[] neg = bpe.encode("noisy, harsh");
    assertEquals(bpe.id("Ġnoisy"), neg[1]);
    assertEquals(bpe.id(","), neg[2]);
    assertEquals(bpe.id("Ġharsh"), neg[3]);
  }

  @Test
  void tokenizerJsonIsConsistent() {
    JsonObject root = JsonParser.parseString(BundleWriter.tokenizerJson(bpe)).getAsJsonObject();
    JsonObject model = root.getAsJsonObject("model");
    assertEquals("BPE", model.get("type").getAsString());
    assertTrue(model.get("unk_token").isJsonNull());
    JsonObject vocab = model.getAsJsonObject("vocab");
    assertEquals(bpe.vocabSize(), vocab.size());
    Set<Integer> ids = new HashSet<>();
    vocab.entrySet().forEach(e -> ids.add(e.getValue().getAsInt()));
    assertEquals(bpe.vocabSize(), ids.size(), "ids are unique");
    assertEquals(0, vocab.get("<s>").getAsInt());
    assertEquals(1, vocab.get("<pad>").getAsInt());
    for (var m : model.getAsJsonArray("merges")) {
      String[] p = m.getAsString().split(" ");
      assertEquals(2, p.length);
      assertTrue(vocab.has(p[0]) && vocab.has(p[1]) && vocab.has(p[0] + p[1]), m.getAsString());
    }
    assertEquals(77, root.getAsJsonObject("padding").getAsJsonObject("strategy").get("Fixed").getAsInt());
    assertEquals("RobertaProcessing", root.getAsJsonObject("post_processor").get("type").getAsString());
  }
}
