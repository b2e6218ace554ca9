package io.foley4j.text;

import com.google.gson.JsonObject;
import java.util.Map;

/** One word, one id; words not in the vocabulary become the unknown token (or are dropped). */
final class WordLevelModel implements Model {
  private final Map<String, Integer> vocab;
  private final int unkId;

  private WordLevelModel(Map<String, Integer> vocab, int unkId) {
    this.vocab = vocab;
    this.unkId = unkId;
  }

  static WordLevelModel parse(JsonObject o, String where) {
    Map<String, Integer> vocab = Model.parseVocab(o, where);
    return new WordLevelModel(Map.copyOf(vocab), Model.optTokenId(o, "unk_token", vocab, where));
  }

  @Override
  public Map<String, Integer> vocab() {
    return vocab;
  }

  @Override
  public void tokenize(String word, IntList out) {
    Integer id = vocab.get(word);
    if (id != null) {
      out.add(id);
    } else if (unkId >= 0) {
      out.add(unkId);
    }
  }
}
