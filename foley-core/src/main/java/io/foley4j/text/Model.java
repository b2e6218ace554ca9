package io.foley4j.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.HashMap;
import java.util.Map;

/** Turns one pre-tokenised word into token ids. Implementations are immutable and thread-safe. */
interface Model {
  String SUPPORTED = "BPE, WordPiece, WordLevel";

  /** Appends the ids of {@code word} (never empty) to {@code out}. */
  void tokenize(String word, IntList out);

  /** The token-to-id map of the model (without added tokens). */
  Map<String, Integer> vocab();

  static Model parse(JsonElement e, String where) {
    JsonObject o = Json.object(e, where);
    String type;
    if (Json.isNull(o.get("type"))) {
      // Files written by old versions of tokenizers have no model type: infer it.
      if (o.has("merges")) {
        type = "BPE";
      } else if (o.has("continuing_subword_prefix") || o.has("max_input_chars_per_word")) {
        type = "WordPiece";
      } else {
        type = "WordLevel";
      }
    } else {
      type = Json.type(o, where);
    }
    switch (type) {
      case "BPE":
        return BpeModel.parse(o, where);
      case "WordPiece":
        return WordPieceModel.parse(o, where);
      case "WordLevel":
        return WordLevelModel.parse(o, where);
      default:
        throw Json.unsupported("model", type, SUPPORTED);
    }
  }

  /** Reads the {@code vocab} object (token to id). */
  static Map<String, Integer> parseVocab(JsonObject model, String where) {
    JsonObject v = Json.object(model.get("vocab"), where + ".vocab");
    Map<String, Integer> vocab = new HashMap<>(v.size() * 2);
    for (Map.Entry<String, JsonElement> entry : v.entrySet()) {
      vocab.put(entry.getKey(), Json.integer(entry.getValue(), where + ".vocab[" + entry.getKey() + "]"));
    }
    return vocab;
  }

  /** The id of the token named by {@code key} (e.g. {@code unk_token}), or -1 if absent. */
  static int optTokenId(JsonObject model, String key, Map<String, Integer> vocab, String where) {
    String token = Json.optString(model, key, where, null);
    if (token == null) {
      return -1;
    }
    Integer id = vocab.get(token);
    if (id == null) {
      throw Json.invalid(where + "." + key + " '" + token + "' is not in the vocabulary");
    }
    return id;
  }
}
