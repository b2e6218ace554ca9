import json
import os
import unittest

import _util
import numpy as np
import torch

from foley_export import reference, tiny
from foley_export.tokenizer import WordTokenizer


class TokenizerTest(unittest.TestCase):
    def test_pair_longest_pads_to_the_longer(self):
        tok = WordTokenizer("roberta")
        ids, mask = tok.pair_longest(["noisy, harsh", "footsteps on gravel in the rain"], 128)
        self.assertEqual(ids.shape, (2, 8))  # <s> 6 words </s>
        self.assertEqual(mask[0].tolist(), [1, 1, 1, 1, 1, 0, 0, 0])
        self.assertEqual(ids[0, 5:].tolist(), [tok.pad_id] * 3)
        self.assertEqual(ids[0, 0], tok.bos)
        self.assertEqual(ids[0, 4], tok.eos)
        ids2, _ = tok.pair_longest(["a long negative prompt with many many many words", "dog"], 128)
        self.assertEqual(ids2.shape[1], 11)
        self.assertEqual(ids2[1, 3:].tolist(), [tok.pad_id] * 8)

    def test_truncation_keeps_special_tokens(self):
        tok = WordTokenizer("roberta")
        ids = tok.encode_unpadded(" ".join(["rain"] * 200), 128)
        self.assertEqual(len(ids), 128)
        self.assertEqual((ids[0], ids[-1]), (tok.bos, tok.eos))
        ids, mask = tok.encode("dog barking", 77)
        self.assertEqual(ids.shape, (1, 77))
        self.assertEqual(int(mask.sum()), 4)

    def test_unknown_words_and_case(self):
        tok = WordTokenizer("clip")
        a, _ = tok.fixed(["Dog BARKING zzz"], 77)
        self.assertEqual(a[0, :5].tolist(), [tok.bos, tok.vocab["dog"], tok.vocab["barking"], tok.unk, tok.eos])
        self.assertEqual(a[0, 5:].tolist(), [0] * 72)

    def test_json_is_the_supported_subset(self):
        for style, post in (("roberta", "RobertaProcessing"), ("clip", "TemplateProcessing")):
            tok = WordTokenizer(style)
            j = tok.to_json(77)
            self.assertEqual(j["model"]["type"], "WordLevel")
            self.assertEqual(j["pre_tokenizer"]["type"], "Whitespace")
            self.assertEqual(j["post_processor"]["type"], post)
            self.assertEqual(j["padding"]["pad_id"], tok.pad_id)
            self.assertEqual(len(set(j["model"]["vocab"].values())), len(j["model"]["vocab"]))
            for a in j["added_tokens"]:
                self.assertEqual(j["model"]["vocab"][a["content"]], a["id"])

    def test_hvf_cuts_hidden_states_at_77_after_encoding(self):
        config = tiny.default_config("hvf", 2)
        models = tiny.build(config)
        long_prompt = " ".join(["footsteps on wood"] * 40)  # 120 words
        with torch.no_grad():
            cond, uncond, ids, mask = reference.hvf_text(config, models, long_prompt, "noisy, harsh")
            full = models["clap"](input_ids=torch.from_numpy(ids),
                                  attention_mask=torch.from_numpy(mask)).last_hidden_state
            tok = WordTokenizer("roberta")
            ids77, mask77 = tok.pair_longest(["noisy, harsh", long_prompt], 77)
            pre_cut = models["clap"](input_ids=torch.from_numpy(ids77),
                                     attention_mask=torch.from_numpy(mask77)).last_hidden_state
        self.assertEqual(ids.shape[1], 122)
        self.assertEqual(cond.shape[1], 77)
        self.assertTrue(torch.equal(cond, full[1:, :77]))
        self.assertTrue(torch.equal(uncond, full[:1, :77]))
        self.assertFalse(torch.allclose(cond, pre_cut[1:], atol=1e-4))  # not the same as truncating ids

    def test_padded_rows_matter_to_the_denoiser(self):
        models = tiny.build(tiny.default_config("hvf", 4))
        g = torch.Generator().manual_seed(0)
        x, vis, syn = torch.randn(1, 8, 20, generator=g), torch.randn(1, 8, 24, generator=g), \
            torch.randn(1, 16, 20, generator=g)
        text = torch.randn(1, 6, 28, generator=g)
        with torch.no_grad():
            a = models["foley"](x=x, t=torch.tensor([500.0]), cond=text, clip_feat=vis, sync_feat=syn)["x"]
            b = models["foley"](x=x, t=torch.tensor([500.0]), cond=text[:, :4], clip_feat=vis, sync_feat=syn)["x"]
        self.assertFalse(torch.allclose(a, b, atol=1e-5))


if __name__ == "__main__":
    unittest.main()
