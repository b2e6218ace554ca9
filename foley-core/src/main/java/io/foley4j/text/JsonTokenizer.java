package io.foley4j.text;

import io.foley4j.FoleyException;
import java.util.Arrays;
import java.util.Objects;

/** The {@link Tokenizer} pipeline. Immutable; the model's word cache is concurrent and bounded. */
final class JsonTokenizer implements Tokenizer {
  private final AddedTokens added;
  private final Normalizer normalizer;
  private final PreTokenizer preTokenizer;
  private final Model model;
  private final PostProcessor post;
  private final int vocabSize;
  private final int padId;
  private final boolean leftPadding;

  JsonTokenizer(
      AddedTokens added,
      Normalizer normalizer,
      PreTokenizer preTokenizer,
      Model model,
      PostProcessor post,
      int vocabSize,
      int padId,
      boolean leftPadding) {
    this.added = added;
    this.normalizer = normalizer;
    this.preTokenizer = preTokenizer;
    this.model = model;
    this.post = post;
    this.vocabSize = vocabSize;
    this.padId = padId;
    this.leftPadding = leftPadding;
  }

  @Override
  public Encoding encode(String text, int maxLength) {
    Objects.requireNonNull(text, "text");
    int specials = post.specialCount();
    int minimum = Math.max(1, specials);
    if (maxLength < minimum) {
      throw new FoleyException(
          FoleyException.Code.INVALID_ARGUMENT,
          "maxLength must be at least "
              + minimum
              + (specials > 0 ? " (the tokenizer adds " + specials + " special tokens)" : "")
              + ", got "
              + maxLength);
    }
    int budget = maxLength - specials;
    IntList tokens = new IntList(Math.min(budget + 1, 256));
    // Stop as soon as one token more than fits has been produced: that proves truncation.
    PreTokenizer.Sink words =
        word -> {
          model.tokenize(word, tokens);
          return tokens.size() <= budget;
        };
    added.split(
        Text.replaceLoneSurrogates(text),
        new AddedTokens.Handler() {
          @Override
          public boolean text(String piece, boolean first) {
            String normalized = normalizer.normalize(piece);
            return normalized.isEmpty() || preTokenizer.split(normalized, first, words);
          }

          @Override
          public boolean token(int id) {
            tokens.add(id);
            return tokens.size() <= budget;
          }
        });
    boolean truncated = tokens.size() > budget;
    int kept = Math.min(tokens.size(), budget);
    int length = specials + kept;
    long[] ids = new long[maxLength];
    long[] mask = new long[maxLength];
    Arrays.fill(ids, padId);
    int at = leftPadding ? maxLength - length : 0;
    Arrays.fill(mask, at, at + length, 1L);
    for (int id : post.prefix()) {
      ids[at++] = id;
    }
    for (int i = 0; i < kept; i++) {
      ids[at++] = tokens.get(i);
    }
    for (int id : post.suffix()) {
      ids[at++] = id;
    }
    return new Encoding(ids, mask, length, truncated);
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public int padId() {
    return padId;
  }

  @Override
  public String toString() {
    return "Tokenizer[vocabSize=" + vocabSize + ", padId=" + padId + "]";
  }
}
