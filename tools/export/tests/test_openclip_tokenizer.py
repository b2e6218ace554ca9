import importlib.util
import json
import os
import tempfile
import unittest

from foley_export import openclip_tokenizer as oc

HAVE = importlib.util.find_spec("open_clip") is not None and importlib.util.find_spec("ftfy") is not None


@unittest.skipUnless(HAVE, "open_clip_torch and ftfy not installed (pip install --no-deps open_clip_torch ftfy wcwidth regex)")
class OpenClipTokenizerTest(unittest.TestCase):
    PROMPTS = ["a dog barking", "it\u2019s \u201cloud\u201d", "\uff46\uff55\uff4c\uff4c \ufb01sh", "x" * 300,
               "Ĳssel \u0085 \u0007", "rain, 3 drops & 12 birds"]

    def test_the_vocabulary_and_merges_are_open_clips(self):
        t = oc.simple_tokenizer()
        d = oc.to_json()
        self.assertEqual(t.encoder, d["model"]["vocab"])
        ranks = sorted(t.bpe_ranks.items(), key=lambda kv: kv[1])
        self.assertEqual([" ".join(k) for k, _ in ranks], d["model"]["merges"])
        self.assertEqual(0, d["padding"]["pad_id"])

    def test_ftfys_single_character_fixes_become_replacements(self):
        table = dict((c, r) for chars, r in oc.ftfy_replacements() for c in chars)
        self.assertEqual("'", table["\u2019"])
        self.assertEqual("fi", table["\ufb01"])
        self.assertEqual("", table["\u0007"])
        self.assertNotIn("a", table)

    def test_hugging_faces_own_library_reads_it_to_the_same_ids(self):
        tokenizers = __import__("tokenizers")
        with tempfile.TemporaryDirectory() as d:
            path = oc.write(os.path.join(d, "tokenizer.json"))
            with open(path, encoding="utf-8") as f:
                json.load(f)
            hf = tokenizers.Tokenizer.from_file(path)
        want = oc.simple_tokenizer()(self.PROMPTS, context_length=77).tolist()
        for text, ids in zip(self.PROMPTS, want):
            got = hf.encode(text).ids
            self.assertEqual(ids, got, text)


class WriteTest(unittest.TestCase):
    def test_a_failed_write_leaves_the_existing_file_as_it_was(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tokenizer.json")
            with open(path, "w", encoding="utf-8") as f:
                f.write('{"kept": true}')
            with self.assertRaises(OSError):
                oc.write(path, bpe_path=os.path.join(d, "no-such-vocabulary.txt.gz"))
            with open(path, encoding="utf-8") as f:
                self.assertEqual('{"kept": true}', f.read())
            self.assertEqual(["tokenizer.json"], os.listdir(d), "no temporary file left")


if __name__ == "__main__":
    unittest.main()
