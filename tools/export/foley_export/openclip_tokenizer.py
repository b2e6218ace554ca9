"""open_clip's text tokenizer as a Hugging Face ``tokenizer.json`` that foley4j reads.

MMAudio encodes its prompts with open_clip's ``SimpleTokenizer`` (CLIP's byte-level BPE with an
end-of-word ``</w>``, 49 408 ids, 77 per text, padded with id 0). A bundle carries its tokenizer
as ``tokenizer.json``; this writes one that gives the same ids:

    PYTHONPATH=tools/export .venv/bin/python -m foley_export openclip-tokenizer --out BUNDLE/tokenizer.json

from the vocabulary file open_clip installs (``bpe_simple_vocab_16e6.txt.gz``; ``--bpe`` another).
How each step of ``SimpleTokenizer.encode`` maps:

- ``ftfy.fix_text``: what it does to each character on its own (curly quotes to straight ones,
  ligatures and full-width forms spelled out, C1 controls read as Windows-1252, other controls
  removed, line separators) is found by running the installed ftfy on every character of the
  Basic Multilingual Plane, and written as Replace normalizers, one per result; then NFC. Its
  repairs of text decoded with the wrong codec (``Ã©`` for ``é``), which look at several
  characters, and ``html.unescape`` (``&amp;``) have no counterpart: such a prompt gets other ids.
- collapsing whitespace to one space and lower case: Replace(``\\s+`` -> " "), Lowercase.
- the regular expression that cuts words: a Split keeping its matches (``invert``), then the
  bytes of each mapped to characters (ByteLevel without its own expression);
- BPE over those characters with ``</w>`` on the last one of each word, merges in file order;
- ``<start_of_text>`` and ``<end_of_text>`` around the ids (ids 49406, 49407), truncated so that the
  end token stays last, padded with 0.

``simple_tokenizer()`` loads open_clip's own class from its installed file without importing
the package (whose ``__init__`` needs torchvision), for comparisons.
"""

import gzip
import importlib.util
import json
import os
import tempfile

# open_clip's SimpleTokenizer.pat (IGNORECASE there; the text is already lower case)
PATTERN = r"""<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
SPECIALS = ["<start_of_text>", "<end_of_text>"]
CONTEXT = 77
MERGES = 49152 - 256 - 2  # the file's merges open_clip reads (after its header line)


def _open_clip_dir():
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("open_clip is not installed: pip install --no-deps open_clip_torch ftfy wcwidth regex")
    return list(spec.submodule_search_locations)[0]


def default_bpe():
    """open_clip's installed vocabulary file."""
    return os.path.join(_open_clip_dir(), "bpe_simple_vocab_16e6.txt.gz")


def simple_tokenizer(bpe_path=None):
    """open_clip's own ``SimpleTokenizer`` (its module loaded from its file alone)."""
    spec = importlib.util.spec_from_file_location("_open_clip_tokenizer", os.path.join(_open_clip_dir(), "tokenizer.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.SimpleTokenizer(bpe_path or default_bpe())


def _byte_chars():
    """CLIP's (and GPT-2's) reversible map of the 256 bytes to printable characters, in its order:
    the printable bytes as themselves, then the others, in byte order, as U+0100 onwards."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    others = [b for b in range(256) if b not in keep]
    return [chr(b) for b in keep] + [chr(256 + i) for i in range(len(others))]


def ftfy_replacements():
    """[(characters, what ftfy.fix_text makes of each)], grouped by the result: every BMP character
    that the installed ftfy changes on its own, beyond NFC."""
    import unicodedata
    import ftfy
    by_result = {}
    for cp in range(0x10000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        fixed = ftfy.fix_text(c)
        if fixed != unicodedata.normalize("NFC", c):
            by_result.setdefault(fixed, []).append(c)
    return [(chars, result) for result, chars in by_result.items()]


def to_json(bpe_path=None, context_length=CONTEXT):
    """The tokenizer.json document (a dict) equal in ids to ``SimpleTokenizer(bpe_path)``."""
    with gzip.open(bpe_path or default_bpe(), "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = [tuple(m.split()) for m in lines[1:MERGES + 1]]
    base = _byte_chars()
    words = base + [c + "</w>" for c in base] + ["".join(m) for m in merges] + SPECIALS
    vocab = {w: i for i, w in enumerate(words)}
    if len(vocab) != len(words):
        raise ValueError("%s: the vocabulary has repeated entries" % (bpe_path or default_bpe()))
    sot, eot = vocab[SPECIALS[0]], vocab[SPECIALS[1]]
    added = [{"id": vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for s in SPECIALS]
    return {
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": context_length, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": context_length}, "direction": "Right", "pad_to_multiple_of": None,
                    "pad_id": 0, "pad_type_id": 0, "pad_token": words[0]},
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Replace", "pattern": {"Regex": "[%s]" % "".join("\\x{%x}" % ord(c) for c in chars)},
             "content": result} for chars, result in ftfy_replacements()] + [
            {"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "}, {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PATTERN}, "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": SPECIALS[0], "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": SPECIALS[1], "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": SPECIALS[0], "type_id": 0}},
                                    {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": SPECIALS[1], "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 1}},
                                    {"SpecialToken": {"id": SPECIALS[1], "type_id": 1}}],
                           "special_tokens": {SPECIALS[0]: {"id": SPECIALS[0], "ids": [sot], "tokens": [SPECIALS[0]]},
                                              SPECIALS[1]: {"id": SPECIALS[1], "ids": [eot], "tokens": [SPECIALS[1]]}}},
        "decoder": None,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": [" ".join(m) for m in merges]},
    }


def write(path, bpe_path=None, context_length=CONTEXT):
    """Writes the tokenizer to ``path``, whole or not at all: the document is built first (open_clip,
    ftfy and the vocabulary are read) and written to a temporary file beside ``path``, then renamed
    over it, so a failure leaves a bundle's existing tokenizer.json as it was."""
    doc = json.dumps(to_json(bpe_path, context_length), ensure_ascii=False) + "\n"
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tokenizer-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(doc)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # as open() would have made it, not mkstemp's owner-only
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
