package io.foley4j.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.foley4j.FoleyException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Builds a {@link JsonTokenizer} from the JSON document. */
final class TokenizerLoader {
  private TokenizerLoader() {}

  static Tokenizer load(InputStream in, String source) {
    // Duplicate keys are refused here too: in a vocabulary they would give one token two ids.
    String name = source.equals("tokenizer.json") ? source : "tokenizer.json (" + source + ")";
    JsonElement root = StrictJson.parse(new InputStreamReader(in, StandardCharsets.UTF_8), name,
        FoleyException.Code.INVALID_BUNDLE);
    try {
      return build(Json.object(root, "the document"));
    } catch (FoleyException e) {
      throw e;
    } catch (RuntimeException e) {
      // A structural surprise (wrong JSON type somewhere, number out of range): still a bad bundle.
      throw Json.invalid("cannot interpret " + source + ": " + e, e);
    }
  }

  private static Tokenizer build(JsonObject root) {
    if (!root.has("model")) {
      throw Json.invalid("no 'model' (is this a Hugging Face tokenizer.json?)");
    }
    AddedTokens added =
        AddedTokens.parse(
            Json.isNull(root.get("added_tokens")) ? null : Json.array(root.get("added_tokens"), "added_tokens"),
            "added_tokens");
    Normalizer normalizer = Normalizer.parse(root.get("normalizer"), "normalizer");
    PreTokenizer preTokenizer = PreTokenizer.parse(root.get("pre_tokenizer"), "pre_tokenizer");
    Model model = Model.parse(root.get("model"), "model");
    PostProcessor post = PostProcessor.parse(root.get("post_processor"), "post_processor");

    int maxId = -1;
    for (int id : model.vocab().values()) {
      maxId = Math.max(maxId, id);
    }
    for (AddedTokens.Token t : added.tokens()) {
      maxId = Math.max(maxId, t.id());
    }
    int vocabSize = maxId + 1;
    for (int id : post.prefix()) {
      checkId(id, vocabSize, "post_processor");
    }
    for (int id : post.suffix()) {
      checkId(id, vocabSize, "post_processor");
    }
    int padId = padId(root, model.vocab(), added);
    checkId(padId, Math.max(vocabSize, 1), "padding.pad_id");
    return new JsonTokenizer(added, normalizer, preTokenizer, model, post, vocabSize, padId, leftPadding(root));
  }

  private static void checkId(int id, int vocabSize, String where) {
    if (id >= vocabSize) {
      throw Json.invalid(where + " uses id " + id + " but the vocabulary has only " + vocabSize + " ids");
    }
  }

  private static int padId(JsonObject root, Map<String, Integer> vocab, AddedTokens added) {
    if (!Json.isNull(root.get("padding"))) {
      JsonObject padding = Json.object(root.get("padding"), "padding");
      if (!Json.isNull(padding.get("pad_id"))) {
        return Json.integer(padding.get("pad_id"), "padding.pad_id");
      }
    }
    for (String name : new String[] {"<pad>", "[PAD]"}) {
      for (AddedTokens.Token t : added.tokens()) {
        if (t.content().equals(name)) {
          return t.id();
        }
      }
      Integer id = vocab.get(name);
      if (id != null) {
        return id;
      }
    }
    return 0;
  }

  private static boolean leftPadding(JsonObject root) {
    if (Json.isNull(root.get("padding"))) {
      return false;
    }
    String direction = Json.optString(Json.object(root.get("padding"), "padding"), "direction", "padding", "Right");
    return direction.equalsIgnoreCase("Left");
  }
}
