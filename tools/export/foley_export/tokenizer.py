"""A small word-level tokenizer for the tiny stand-in models, written as a Hugging Face
``tokenizer.json`` that foley4j's Java tokenizer loads, and encoded identically here.

Pipeline (the subset of Hugging Face ``tokenizers`` that foley4j implements for one sequence):
special tokens matched in the raw text, ``Lowercase`` normaliser, ``Whitespace`` pre-tokeniser
(``\\w+|[^\\w\\s]+``), ``WordLevel`` model with an unknown token, then the post-processor's special
tokens (``RobertaProcessing`` for the HVF-shaped set, like CLAP's RoBERTa tokenizer;
``TemplateProcessing`` for the MMAudio-shaped set, like open_clip's ``<start_of_text> ...
<end_of_text>``). Truncation keeps the special tokens and cuts the text's tokens; padding is on
the right with ``padding.pad_id`` (mask 0).
"""

import json
import re

import numpy as np

WORDS = (
    "a an the of on in with and to from by at into over under near far "
    "footsteps footstep steps walking running gravel sand snow wood floor stairs "
    "rain water river splash drip waves ocean wind storm thunder fire crackling "
    "dog bark barking cat meow bird birds chirping horse engine car motor traffic "
    "door knock slam glass breaking metal clang bell ringing music piano guitar drum "
    "man woman child people crowd talking speech laughing applause clapping "
    "loud quiet soft distant close noisy harsh clean low high fast slow "
    "typing keyboard phone ticking clock machine hum buzz whoosh "
    ", . ! ? -"
).split()

_WORD_RE = re.compile(r"\w+|[^\w\s]+")


class WordTokenizer:
    """Encodes as foley4j's ``Tokenizer.encode(text, maxLength)`` does for this tokenizer.json."""

    def __init__(self, style):
        if style not in ("roberta", "clip"):
            raise ValueError("style must be 'roberta' or 'clip'")
        self.style = style
        if style == "roberta":
            specials = ["<s>", "<pad>", "</s>", "<unk>"]
            self.bos, self.pad_id, self.eos, self.unk = 0, 1, 2, 3
        else:
            specials = ["<pad>", "<sot>", "<eot>", "<unk>"]
            self.pad_id, self.bos, self.eos, self.unk = 0, 1, 2, 3
        self.specials = specials
        self.vocab = {tok: i for i, tok in enumerate(specials)}
        for w in WORDS:
            if w not in self.vocab:
                self.vocab[w] = len(self.vocab)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def _tokens(self, text):
        ids = []
        # added (special) tokens are matched in the raw text first, longest first
        pattern = "|".join(re.escape(s) for s in sorted(self.specials, key=len, reverse=True))
        pos = 0
        for m in re.finditer(pattern, text):
            ids.extend(self._words(text[pos:m.start()]))
            ids.append(self.vocab[m.group(0)])
            pos = m.end()
        ids.extend(self._words(text[pos:]))
        return ids

    def _words(self, piece):
        out = []
        for w in _WORD_RE.findall(piece.lower()):
            out.append(self.vocab.get(w, self.unk))
        return out

    def encode_unpadded(self, text, max_length):
        """Token ids with the special tokens, truncated to ``max_length`` (no padding)."""
        budget = max_length - 2
        if budget < 0:
            raise ValueError("max_length must be at least 2")
        return [self.bos] + self._tokens(text)[:budget] + [self.eos]

    def encode(self, text, max_length):
        """ids, mask (int64 [max_length]) padded on the right, as foley4j's encode."""
        ids = self.encode_unpadded(text, max_length)
        return _pad([ids], max_length, self.pad_id)

    def pair_longest(self, texts, encoder_max_tokens):
        """HVF's text pairing: tokenize all texts together with ``padding=True`` (pad to the
        longest; HVF feature_utils.py:130-134), each truncated to ``encoder_max_tokens``."""
        seqs = [self.encode_unpadded(t, encoder_max_tokens) for t in texts]
        return _pad(seqs, max(len(s) for s in seqs), self.pad_id)

    def fixed(self, texts, max_tokens):
        """Every text padded/truncated to ``max_tokens`` ids (open_clip's fixed context)."""
        seqs = [self.encode_unpadded(t, max_tokens) for t in texts]
        return _pad(seqs, max_tokens, self.pad_id)

    def to_json(self, max_tokens):
        """The tokenizer.json document (a dict)."""
        added = [{"id": self.vocab[s], "content": s, "single_word": False, "lstrip": False,
                  "rstrip": False, "normalized": False, "special": True} for s in self.specials]
        bos_tok = self.specials[self.bos]
        eos_tok = self.specials[self.eos]
        if self.style == "roberta":
            post = {"type": "RobertaProcessing", "sep": [eos_tok, self.eos], "cls": [bos_tok, self.bos],
                    "trim_offsets": True, "add_prefix_space": False}
        else:
            post = {"type": "TemplateProcessing",
                    "single": [{"SpecialToken": {"id": bos_tok, "type_id": 0}},
                               {"Sequence": {"id": "A", "type_id": 0}},
                               {"SpecialToken": {"id": eos_tok, "type_id": 0}}],
                    "pair": [{"SpecialToken": {"id": bos_tok, "type_id": 0}},
                             {"Sequence": {"id": "A", "type_id": 0}},
                             {"SpecialToken": {"id": eos_tok, "type_id": 0}},
                             {"Sequence": {"id": "B", "type_id": 1}},
                             {"SpecialToken": {"id": eos_tok, "type_id": 1}}],
                    "special_tokens": {
                        bos_tok: {"id": bos_tok, "ids": [self.bos], "tokens": [bos_tok]},
                        eos_tok: {"id": eos_tok, "ids": [self.eos], "tokens": [eos_tok]}}}
        return {
            "version": "1.0",
            "truncation": {"direction": "Right", "max_length": max_tokens, "strategy": "LongestFirst",
                           "stride": 0},
            "padding": {"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": None,
                        "pad_id": self.pad_id, "pad_type_id": 0, "pad_token": self.specials[self.pad_id]},
            "added_tokens": added,
            "normalizer": {"type": "Lowercase"},
            "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": post,
            "decoder": None,
            "model": {"type": "WordLevel", "vocab": dict(self.vocab), "unk_token": self.specials[self.unk]},
        }

    def write(self, path, max_tokens):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_json(max_tokens), f, indent=1, ensure_ascii=False)
            f.write("\n")


def _pad(seqs, length, pad_id):
    ids = np.full((len(seqs), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), length), dtype=np.int64)
    for i, s in enumerate(seqs):
        s = s[:length]
        ids[i, :len(s)] = s
        mask[i, :len(s)] = 1
    return ids, mask
