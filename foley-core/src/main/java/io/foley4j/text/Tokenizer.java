package io.foley4j.text;

import io.foley4j.FoleyException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Turns a text prompt into the fixed-length token ids a text encoder expects, following a Hugging
 * Face {@code tokenizer.json}.
 *
 * <p>The pipeline is the one of the Hugging Face {@code tokenizers} library, for a single sequence:
 * added tokens are matched in the raw text, the rest is normalised, pre-tokenised and split into
 * tokens by the model (BPE, WordPiece or WordLevel), then the post-processor adds its special
 * tokens. Supported components:
 *
 * <ul>
 *   <li>models: {@code BPE} (byte-level or not; {@code unk_token}, {@code continuing_subword_prefix},
 *       {@code end_of_word_suffix}, {@code fuse_unk}, {@code byte_fallback}, {@code ignore_merges}),
 *       {@code WordPiece}, {@code WordLevel};
 *   <li>normalizers: {@code Lowercase}, {@code NFC}, {@code NFD}, {@code NFKC}, {@code NFKD},
 *       {@code Strip}, {@code StripAccents}, {@code Replace}, {@code Prepend}, {@code BertNormalizer},
 *       {@code Sequence};
 *   <li>pre-tokenizers: {@code ByteLevel}, {@code Whitespace}, {@code WhitespaceSplit},
 *       {@code Metaspace}, {@code Split}, {@code BertPreTokenizer}, {@code Digits},
 *       {@code Punctuation}, {@code Sequence};
 *   <li>post-processors: {@code RobertaProcessing}, {@code BertProcessing},
 *       {@code TemplateProcessing} (single sequence), {@code ByteLevel}, {@code Sequence}.
 * </ul>
 *
 * <p>A {@code Tokenizer} is immutable and safe to share between threads; its only internal state is
 * a bounded concurrent cache of word tokenisations.
 */
public interface Tokenizer {

  /**
   * Reads a {@code tokenizer.json} file.
   *
   * @throws FoleyException with {@link FoleyException.Code#IO} if the file cannot be read, or
   *     {@link FoleyException.Code#INVALID_BUNDLE} if it is malformed or uses an unsupported component
   */
  static Tokenizer fromJson(Path tokenizerJson) {
    Objects.requireNonNull(tokenizerJson, "tokenizerJson");
    try (InputStream in = Files.newInputStream(tokenizerJson)) {
      return TokenizerLoader.load(in, tokenizerJson.toString());
    } catch (NoSuchFileException e) {
      throw new FoleyException(
          FoleyException.Code.IO, "tokenizer file not found: " + tokenizerJson, e);
    } catch (IOException e) {
      throw new FoleyException(
          FoleyException.Code.IO, "cannot read tokenizer file " + tokenizerJson + ": " + e, e);
    }
  }

  /**
   * Reads a {@code tokenizer.json} document (UTF-8) from a stream, which is read to the end but not
   * closed.
   *
   * @throws FoleyException with {@link FoleyException.Code#IO} if the stream cannot be read, or
   *     {@link FoleyException.Code#INVALID_BUNDLE} if it is malformed or uses an unsupported component
   */
  static Tokenizer fromJson(InputStream in) {
    Objects.requireNonNull(in, "in");
    return TokenizerLoader.load(in, "tokenizer.json");
  }

  /**
   * Encodes one text into ids and attention mask of exactly {@code maxLength} entries: the special
   * tokens of the post-processor are added, the text's tokens are truncated so that the closing
   * special token is kept last, and the rest is padded with {@link #padId()} (mask 0).
   *
   * <p>Any string is accepted (emoji, CJK, combining marks, NUL, lone surrogates, which are read as
   * U+FFFD); work stops as soon as the text is known to be truncated, so very long strings are cheap.
   *
   * @throws FoleyException with {@link FoleyException.Code#INVALID_ARGUMENT} if {@code maxLength} is
   *     smaller than the number of special tokens added (or than 1); with
   *     {@link FoleyException.Code#INVALID_BUNDLE} if a regular expression of the tokenizer.json
   *     backtracks catastrophically on this text (matching is bounded to a few thousand steps per
   *     character; the patterns of real tokenizers never come close)
   * @throws NullPointerException if {@code text} is null
   */
  Encoding encode(String text, int maxLength);

  /** The number of ids this tokenizer can produce: every id it returns is below this. */
  int vocabSize();

  /**
   * The id used for padding: {@code padding.pad_id} of the file if present, else the id of
   * {@code <pad>} or {@code [PAD]}, else 0.
   */
  int padId();
}
