/**
 * A pure-Java reader of Hugging Face {@code tokenizer.json} files, enough to feed the text encoders
 * of foley4j bundles (CLAP, whose tokenizer is RoBERTa's byte-level BPE) and other common ones.
 *
 * <p>The public surface is {@link io.foley4j.text.Tokenizer} and {@link io.foley4j.text.Encoding};
 * everything else in this package is an implementation detail.
 */
package io.foley4j.text;
