package io.foley4j.text;

import com.google.gson.JsonObject;
import java.util.Map;

/** BERT's WordPiece: greedy longest match first, continuation pieces carry a prefix ("##"). */
final class WordPieceModel implements Model {
  private final Map<String, Integer> vocab;
  private final int unkId;
  private final String prefix;
  private final int maxChars;

  private WordPieceModel(Map<String, Integer> vocab, int unkId, String prefix, int maxChars) {
    this.vocab = vocab;
    this.unkId = unkId;
    this.prefix = prefix;
    this.maxChars = maxChars;
  }

  static WordPieceModel parse(JsonObject o, String where) {
    Map<String, Integer> vocab = Model.parseVocab(o, where);
    Integer unk = vocab.get(Json.optString(o, "unk_token", where, "[UNK]"));
    String prefix = Json.optString(o, "continuing_subword_prefix", where, "##");
    int maxChars = Json.optInt(o, "max_input_chars_per_word", where, 100);
    return new WordPieceModel(Map.copyOf(vocab), unk == null ? -1 : unk, prefix, maxChars);
  }

  @Override
  public Map<String, Integer> vocab() {
    return vocab;
  }

  @Override
  public void tokenize(String word, IntList out) {
    if (word.codePointCount(0, word.length()) > maxChars) {
      addUnk(out);
      return;
    }
    IntList pieces = new IntList(8);
    int start = 0;
    int n = word.length();
    while (start < n) {
      int end = n;
      int found = -1;
      while (end > start) {
        String sub = word.substring(start, end);
        Integer id = vocab.get(start > 0 ? prefix + sub : sub);
        if (id != null) {
          found = id;
          break;
        }
        end = word.offsetByCodePoints(end, -1);
      }
      if (found < 0) {
        addUnk(out);
        return;
      }
      pieces.add(found);
      start = end;
    }
    out.addAll(pieces.toArray());
  }

  private void addUnk(IntList out) {
    if (unkId >= 0) {
      out.add(unkId);
    }
  }
}
