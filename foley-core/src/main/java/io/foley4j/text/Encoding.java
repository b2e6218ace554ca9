package io.foley4j.text;

import io.foley4j.FoleyException;
import java.util.Arrays;
import java.util.Objects;

/**
 * The result of {@link Tokenizer#encode}: token ids and attention mask of the same fixed length.
 * The arrays are copied on the way in and out, so an {@code Encoding} is immutable.
 *
 * @param ids token ids, special tokens included, padded with the pad id
 * @param attentionMask 1 for each real token (special tokens included), 0 for padding
 * @param length the number of real tokens, special tokens included (the sum of the mask)
 * @param truncated whether tokens of the text were dropped to fit the requested length
 */
public record Encoding(long[] ids, long[] attentionMask, int length, boolean truncated) {

  /** Validates and copies its arguments. */
  public Encoding {
    Objects.requireNonNull(ids, "ids");
    Objects.requireNonNull(attentionMask, "attentionMask");
    if (ids.length != attentionMask.length) {
      throw new FoleyException(
          FoleyException.Code.INVALID_ARGUMENT,
          "ids and attentionMask must have the same length, got "
              + ids.length
              + " and "
              + attentionMask.length);
    }
    if (length < 0 || length > ids.length) {
      throw new FoleyException(
          FoleyException.Code.INVALID_ARGUMENT,
          "length must be in [0, " + ids.length + "], got " + length);
    }
    ids = ids.clone();
    attentionMask = attentionMask.clone();
  }

  /** A copy of the token ids. */
  @Override
  public long[] ids() {
    return ids.clone();
  }

  /** A copy of the attention mask. */
  @Override
  public long[] attentionMask() {
    return attentionMask.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Encoding e
        && length == e.length
        && truncated == e.truncated
        && Arrays.equals(ids, e.ids)
        && Arrays.equals(attentionMask, e.attentionMask);
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(ids), Arrays.hashCode(attentionMask), length, truncated);
  }

  @Override
  public String toString() {
    return "Encoding[ids="
        + Arrays.toString(Arrays.copyOf(ids, length))
        + (ids.length > length ? " + " + (ids.length - length) + " pad" : "")
        + ", length="
        + length
        + ", truncated="
        + truncated
        + "]";
  }
}
